package mediatrail

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mediatrail/mediatrail/shared/probe"
	"github.com/mediatrail/mediatrail/shared/provenance"
)

// Limits of the media API.
const (
	// MaxPromptBytes bounds a prompt (the longest TTS inputs are ~10,000 characters).
	MaxPromptBytes = 32 << 10
	// MaxConfigBytes bounds the provider options of one request, as JSON.
	MaxConfigBytes = 16 << 10
	// DefaultMediaTimeout bounds a provider call, retries and the copy of its
	// output, within API Gateway's 30 s.
	DefaultMediaTimeout = 20 * time.Second
	// DefaultMaxOutputBytes bounds one synchronous output (an image, a speech).
	DefaultMaxOutputBytes = 256 << 20
	// maxReplayTextBytes bounds the transcript kept in an idempotency record;
	// a longer one is read back from its asset on replay.
	maxReplayTextBytes = 64 << 10
	// leaseMargin is added to the call timeout for the lease of a pending
	// idempotency claim, after which a crashed request's key may be taken over.
	leaseMargin = 30 * time.Second
	// finishTimeout bounds the writes after a call, which run even when the
	// caller has gone: the provider has been paid, the books must say so.
	finishTimeout = 10 * time.Second
)

// ProviderSource finds providers by name; EINVALID for unknown names.
type ProviderSource interface {
	Get(name string) (Provider, error)
}

// Download is a fetched response body. The caller closes Body.
type Download struct {
	Body        io.ReadCloser
	ContentType string
	Size        int64 // -1 when unknown
}

// Downloader fetches a URL under an address policy and a size cap. Its errors
// are *Error values.
type Downloader interface {
	Download(ctx context.Context, rawURL string) (*Download, error)
}

// MediaService runs media calls: it resolves the input, calls the provider,
// streams the output into storage, prices the call, and records the asset, its
// span and the idempotency key in one transaction, so that a call is charged
// once or not at all. Every method takes the caller's workspace.
type MediaService struct {
	Providers ProviderSource
	Store     MediaStore
	Assets    AssetStore
	Blobs     BlobStore
	// Inputs fetches callers' input URLs: public addresses only.
	Inputs Downloader
	// Outputs fetches providers' output URLs: the providers' own addresses or
	// public ones.
	Outputs Downloader
	// Prices prices calls; nil means DefaultPrices.
	Prices *PriceTable
	// Timeout bounds the provider call (with its retries) and the output copy;
	// 0 means DefaultMediaTimeout.
	Timeout time.Duration
	// MaxOutputBytes bounds one output; 0 means DefaultMaxOutputBytes.
	MaxOutputBytes int64
	// Jobs runs the asynchronous capabilities (videos); nil answers them 503.
	Jobs *JobService
	// Retention decides outputs' retention; nil keeps them forever unless a
	// request says otherwise.
	Retention *RetentionService
	Now       func() time.Time
	Logger    *slog.Logger
	// Metrics records every provider call and every ended job; nil
	// records nothing.
	Metrics Metrics

	// Credentials resolves the provider client of a call (workspace
	// credentials, then the deployment's keys); nil uses Providers alone.
	Credentials *CredentialService
	// Tools applies a call's tool_id and agents' attached tools; nil
	// refuses tool_id.
	Tools *ToolService
	// Budget holds each call's estimated cost against the workspace's
	// limits before the provider is called; nil enforces none.
	Budget *BudgetService

	// Settings says whether outputs carry the provenance record; nil
	// embeds it.
	Settings *SettingsService
}

// GenerateInput is the body of POST /api/v1/media/generate (the SDK's fields
// and ours); the per-capability routes take it without media_type.
type GenerateInput struct {
	Provider     string         `json:"provider"`
	MediaType    string         `json:"media_type"`
	Model        string         `json:"model"`
	Prompt       string         `json:"prompt"`
	InputURL     string         `json:"input_url"`
	InputAssetID string         `json:"input_asset_id"`
	Config       map[string]any `json:"config"`
	ExecutionID  string         `json:"execution_id"`
	AgentID      string         `json:"agent_id"`
	// TraceID groups spans; it defaults to the execution id, else to the span's id.
	TraceID string `json:"trace_id"`
	// ParentSpanID is the caller's span this call runs under (W3C
	// traceparent's parent id), recorded as the span's parent_id.
	ParentSpanID string `json:"parent_span_id"`
	// SessionID is the caller's conversation (the SDK's chat session),
	// recorded on the span: traces filter and count by it.
	SessionID      string `json:"session_id"`
	IdempotencyKey string `json:"idempotency_key"`
	// CallbackURL receives the result of an asynchronous call (a video job)
	// when it ends, signed (JobService.Notify).
	CallbackURL string `json:"callback_url"`
	// RetentionDays of the output asset (one of RetentionClasses); nil means
	// the workspace's default.
	RetentionDays *int `json:"retention_days"`
	// ToolID names a media tool of the workspace instead of provider and
	// model: its provider, model, credential and default config apply.
	ToolID string `json:"tool_id"`

	// credentialID is the workspace credential the call resolved to (never
	// from the request).
	credentialID string
	// spanID is minted before the call: the id of its span and of its
	// budget hold.
	spanID string
}

