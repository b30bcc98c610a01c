package localstack_test

import (
	"net/http"
	"strings"
	"testing"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// An uploaded HTML or SVG file downloaded through a signed URL asked inline
// comes back as an opaque attachment: it never runs in the storage origin.
func TestSecurity_SignedURLNeverServesActiveTypesInline(t *testing.T) {
	e := newAPI(t)
	for _, tc := range []struct{ name, ct string }{
		{"page.html", "text/html"},
		{"logo.svg", "image/svg+xml"},
	} {
		a := e.upload(t, keyA, tc.name, tc.ct, []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`))
		code, h, _ := fetch(t, signedURL(t, e, keyA, a.ID, "?disposition=inline"))
		if code != http.StatusOK {
			t.Fatalf("%s: download status %d", tc.name, code)
		}
		if got := h.Get("Content-Type"); got != "application/octet-stream" {
			t.Errorf("%s: Content-Type = %q, want application/octet-stream", tc.name, got)
		}
		if cd := h.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") {
			t.Errorf("%s: Content-Disposition = %q, want attachment", tc.name, cd)
		}
	}
}

// A request without a valid key is 401 before anything of it is read: an
// oversized body or a malformed query tells it nothing.
func TestSecurity_AuthenticateBeforeParsing(t *testing.T) {
	e := newAPI(t)
	big := `{"file_name": "` + strings.Repeat("a", 2<<20) + `"}`
	for _, tc := range []struct {
		name, method, path, key string
		body                    any
	}{
		{"oversized body, no key", "POST", "/api/v1/assets", "", big},
		{"oversized body, unknown key", "POST", "/api/v1/media/tts", "not-a-key", big},
		{"malformed body, no key", "POST", "/api/v1/assets", "", "{"},
		{"malformed query, no key", "GET", "/api/v1/assets?limit=%zz", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, e.do(t, tc.method, tc.path, tc.key, tc.body), http.StatusUnauthorized, mediatrail.EUNAUTHENTICATED)
		})
	}
	// With a key the limits still hold.
	wantError(t, e.do(t, "POST", "/api/v1/assets", keyA, big), http.StatusRequestEntityTooLarge, mediatrail.ETOOLARGE)
}
