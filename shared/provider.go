package mediatrail

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/url"
	"strings"
	"time"
)

// Capability is one kind of media work a provider does. The values are the API's
// media_type values (api.md).
type Capability string

const (
	CapabilityTTS            Capability = "tts"
	CapabilitySTT            Capability = "stt"
	CapabilityImageGen       Capability = "image_gen"
	CapabilityImageEdit      Capability = "image_edit"
	CapabilityVideoGen       Capability = "video_gen"
	CapabilityVideoFromImage Capability = "video_from_image"
)

// Capabilities lists every capability, in a stable order.
var Capabilities = []Capability{
	CapabilityTTS, CapabilitySTT, CapabilityImageGen, CapabilityImageEdit,
	CapabilityVideoGen, CapabilityVideoFromImage,
}

// CapabilityAliases are the other names media_type takes, each standing for
// one capability: the SDK's video_from_img, and the broad words of the SDK's
// README (api.md, "Round 2"). They are accepted wherever a media_type is
// read, in requests and in filters; answers always carry the capability.
var CapabilityAliases = map[string]Capability{
	"video_from_img": CapabilityVideoFromImage,
	"image":          CapabilityImageGen,
	"video":          CapabilityVideoGen,
	"audio":          CapabilityTTS,
	"speech":         CapabilityTTS,
	"transcription":  CapabilitySTT,
}

// ParseCapability returns the capability named s, or the one an alias
// (CapabilityAliases) stands for; anything else is EINVALID.
func ParseCapability(s string) (Capability, error) {
	if c, ok := CapabilityAliases[s]; ok {
		return c, nil
	}
	for _, c := range Capabilities {
		if string(c) == s {
			return c, nil
		}
	}
	return "", invalidCapability()
}

func invalidCapability() *Error {
	return Invalid("media_type", "media_type must be one of tts, stt, image_gen, image_edit, video_gen, video_from_image "+
		"(or the aliases image, video, audio, speech, transcription, video_from_img)")
}

// Async reports whether the capability runs as a provider job (Provider.Submit)
// rather than within one call (Provider.Generate). Videos take minutes.
func (c Capability) Async() bool {
	return c == CapabilityVideoGen || c == CapabilityVideoFromImage
}

// AssetType is the type of the asset the capability produces.
func (c Capability) AssetType() AssetType {
	switch c {
	case CapabilityTTS:
		return AssetAudio
	case CapabilitySTT:
		return AssetText
	case CapabilityImageGen, CapabilityImageEdit:
		return AssetImage
	case CapabilityVideoGen, CapabilityVideoFromImage:
		return AssetVideo
	}
	return AssetFile
}

// needsPrompt: what to say, draw or film. An image to animate may come without one.
func (c Capability) needsPrompt() bool {
	return c == CapabilityTTS || c == CapabilityImageGen || c == CapabilityImageEdit || c == CapabilityVideoGen
}

// needsInput: the audio to transcribe, the image to edit or animate.
func (c Capability) needsInput() bool {
	return c == CapabilitySTT || c == CapabilityImageEdit || c == CapabilityVideoFromImage
}

// MaxInputBytes bounds the input a provider client holds in memory: an input it
// downloads or reads from MediaInput.Body, kept whole so that retries can resend it.
const MaxInputBytes = 50 << 20

// MediaInput is the media a request works on. Exactly one of URL, Data and Body is set.
type MediaInput struct {
	// URL is an http(s) URL. Providers whose APIs take URLs pass it on and fetch it
	// themselves; for the others the client downloads it (at most MaxInputBytes).
	URL string
	// Data holds the bytes.
	Data []byte
	// Body is read once, up to MaxInputBytes, when the request is sent.
	Body io.Reader
	// ContentType of Data or Body; sniffed from the bytes when empty.
	ContentType string
	// FileName sent to providers that want one; derived when empty.
	FileName string
}

func (in *MediaInput) validate() error {
	set := 0
	for _, ok := range []bool{in.URL != "", in.Data != nil, in.Body != nil} {
		if ok {
			set++
		}
	}
	if set != 1 {
		return Invalid("input_url", "an input must have exactly one of a URL, bytes or a reader")
	}
	if in.URL != "" {
		u, err := url.Parse(in.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return Invalid("input_url", "input_url must be an http or https URL")
		}
	}
	return nil
}

// MediaRequest asks a provider for one piece of media.
type MediaRequest struct {
	Capability Capability
	// Model is the provider's model name; "" picks the provider's default.
	Model string
	// Prompt is the text to speak (tts) or the description of the image or video.
	Prompt string
	// Input is the media to work on (stt, image_edit, video_from_image).
	Input *MediaInput
	// Config holds provider-specific options named as the provider names them
	// (voice_id, size, aspect_ratio, duration, ...). Clients map the few that belong
	// in a URL or header and pass the rest through; Model, Prompt and Input win over
	// Config entries that would set the same provider field.
	Config map[string]any
}