// GenerateOutput is the answer of a media call.
type GenerateOutput struct {
	Status      string         `json:"status"` // completed, or processing for a video job (job_id)
	JobID       string         `json:"job_id,omitempty"`
	AssetID     string         `json:"asset_id"`
	AssetURL    string         `json:"asset_url"` // signed URL of our copy, fresh on every answer
	TextOutput  string         `json:"text_output"`
	ContentType string         `json:"content_type"`
	Metadata    map[string]any `json:"metadata"`
	SpanID      string         `json:"span_id"`
	Cost        float64        `json:"cost"`
	// TextInAsset marks a stored answer whose transcript was too long to keep:
	// replays read it back from the asset. Never set in an answer.
	TextInAsset bool `json:"text_in_asset,omitempty"`
	// Replayed is set when the answer is the stored one of an earlier request
	// with the same idempotency key.
	Replayed bool `json:"-"`
}

func (s *MediaService) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *MediaService) logger() *slog.Logger { return cmp.Or(s.Logger, slog.Default()) }

func (s *MediaService) metrics() Metrics { return metricsOrNone(s.Metrics) }

func (s *MediaService) timeout() time.Duration { return cmp.Or(s.Timeout, DefaultMediaTimeout) }

func (s *MediaService) prices() *PriceTable {
	if s.Prices != nil {
		return s.Prices
	}
	return DefaultPrices()
}

// Generate runs one media call for workspace ws. c is the capability of the
// route, or "" for the generic route, where in.MediaType names it.
//
// With an idempotency key, a repeat of a completed request within
// IdempotencyTTL answers the first response (with a fresh asset_url) and calls
// nothing; the key with a different request is ECONFLICT; a repeat while the
// first is still running is ECONFLICT with Retry-After. Failed requests release
// their key.
//
// Errors: EINVALID for a malformed request or an unsupported provider or
// capability; ENOTFOUND for an input asset not of this workspace; the
// provider's refusal mapped by ProviderError.ClientError; ETIMEOUT past Timeout.
// On failure no asset and no blob remain, and a span with status error is kept.
func (s *MediaService) Generate(ctx context.Context, ws string, c Capability, in GenerateInput) (*GenerateOutput, error) {
	c, err := in.validate(c)
	if err != nil {
		return nil, err
	}
	if err := s.ownInput(ctx, ws, &in); err != nil {
		return nil, err
	}
	choice, err := s.provider(ctx, ws, c, &in)
	if err != nil {
		return nil, err
	}
	p := choice.Provider
	in.credentialID = choice.CredentialID
	in.spanID = NewIDAt(s.now())
	if err := s.reserve(ctx, ws, p, c, in); err != nil {
		return nil, err
	}
	out, err := s.dispatch(ctx, ws, p, c, in)
	// A started job keeps its hold until it ends (JobService.finish); any
	// other call has been charged, or not, by now.
	if err != nil || out.JobID == "" || out.Replayed {
		s.settle(ctx, ws, in.spanID, s.now(), in)
	}
	return out, err
}

// dispatch runs a synchronous call, or submits a job.
func (s *MediaService) dispatch(ctx context.Context, ws string, p Provider, c Capability, in GenerateInput) (*GenerateOutput, error) {
	if c.Async() {
		return s.submit(ctx, ws, p, c, in)
	}
	var claim *IdempotencyRecord
	if in.IdempotencyKey != "" {
		var replay *GenerateOutput
		var err error
		if claim, replay, err = s.claim(ctx, ws, c, in); err != nil || replay != nil {
			return replay, err
		}
	}
	return s.run(ctx, ws, p, c, in, claim)
}

