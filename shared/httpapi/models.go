package httpapi

import (
	"context"
	"strconv"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// ListMediaModels serves GET /api/v1/media-models?page&limit&provider&media_type&is_active.
func ListMediaModels(svc *mediatrail.ModelService) Endpoint {
	return func(ctx context.Context, r *Request) (Result, error) {
		var f mediatrail.ModelFilter
		var err error
		if f.Provider, err = refQuery(r, "provider"); err != nil {
			return Result{}, err
		}
		mt, err := r.Query("media_type")
		if err != nil {
			return Result{}, err
		}
		if mt != "" {
			if f.MediaType, err = mediatrail.ParseCapability(mt); err != nil {
				return Result{}, err
			}
		}
		active, err := r.Query("is_active")
		if err != nil {
			return Result{}, err
		}
		if active != "" {
			b, err := strconv.ParseBool(active)
			if err != nil {
				return Result{}, mediatrail.Invalid("is_active", "is_active must be true or false")
			}
			f.IsActive = &b
		}
		return listAll(func(ctx context.Context, ws string) ([]mediatrail.MediaModel, error) { return svc.List(ctx, ws, f) })(ctx, r)
	}
}
