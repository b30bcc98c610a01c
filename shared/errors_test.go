package mediatrail_test

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// The cause stays in the chain and in Error() (for logs) but never reaches
// the client-facing code or message.
func TestErrorKeepsCause(t *testing.T) {
	cause := fmt.Errorf("dynamodb: %w", io.ErrUnexpectedEOF)
	err := fmt.Errorf("store: %w", mediatrail.Conflict("", "the job is changing; try again").RetryAfter(1).Wrap(cause))

	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Error("errors.Is does not reach the cause")
	}
	if got, want := mediatrail.ErrorCode(err), mediatrail.ECONFLICT; got != want {
		t.Errorf("code %q, want %q", got, want)
	}
	if got := mediatrail.ErrorMessage(err); strings.Contains(got, "dynamodb") {
		t.Errorf("client message %q leaks the cause", got)
	}
	if got := err.Error(); !strings.Contains(got, "dynamodb") {
		t.Errorf("log text %q lost the cause", got)
	}
	var e *mediatrail.Error
	if !errors.As(err, &e) || e.RetryAfterSeconds != 1 {
		t.Errorf("RetryAfterSeconds lost: %+v", e)
	}
}

func TestErrorConstructors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		err     *mediatrail.Error
		code    string
		field   any // nil: no details at all
		message string
	}{
		{"invalid", mediatrail.Invalid("size", "size must be %d", 3), mediatrail.EINVALID, "size", "size must be 3"},
		{"too large", mediatrail.TooLarge("prompt", "at most %d KiB", 4), mediatrail.ETOOLARGE, "prompt", "at most 4 KiB"},
		{"too large, no field", mediatrail.TooLarge("", "too big"), mediatrail.ETOOLARGE, nil, "too big"},
		{"not found", mediatrail.NotFound("tool_id", "media tool not found"), mediatrail.ENOTFOUND, "tool_id", "media tool not found"},
		{"conflict", mediatrail.Conflict("idempotency_key", "in use"), mediatrail.ECONFLICT, "idempotency_key", "in use"},
		{"unprocessable", mediatrail.Unprocessable("", "parts %s", "wrong"), mediatrail.EUNPROCESSABLE, nil, "parts wrong"},
		{"errorf", mediatrail.Errorf(mediatrail.EUNAVAILABLE, "down"), mediatrail.EUNAVAILABLE, nil, "down"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.err.Code != tc.code || tc.err.Message != tc.message {
				t.Errorf("got %s %q, want %s %q", tc.err.Code, tc.err.Message, tc.code, tc.message)
			}
			if tc.field == nil {
				if tc.err.Details != nil {
					t.Errorf("details %v, want none", tc.err.Details)
				}
			} else if got := tc.err.Details["field"]; got != tc.field {
				t.Errorf("details.field %v, want %v", got, tc.field)
			}
			if tc.err.Unwrap() != nil {
				t.Error("a fresh error has a cause")
			}
		})
	}
}

func TestErrorWithAddsDetails(t *testing.T) {
	e := mediatrail.TooLarge("", "too big").With("limit", 3).With("field", "size")
	if e.Details["limit"] != 3 || e.Details["field"] != "size" {
		t.Errorf("details %v", e.Details)
	}
}

func TestErrorCodeAndMessage(t *testing.T) {
	for _, tc := range []struct {
		name          string
		err           error
		code, message string
	}{
		{"nil", nil, "", "internal error"},
		{"plain", errors.New("secret table name"), mediatrail.EINTERNAL, "internal error"},
		{"app", mediatrail.NotFound("", "asset not found"), mediatrail.ENOTFOUND, "asset not found"},
		{"wrapped app", fmt.Errorf("get: %w", mediatrail.NotFound("", "asset not found")), mediatrail.ENOTFOUND, "asset not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := mediatrail.ErrorCode(tc.err); got != tc.code {
				t.Errorf("code %q, want %q", got, tc.code)
			}
			if got := mediatrail.ErrorMessage(tc.err); got != tc.message {
				t.Errorf("message %q, want %q", got, tc.message)
			}
			if got := mediatrail.IsNotFound(tc.err); got != (tc.code == mediatrail.ENOTFOUND) {
				t.Errorf("IsNotFound %v", got)
			}
		})
	}
}