// reserve is the one budget check of media calls and job submissions: it
// holds the call's estimated cost (Budget.Reserve) for as long as the call
// may run, or refuses the call with EBUDGET.
func (s *MediaService) reserve(ctx context.Context, ws string, p Provider, c Capability, in GenerateInput) error {
	if s.Budget == nil {
		return nil
	}
	holding := s.timeout() + leaseMargin
	if c.Async() {
		holding = DefaultJobDeadline + leaseMargin
		if s.Jobs != nil && s.Jobs.Config.Deadline > 0 {
			holding = s.Jobs.Config.Deadline + leaseMargin
		}
	}
	return s.Budget.Reserve(ctx, ws, BudgetCall{ID: in.spanID, ExecutionID: in.ExecutionID, AgentID: in.AgentID,
		Estimate: s.prices().EstimateCall(p.Name(), c, in), Holding: holding})
}

// settle releases the budget hold of call id, started at at, once its span
// is written.
func (s *MediaService) settle(ctx context.Context, ws, id string, at time.Time, in GenerateInput) {
	if s.Budget != nil {
		s.Budget.Settle(ctx, ws, id, at, in.ExecutionID, in.AgentID)
	}
}

// provider applies the call's tool and the agent's attachments (ToolService),
// then resolves the provider client and its credential
// (CredentialService.Resolve). in gets the tool's provider, model and config
// and the provider's canonical name ("OpenAI " and "openai" are one request).
func (s *MediaService) provider(ctx context.Context, ws string, c Capability, in *GenerateInput) (ProviderChoice, error) {
	var tool *MediaTool
	if s.Tools != nil {
		var err error
		if tool, err = s.Tools.forCall(ctx, ws, c, in); err != nil {
			return ProviderChoice{}, err
		}
	} else if in.ToolID != "" {
		return ProviderChoice{}, Errorf(EUNAVAILABLE, "media tools are not offered by this function")
	}
	if strings.TrimSpace(in.Provider) == "" {
		return ProviderChoice{}, Invalid("provider", "provider (or tool_id) is required")
	}
	var choice ProviderChoice
	var err error
	if s.Credentials != nil {
		credentialID := ""
		if tool != nil {
			credentialID = tool.CredentialID
		}
		choice, err = s.Credentials.Resolve(ctx, ws, in.Provider, credentialID)
	} else {
		choice.Provider, err = s.Providers.Get(in.Provider)
	}
	if err != nil {
		return ProviderChoice{}, err
	}
	if !slices.Contains(choice.Provider.Capabilities(), c) {
		return ProviderChoice{}, UnsupportedCapability(choice.Provider.Name(), c)
	}
	if err := checkConfig(choice.Provider, c, in.Config); err != nil {
		return ProviderChoice{}, err
	}
	in.Provider = choice.Provider.Name()
	return choice, nil
}

// providerFailed maps a provider's refusal of workspace credential id
// (authFailure) and marks the credential invalid.
func (s *MediaService) providerFailed(ctx context.Context, ws, id string, err error) error {
	mapped := authFailure(err, id)
	if mapped != err && s.Credentials != nil {
		s.Credentials.Refused(ctx, ws, id)
	}
	return mapped
}

// submit is the one place where asynchronous capabilities (videos) start:
// they submit a provider job and answer 202 {status: processing, job_id}
// (JobService).
func (s *MediaService) submit(ctx context.Context, ws string, p Provider, c Capability, in GenerateInput) (*GenerateOutput, error) {
	if s.Jobs == nil {
		return nil, fieldError(EUNAVAILABLE, "media_type", "%s runs as a background job, which this function does not offer", c)
	}
	return s.Jobs.submit(ctx, ws, p, c, in)
}

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

// claim takes the request's idempotency key, or answers the request that holds it.
func (s *MediaService) claim(ctx context.Context, ws string, c Capability, in GenerateInput) (*IdempotencyRecord, *GenerateOutput, error) {
	now := s.now()
	rec := &IdempotencyRecord{
		WorkspaceID: ws, Key: in.IdempotencyKey, RequestHash: requestHash(c, in), State: IdempotencyPending,
		Token: NewID(), ClaimedAt: now, LeaseUntil: now.Add(s.timeout() + leaseMargin), ExpiresAt: now.Add(IdempotencyTTL),
	}
	held, err := s.Store.ClaimIdempotencyKey(ctx, rec)
	switch {
	case err != nil:
		return nil, nil, err
	case held == nil:
		return rec, nil, nil
	case held.RequestHash != rec.RequestHash:
		return nil, nil, Conflict("idempotency_key", "idempotency_key was already used with a different request")
	case held.State != IdempotencyCompleted || held.Response == nil:
		return nil, nil, Conflict("idempotency_key", "a request with this idempotency_key is still in progress; retry when it has finished").RetryAfter(1)
	}
	out, err := s.replay(ctx, ws, *held.Response)
	return nil, out, err
}

