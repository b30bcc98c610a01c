package fetch_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/fetch"
)

func TestPost(t *testing.T) {
	var got struct {
		body, sig string
	}
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got.body, got.sig = string(b), r.Header.Get("X-Sig")
		if r.URL.Path == "/moved" {
			http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer target.Close()
	port := serverPort(t, target)
	allowed := fetch.New(fetch.Options{Timeout: 3 * time.Second,
		Allow: func(ap netip.AddrPort) bool { return ap.Addr().IsLoopback() && ap.Port() == port }})
	ctx := context.Background()

	status, err := allowed.Post(ctx, target.URL+"/hook", map[string]string{"X-Sig": "s"}, []byte(`{"a":1}`))
	if err != nil || status != http.StatusAccepted || got.body != `{"a":1}` || got.sig != "s" {
		t.Errorf("post: %d %v, received %+v", status, err, got)
	}
	// A redirect is answered, not followed: the body would be lost on the way.
	if status, err := allowed.Post(ctx, target.URL+"/moved", nil, []byte("x")); err != nil || status != http.StatusTemporaryRedirect {
		t.Errorf("redirect: %d %v", status, err)
	}
	// The default policy refuses loopback before connecting.
	got.body = ""
	_, err = fetch.New(fetch.Options{Timeout: time.Second}).Post(ctx, target.URL+"/hook", nil, []byte("secret"))
	if mediatrail.ErrorCode(err) != mediatrail.EINVALID || got.body != "" {
		t.Errorf("loopback: %v (received %q)", err, got.body)
	}
	for _, bad := range []string{"ftp://example.com/x", "::", "http://"} {
		if _, err := allowed.Post(ctx, bad, nil, nil); mediatrail.ErrorCode(err) != mediatrail.EINVALID {
			t.Errorf("%q: %v", bad, err)
		}
	}
	// Nothing listening: unreachable, which a caller may retry.
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	if _, err := fetch.New(fetch.Options{Timeout: time.Second, Allow: func(netip.AddrPort) bool { return true }}).Post(ctx, closed.URL, nil, nil); mediatrail.ErrorCode(err) != mediatrail.EUNPROCESSABLE {
		t.Errorf("unreachable: %v", err)
	}
}

// CheckCallback applies Post's address policy at once, where the URL's host
// resolves now (IP literals and localhost here: no lookup leaves the host).
func TestCheckCallback(t *testing.T) {
	allowed := netip.MustParseAddrPort("127.0.0.1:8088")
	c := fetch.New(fetch.Options{Allow: func(ap netip.AddrPort) bool { return ap == allowed }})
	for _, tt := range []struct {
		url string
		ok  bool
	}{
		{"https://93.184.216.34/hooks", true},
		{"http://[2606:4700::1111]:8080/hooks", true},
		{"http://127.0.0.1:8088/hooks?token=x", true}, // listed by the test's Allow
		{"http://127.0.0.1:8089/hooks", false},        // the same address, another port
		{"http://localhost:8089/hooks", false},
		{"http://10.0.0.1/hooks", false},
		{"http://169.254.169.254/latest/meta-data", false},
		{"http://[::1]/hooks", false},
		{"http://[::ffff:127.0.0.1]/hooks", false},
		{"http://0.0.0.0/hooks", false},
		{"http://user:pass@93.184.216.34/hooks", false},
		{"ftp://93.184.216.34/hooks", false},
		{"http://93.184.216.34:99999/hooks", false},
	} {
		err := c.CheckCallback(context.Background(), tt.url)
		if tt.ok && err != nil || !tt.ok && (mediatrail.ErrorCode(err) != mediatrail.EINVALID) {
			t.Errorf("CheckCallback(%s) = %v, want ok %v", tt.url, err, tt.ok)
		}
	}
}
