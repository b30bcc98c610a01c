package providers_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/mediatrail/mediatrail/shared/providers"
)

// FuzzParseRetryAfter: whatever a provider sends, a hint is never negative
// (a negative wait would retry at once, or overflow into a huge one).
func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range [][2]string{
		{"", "120"}, {"", "1.5"}, {"250", ""}, {"", "Wed, 21 Oct 2015 07:28:00 GMT"}, {"", "-1"},
		{"", "1e300"}, {"1e300", ""}, {"", "+Inf"}, {"NaN", "NaN"}, {"", "9223372036.854775807"}, {"", "soon"},
	} {
		f.Add(s[0], s[1])
	}
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, ms, seconds string) {
		h := http.Header{}
		if ms != "" {
			h.Set("Retry-After-Ms", ms)
		}
		if seconds != "" {
			h.Set("Retry-After", seconds)
		}
		d, ok := providers.ParseRetryAfter(h, now)
		if d < 0 || !ok && d != 0 {
			t.Fatalf("Retry-After-Ms %q, Retry-After %q: %v, %v", ms, seconds, d, ok)
		}
	})
}
