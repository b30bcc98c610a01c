package httpapi

import (
	"context"
	"net/url"
	"time"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// ListTraces serves GET /api/v1/traces: the workspace's spans, newest first,
// paged like assets.
func ListTraces(svc *mediatrail.TraceService) Endpoint {
	return func(ctx context.Context, r *Request) (Result, error) {
		f, err := spanFilter(r)
		if err != nil {
			return Result{}, err
		}
		if f.Limit, err = intQuery(r, "limit", mediatrail.DefaultLimit, 1, mediatrail.MaxLimit); err != nil {
			return Result{}, err
		}
		if f.Page, err = intQuery(r, "page", 1, 1, 1_000_000); err != nil {
			return Result{}, err
		}
		if f.Cursor, err = cursorQuery(r); err != nil {
			return Result{}, err
		}
		page, err := svc.List(ctx, r.WorkspaceID, f)
		if err != nil {
			return Result{}, err
		}
		return List(page.Spans, NewMeta(page.Total, page.Page, page.Limit, page.NextCursor)), nil
	}
}

// TraceSummary serves GET /api/v1/traces/summary.
func TraceSummary(svc *mediatrail.TraceService) Endpoint {
	return func(ctx context.Context, r *Request) (Result, error) {
		f, err := spanFilter(r)
		if err != nil {
			return Result{}, err
		}
		sum, err := svc.Summary(ctx, r.WorkspaceID, f)
		if err != nil {
			return Result{}, err
		}
		return OK(sum), nil
	}
}

// GetTrace serves GET /api/v1/traces/{trace_id}: the spans of one trace,
// oldest first, as a bare list in the envelope (the SDK's GetByTraceID
// decodes data as []Trace, so there is no meta). 404 when the workspace has
// no span of that trace.
func GetTrace(svc *mediatrail.TraceService) Endpoint {
	return func(ctx context.Context, r *Request) (Result, error) {
		spans, err := svc.Trace(ctx, r.WorkspaceID, r.PathParam("trace_id"))
		if err != nil {
			return Result{}, err
		}
		return OK(spans), nil
	}
}

// GetSpan serves GET /api/v1/traces/spans/{span_id}: one span; 404 when the
// workspace has no such span.
func GetSpan(svc *mediatrail.TraceService) Endpoint {
	return func(ctx context.Context, r *Request) (Result, error) {
		sp, err := svc.Span(ctx, r.WorkspaceID, r.PathParam("span_id"))
		if err != nil {
			return Result{}, err
		}
		return OK(sp), nil
	}
}

// spanFilter parses the filters both trace routes take (inputs.go's
// traceFilters): the references execution_id, trace_id, agent_id,
// session_id and provider; kind, status, level and media_type, each one of
// its values (anything else is EINVALID, never ignored); model_name; and
// date_from and date_to (RFC 3339 or a date; a bare date_to means the whole
// day). The service validates the values further (TraceService).
func spanFilter(r *Request) (mediatrail.SpanFilter, error) {
	var f mediatrail.SpanFilter
	var err error
	for _, ref := range []struct {
		name string
		dst  *string
	}{
		{"execution_id", &f.ExecutionID}, {"trace_id", &f.TraceID}, {"agent_id", &f.AgentID},
		{"session_id", &f.SessionID}, {"provider", &f.Provider},
	} {
		if *ref.dst, err = refQuery(r, ref.name); err != nil {
			return f, err
		}
	}
	kind, err := r.Query("kind")
	if err != nil {
		return f, err
	}
	if kind != "" {
		if f.Kind, err = mediatrail.ParseSpanKind(kind); err != nil {
			return f, err
		}
	}
	var status, mediaType string
	for _, q := range []struct {
		name string
		dst  *string
	}{{"status", &status}, {"level", &f.Level}, {"media_type", &mediaType}, {"model_name", &f.Model}} {
		if *q.dst, err = r.Query(q.name); err != nil {
			return f, err
		}
	}
	f.Status, f.MediaType = mediatrail.SpanStatus(status), mediatrail.Capability(mediaType)
	if f.From, err = timeQuery(r, "date_from"); err != nil {
		return f, err
	}
	if f.To, err = timeQuery(r, "date_to"); err != nil {
		return f, err
	}
	if v, _ := r.Query("date_to"); len(v) == len("2006-01-02") && !f.To.IsZero() {
		f.To = f.To.Add(24*time.Hour - time.Nanosecond)
	}
	return f, nil
}

// SpanFilterOf parses trace filters given as query values, as the trace
// routes do, for other front ends (the MCP tools).
func SpanFilterOf(q url.Values) (mediatrail.SpanFilter, error) {
	return spanFilter(&Request{query: q})
}
