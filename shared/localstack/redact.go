package localstack

import (
	"context"
	"io"
	"log/slog"
	"regexp"
)

// secretValue matches what must never reach a local log: presigned URL
// signatures, credentials and session tokens, API keys, bearer tokens and
// secrets, as query parameters, headers or JSON fields.
var secretValue = regexp.MustCompile(`(?i)(x-amz-signature|x-amz-credential|x-amz-security-token|x-api-key|api[_-]?key|access[_-]?key(?:[_-]?id)?|secret[_-]?key|secret|token|password|authorization)((?:\\?["'])?\s*[=:]\s*(?:\\?["'])?)(bearer\s+)?[^\s&"'\\,;}]+`)

// Redact masks every secret value in s (the name stays, so a log still says
// what was there).
func Redact(s string) string {
	return secretValue.ReplaceAllString(s, "${1}${2}${3}[REDACTED]")
}

// redactingWriter redacts what is written through it; the functions' output
// and the emulators' logs go through one. Secrets split across two writes can
// escape it: the functions write whole lines.
type redactingWriter struct{ w io.Writer }

func (r redactingWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(r.w, Redact(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// RedactingLogger returns l with every record redacted.
func RedactingLogger(l *slog.Logger) *slog.Logger {
	return slog.New(redactingHandler{l.Handler()})
}

// redactingHandler redacts the message and the string and error attributes of
// every record of the stack's own logger.
type redactingHandler struct{ slog.Handler }

func (h redactingHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, Redact(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(redactAttr(a))
		return true
	})
	return h.Handler.Handle(ctx, out)
}

func (h redactingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	for i := range attrs {
		attrs[i] = redactAttr(attrs[i])
	}
	return redactingHandler{h.Handler.WithAttrs(attrs)}
}

func (h redactingHandler) WithGroup(name string) slog.Handler {
	return redactingHandler{h.Handler.WithGroup(name)}
}

func redactAttr(a slog.Attr) slog.Attr {
	switch v := a.Value.Resolve(); v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, Redact(v.String()))
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			return slog.String(a.Key, Redact(err.Error()))
		}
	}
	return a
}