// Validate checks what every provider needs: a capability as ParseCapability
// returns it (never the alias), a prompt where one is required, an input where
// one is required and a well-formed input.
func (r MediaRequest) Validate() error {
	if c, err := ParseCapability(string(r.Capability)); err != nil || c != r.Capability {
		return invalidCapability()
	}
	if r.Capability.needsPrompt() && strings.TrimSpace(r.Prompt) == "" {
		return Invalid("prompt", "prompt is required for %s", r.Capability)
	}
	if r.Capability.needsInput() && r.Input == nil {
		return Invalid("input_url", "an input (input_url or input_asset_id) is required for %s", r.Capability)
	}
	if r.Input != nil {
		return r.Input.validate()
	}
	return nil
}

// Word is one timed word of a transcript. Times are seconds from the start.
type Word struct {
	Text    string  `json:"text"`
	Start   float64 `json:"start"`
	End     float64 `json:"end"`
	Speaker string  `json:"speaker,omitempty"`
}

// Segment is one timed stretch (sentence or phrase) of a transcript.
type Segment struct {
	Text  string  `json:"text"`
	Start float64 `json:"start"`
	End   float64 `json:"end"`
}

// Usage units: what a provider bills by. The price table is keyed by them.
const (
	UnitCharacter   = "character"
	UnitSecond      = "second" // of audio processed
	UnitImage       = "image"
	UnitMegapixel   = "megapixel"
	UnitVideo       = "video"
	UnitVideoSecond = "video_second"
	UnitToken       = "token"
)

// Usage is the billable quantity of one result, as the provider reports it or,
// where it reports nothing, as the request implies (characters sent, images made).
type Usage struct {
	Quantity float64 `json:"quantity"`
	Unit     string  `json:"unit"`
}

// MediaResult is what a provider produced.
//
// Media capabilities set exactly one of Body and URL; stt sets Text. A URL is the
// provider's own, short-lived (an hour for OpenAI and Replicate, a day for Runway):
// the caller copies it into storage promptly and never hands it to a client.
type MediaResult struct {
	// Body streams the media; the caller must close it. A read error is a
	// *ProviderError (the stream broke off).
	Body        io.ReadCloser
	URL         string
	ContentType string

	Text            string // transcript (stt)
	Words           []Word
	Segments        []Segment
	DurationSeconds float64 // of the audio transcribed or produced, when known
	Width, Height   int     // of an image, when known

	Usage     Usage
	RequestID string // the provider's id for the call or job, for support requests
	Model     string // the model that ran, when known
	Metadata  map[string]any
}

// JobState is where a provider job is. queued, processing and completed keep
// their order; failed and cancelled may follow either of the first two.
type JobState string

const (
	JobQueued     JobState = "queued"
	JobProcessing JobState = "processing"
	JobCompleted  JobState = "completed"
	JobFailed     JobState = "failed"
	JobCancelled  JobState = "cancelled"
)

// Done reports whether the state is final.
func (s JobState) Done() bool {
	return s == JobCompleted || s == JobFailed || s == JobCancelled
}

// Job is a provider's view of an asynchronous generation.
type Job struct {
	// ProviderJobID is opaque: pass it back to Status and Cancel unchanged. It
	// starts with the provider's own job id and may carry what Status needs that
	// the provider does not report back.
	ProviderJobID string
	State         JobState
	Progress      float64      // 0..1 when the provider reports it
	Result        *MediaResult // set when completed
	FailureReason string       // the provider's words, when failed
}

// Provider turns media requests into media. Implementations know nothing of
// storage or routing. Each method returns a *ProviderError for anything the
// provider answered or failed to answer, and an *Error (EINVALID) for requests
// the provider cannot take, such as an unsupported capability.
type Provider interface {
	// Name is the provider's name in API requests ("openai", "runway", ...).
	Name() string

	// Capabilities lists what the provider does.
	Capabilities() []Capability

	// Generate runs a synchronous capability (tts, stt, image_gen, image_edit)
	// and returns its result.
	Generate(ctx context.Context, req MediaRequest) (*MediaResult, error)

	// Submit starts an asynchronous capability (video_gen, video_from_image)
	// and returns the queued job.
	Submit(ctx context.Context, req MediaRequest) (Job, error)

	// Status returns the job's state, with its result once completed. Polling a
	// finished job returns the same answer again.
	Status(ctx context.Context, providerJobID string) (Job, error)

	// Cancel asks the provider to stop the job. Providers without cancellation
	// answer EINVALID.
	Cancel(ctx context.Context, providerJobID string) error
}

// InputBytesSubmitter is a Provider whose Submit takes the input's bytes
// (MediaInput.Data), loaded by the service as for synchronous calls, rather
// than a URL to fetch: a provider that runs on this machine (local).
type InputBytesSubmitter interface {
	TakesInputBytes() bool
}

// UnsupportedCapability is the answer of a provider asked for what it does not do.
func UnsupportedCapability(provider string, c Capability) *Error {
	return Invalid("media_type", "provider %s does not support capability %s", provider, c).With("provider", provider)
}

