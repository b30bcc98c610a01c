package mediatrail

import (
	"strings"
	"unicode/utf8"
)

// validate checks the request and returns its capability: the route's, which
// media_type may repeat but not contradict, or media_type's.
func (in *GenerateInput) validate(route Capability) (Capability, error) {
	c := route
	if in.MediaType != "" {
		named, err := ParseCapability(in.MediaType)
		if err != nil {
			return "", err
		}
		if route != "" && named != route {
			return "", Invalid("media_type", "media_type %s does not match this route (%s)", in.MediaType, route)
		}
		c = named
	}
	if c == "" {
		return "", Invalid("media_type", "media_type is required")
	}
	if strings.TrimSpace(in.Provider) == "" && in.ToolID == "" {
		return "", Invalid("provider", "provider (or tool_id) is required")
	}
	if in.ToolID != "" && !ValidID(in.ToolID) {
		return "", Invalid("tool_id", "tool_id must be a media tool id")
	}
	for _, f := range []struct{ name, v string }{{"execution_id", in.ExecutionID}, {"agent_id", in.AgentID}, {"trace_id", in.TraceID}, {"parent_span_id", in.ParentSpanID}, {"session_id", in.SessionID}} {
		if err := validateRefField(f.name, f.v, false); err != nil {
			return "", err
		}
	}
	if in.IdempotencyKey != "" {
		if err := validateIdempotencyKey(in.IdempotencyKey); err != nil {
			return "", err
		}
	}
	if in.CallbackURL != "" {
		if !c.Async() {
			return "", Invalid("callback_url", "callback_url is for video jobs; %s answers at once", c)
		}
		if err := validateCallbackURL(in.CallbackURL); err != nil {
			return "", err
		}
	}
	if in.RetentionDays != nil {
		if err := ValidateRetentionDays(*in.RetentionDays); err != nil {
			return "", err
		}
	}
	switch {
	case len(in.Prompt) > MaxPromptBytes:
		return "", TooLarge("prompt", "prompt must be at most %d KiB", MaxPromptBytes>>10)
	case !utf8.ValidString(in.Prompt):
		return "", Invalid("prompt", "prompt must be valid UTF-8")
	}
	if err := validateConfig(in.Config); err != nil {
		return "", err
	}
	if len(in.InputURL) > MaxInputURLBytes {
		return "", Invalid("input_url", "input_url must be at most %d bytes", MaxInputURLBytes)
	}
	hasInput := in.InputURL != "" || in.InputAssetID != ""
	switch {
	case in.InputURL != "" && in.InputAssetID != "":
		return "", Invalid("input_url", "give input_url or input_asset_id, not both")
	case in.InputAssetID != "" && !ValidID(in.InputAssetID):
		return "", Invalid("input_asset_id", "input_asset_id must be a 27-character KSUID")
	case in.InputURL != "":
		if err := validateInputURL(in.InputURL); err != nil {
			return "", err
		}
	}
	// TTS speaks its prompt, or the text of its input (a script an agent wrote).
	if c == CapabilityTTS && hasInput && strings.TrimSpace(in.Prompt) != "" {
		return "", Invalid("prompt", "tts speaks either the prompt or the input text, not both")
	}
	if c.needsPrompt() && strings.TrimSpace(in.Prompt) == "" && !(c == CapabilityTTS && hasInput) {
		return "", Invalid("prompt", "prompt is required for %s", c)
	}
	if c.needsInput() && !hasInput {
		return "", Invalid("input_url", "an input (input_url or input_asset_id) is required for %s", c)
	}
	return c, nil
}
