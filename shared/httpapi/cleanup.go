package httpapi

import (
	"context"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// CleanupAssets serves POST /api/v1/assets/cleanup: one batch of a bulk
// cleanup (or, with dry_run, the batch it would remove).
func CleanupAssets(svc *mediatrail.CleanupService) Endpoint {
	return func(ctx context.Context, r *Request) (Result, error) {
		var in mediatrail.BulkCleanupInput
		if err := r.DecodeJSON(&in); err != nil {
			return Result{}, err
		}
		if len(in.Cursor) > 1024 {
			return Result{}, mediatrail.Invalid("cursor", "invalid cursor")
		}
		out, err := svc.BulkDelete(ctx, r.WorkspaceID, in)
		if err != nil {
			return Result{}, err
		}
		return OK(out), nil
	}
}

// GetWorkspaceRetention serves GET /api/v1/workspace/retention: the
// workspace's default retention for new assets, and its source.
func GetWorkspaceRetention(svc *mediatrail.RetentionService) Endpoint { return workspaceGet(svc.Get) }

// SetWorkspaceRetention serves PUT /api/v1/workspace/retention.
func SetWorkspaceRetention(svc *mediatrail.RetentionService) Endpoint { return workspaceSet(svc.Set) }

// workspaceGet serves the caller's workspace's view that get answers.
func workspaceGet[Out any](get func(context.Context, string) (Out, error)) Endpoint {
	return func(ctx context.Context, r *Request) (Result, error) {
		out, err := get(ctx, r.WorkspaceID)
		if err != nil {
			return Result{}, err
		}
		return OK(out), nil
	}
}

// workspaceSet decodes the JSON body as In and applies it to the caller's
// workspace through set, answering what set answers.
func workspaceSet[In, Out any](set func(context.Context, string, In) (Out, error)) Endpoint {
	return func(ctx context.Context, r *Request) (Result, error) {
		var in In
		if err := r.DecodeJSON(&in); err != nil {
			return Result{}, err
		}
		out, err := set(ctx, r.WorkspaceID, in)
		if err != nil {
			return Result{}, err
		}
		return OK(out), nil
	}
}