// replay answers a stored response again, with a fresh signed URL while the
// asset exists (none once it was deleted).
func (s *MediaService) replay(ctx context.Context, ws string, out GenerateOutput) (*GenerateOutput, error) {
	if out.JobID != "" && s.Jobs != nil {
		return s.Jobs.replay(ctx, ws, out)
	}
	out.Replayed = true
	a, err := s.Assets.FindAsset(ctx, ws, out.AssetID)
	if IsNotFound(err) || err == nil && a.Status != StatusReady {
		out.TextInAsset = false
		return &out, nil
	} else if err != nil {
		return nil, err
	}
	if out.TextInAsset {
		if out.TextOutput, err = s.transcriptText(ctx, a); err != nil {
			return nil, err
		}
		out.TextInAsset = false
	}
	if out.AssetURL, err = s.signedURL(ctx, a); err != nil {
		return nil, err
	}
	return &out, nil
}

func (s *MediaService) signedURL(ctx context.Context, a *Asset) (string, error) {
	req, err := s.Blobs.PresignGet(ctx, a.StorageKey, GetOptions{
		Expires: DefaultSignedURLExpiry, Disposition: DispositionInline, FileName: a.FileName, ContentType: a.ContentType,
	})
	return req.URL, err
}

// run makes the call and records its outcome.
func (s *MediaService) run(ctx context.Context, ws string, p Provider, c Capability, in GenerateInput, claim *IdempotencyRecord) (*GenerateOutput, error) {
	start := s.now()
	span := s.newSpan(ws, p.Name(), c, in, cmp.Or(in.spanID, NewIDAt(start)), start)
	call := &mediaCall{MediaService: s, ws: ws, provider: p, capability: c, in: in, span: span}
	err := call.produce(ctx)
	span.EndedAt = s.now()
	span.DurationMs = span.EndedAt.Sub(start).Milliseconds()

	// The provider has answered (and may have charged): record the outcome even
	// if the caller has gone.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
	defer cancel()
	if err == nil {
		err = s.record(fctx, call, claim)
	}
	if err != nil {
		s.recordFailure(fctx, span, claim, err)
		s.metrics().ProviderCall(fctx, span)
		return nil, err
	}
	s.metrics().ProviderCall(fctx, span)
	return call.out, nil
}

// newSpan starts the span of a call of capability c to provider: id, what
// was asked, and the trace (the request's, else its execution, else its own).
func (s *MediaService) newSpan(ws, provider string, c Capability, in GenerateInput, id string, start time.Time) *Span {
	span := &Span{
		ID: id, WorkspaceID: ws, ExecutionID: in.ExecutionID, AgentID: in.AgentID,
		Name: "media." + string(c), Kind: c.SpanKind(), MediaType: c, Provider: provider, Model: in.Model,
		Prompt: in.Prompt, InputAssetID: in.InputAssetID, InputURL: withoutQuery(in.InputURL),
		ToolID: in.ToolID, CredentialID: in.credentialID, Attributes: map[string]any{}, StartedAt: start,
	}
	span.TraceID = cmp.Or(in.TraceID, in.ExecutionID, span.ID)
	span.ParentID, span.SessionID = in.ParentSpanID, in.SessionID
	if len(in.Config) > 0 {
		span.Attributes["config"] = in.Config
	}
	return span
}

// recordFailure writes the error span of a failed call, uncharged, and
// releases its idempotency claim, even if the caller has gone.
func (s *MediaService) recordFailure(ctx context.Context, span *Span, claim *IdempotencyRecord, err error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
	defer cancel()
	if span.EndedAt.IsZero() {
		span.EndedAt = s.now()
		span.DurationMs = span.EndedAt.Sub(span.StartedAt).Milliseconds()
	}
	span.Status, span.Error = SpanError, &SpanFailure{Code: ErrorCode(err), Message: ErrorMessage(err)}
	span.Cost = Cost{Currency: s.prices().Currency}
	span.AssetID, span.AssetURL, span.OutputURL = "", "", ""
	if rerr := s.Store.RecordFailure(ctx, span, claim); rerr != nil {
		// A span the store cannot hold as it is is stored truncated: the call
		// may have run at the provider, and its spend must stay visible.
		s.logger().Warn("record failed media call; storing it truncated", "workspace", span.WorkspaceID, "span", span.ID, "err", rerr)
		if rerr := s.Store.RecordFailure(ctx, span.Truncated(), claim); rerr != nil {
			s.logger().Error("record failed media call", "workspace", span.WorkspaceID, "span", span.ID, "err", rerr)
		}
	}
	if ErrorCode(err) == EINTERNAL {
		s.logger().Error("media call failed", "workspace", span.WorkspaceID, "span", span.ID, "provider", span.Provider, "err", err)
	}
}

