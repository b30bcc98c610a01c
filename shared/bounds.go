package mediatrail

import (
	"encoding/json"
	"unicode/utf8"
)

const (
	// MaxJSONDepth bounds the nesting of caller-supplied JSON (config,
	// metadata): DynamoDB refuses items nested deeper than 32 levels, and our
	// items wrap these values in two more.
	MaxJSONDepth = 16
	// MaxInputURLBytes bounds input_url; presigned URLs with a session token
	// stay well under it.
	MaxInputURLBytes = 8 << 10
)

// jsonDepth is the nesting depth of a decoded JSON value: 0 for a scalar, 1
// for a flat object or array. It stops counting past limit.
func jsonDepth(v any, limit int) int {
	if limit < 0 {
		return 0
	}
	deepest := 0
	switch v := v.(type) {
	case map[string]any:
		for _, e := range v {
			deepest = max(deepest, jsonDepth(e, limit-1))
		}
	case []any:
		for _, e := range v {
			deepest = max(deepest, jsonDepth(e, limit-1))
		}
	default:
		return 0
	}
	return deepest + 1
}

// validateDepth refuses a value of field nested deeper than MaxJSONDepth.
func validateDepth(field string, v map[string]any) error {
	if v != nil && jsonDepth(v, MaxJSONDepth) > MaxJSONDepth {
		return Invalid(field, "%s must nest at most %d levels", field, MaxJSONDepth)
	}
	return nil
}

// validateConfig bounds a provider config (a media call's, a media tool's
// defaults): its JSON size and its nesting, so that whatever carries it (the
// span, the job, the tool) can be stored.
func validateConfig(cfg map[string]any) error {
	if b, err := json.Marshal(cfg); err != nil || len(b) > MaxConfigBytes {
		return Invalid("config", "config must be a JSON object of at most %d KiB", MaxConfigBytes>>10)
	}
	return validateDepth("config", cfg)
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) (string, bool) {
	if len(s) <= n {
		return s, false
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n], true
}
