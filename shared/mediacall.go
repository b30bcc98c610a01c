package mediatrail

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"time"
)

// mediaCall is one call in progress: a synchronous call (MediaService.run
// runs produce) or the output of a finished job (JobService.Store runs
// store). It holds what it uses of the media configuration, set by whoever
// starts it, and no service.
type mediaCall struct {
	ws         string
	provider   Provider
	capability Capability
	in         GenerateInput
	span       *Span

	// produce also uses these (synchronous calls only): the call's timeout,
	// the input loader, the retention and credential services.
	timeout     time.Duration
	inputs      inputLoader
	retentions  *RetentionService
	credentials *CredentialService
	// store uses these: the clock (UTC), storage, the provenance setting,
	// prices, the downloader of providers' output URLs and the size limit
	// of one output (0: DefaultMaxOutputBytes; videos have their own).
	now      func() time.Time
	blobs    BlobStore
	settings *SettingsService
	prices   *PriceTable
	outputs  Downloader
	maxBytes int64
	// A job's Store sets these: the asset id its first attempt fixed, and a
	// hook that runs once the object key is known, before anything is
	// uploaded.
	assetID   string
	beforePut func(ctx context.Context, key string) error

	asset     *Asset // stored (blob written, record not yet)
	out       *GenerateOutput
	retention int // days, resolved before the provider is called
}

// produce runs the provider and stores its output, all within the timeout. On
// error nothing is left in storage.
func (m *mediaCall) produce(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, m.timeout)
	defer cancel()
	var err error
	if m.retention, err = m.retentions.Resolve(ctx, m.ws, m.in.RetentionDays); err != nil {
		return err
	}
	req := MediaRequest{Capability: m.capability, Model: m.in.Model, Prompt: m.in.Prompt, Config: m.in.Config}
	if m.in.InputURL != "" || m.in.InputAssetID != "" {
		input, err := m.inputs.load(ctx, m.ws, m.in)
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
		return providerFailed(ctx, m.credentials, m.ws, m.in.credentialID, m.deadline(ctx, err))
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
		return Errorf(ETIMEOUT, "the media call did not finish within %s", m.timeout).With("provider", m.provider.Name()).Wrap(err)
	}
	return err
}

// providerFailed maps a provider's refusal of workspace credential id
// (authFailure) and marks the credential invalid in creds (nil: none).
func providerFailed(ctx context.Context, creds *CredentialService, ws, id string, err error) error {
	mapped := authFailure(err, id)
	if mapped != err && creds != nil {
		creds.Refused(ctx, ws, id)
	}
	return mapped
}

// newSpan starts the span of a call of capability c to provider: id, what
// was asked, and the trace (the request's, else its execution, else its own).
func newSpan(ws, provider string, c Capability, in GenerateInput, id string, start time.Time) *Span {
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

// callRecorder writes what media calls and jobs record of a request besides
// its asset: the idempotency claim (claim) and the uncharged span of a
// failed call (recordFailure). MediaService and JobService each build theirs
// from the media configuration (their recorder methods).
type callRecorder struct {
	store MediaStore
	// now is the clock, in UTC.
	now    func() time.Time
	prices *PriceTable
	logger *slog.Logger
	// lease is how long a pending claim holds its key: the call's timeout
	// and leaseMargin.
	lease time.Duration
}

// recordFailure writes the error span of a failed call, uncharged, and
// releases its idempotency claim, even if the caller has gone.
func (r callRecorder) recordFailure(ctx context.Context, span *Span, claim *IdempotencyRecord, err error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
	defer cancel()
	if span.EndedAt.IsZero() {
		span.EndedAt = r.now()
		span.DurationMs = span.EndedAt.Sub(span.StartedAt).Milliseconds()
	}
	span.Status, span.Error = SpanError, &SpanFailure{Code: ErrorCode(err), Message: ErrorMessage(err)}
	span.Cost = Cost{Currency: r.prices.Currency}
	span.AssetID, span.AssetURL, span.OutputURL = "", "", ""
	if rerr := r.store.RecordFailure(ctx, span, claim); rerr != nil {
		// A span the store cannot hold as it is is stored truncated: the call
		// may have run at the provider, and its spend must stay visible.
		r.logger.Warn("record failed media call; storing it truncated", "workspace", span.WorkspaceID, "span", span.ID, "err", rerr)
		if rerr := r.store.RecordFailure(ctx, span.Truncated(), claim); rerr != nil {
			r.logger.Error("record failed media call", "workspace", span.WorkspaceID, "span", span.ID, "err", rerr)
		}
	}
	if ErrorCode(err) == EINTERNAL {
		r.logger.Error("media call failed", "workspace", span.WorkspaceID, "span", span.ID, "provider", span.Provider, "err", err)
	}
}

// utcNow reads clock (nil: the system's) in UTC: the clock of MediaService
// and JobService (its Media's).
func utcNow(clock func() time.Time) time.Time {
	if clock != nil {
		return clock().UTC()
	}
	return time.Now().UTC()
}

// mediaTimeout bounds a provider call: d, else DefaultMediaTimeout.
func mediaTimeout(d time.Duration) time.Duration { return cmp.Or(d, DefaultMediaTimeout) }