// record writes the asset, the span and the completed claim in one transaction;
// if that fails the blob goes, so that nothing unrecorded remains.
func (s *MediaService) record(ctx context.Context, call *mediaCall, claim *IdempotencyRecord) error {
	a, span, out := call.asset, call.span, call.out
	span.Status = SpanCompleted
	var done *IdempotencyRecord
	if claim != nil {
		stored := *out
		if len(stored.TextOutput) > maxReplayTextBytes {
			stored.TextOutput, stored.TextInAsset = "", true
		}
		done = &IdempotencyRecord{}
		*done = *claim
		done.State, done.Response = IdempotencyCompleted, &stored
	}
	err := s.Store.RecordMedia(ctx, a, span, done)
	if err == nil {
		out.AssetURL, err = s.signedURL(ctx, a)
		if err != nil {
			// The call is recorded and charged; the client can sign the asset itself.
			s.logger().Error("sign media asset", "workspace", a.WorkspaceID, "asset", a.ID, "err", err)
			err = nil
		}
		return err
	}
	if derr := s.Blobs.Delete(ctx, a.StorageKey); derr != nil {
		s.logger().Error("remove unrecorded media blob", "key", a.StorageKey, "err", derr)
	}
	return err
}

// mediaCall is one call in progress.
type mediaCall struct {
	*MediaService
	ws         string
	provider   Provider
	capability Capability
	in         GenerateInput
	span       *Span
	// A job's Store sets these: the asset id its first attempt fixed, the
	// downloader and size limit of videos, and a hook that runs once the
	// object key is known, before anything is uploaded.
	assetID   string
	outputs   Downloader
	maxBytes  int64
	beforePut func(ctx context.Context, key string) error

	asset     *Asset // stored (blob written, record not yet)
	out       *GenerateOutput
	retention int // days, resolved before the provider is called
}

// produce runs the provider and stores its output, all within the timeout. On
// error nothing is left in storage.
func (m *mediaCall) produce(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, m.timeout())
	defer cancel()
	var err error
	if m.retention, err = m.Retention.Resolve(ctx, m.ws, m.in.RetentionDays); err != nil {
		return err
	}
	req := MediaRequest{Capability: m.capability, Model: m.in.Model, Prompt: m.in.Prompt, Config: m.in.Config}
	if m.in.InputURL != "" || m.in.InputAssetID != "" {
		input, err := m.input(ctx)
		if err != nil {
			return m.deadline(ctx, err)
		}
		if req.Capability == CapabilityTTS {
			if req.Prompt, err = scriptOf(input); err != nil {
				return err
			}
			m.span.Prompt = req.Prompt
		} else {
			req.Input = input
		}
	}
	res, err := m.provider.Generate(ctx, req)
	if err != nil {
		return m.providerFailed(ctx, m.ws, m.in.credentialID, m.deadline(ctx, err))
	}
	m.span.Model = cmp.Or(res.Model, m.in.Model)
	m.span.ProviderRequestID = res.RequestID
	if err := m.store(ctx, req, res); err != nil {
		return m.deadline(ctx, err)
	}
	return nil
}

// deadline turns a bare context deadline (a download or upload cut short by the
// timeout) into ETIMEOUT; provider timeouts already are.
func (m *mediaCall) deadline(ctx context.Context, err error) error {
	if ErrorCode(err) == EINTERNAL && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return Errorf(ETIMEOUT, "the media call did not finish within %s", m.timeout()).With("provider", m.provider.Name()).Wrap(err)
	}
	return err
}

// inputAsset returns the caller's ready asset id as a media input. ENOTFOUND
// for an absent, deleted or foreign asset; ECONFLICT while its upload is
// pending.
func (s *MediaService) inputAsset(ctx context.Context, ws, id string) (*Asset, error) {
	a, err := s.Assets.FindAsset(ctx, ws, id)
	switch {
	case err != nil:
		return nil, err
	case a.Status == StatusDeleted:
		return nil, Errorf(ENOTFOUND, "asset not found")
	case a.Status != StatusReady:
		return nil, Errorf(ECONFLICT, "the input asset's upload is not complete")
	}
	return a, nil
}

