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
