package mediatrail

import (
	"cmp"
	"context"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"
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
	// Sharing, when set, records an output whose bytes are already stored in
	// the workspace on that blob (Asset.Deduplicated) and removes its own
	// copy. Outputs that carry the provenance record are unique (it names
	// the asset), so this applies to workspaces that turned embedding off.
	Sharing *BlobSharing
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

func (s *MediaService) now() time.Time { return utcNow(s.Now) }

func (s *MediaService) logger() *slog.Logger { return cmp.Or(s.Logger, slog.Default()) }

func (s *MediaService) metrics() Metrics { return metricsOrNone(s.Metrics) }

func (s *MediaService) timeout() time.Duration { return mediaTimeout(s.Timeout) }

func (s *MediaService) recorder() callRecorder {
	return callRecorder{store: s.Store, now: s.now, prices: s.prices(), logger: s.logger(), lease: s.timeout() + leaseMargin}
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
		if out := s.answered(ctx, ws, c, in, err); out != nil {
			return out, nil
		}
		return nil, err
	}
	out, err := s.dispatch(ctx, ws, p, c, in)
	// A started job keeps its hold until it ends (JobService.finish); any
	// other call has been charged, or not, by now.
	if err != nil || out.JobID == "" || out.Replayed {
		settle(ctx, s.Budget, ws, in.spanID, s.now(), in)
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

// submit is the one place where asynchronous capabilities (videos) start:
// they submit a provider job and answer 202 {status: processing, job_id}
// (JobService).
func (s *MediaService) submit(ctx context.Context, ws string, p Provider, c Capability, in GenerateInput) (*GenerateOutput, error) {
	if s.Jobs == nil {
		return nil, fieldError(EUNAVAILABLE, "media_type", "%s runs as a background job, which this function does not offer", c)
	}
	return s.Jobs.Submit(ctx, ws, p, c, in)
}

// run makes the call and records its outcome.
func (s *MediaService) run(ctx context.Context, ws string, p Provider, c Capability, in GenerateInput, claim *IdempotencyRecord) (*GenerateOutput, error) {
	start := s.now()
	span := newSpan(ws, p.Name(), c, in, cmp.Or(in.spanID, NewIDAt(start)), start)
	call := &mediaCall{
		ws: ws, provider: p, capability: c, in: in, span: span,
		timeout: s.timeout(), inputs: inputLoader{assets: s.Assets, blobs: s.Blobs, urls: s.Inputs},
		retentions: s.Retention, credentials: s.Credentials,
		now: s.now, blobs: s.Blobs, settings: s.Settings, prices: s.prices(), outputs: s.Outputs, maxBytes: s.MaxOutputBytes,
	}
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
		s.recorder().recordFailure(fctx, span, claim, err)
		s.metrics().ProviderCall(fctx, span)
		return nil, err
	}
	s.metrics().ProviderCall(fctx, span)
	return call.out, nil
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
	err := s.recordAsset(ctx, call, span, done)
	if err == nil {
		a = call.asset // on a shared blob when deduplicated
		out.AssetURL, err = signedURL(ctx, s.Blobs, a)
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

// recordAsset writes the call's asset, span and claim (MediaStore.RecordMedia)
// on an existing blob with the same bytes when there is one; then call.asset
// uses that blob and the output's own copy is removed.
func (s *MediaService) recordAsset(ctx context.Context, call *mediaCall, span *Span, done *IdempotencyRecord) error {
	own := call.asset
	return s.Sharing.write(ctx, own, s.Blobs, s.logger(), func(share *BlobShare) error {
		a := own
		if share != nil {
			shared := *own
			shared.StorageKey, shared.Deduplicated = share.Key, true
			a = &shared
		}
		if err := s.Store.RecordMedia(ctx, a, span, done, share); err != nil {
			return err
		}
		call.asset = a
		return nil
	})
}