// input loads the request's input: an asset of the caller's workspace or the
// caller's URL, fetched by us under the public-address policy (providers never
// fetch callers' URLs). Its content type is sniffed from the bytes.
func (m *mediaCall) input(ctx context.Context) (*MediaInput, error) {
	var r io.ReadCloser
	in := &MediaInput{}
	if id := m.in.InputAssetID; id != "" {
		a, err := m.inputAsset(ctx, m.ws, id)
		switch {
		case err != nil:
			return nil, err
		case a.FileSize > MaxInputBytes:
			return nil, TooLarge("input_asset_id", "the input must be at most %d MiB", MaxInputBytes>>20)
		}
		if r, err = m.Blobs.Open(ctx, a.StorageKey); err != nil {
			return nil, err
		}
		in.ContentType, in.FileName = a.ContentType, a.FileName
	} else {
		d, err := m.Inputs.Download(ctx, m.in.InputURL)
		if err != nil {
			return nil, err
		}
		r, in.ContentType = d.Body, d.ContentType
		if u, err := url.Parse(m.in.InputURL); err == nil && path.Base(u.Path) != "/" && path.Base(u.Path) != "." {
			in.FileName = SafeFileName(path.Base(u.Path))
		}
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, MaxInputBytes+1))
	switch {
	case err != nil:
		return nil, err
	case len(data) > MaxInputBytes:
		return nil, TooLarge("", "the input must be at most %d MiB", MaxInputBytes>>20)
	case len(data) == 0:
		return nil, Invalid("input_url", "the input is empty")
	}
	in.Data = data
	info, _ := probe.Inspect(bytes.NewReader(data), int64(len(data)))
	if !generic(info.ContentType) || in.ContentType == "" {
		in.ContentType = info.ContentType
	}
	return in, nil
}

// scriptOf is the text a TTS input holds.
func scriptOf(in *MediaInput) (string, error) {
	switch major, _, _ := strings.Cut(in.ContentType, "/"); {
	case major != "text":
		return "", Invalid("input_url", "tts input must be a text file, not %s", in.ContentType)
	case len(in.Data) > MaxPromptBytes:
		return "", TooLarge("", "tts input text must be at most %d KiB", MaxPromptBytes>>10)
	case !utf8.Valid(in.Data) || strings.TrimSpace(string(in.Data)) == "":
		return "", Invalid("input_url", "tts input must be non-empty UTF-8 text")
	}
	return string(in.Data), nil
}

// generic content types say nothing about the bytes.
func generic(ct string) bool {
	mt, _, _ := mime.ParseMediaType(ct)
	return mt == "" || mt == "application/octet-stream" || mt == "binary/octet-stream"
}

// wantMajor is the major MIME type a capability's output must have.
func wantMajor(c Capability) string {
	switch c.AssetType() {
	case AssetAudio:
		return "audio"
	case AssetVideo:
		return "video"
	}
	return "image"
}

