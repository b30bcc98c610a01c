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
