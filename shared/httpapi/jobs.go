package httpapi

import (
	"context"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// GetJob serves GET /api/v1/media/jobs/{id}: the job's status, with its
// asset and a signed URL once completed. Another workspace's job is 404.
func GetJob(svc *mediatrail.JobService) Endpoint {
	return func(ctx context.Context, r *Request) (Result, error) {
		v, err := svc.Get(ctx, r.WorkspaceID, r.PathParam("id"))
		if err != nil {
			return Result{}, err
		}
		return OK(v), nil
	}
}

// CancelJob serves POST /api/v1/media/jobs/{id}/cancel: the cancelled job,
// with provider_cancelled saying whether the provider stopped it too.
func CancelJob(svc *mediatrail.JobService) Endpoint {
	return func(ctx context.Context, r *Request) (Result, error) {
		v, err := svc.Cancel(ctx, r.WorkspaceID, r.PathParam("id"))
		if err != nil {
			return Result{}, err
		}
		return OK(v), nil
	}
}

// ListJobs serves GET /api/v1/media/jobs: the workspace's video jobs, newest
// first; status filters (comma-separated states, "active" = queued and
// processing); paged by limit and cursor (page numbers are not offered: the
// console and agents follow next_cursor).
func ListJobs(svc *mediatrail.JobService) Endpoint {
	return func(ctx context.Context, r *Request) (Result, error) {
		var f mediatrail.JobFilter
		status, err := r.Query("status")
		if err != nil {
			return Result{}, err
		}
		if f.Statuses, err = mediatrail.ParseJobStatuses(status); err != nil {
			return Result{}, err
		}
		if f.Limit, err = intQuery(r, "limit", mediatrail.DefaultLimit, 1, mediatrail.MaxLimit); err != nil {
			return Result{}, err
		}
		if _, err = intQuery(r, "page", 1, 1, 1); err != nil {
			return Result{}, mediatrail.Invalid("page", "page is not supported here: follow meta.next_cursor with cursor")
		}
		if f.Cursor, err = cursorQuery(r); err != nil {
			return Result{}, err
		}
		jobs, page, err := svc.List(ctx, r.WorkspaceID, f)
		if err != nil {
			return Result{}, err
		}
		return List(jobs, NewMeta(page.Total, page.Page, page.Limit, page.NextCursor)), nil
	}
}