// store streams the result into storage under a new asset id, sniffing its
// type and probing its dimensions on the way, and prepares the asset, the span
// and the answer. The provider's URL goes nowhere but the download.
func (m *mediaCall) store(ctx context.Context, req MediaRequest, res *MediaResult) error {
	now := m.now()
	id, created := m.assetID, now
	if id == "" {
		id = NewIDAt(now)
	} else {
		created = IDTime(id) // the asset sorts by its id's time
	}
	body, declared, err := m.output(ctx, res)
	if err != nil {
		return err
	}
	defer body.Close()
	out := &outputReader{r: body, left: cmp.Or(m.maxBytes, m.MaxOutputBytes, DefaultMaxOutputBytes), provider: m.provider.Name()}
	head := make([]byte, probe.HeadBytes)
	n, err := io.ReadFull(out, head)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return err
	}
	head = head[:n]
	if n == 0 {
		return &ProviderError{Provider: m.provider.Name(), Status: 200, Code: ProviderMalformed, RequestID: res.RequestID, Message: "the answer is empty"}
	}
	sniffed, _ := probe.Inspect(bytes.NewReader(head), int64(n))
	ct, ext := sniffed.ContentType, sniffed.Extension
	if m.capability == CapabilitySTT {
		ct, ext = declared, extensionOf(declared)
	} else if major, _, _ := strings.Cut(ct, "/"); major != wantMajor(m.capability) {
		return &ProviderError{Provider: m.provider.Name(), Status: 200, Code: ProviderMalformed, RequestID: res.RequestID,
			Message: fmt.Sprintf("the answer is %s, not %s", ct, wantMajor(m.capability))}
	}
	fileName := outputNames[m.capability] + ext
	key := StorageKeyFor(m.ws, id, fileName)
	if m.beforePut != nil {
		if err := m.beforePut(ctx, key); err != nil {
			return err
		}
	}
	// Provenance is written into the stream itself, so the recorded size and
	// sha256 are those of the stored bytes; a workspace that opted out stores
	// the provider's bytes as they came.
	stream := io.MultiReader(bytes.NewReader(head), out)
	if embed, err := m.Settings.EmbedProvenance(ctx, m.ws); err != nil {
		return err
	} else if embed {
		if stream, err = provenance.Embed(stream, ct, provenance.Record{
			AssetID: id, WorkspaceID: m.ws, Provider: m.provider.Name(), Model: m.span.Model,
			SpanID: m.span.ID, ExecutionID: m.in.ExecutionID,
		}); err != nil {
			return cmp.Or(out.err, err)
		}
	}
	blob, err := m.Blobs.Put(ctx, key, ct, stream, -1, RetentionTag(m.retention))
	if err != nil {
		if out.err != nil {
			return out.err // the provider's stream broke or overflowed; the store left nothing
		}
		return err
	}
	// What the head does not tell (a moov box at the end) is read back in ranges.
	info, _ := probe.Inspect(&blobReader{ctx: ctx, blobs: m.Blobs, key: key, head: head}, blob.Size)

	width, height := cmp.Or(info.Width, res.Width), cmp.Or(info.Height, res.Height)
	seconds := cmp.Or(info.DurationSeconds, res.DurationSeconds)
	md := scrubbed(res.Metadata)
	md["provider"], md["media_type"] = m.provider.Name(), string(m.capability)
	for k, v := range map[string]string{"prompt": req.Prompt, "model": m.span.Model, "provider_request_id": res.RequestID,
		"tool_id": m.span.ToolID, "credential_id": m.span.CredentialID, "input_asset_id": m.in.InputAssetID} {
		if v != "" {
			md[k] = v
		}
	}
	if width > 0 && height > 0 {
		md["width"], md["height"] = width, height
	}
	if seconds > 0 {
		md["duration_seconds"] = seconds
	}
	cost := m.prices().Estimate(m.billable(req, res, md, width, height, seconds))
	md["cost"] = cost.Amount

	m.asset = &Asset{
		ID: id, WorkspaceID: m.ws, ExecutionID: m.in.ExecutionID, AgentID: m.in.AgentID, SpanID: m.span.ID,
		Type: AssetTypeFor(ct), Provider: m.provider.Name(), Model: m.span.Model, FileName: fileName,
		FileSize: blob.Size, ContentType: ct, StorageKey: key, SHA256: blob.SHA256, Metadata: md,
		Status: StatusReady, CreatedAt: created, UpdatedAt: now, RetentionDays: m.retention,
	}
	sp := m.span
	sp.AssetID, sp.AssetURL, sp.ContentType = id, "/api/v1/assets/"+id, ct
	sp.OutputURL = sp.AssetURL + "/signed-url"
	sp.MediaDurationSeconds, sp.Cost = seconds, cost
	if !cost.Priced {
		sp.Attributes["warning"] = "no price for this provider and model: counted as 0 against the workspace budget"
	}
	if res.Usage.Unit != "" {
		sp.Attributes["usage"] = res.Usage
	}
	m.out = &GenerateOutput{
		Status: "completed", AssetID: id, TextOutput: res.Text, ContentType: ct, Metadata: md,
		SpanID: sp.ID, Cost: cost.Amount,
	}
	return nil
}

// outputNames are the file names of outputs, before the extension.
var outputNames = map[Capability]string{
	CapabilityTTS: "speech", CapabilitySTT: "transcript", CapabilityImageGen: "image", CapabilityImageEdit: "image-edit",
	CapabilityVideoGen: "video", CapabilityVideoFromImage: "video",
}

// output opens the result's media: the transcript document, the streamed body,
// or a download of the provider's URL. declared is the provider's content type.
func (m *mediaCall) output(ctx context.Context, res *MediaResult) (body io.ReadCloser, declared string, err error) {
	switch {
	case m.capability == CapabilitySTT:
		doc, ct := transcriptDocument(res)
		return io.NopCloser(bytes.NewReader(doc)), ct, nil
	case res.Body != nil:
		return res.Body, res.ContentType, nil
	case res.URL != "":
		outputs := m.outputs
		if outputs == nil {
			outputs = m.Outputs
		}
		d, err := outputs.Download(ctx, res.URL)
		if err != nil {
			if ErrorCode(err) == ETIMEOUT || errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return nil, "", &ProviderError{Provider: m.provider.Name(), Code: ProviderTimeout, Message: "the output download did not finish in time", RequestID: res.RequestID, Err: err}
			}
			return nil, "", &ProviderError{Provider: m.provider.Name(), Code: ProviderUnreachable, Message: "the output could not be downloaded", RequestID: res.RequestID, Err: err}
		}
		return d.Body, cmp.Or(res.ContentType, d.ContentType), nil
	}
	return nil, "", &ProviderError{Provider: m.provider.Name(), Status: 200, Code: ProviderMalformed, Message: "the answer holds no media", RequestID: res.RequestID}
}

