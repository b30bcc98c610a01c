package s3_test

import (
	"mime"
	"strings"
	"testing"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/s3"
)

// FuzzContentDisposition: whatever the file name, the header value is
// printable ASCII that a standard parser reads back as the disposition and
// the exact name (invalid UTF-8 replaced by U+FFFD), so no name can inject a
// parameter or end the header.
func FuzzContentDisposition(f *testing.F) {
	for _, s := range []string{"report.pdf", "my photo (1).png", `a"; filename="evil.exe`, "résumé.txt", "a\r\nSet-Cookie: x", "\xff\xfe", "", "..", `\\server\share`, "%41.txt", "名前.png"} {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, name string, inline bool) {
		d := mediatrail.DispositionAttachment
		if inline {
			d = mediatrail.DispositionInline
		}
		v, err := s3.ContentDisposition(d, name)
		if err != nil {
			t.Fatalf("name %q: %v", name, err)
		}
		for i := 0; i < len(v); i++ {
			if v[i] < 0x20 || v[i] > 0x7e {
				t.Fatalf("name %q: byte %#x in %q", name, v[i], v)
			}
		}
		got, params, err := mime.ParseMediaType(v)
		if err != nil || got != string(d) {
			t.Fatalf("name %q: %q parses as %q, %v", name, v, got, err)
		}
		if name == "" {
			if len(params) != 0 {
				t.Fatalf("no name, but parameters %v", params)
			}
			return
		}
		// mime merges filename* into filename, decoded.
		if want := strings.ToValidUTF8(name, "\uFFFD"); params["filename"] != want {
			t.Fatalf("name %q: %q reads back as %q", name, v, params["filename"])
		}
	})
}
