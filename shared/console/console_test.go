package console_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/console"
)

var local = mediatrail.StorageConfig{Endpoint: "http://127.0.0.1:7070", Bucket: "b", ForcePathStyle: true}

func get(t *testing.T, c *console.Console, method, rawPath, proxy string) events.APIGatewayV2HTTPResponse {
	t.Helper()
	ev := events.APIGatewayV2HTTPRequest{RawPath: rawPath, RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "req-1"}}
	ev.RequestContext.HTTP.Method = method
	if proxy != "" {
		ev.PathParameters = map[string]string{"proxy": proxy}
	}
	resp, err := c.Handler()(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestRoutes(t *testing.T) {
	c := console.New(local)
	assets := console.AssetsPrefix + c.Hash() + "/"
	cases := []struct {
		name, method, path, proxy string
		status                    int
		contentType, cache        string
		location                  string
	}{
		{"root redirects under itself", "GET", "/console", "", 301, "text/plain", "no-store", "console/index.html"},
		{"root with slash is the page", "GET", "/console/", "", 200, "text/html", "no-cache", ""},
		{"index by name", "GET", "/console/index.html", "index.html", 200, "text/html", "no-cache", ""},
		{"script of this build", "GET", "/console/" + assets + "app.js", assets + "app.js", 200, "text/javascript", "public, max-age=31536000, immutable", ""},
		{"style of this build", "HEAD", "/console/" + assets + "style.css", assets + "style.css", 200, "text/css", "public, max-age=31536000, immutable", ""},
		{"another build's file", "GET", "/console/assets/0123456789ab/app.js", "assets/0123456789ab/app.js", 404, "text/plain", "no-store", ""},
		{"a file outside the build", "GET", "/console/app.js", "app.js", 404, "text/plain", "no-store", ""},
		{"index inside the build path", "GET", "/console/" + assets + "index.html", assets + "index.html", 404, "text/plain", "no-store", ""},
		{"traversal", "GET", "/console/" + assets + "../../console.go", assets + "../../console.go", 404, "text/plain", "no-store", ""},
		{"not a read", "POST", "/console/", "", 405, "text/plain", "no-store", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := get(t, c, tc.method, tc.path, tc.proxy)
			if r.StatusCode != tc.status || !strings.HasPrefix(r.Headers["Content-Type"], tc.contentType) || r.Headers["Cache-Control"] != tc.cache {
				t.Fatalf("got %d %q %q, want %d %q %q", r.StatusCode, r.Headers["Content-Type"], r.Headers["Cache-Control"], tc.status, tc.contentType, tc.cache)
			}
			if got := r.Headers["Location"]; got != tc.location {
				t.Errorf("Location %q, want %q", got, tc.location)
			}
			for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy", "X-Frame-Options"} {
				if r.Headers[h] == "" {
					t.Errorf("no %s", h)
				}
			}
			if r.Headers["X-Request-Id"] != "req-1" {
				t.Errorf("X-Request-Id %q", r.Headers["X-Request-Id"])
			}
		})
	}
}

// The page names this build's files, which the handler then serves.
func TestIndexNamesThisBuild(t *testing.T) {
	c := console.New(local)
	page := get(t, c, "GET", "/console/", "").Body
	refs := regexp.MustCompile(`(?:src|href)="(assets/[^"]+)"`).FindAllStringSubmatch(page, -1)
	if len(refs) != 2 {
		t.Fatalf("references %v in %s", refs, page)
	}
	for _, ref := range refs {
		if !strings.HasPrefix(ref[1], console.AssetsPrefix+c.Hash()+"/") {
			t.Errorf("%s is not under this build", ref[1])
		}
		if r := get(t, c, "GET", "/console/"+ref[1], ref[1]); r.StatusCode != 200 {
			t.Errorf("%s: %d", ref[1], r.StatusCode)
		}
	}
}

func TestPolicy(t *testing.T) {
	csp := console.Policy([]string{"https://store.example"})
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "object-src 'none'", "frame-ancestors 'none'",
		"img-src 'self' data: https://store.example", "media-src 'self' https://store.example", "connect-src 'self' https://store.example"} {
		if !strings.Contains(csp, want) {
			t.Errorf("policy %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe") {
		t.Errorf("policy %q allows unsafe sources", csp)
	}
}

func TestStorageOrigins(t *testing.T) {
	cases := []struct {
		name string
		cfg  mediatrail.StorageConfig
		want []string
	}{
		{"endpoint, path style", local, []string{"http://127.0.0.1:7070"}},
		{"public URL wins", mediatrail.StorageConfig{Endpoint: "http://10.0.0.1:9000", PublicURL: "https://cdn.example/media/", Bucket: "b", ForcePathStyle: true},
			[]string{"https://cdn.example"}},
		{"endpoint, virtual hosts", mediatrail.StorageConfig{Endpoint: "https://r2.example", Bucket: "b"}, []string{"https://b.r2.example"}},
		{"AWS S3, virtual hosts", mediatrail.StorageConfig{Bucket: "media", Region: "eu-west-1"},
			[]string{"https://media.s3.eu-west-1.amazonaws.com", "https://media.s3.amazonaws.com"}},
		{"AWS S3, path style", mediatrail.StorageConfig{Bucket: "media", ForcePathStyle: true}, []string{"https://s3.us-east-1.amazonaws.com"}},
		{"not a URL", mediatrail.StorageConfig{Endpoint: "javascript:alert(1)", Bucket: "b"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := console.StorageOrigins(tc.cfg); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// The static files never turn strings into markup or code, and the page has
// no inline script, handler or style for the CSP to refuse.
func TestStaticFilesBuildNoMarkupFromStrings(t *testing.T) {
	banned := regexp.MustCompile(`innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|setAttribute\(['"]on|\.srcdoc`)
	inline := regexp.MustCompile(`<script(?:\s+type="module")?>|<script>|\son[a-z]+=|\sstyle=`)
	err := filepath.WalkDir("static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if m := banned.Find(b); m != nil {
			t.Errorf("%s uses %s", p, m)
		}
		if strings.HasSuffix(p, ".html") {
			if m := inline.Find(b); m != nil {
				t.Errorf("%s has inline %s", p, m)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