// Codes of a ProviderError for failures that have no provider code of their own.
const (
	ProviderTimeout     = "timeout"            // no answer within the client's timeout or the context's deadline
	ProviderUnreachable = "unreachable"        // no connection, or it broke before an answer
	ProviderTruncated   = "truncated_response" // the body ended before its declared length
	ProviderMalformed   = "malformed_response" // an answer the client cannot read
	ProviderFiltered    = "content_filtered"   // the provider withheld the output (moderation)
	ProviderJobFailed   = "generation_failed"  // a job the client waited for failed or was cancelled
)

// ProviderError is a provider's refusal or failure, as the provider reported it.
// It never carries a credential: clients strip the API key from Message.
//
// It converts to the *Error a client sees (ClientError), and errors.As finds
// that *Error through it, so ErrorCode and ErrorMessage work on any error chain
// that holds a ProviderError.
type ProviderError struct {
	Provider   string
	Status     int    // HTTP status; 0 when no answer arrived
	Code       string // the provider's error code, or one of the Provider* codes above
	Message    string
	RequestID  string
	RetryAfter time.Duration // the provider's retry hint, 0 when none
	Err        error         // the transport or decoding error underneath, if any
}

func (e *ProviderError) Error() string {
	var b strings.Builder
	b.WriteString("provider " + e.Provider + ":")
	if e.Status != 0 {
		fmt.Fprintf(&b, " status %d", e.Status)
	}
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.RequestID != "" {
		b.WriteString(" (request id " + e.RequestID + ")")
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

func (e *ProviderError) Unwrap() error { return e.Err }

// As lets errors.As(err, &*Error) find the client-facing form.
func (e *ProviderError) As(target any) bool {
	if t, ok := target.(**Error); ok {
		*t = e.ClientError()
		return true
	}
	return false
}

// Temporary reports whether the same request may succeed later: rate limits,
// 408 and 5xx answers, timeouts and broken connections. An exhausted quota is
// never temporary, whatever its status.
func (e *ProviderError) Temporary() bool {
	switch {
	case e.quota():
		return false
	case e.Code == ProviderTimeout, e.Code == ProviderUnreachable, e.Code == ProviderTruncated:
		return true
	}
	return e.Status == 408 || e.Status == 429 || e.Status >= 500
}

// Codes providers use for an exhausted account or a moderation refusal, whatever
// the status they send them with (OpenAI's insufficient_quota comes as a 429).
var (
	quotaCodes      = []string{"quota_exceeded", "insufficient_quota", "billing_hard_limit_reached", "insufficient_credits", "payment_required"}
	moderationCodes = []string{"content_moderation", "content_policy_violation", "moderation_blocked", ProviderFiltered}
)

func hasCode(codes []string, code string) bool {
	for _, c := range codes {
		if strings.EqualFold(c, code) {
			return true
		}
	}
	return false
}

func (e *ProviderError) quota() bool { return e.Status == 402 || hasCode(quotaCodes, e.Code) }

// ClientError is the error a client of mediatrail sees. The provider's message is
// passed on only where it describes the caller's request (4xx); credential
// refusals are our configuration problem and say so without detail; 5xx and
// unreadable answers say only which provider failed. Details always name the
// provider and, when known, its status, code and request id.
func (e *ProviderError) ClientError() *Error {
	details := map[string]any{"provider": e.Provider}
	if e.Status != 0 {
		details["provider_status"] = e.Status
	}
	if e.Code != "" {
		details["provider_code"] = e.Code
	}
	if e.RequestID != "" {
		details["provider_request_id"] = e.RequestID
	}
	out := &Error{Details: details}
	say := func(code, format string, args ...any) *Error {
		out.Code, out.Message = code, fmt.Sprintf(format, args...)
		return out
	}
	detail := e.Message
	if detail == "" {
		detail = "no reason given"
	}
	switch {
	case e.Code == ProviderTimeout || e.Status == 408 || e.Status == 504:
		return say(ETIMEOUT, "provider %s did not answer in time", e.Provider)
	case e.quota():
		return say(EQUOTA, "provider %s quota is exhausted", e.Provider)
	case hasCode(moderationCodes, e.Code):
		return say(EUNPROCESSABLE, "provider %s refused the content: %s", e.Provider, detail)
	case e.Code == ProviderJobFailed:
		return say(EUNPROCESSABLE, "provider %s could not produce the media: %s", e.Provider, detail)
	case e.Status == 401 || e.Status == 403:
		return say(EPROVIDER, "provider %s rejected credentials", e.Provider)
	case e.Status == 429:
		out.RetryAfterSeconds = max(1, int(math.Ceil(e.RetryAfter.Seconds())))
		return say(ERATELIMITED, "provider %s is rate limiting requests", e.Provider)
	case e.Status == 413:
		return say(ETOOLARGE, "provider %s rejected the input as too large: %s", e.Provider, detail)
	case e.Status == 422:
		return say(EUNPROCESSABLE, "provider %s could not process the request: %s", e.Provider, detail)
	case e.Status >= 400 && e.Status < 500:
		return say(EINVALID, "provider %s rejected the request: %s", e.Provider, detail)
	}
	return say(EPROVIDER, "provider %s failed", e.Provider)
}
