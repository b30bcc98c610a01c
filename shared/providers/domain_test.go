package providers_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// The domain side of providers lives in package mediatrail (provider.go); it is
// tested here, beside its only users.

func TestParseCapability(t *testing.T) {
	tests := []struct {
		in      string
		want    mediatrail.Capability
		async   bool
		asset   mediatrail.AssetType
		wantErr bool
	}{
		{"tts", mediatrail.CapabilityTTS, false, mediatrail.AssetAudio, false},
		{"stt", mediatrail.CapabilitySTT, false, mediatrail.AssetText, false},
		{"image_gen", mediatrail.CapabilityImageGen, false, mediatrail.AssetImage, false},
		{"image_edit", mediatrail.CapabilityImageEdit, false, mediatrail.AssetImage, false},
		{"video_gen", mediatrail.CapabilityVideoGen, true, mediatrail.AssetVideo, false},
		{"video_from_image", mediatrail.CapabilityVideoFromImage, true, mediatrail.AssetVideo, false},
		{"video_from_img", mediatrail.CapabilityVideoFromImage, true, mediatrail.AssetVideo, false},
		// The SDK README's broad words (api.md, "Round 2").
		{"image", mediatrail.CapabilityImageGen, false, mediatrail.AssetImage, false},
		{"video", mediatrail.CapabilityVideoGen, true, mediatrail.AssetVideo, false},
		{"audio", mediatrail.CapabilityTTS, false, mediatrail.AssetAudio, false},
		{"speech", mediatrail.CapabilityTTS, false, mediatrail.AssetAudio, false},
		{"transcription", mediatrail.CapabilitySTT, false, mediatrail.AssetText, false},
		{"Image", "", false, "", true},
		{"TTS", "", false, "", true},
		{"", "", false, "", true},
		{"music", "", false, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := mediatrail.ParseCapability(tt.in)
			if tt.wantErr {
				wantEqual(t, "code", mediatrail.ErrorCode(err), mediatrail.EINVALID)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			wantEqual(t, "capability", got, tt.want)
			wantEqual(t, "async", got.Async(), tt.async)
			wantEqual(t, "asset type", got.AssetType(), tt.asset)
		})
	}
}

func TestValidate(t *testing.T) {
	png := &mediatrail.MediaInput{Data: []byte{1}}
	tests := []struct {
		name      string
		req       mediatrail.MediaRequest
		wantField string // "" means valid
	}{
		{"tts", mediatrail.MediaRequest{Capability: "tts", Prompt: "hi"}, ""},
		{"tts without text", mediatrail.MediaRequest{Capability: "tts", Prompt: "  "}, "prompt"},
		{"stt", mediatrail.MediaRequest{Capability: "stt", Input: png}, ""},
		{"stt without input", mediatrail.MediaRequest{Capability: "stt"}, "input_url"},
		{"image_edit without prompt", mediatrail.MediaRequest{Capability: "image_edit", Input: png}, "prompt"},
		{"video_from_image without prompt", mediatrail.MediaRequest{Capability: "video_from_image", Input: png}, ""},
		{"video_gen without prompt", mediatrail.MediaRequest{Capability: "video_gen"}, "prompt"},
		{"unknown capability", mediatrail.MediaRequest{Capability: "music", Prompt: "x"}, "media_type"},
		{"alias not parsed", mediatrail.MediaRequest{Capability: "video_from_img", Input: png}, "media_type"},
		{"input with two sources", mediatrail.MediaRequest{Capability: "stt", Input: &mediatrail.MediaInput{URL: "https://x/a.wav", Data: []byte{1}}}, "input_url"},
		{"input with none", mediatrail.MediaRequest{Capability: "stt", Input: &mediatrail.MediaInput{}}, "input_url"},
		{"file URL", mediatrail.MediaRequest{Capability: "stt", Input: &mediatrail.MediaInput{URL: "file:///etc/passwd"}}, "input_url"},
		{"URL without host", mediatrail.MediaRequest{Capability: "stt", Input: &mediatrail.MediaInput{URL: "https:///x"}}, "input_url"},
		{"https URL", mediatrail.MediaRequest{Capability: "stt", Input: &mediatrail.MediaInput{URL: "https://example.com/a.wav"}}, ""},
		{"reader", mediatrail.MediaRequest{Capability: "stt", Input: &mediatrail.MediaInput{Body: strings.NewReader("x")}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.req.Validate()
			if tt.wantField == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var e *mediatrail.Error
			if !errors.As(err, &e) || e.Code != mediatrail.EINVALID {
				t.Fatalf("Validate = %v, want EINVALID", err)
			}
			wantEqual[any](t, "field", e.Details["field"], tt.wantField)
		})
	}
}

