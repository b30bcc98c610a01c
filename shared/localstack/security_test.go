package localstack_test

import (
	"net/http"
	"strings"
	"testing"
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
