package s3_test

import (
	"net/http"
	"testing"
	"time"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/testenv"
)

// A stored active document (HTML, SVG, XML, script, PDF) must never be served
// inline or with its own type from the storage origin, whatever the caller
// asks: the signed response headers make it an opaque attachment.
func TestSecurity_PresignGetServesOnlyPassiveTypesInline(t *testing.T) {
	testenv.ForEachS3Backend(t, testSecurity_PresignGetServesOnlyPassiveTypesInline)
}

func testSecurity_PresignGetServesOnlyPassiveTypesInline(t *testing.T, b testenv.S3Backend) {
	store, _, _ := MustStore(t, b)
	tests := []struct {
		stored, asked string
		wantType      string
		wantInline    bool
	}{
		{"text/html", "text/html; charset=utf-8", "application/octet-stream", false},
		{"image/svg+xml", "image/svg+xml", "application/octet-stream", false},
		{"application/xhtml+xml", "application/xhtml+xml", "application/octet-stream", false},
		{"application/xml", "text/xml", "application/octet-stream", false},
		{"text/javascript", "application/javascript", "application/octet-stream", false},
		{"application/pdf", "application/pdf", "application/octet-stream", false},
		{"text/html", "", "application/octet-stream", false},
		{"text/html", "TEXT/PLAIN", "text/plain", true},
		{"image/png", "image/png", "image/png", true},
		{"audio/mpeg", "audio/mpeg", "audio/mpeg", true},
		{"video/mp4", "video/mp4", "video/mp4", true},
		{"application/json", "application/json", "application/json", true},
	}
	for _, tt := range tests {
		t.Run(tt.stored+" as "+tt.asked, func(t *testing.T) {
			key := testenv.UniqueName("k")
			MustPut(t, store, key, tt.stored, []byte("<html><script>alert(1)</script></html>"))
			req, err := store.PresignGet(testenv.Context(t), key, mediatrail.GetOptions{
				Expires: time.Minute, Disposition: mediatrail.DispositionInline, FileName: "f", ContentType: tt.asked,
			})
			if err != nil {
				t.Fatalf("PresignGet: %v", err)
			}
			resp, body := get(t, req.URL)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET status = %d, body %s", resp.StatusCode, body)
			}
			if got := resp.Header.Get("Content-Type"); got != tt.wantType {
				t.Errorf("Content-Type = %q, want %q", got, tt.wantType)
			}
			want := `attachment; filename="f"; filename*=UTF-8''f`
			if tt.wantInline {
				want = `inline; filename="f"; filename*=UTF-8''f`
			}
			if got := resp.Header.Get("Content-Disposition"); got != want {
				t.Errorf("Content-Disposition = %q, want %q", got, want)
			}
		})
	}
}
