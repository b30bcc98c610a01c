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

// spanFilter parses the filters both trace routes take: execution_id,
// trace_id, kind, date_from and date_to (RFC 3339 or a date; a bare date_to
// means the whole day).
func spanFilter(r *Request) (mediatrail.SpanFilter, error) {
	var f mediatrail.SpanFilter
	var err error
	if f.ExecutionID, err = refQuery(r, "execution_id"); err != nil {
		return f, err
	}
	if f.TraceID, err = refQuery(r, "trace_id"); err != nil {
		return f, err
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
