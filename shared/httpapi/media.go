package httpapi

import (
	"context"
	"net/http"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// GenerateMedia serves POST /api/v1/media/{capability} for capability c, and
// POST /api/v1/media/generate (the SDK's route, media_type in the body) when c
// is "". A replayed idempotent answer carries the header Idempotent-Replayed.
func GenerateMedia(svc *mediatrail.MediaService, c mediatrail.Capability) Endpoint {
	return func(ctx context.Context, r *Request) (Result, error) {
		var in mediatrail.GenerateInput
		if err := r.DecodeJSON(&in); err != nil {
			return Result{}, err
		}
		out, err := svc.Generate(ctx, r.WorkspaceID, c, in)
		if err != nil {
			return Result{}, err
		}
		res := OK(out)
		if out.Status != "completed" {
			res.Status = http.StatusAccepted
		}
		if out.Replayed {
			res.Headers = map[string]string{"Idempotent-Replayed": "true"}
		}
		return res, nil
	}
}
