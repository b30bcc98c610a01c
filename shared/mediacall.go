package mediatrail

import (
	"cmp"
	"context"
	"errors"
	"time"
)

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

// providerFailed maps a provider's refusal of workspace credential id
// (authFailure) and marks the credential invalid.
func (s *MediaService) providerFailed(ctx context.Context, ws, id string, err error) error {
	mapped := authFailure(err, id)
	if mapped != err && s.Credentials != nil {
		s.Credentials.Refused(ctx, ws, id)
	}
	return mapped
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
