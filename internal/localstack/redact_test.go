package localstack_test

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/mediatrail/mediatrail/internal/localstack"
)

func TestSecurity_LocalLogsRedactSecrets(t *testing.T) {
	for _, tc := range []struct{ in, secret string }{
		{`GET http://127.0.0.1:9000/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20261205&X-Amz-Signature=0123abcdef`, "0123abcdef"},
		{`{"url":"http://h/k?X-Amz-Signature=deadbeef&X-Amz-Security-Token=FQoGZX"}`, "deadbeef"},
		{`X-Amz-Security-Token=FQoGZXIvYXdzEJr`, "FQoGZXIvYXdzEJr"},
		{`x-api-key: mt_live_123456`, "mt_live_123456"},
		{`{"X-API-Key":"mt_example_key"}`, "mt_example_key"},
		{`Authorization: Bearer sk-abcdef123`, "sk-abcdef123"},
		{`{"OPENAI_API_KEY":"sk-proj-xyz"}`, "sk-proj-xyz"},
		{`STORAGE_SECRET_KEY=hunter2`, "hunter2"},
		{`{\"url\":\"http://h/k?X-Amz-Signature=cafe01\"}`, "cafe01"},
	} {
		if got := localstack.Redact(tc.in); strings.Contains(got, tc.secret) || !strings.Contains(got, "[REDACTED]") {
			t.Errorf("Redact(%q) = %q", tc.in, got)
		}
	}
	if got := localstack.Redact("asset 2ZqfNnJv8bY1kQ4rT0hM3sLxWcD stored"); got != "asset 2ZqfNnJv8bY1kQ4rT0hM3sLxWcD stored" {
		t.Errorf("Redact changed a line without secrets: %q", got)
	}
}

// The stack wraps its logger: an error carrying a presigned URL is logged
// without its signature.
func TestSecurity_StackLoggerRedacts(t *testing.T) {
	var buf bytes.Buffer
	log := localstack.RedactingLogger(slog.New(slog.NewTextHandler(&buf, nil)))
	log.Error("invoke failed", "err", errors.New("runtime said: https://s3/k?X-Amz-Signature=abc123def"), "url", "http://x/?X-Amz-Signature=987fed")
	if out := buf.String(); strings.Contains(out, "abc123def") || strings.Contains(out, "987fed") {
		t.Errorf("log holds a signature: %s", out)
	}
}