// transcriptDocument is what an stt asset holds: JSON with the text and, when
// the provider gave them, word and segment times; or the provider's own
// subtitle format (srt, vtt) when one was asked for.
func transcriptDocument(res *MediaResult) ([]byte, string) {
	if mt, _, _ := mime.ParseMediaType(res.ContentType); mt != "" && mt != "text/plain" && mt != "application/json" {
		return []byte(res.Text), res.ContentType
	}
	doc, _ := json.Marshal(struct {
		Text            string    `json:"text"`
		DurationSeconds float64   `json:"duration_seconds,omitempty"`
		Words           []Word    `json:"words,omitempty"`
		Segments        []Segment `json:"segments,omitempty"`
	}{res.Text, res.DurationSeconds, res.Words, res.Segments})
	return doc, "application/json"
}

// transcriptText reads the text of a stored transcript back.
func (s *MediaService) transcriptText(ctx context.Context, a *Asset) (string, error) {
	r, err := s.Blobs.Open(ctx, a.StorageKey)
	if err != nil {
		return "", err
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		return "", err
	}
	var doc struct {
		Text string `json:"text"`
	}
	if json.Unmarshal(data, &doc) != nil {
		return string(data), nil // a subtitle file is its own text
	}
	return doc.Text, nil
}

func extensionOf(ct string) string {
	switch mt, _, _ := mime.ParseMediaType(ct); mt {
	case "application/json":
		return ".json"
	case "application/x-subrip":
		return ".srt"
	case "text/vtt":
		return ".vtt"
	}
	return ".txt"
}

// billable gathers what pricing needs: the provider's usage, the attributes
// that select a price (from the result, else the request's config), and what
// the request and the media imply.
func (m *mediaCall) billable(req MediaRequest, res *MediaResult, md map[string]any, width, height int, seconds float64) Billable {
	b := Billable{
		Provider: m.provider.Name(), Model: m.span.Model, Usage: res.Usage, Attributes: map[string]string{},
		Seconds: seconds, Images: 1,
	}
	for _, k := range []string{"quality", "size", "resolution"} {
		if v, ok := md[k].(string); ok && v != "" {
			b.Attributes[k] = v
		} else if v, ok := req.Config[k].(string); ok {
			b.Attributes[k] = v
		}
	}
	if m.capability == CapabilityTTS {
		b.Characters = utf8.RuneCountInString(req.Prompt)
	}
	if res.Usage.Unit == UnitImage && res.Usage.Quantity > 0 {
		b.Images = int(res.Usage.Quantity)
	}
	if mp, ok := md["megapixels"].(float64); ok && mp > 0 {
		b.Megapixels = mp
	} else {
		b.Megapixels = float64(b.Images*width*height) / 1e6
	}
	return b
}

// scrubbed copies provider metadata without any URL (provider URLs are
// short-lived and never leave this service) and without values nested too
// deep to store.
func scrubbed(md map[string]any) map[string]any {
	out := make(map[string]any, len(md)+8)
	for k, v := range md {
		if s, ok := v.(string); ok && (strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")) {
			continue
		}
		if jsonDepth(v, MaxJSONDepth) >= MaxJSONDepth {
			continue // too deep to store under the asset's metadata
		}
		out[k] = v
	}
	return out
}

// withoutQuery drops the query and fragment of a URL, which may carry tokens.
func withoutQuery(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || raw == "" {
		return ""
	}
	u.RawQuery, u.Fragment, u.User = "", "", nil
	return u.String()
}

// outputReader caps an output and keeps the first read error, so that a broken
// provider stream is reported as the provider's failure however the object
// store wraps it.
type outputReader struct {
	r        io.Reader
	left     int64
	provider string
	err      error
}

func (o *outputReader) Read(p []byte) (int, error) {
	if o.err != nil {
		return 0, o.err
	}
	if int64(len(p)) > o.left+1 {
		p = p[:o.left+1]
	}
	n, err := o.r.Read(p)
	o.left -= int64(n)
	switch {
	case o.left < 0 || ErrorCode(err) == ETOOLARGE:
		o.err = &ProviderError{Provider: o.provider, Status: 200, Code: ProviderMalformed, Message: "the output exceeds the size limit"}
		return 0, o.err
	case err != nil && err != io.EOF:
		var pe *ProviderError
		if !errors.As(err, &pe) {
			err = &ProviderError{Provider: o.provider, Status: 200, Code: ProviderTruncated, Message: "the answer broke off", Err: err}
		}
		o.err = err
	}
	return n, err
}