func TestProviderErrorClientError(t *testing.T) {
	tests := []struct {
		name      string
		err       mediatrail.ProviderError
		wantCode  string
		wantMsg   string
		wantRetry int
		temporary bool
	}{
		{"400", mediatrail.ProviderError{Status: 400, Message: "size must be 1024x1024"}, mediatrail.EINVALID, "provider p rejected the request: size must be 1024x1024", 0, false},
		{"404 unknown voice", mediatrail.ProviderError{Status: 404, Message: "voice not found"}, mediatrail.EINVALID, "provider p rejected the request: voice not found", 0, false},
		{"413", mediatrail.ProviderError{Status: 413, Message: "file too big"}, mediatrail.ETOOLARGE, "provider p rejected the input as too large: file too big", 0, false},
		{"422", mediatrail.ProviderError{Status: 422, Message: "text: Field required"}, mediatrail.EUNPROCESSABLE, "provider p could not process the request: text: Field required", 0, false},
		{"401", mediatrail.ProviderError{Status: 401, Message: "bad key sk-123"}, mediatrail.EPROVIDER, "provider p rejected credentials", 0, false},
		{"403", mediatrail.ProviderError{Status: 403}, mediatrail.EPROVIDER, "provider p rejected credentials", 0, false},
		{"402", mediatrail.ProviderError{Status: 402}, mediatrail.EQUOTA, "provider p quota is exhausted", 0, false},
		{"quota as 429", mediatrail.ProviderError{Status: 429, Code: "insufficient_quota"}, mediatrail.EQUOTA, "provider p quota is exhausted", 0, false},
		{"quota as 401", mediatrail.ProviderError{Status: 401, Code: "quota_exceeded"}, mediatrail.EQUOTA, "provider p quota is exhausted", 0, false},
		{"429 with hint", mediatrail.ProviderError{Status: 429, RetryAfter: 1500 * time.Millisecond}, mediatrail.ERATELIMITED, "provider p is rate limiting requests", 2, true},
		{"429 without hint", mediatrail.ProviderError{Status: 429}, mediatrail.ERATELIMITED, "provider p is rate limiting requests", 1, true},
		{"moderation", mediatrail.ProviderError{Status: 403, Code: "content_moderation", Message: "flagged"}, mediatrail.EUNPROCESSABLE, "provider p refused the content: flagged", 0, false},
		{"filtered", mediatrail.ProviderError{Status: 200, Code: mediatrail.ProviderFiltered, Message: "withheld"}, mediatrail.EUNPROCESSABLE, "provider p refused the content: withheld", 0, false},
		{"job failed", mediatrail.ProviderError{Code: mediatrail.ProviderJobFailed, Message: "bad input"}, mediatrail.EUNPROCESSABLE, "provider p could not produce the media: bad input", 0, false},
		{"500", mediatrail.ProviderError{Status: 500, Message: "stack trace at line 3"}, mediatrail.EPROVIDER, "provider p failed", 0, true},
		{"503", mediatrail.ProviderError{Status: 503}, mediatrail.EPROVIDER, "provider p failed", 0, true},
		{"504", mediatrail.ProviderError{Status: 504}, mediatrail.ETIMEOUT, "provider p did not answer in time", 0, true},
		{"408", mediatrail.ProviderError{Status: 408}, mediatrail.ETIMEOUT, "provider p did not answer in time", 0, true},
		{"timeout", mediatrail.ProviderError{Code: mediatrail.ProviderTimeout}, mediatrail.ETIMEOUT, "provider p did not answer in time", 0, true},
		{"unreachable", mediatrail.ProviderError{Code: mediatrail.ProviderUnreachable}, mediatrail.EPROVIDER, "provider p failed", 0, true},
		{"truncated", mediatrail.ProviderError{Status: 200, Code: mediatrail.ProviderTruncated}, mediatrail.EPROVIDER, "provider p failed", 0, true},
		{"malformed", mediatrail.ProviderError{Status: 200, Code: mediatrail.ProviderMalformed}, mediatrail.EPROVIDER, "provider p failed", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pe := tt.err
			pe.Provider, pe.RequestID = "p", "req-1"
			ce := pe.ClientError()
			wantEqual(t, "code", ce.Code, tt.wantCode)
			wantEqual(t, "message", ce.Message, tt.wantMsg)
			wantEqual(t, "retry after", ce.RetryAfterSeconds, tt.wantRetry)
			wantEqual[any](t, "details.provider_request_id", ce.Details["provider_request_id"], "req-1")
			wantEqual(t, "temporary", pe.Temporary(), tt.temporary)

			// Through any wrapping, the domain helpers see the client error.
			wrapped := fmt.Errorf("generate: %w", &pe)
			wantEqual(t, "ErrorCode", mediatrail.ErrorCode(wrapped), tt.wantCode)
			wantEqual(t, "ErrorMessage", mediatrail.ErrorMessage(wrapped), tt.wantMsg)
		})
	}
}

func TestProviderErrorText(t *testing.T) {
	cause := errors.New("connection reset")
	err := &mediatrail.ProviderError{Provider: "openai", Status: 429, Code: "rate_limit_exceeded", Message: "slow down", RequestID: "req_9", Err: cause}
	wantEqual(t, "Error", err.Error(), "provider openai: status 429 rate_limit_exceeded: slow down (request id req_9): connection reset")
	wantEqual(t, "unwraps to its cause", errors.Is(err, cause), true)
}
