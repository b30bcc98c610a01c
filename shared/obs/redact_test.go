package obs_test

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"github.com/mediatrail/mediatrail/shared/obs"
)

// Redact skips its regexp only for text the regexp cannot match: on text
// built from secrets' names in any case (ASCII or Unicode folds of them),
// separators, values and other words, it answers what the regexp alone
// answers.
func TestRedactSkipsOnlyWhatCannotMatch(t *testing.T) {
	whole := regexp.MustCompile(`(?i)(x-amz-signature|x-amz-credential|x-amz-security-token|x-api-key|api[_-]?key|access[_-]?key(?:[_-]?id)?|secret[_-]?key|secret|token|password|authorization)((?:\\?["'])?\s*[=:]\s*(?:\\?["'])?)(bearer\s+)?[^\s&"'\\,;}]+`)
	pieces := []string{
		"X-Amz-Signature", "x-amz-credential", "X-AMZ-SECURITY-TOKEN", "x-api-key", "apiKey", "API_KEY", "access-key-id",
		"AccessKey", "secret_key", "Secret", "tOkEn", "PASSWORD", "Authorization", "\u212aey", "\u017fecret", "ke", "y", "tok", "en",
		"=", ": ", "\"", "'", "\\\"", " ", "&", ",", "Bearer ", "sk-live-0123", "abc", "/api/v1/assets/", "GET", "é", "\n",
	}
	r := rand.New(rand.NewPCG(5, 6))
	cases := []string{"", "GET /api/v1/assets/{id}", "request", "status=200 latency_ms=3", "monkey=1", "x-amz-date=20261206"}
	for range 20000 {
		var b strings.Builder
		for range 1 + r.IntN(6) {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		cases = append(cases, b.String())
	}
	for _, s := range cases {
		if got, want := obs.Redact(s), whole.ReplaceAllString(s, "${1}${2}${3}"+obs.Redacted); got != want {
			t.Errorf("Redact(%q) = %q, the regexp gives %q", s, got, want)
		}
	}
}

func BenchmarkRedactPlain(b *testing.B) {
	for b.Loop() {
		_ = obs.Redact("GET /api/v1/assets/{id}")
	}
}
