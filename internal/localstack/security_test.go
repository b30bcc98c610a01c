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
	t.Parallel()
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
	t.Parallel()
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

// A presigned PUT accepts headers it does not sign, and downloads would serve
// them: complete refuses such an upload (422), removes the blob and keeps the
// asset pending; a clean upload then completes.
func TestSecurity_CompleteRefusesUnsignedServedHeaders(t *testing.T) {
	t.Parallel()
	e := newAPI(t)
	body := []byte("plain text, honestly")
	for _, h := range []map[string]string{
		{"Content-Encoding": "gzip"},
		{"Cache-Control": "public, max-age=31536000"},
		{"Content-Language": "en"},
		{"Content-Disposition": "inline; filename=x.html"},
	} {
		reg := e.register(t, keyA, "a.txt", "text/plain", body)
		if code := putWith(t, reg, body, h); code != http.StatusOK {
			t.Fatalf("PUT with %v: status %d (the store refused it: nothing to complete)", h, code)
		}
		wantError(t, e.do(t, "POST", "/api/v1/assets/"+reg.Asset.ID+"/complete", keyA, nil), http.StatusUnprocessableEntity, mediatrail.EUNPROCESSABLE)
		if e.objectExists(t, reg.Asset.StorageKey) {
			t.Errorf("%v: the blob is still stored", h)
		}
		var a mediatrail.Asset
		e.do(t, "GET", "/api/v1/assets/"+reg.Asset.ID, keyA, nil).Into(t, &a)
		if a.Status != mediatrail.StatusPending {
			t.Errorf("%v: asset status %q, want pending", h, a.Status)
		}
		if code := put(t, reg, body); code != http.StatusOK {
			t.Fatalf("clean PUT: status %d", code)
		}
		wantStatus(t, e.do(t, "POST", "/api/v1/assets/"+reg.Asset.ID+"/complete", keyA, nil), http.StatusOK)
	}
}
