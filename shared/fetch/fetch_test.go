package fetch_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/fetch"
)

func TestPublic(t *testing.T) {
	for addr, want := range map[string]bool{
		"8.8.8.8": true, "1.1.1.1": true, "2606:4700:4700::1111": true,
		"127.0.0.1": false, "127.8.9.10": false, "::1": false,
		"10.0.0.1": false, "172.16.0.1": false, "172.31.255.255": false, "192.168.1.1": false,
		"169.254.169.254": false, "fe80::1": false, "fd00:ec2::254": false,
		"0.0.0.0": false, "::": false, "0.1.2.3": false, "100.64.0.1": false, "224.0.0.1": false,
		"255.255.255.255": false, "::ffff:127.0.0.1": false, "::ffff:10.1.1.1": false, "64:ff9b::a00:1": false,
	} {
		if got := fetch.Public(netip.MustParseAddr(addr)); got != want {
			t.Errorf("Public(%s) = %v, want %v", addr, got, want)
		}
	}
}

func serverPort(t *testing.T, s *httptest.Server) uint16 {
	t.Helper()
	u, _ := url.Parse(s.URL)
	ap := netip.MustParseAddrPort(u.Host)
	return ap.Port()
}

// The SSRF table: every refused target is refused before any connection is
// made, so no traffic leaves the loopback interface.
func TestRefusesNonPublicTargets(t *testing.T) {
	inner := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request reached a private server: %s", r.URL)
	}))
	defer inner.Close()
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusFound)
	}))
	defer redirector.Close()
	// Only the redirector itself is admitted, standing in for a public host.
	port := serverPort(t, redirector)
	c := fetch.New(fetch.Options{Timeout: 3 * time.Second,
		Allow: func(ap netip.AddrPort) bool { return ap.Addr().IsLoopback() && ap.Port() == port }})

	via := func(to string) string { return redirector.URL + "/?to=" + url.QueryEscape(to) }
	for _, target := range []string{
		inner.URL,
		strings.Replace(inner.URL, "127.0.0.1", "localhost", 1),
		"http://[::1]:1/",
		"http://10.0.0.1/",
		"http://172.16.0.1/",
		"http://192.168.0.1/",
		"http://169.254.169.254/latest/meta-data/",
		"http://0.0.0.0/",
		"http://[::ffff:127.0.0.1]/",
		"file:///etc/passwd",
		"gopher://127.0.0.1:25/",
		"ftp://example.com/x",
		"not a url",
		"http:///nohost",
		via(inner.URL),
		via("http://169.254.169.254/latest/meta-data/"),
		via("http://10.0.0.1/"),
		via("file:///etc/passwd"),
	} {
		_, err := c.Get(context.Background(), target)
		if code := mediatrail.ErrorCode(err); code != mediatrail.EINVALID {
			t.Errorf("Get(%s) = %v (%s), want %s", target, err, code, mediatrail.EINVALID)
		}
	}
}

func TestFetchesAllowedURLWithinLimits(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			w.Header().Set("Content-Type", "audio/wav")
			_, _ = io.WriteString(w, "RIFF....WAVE")
		case "/big":
			w.(http.Flusher).Flush() // no Content-Length: chunked
			_, _ = io.WriteString(w, strings.Repeat("x", 2048))
		case "/big-declared":
			w.Header().Set("Content-Length", "4096")
			_, _ = io.WriteString(w, strings.Repeat("x", 4096))
		case "/slow":
			<-r.Context().Done() // answers nothing until the client gives up
		case "/missing":
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	c := fetch.New(fetch.Options{Timeout: 500 * time.Millisecond, MaxBytes: 1024,
		Allow: func(ap netip.AddrPort) bool { return ap.Addr().IsLoopback() }})

	b, err := c.Get(context.Background(), srv.URL+"/ok")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(b)
	b.Close()
	if err != nil || string(got) != "RIFF....WAVE" || b.ContentType != "audio/wav" {
		t.Fatalf("body %q type %q err %v", got, b.ContentType, err)
	}

	for path, code := range map[string]string{
		"/big-declared": mediatrail.ETOOLARGE, "/slow": mediatrail.EUNPROCESSABLE, "/missing": mediatrail.EUNPROCESSABLE,
	} {
		if _, err := c.Get(context.Background(), srv.URL+path); mediatrail.ErrorCode(err) != code {
			t.Errorf("Get(%s) = %v, want %s", path, err, code)
		}
	}
	// A body without a declared length is cut off while streaming.
	b, err = c.Get(context.Background(), srv.URL+"/big")
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(b)
	b.Close()
	if mediatrail.ErrorCode(err) != mediatrail.ETOOLARGE {
		t.Fatalf("streamed oversize body: %v", err)
	}
}
