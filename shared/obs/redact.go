package obs

import (
	"context"
	"encoding/json"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"
)

// Redacted replaces every secret value in logs; the attribute's name stays,
// so a log line still says what was there.
const Redacted = "[REDACTED]"

// secretValue matches secrets inside free text: presigned URL signatures,
// credentials and session tokens, API keys, bearer tokens and secrets, as
// query parameters, headers or JSON fields. Compiled on first use, not at
// package init: a function's cold start does not pay for it, nor does a log
// line without a secret's name in it (mayHoldSecret).
var secretValue = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?i)(x-amz-signature|x-amz-credential|x-amz-security-token|x-api-key|api[_-]?key|access[_-]?key(?:[_-]?id)?|secret[_-]?key|secret|token|password|authorization)((?:\\?["'])?\s*[=:]\s*(?:\\?["'])?)(bearer\s+)?[^\s&"'\\,;}]+`)
})

// Redact masks every secret value in s.
func Redact(s string) string {
	if !mayHoldSecret(s) {
		return s
	}
	return secretValue().ReplaceAllString(s, "${1}${2}${3}"+Redacted)
}

// secretWords are words one of which is in every name secretValue matches
// (x-amz-signature and x-amz-credential through "x-amz-").
var secretWords = []string{"key", "token", "secret", "password", "authorization", "x-amz-"}

// mayHoldSecret reports whether secretValue could match s: false only when s
// is ASCII and holds none of secretWords in any case. Non-ASCII text always
// goes to the regexp, whose case folding is Unicode's (the Kelvin sign is a
// "k" to it).
func mayHoldSecret(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return true
		}
	}
	for _, w := range secretWords {
		if containsFold(s, w) {
			return true
		}
	}
	return false
}

// containsFold reports whether the ASCII string s contains the lower-case
// ASCII word w, ignoring case.
func containsFold(s, w string) bool {
	for i := 0; i+len(w) <= len(s); i++ {
		j := 0
		for ; j < len(w); j++ {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != w[j] {
				break
			}
		}
		if j == len(w) {
			return true
		}
	}
	return false
}

// secretKey reports whether an attribute of this name holds a secret whatever
// its value looks like: keys, tokens, signatures, passwords, cookies and
// sealed credentials. Names are compared without case, '-' and '_', so
// "X-Api-Key", "api_key" and "apiKey" are one name. Object keys ("key",
// "storage_key") and ids ("credential_id") are not secrets.
func secretKey(name string) bool {
	n := strings.NewReplacer("-", "", "_", "", ".", "").Replace(strings.ToLower(name))
	switch n {
	case "authorization", "cookie", "setcookie", "ciphertext", "xamzcredential", "credentials":
		return true
	}
	for _, suffix := range []string{"apikey", "token", "secret", "secretkey", "password", "signature", "accesskeyid"} {
		if strings.HasSuffix(n, suffix) {
			return true
		}
	}
	return false
}

// Redacting wraps h so that no record it handles carries a secret: an
// attribute whose name is a secret's (secretKey) is replaced whole, at any
// depth of groups; strings, errors and any other value (as its JSON) are
// passed through Redact; so is the message. Attributes given to WithAttrs are
// redacted once, when given.
func Redacting(h slog.Handler) slog.Handler {
	if r, ok := h.(redacting); ok {
		return r
	}
	return redacting{h}
}

type redacting struct{ slog.Handler }

func (h redacting) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, Redact(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(redactAttr(a))
		return true
	})
	return h.Handler.Handle(ctx, out)
}

func (h redacting) WithAttrs(attrs []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		red[i] = redactAttr(a)
	}
	return redacting{h.Handler.WithAttrs(red)}
}

func (h redacting) WithGroup(name string) slog.Handler {
	return redacting{h.Handler.WithGroup(name)}
}

func redactAttr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	if v.Kind() != slog.KindGroup && secretKey(a.Key) {
		return slog.String(a.Key, Redacted)
	}
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, Redact(v.String()))
	case slog.KindGroup:
		group := v.Group()
		red := make([]any, len(group))
		for i, g := range group {
			red[i] = redactAttr(g)
		}
		return slog.Group(a.Key, red...)
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return slog.String(a.Key, Redact(x.Error()))
		case nil:
			return a
		default:
			// Maps and structs may hold secrets under their own keys: they
			// are logged as their JSON, redacted by key and by value.
			b, err := json.Marshal(x)
			if err != nil {
				return slog.String(a.Key, Redacted)
			}
			return slog.Any(a.Key, json.RawMessage(redactJSON(b)))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}

// redactJSON redacts a JSON document by key at any depth, then by value.
func redactJSON(b []byte) []byte {
	var doc any
	if json.Unmarshal(b, &doc) != nil {
		return []byte(`"` + Redacted + `"`)
	}
	out, err := json.Marshal(redactValue(doc))
	if err != nil {
		return []byte(`"` + Redacted + `"`)
	}
	return []byte(Redact(string(out)))
}

func redactValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if secretKey(k) {
				x[k] = Redacted
			} else {
				x[k] = redactValue(e)
			}
		}
	case []any:
		for i, e := range x {
			x[i] = redactValue(e)
		}
	}
	return v
}
