package local_test

import (
	"errors"
	"strings"
	"testing"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/providers/local"
)

// FuzzParseOperations: any prompt is either refused as the client's mistake
// (EINVALID or ETOOLARGE on field prompt, never a 5xx) or parsed into 1 to 20
// operations whose canonical texts (recorded in the asset's metadata) parse
// back to themselves.
func FuzzParseOperations(f *testing.F) {
	for _, s := range []string{
		"grayscale, rotate 90, resize 320x200",
		"rotate 45° counterclockwise then blur 3 and sharpen 0.5",
		"flip vertically; crop 200x100+10+20\ninvert",
		"resize 50%", "resize x200", "scale 1e2%", "rotate -0 ccw", "crop 1x1+0+0",
		"turn by 3600 degrees", "blur radius 100", "make it pretty", "", ",,,", strings.Repeat("invert,", 21),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, prompt string) {
		texts, err := local.ParseOperations(prompt)
		if err != nil {
			var e *mediatrail.Error
			code := mediatrail.ErrorCode(err)
			if !errors.As(err, &e) || (code != mediatrail.EINVALID && code != mediatrail.ETOOLARGE) || e.Details["field"] != "prompt" {
				t.Fatalf("prompt %q: %v, want a client error on prompt", prompt, err)
			}
			return
		}
		if len(texts) == 0 || len(texts) > 20 {
			t.Fatalf("prompt %q: %d operations", prompt, len(texts))
		}
		again, err := local.ParseOperations(strings.Join(texts, ", "))
		if err != nil || strings.Join(again, ", ") != strings.Join(texts, ", ") {
			t.Fatalf("prompt %q parses to %q, which parses to %q, %v", prompt, texts, again, err)
		}
	})
}
