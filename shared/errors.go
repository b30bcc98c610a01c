package mediatrail

import (
	"errors"
	"fmt"
)

// Error codes. They are part of the HTTP contract (api.md): clients switch on them,
// so they never change meaning. httpapi holds the one code→status map.
const (
	EINVALID         = "validation_error" // 400
	EUNAUTHENTICATED = "unauthenticated"  // 401
	EQUOTA           = "quota_exceeded"   // 402
	EFORBIDDEN       = "forbidden"        // 403
	ENOTFOUND        = "not_found"        // 404
	ECONFLICT        = "conflict"         // 409
	ETOOLARGE        = "too_large"        // 413
	EUNPROCESSABLE   = "unprocessable"    // 422
	ERATELIMITED     = "rate_limited"     // 429
	EINTERNAL        = "internal"         // 500
	EPROVIDER        = "provider_error"   // 502
	EUNAVAILABLE     = "unavailable"      // 503
	ETIMEOUT         = "timeout"          // 504

	// Workspace credentials and media tools (credential.go, tool.go).
	ECREDENTIALMISSING = "credential_missing"   // 422: no key for the provider
	ETOOLNOTATTACHED   = "tool_not_attached"    // 403: the agent may not use the tool
	EPROVIDERAUTH      = "provider_auth_failed" // 424: the provider refused a workspace credential

	// Workspace budgets (budget.go): a call whose estimated cost would pass a
	// limit; details name the limit and what is left.
	EBUDGET = "budget_exceeded" // 402
)

// Error is the application error: a stable machine code, a message safe to show a
// client, and optional details. Any error that is not an *Error is internal: it is
// logged and answered with a generic message.
type Error struct {
	Code    string
	Message string
	Details map[string]any
	// RetryAfterSeconds, when positive, is sent as Retry-After (429/503).
	RetryAfterSeconds int
	// Err is the cause, for logs only: Error() and errors.Is/As see it, the HTTP
	// answer (Code, Message, Details) never does.
	Err error
}

// Error is for logs: it names the cause, which a client never sees.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("mediatrail: %s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("mediatrail: %s: %s", e.Code, e.Message)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted, client-safe message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// fieldError is Errorf naming the offending field in details.field ("" names none).
func fieldError(code, field, format string, args ...any) *Error {
	e := Errorf(code, format, args...)
	if field != "" {
		e.Details = map[string]any{"field": field}
	}
	return e
}

// Invalid returns an EINVALID error naming the offending field in details.field.
func Invalid(field, format string, args ...any) *Error {
	return fieldError(EINVALID, field, format, args...)
}

// TooLarge returns an ETOOLARGE error naming the field ("" for none) that is too large.
func TooLarge(field, format string, args ...any) *Error {
	return fieldError(ETOOLARGE, field, format, args...)
}

// NotFound returns an ENOTFOUND error naming the field ("" for none) whose value names nothing.
func NotFound(field, format string, args ...any) *Error {
	return fieldError(ENOTFOUND, field, format, args...)
}

// Conflict returns an ECONFLICT error naming the field ("" for none) in conflict.
func Conflict(field, format string, args ...any) *Error {
	return fieldError(ECONFLICT, field, format, args...)
}

// Unprocessable returns an EUNPROCESSABLE error naming the field ("" for none)
// whose well-formed value cannot be acted on.
func Unprocessable(field, format string, args ...any) *Error {
	return fieldError(EUNPROCESSABLE, field, format, args...)
}

// With adds a detail and returns e, for chaining onto a constructor.
func (e *Error) With(key string, value any) *Error {
	if e.Details == nil {
		e.Details = map[string]any{}
	}
	e.Details[key] = value
	return e
}

// RetryAfter sets RetryAfterSeconds and returns e.
func (e *Error) RetryAfter(seconds int) *Error {
	e.RetryAfterSeconds = seconds
	return e
}

// Wrap records cause as e.Err (for logs) and returns e.
func (e *Error) Wrap(cause error) *Error {
	e.Err = cause
	return e
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for any
// other non-nil error and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	default:
		return EINTERNAL
	}
}

// ErrorMessage returns the client-safe message of err: the *Error's message, or a
// generic one for internal errors so that no internals leak.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// IsNotFound reports whether err carries ENOTFOUND.
func IsNotFound(err error) bool { return ErrorCode(err) == ENOTFOUND }
