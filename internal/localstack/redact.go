package localstack

import (
	"io"
	"log/slog"

	"github.com/mediatrail/mediatrail/shared/obs"
)

// Redact masks every secret value in s (obs.Redact: the name stays, so a log
// still says what was there).
func Redact(s string) string { return obs.Redact(s) }

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

// RedactingLogger returns l with every record redacted (obs.Redacting: by
// attribute name, inside groups, and by value).
func RedactingLogger(l *slog.Logger) *slog.Logger {
	return slog.New(obs.Redacting(l.Handler()))
}
