// Package console serves the review console: a static web application
// (plain HTML, CSS and JavaScript modules, embedded with go:embed, no build
// step) that reviewers open at /console. Everything it shows comes from the
// public HTTP API (/api/v1) with the reviewer's API key; the console itself
// holds no data and needs no key.
//
// Caching: the application's files are served under /console/assets/{hash}/,
// where hash covers every embedded file, so they are immutable and cached for
// a year; index.html names the current hash and is never cached, so a deploy
// is picked up by the next page load.
//
// Security: a strict Content-Security-Policy (no inline script or style, no
// plugins, no framing) whose img-src, media-src and connect-src admit the
// storage origin that signed URLs point at, derived from the storage
// configuration.
package console

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

//go:embed static
var static embed.FS

// AssetsPrefix is the path, under the console's root, of its immutable files.
const AssetsPrefix = "assets/"

// hashPlaceholder in index.html is replaced by the build hash.
const hashPlaceholder = "{{BUILD}}"

// Console answers the console's routes.
type Console struct {
	files map[string][]byte // by name under static/
	index []byte            // index.html with the build hash filled in
	hash  string
	csp   string
}

// New builds the console for the storage that signed URLs point at.
func New(storage mediatrail.StorageConfig) *Console {
	files := map[string][]byte{}
	sum := sha256.New()
	_ = fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := static.ReadFile(p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "static/")
		files[name] = b
		sum.Write([]byte(name))
		sum.Write(b)
		return nil
	})
	hash := hex.EncodeToString(sum.Sum(nil))[:12]
	index := bytes.ReplaceAll(files["index.html"], []byte(hashPlaceholder), []byte(hash))
	delete(files, "index.html")
	return &Console{files: files, index: index, hash: hash, csp: Policy(StorageOrigins(storage))}
}

// Hash is the build hash in the immutable files' paths.
func (c *Console) Hash() string { return c.hash }

// Policy is the Content-Security-Policy of every console answer: scripts,
// styles and fonts from the console only; images, media and fetches from the
// console (the API is on the same origin) and the storage origins.
func Policy(storageOrigins []string) string {
	storage := strings.Join(storageOrigins, " ")
	return strings.Join([]string{
		"default-src 'none'",
		"script-src 'self'",
		"style-src 'self'",
		"img-src 'self' data: " + storage,
		"media-src 'self' " + storage,
		"connect-src 'self' " + storage,
		"base-uri 'none'",
		"form-action 'self'",
		"frame-ancestors 'none'",
		"object-src 'none'",
	}, "; ")
}

// StorageOrigins are the origins signed URLs of storage point at: the public
// URL when set, else the endpoint, else AWS S3's regional hosts of the bucket.
// Virtual-hosted addressing puts the bucket in the host name.
func StorageOrigins(s mediatrail.StorageConfig) []string {
	base := s.PublicURL
	if base == "" {
		base = s.Endpoint
	}
	if base == "" {
		region := s.Region
		if region == "" {
			region = "us-east-1"
		}
		if s.ForcePathStyle {
			return []string{"https://s3." + region + ".amazonaws.com"}
		}
		return []string{"https://" + s.Bucket + ".s3." + region + ".amazonaws.com", "https://" + s.Bucket + ".s3.amazonaws.com"}
	}
	u, err := url.Parse(base)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil
	}
	host := u.Host
	if !s.ForcePathStyle {
		host = s.Bucket + "." + host
	}
	return []string{u.Scheme + "://" + host}
}

// Handler serves GET /console and GET /console/{proxy+} (API Gateway HTTP
// API payload 2.0). /console redirects to /console/index.html so that the
// page's relative links resolve under /console/ (not to /console/: whether a
// greedy {proxy+} matches an empty child is not something to depend on);
// /console/, where it arrives, is the page too; the build's files are under
// /console/assets/{hash}/. Anything else is 404.
func (c *Console) Handler() func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return func(_ context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		resp := c.serve(ev)
		resp.Headers["X-Request-Id"] = ev.RequestContext.RequestID
		return resp, nil
	}
}

func (c *Console) serve(ev events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	method := ev.RequestContext.HTTP.Method
	if method != http.MethodGet && method != http.MethodHead {
		return c.text(http.StatusMethodNotAllowed, "method not allowed")
	}
	rest := ev.PathParameters["proxy"]
	if rest == "" {
		if !strings.HasSuffix(ev.RawPath, "/") {
			r := c.text(http.StatusMovedPermanently, "moved")
			r.Headers["Location"] = path.Base(ev.RawPath) + "/index.html"
			return r
		}
		return c.answer(http.StatusOK, "text/html; charset=utf-8", "no-cache", c.index)
	}
	if rest == "index.html" {
		return c.answer(http.StatusOK, "text/html; charset=utf-8", "no-cache", c.index)
	}
	name, ok := strings.CutPrefix(rest, AssetsPrefix+c.hash+"/")
	if b, found := c.files[name]; ok && found {
		ct := mime.TypeByExtension(path.Ext(name))
		if ct == "" {
			ct = "application/octet-stream"
		}
		return c.answer(http.StatusOK, ct, "public, max-age=31536000, immutable", b)
	}
	return c.text(http.StatusNotFound, "not found")
}

func (c *Console) text(status int, msg string) events.APIGatewayV2HTTPResponse {
	return c.answer(status, "text/plain; charset=utf-8", "no-store", []byte(msg+"\n"))
}

// answer sets the security headers every console answer carries. Referrer-
// Policy no-referrer keeps signed URLs and page state out of other servers' logs.
func (c *Console) answer(status int, contentType, cache string, body []byte) events.APIGatewayV2HTTPResponse {
	return events.APIGatewayV2HTTPResponse{
		StatusCode: status,
		Headers: map[string]string{
			"Content-Type":            contentType,
			"Cache-Control":           cache,
			"Content-Security-Policy": c.csp,
			"X-Content-Type-Options":  "nosniff",
			"X-Frame-Options":         "DENY",
			"Referrer-Policy":         "no-referrer",
		},
		Body: string(body),
	}
}
