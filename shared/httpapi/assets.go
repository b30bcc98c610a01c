package httpapi

import (
	"bytes"
	"context"
	"net/url"
	"strconv"
	"time"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// ListAssets serves GET /api/v1/assets.
func ListAssets(svc *mediatrail.AssetService) Endpoint {
	return func(ctx context.Context, r *Request) (Result, error) {
		f, err := assetFilter(r)
		if err != nil {
			return Result{}, err
		}
		page, err := svc.List(ctx, r.WorkspaceID, f)
		if err != nil {
			return Result{}, err
		}
		assets := page.Assets
		if assets == nil {
			assets = []*mediatrail.Asset{}
		}
		return List(assets, NewMeta(page.Total, page.Page, page.Limit, page.NextCursor)), nil
	}
}

// assetFilter parses and validates the list query (api.md).
func assetFilter(r *Request) (mediatrail.AssetFilter, error) {
	var f mediatrail.AssetFilter
	var err error
	if f.Limit, err = intQuery(r, "limit", mediatrail.DefaultLimit, 1, mediatrail.MaxLimit); err != nil {
		return f, err
	}
	if f.Page, err = intQuery(r, "page", 1, 1, 1_000_000); err != nil {
		return f, err
	}
	if f.Cursor, err = cursorQuery(r); err != nil {
		return f, err
	}
	typ, err := r.Query("type")
	if err != nil {
		return f, err
	}
	mediaType, err := r.Query("media_type")
	if err != nil {
		return f, err
	}
	if f.Type, err = mediatrail.ParseAssetTypes(typ, mediaType); err != nil {
		return f, err
	}
	for _, ref := range []struct {
		name string
		dst  *string
	}{{"provider", &f.Provider}, {"execution_id", &f.ExecutionID}, {"agent_id", &f.AgentID}} {
		if *ref.dst, err = refQuery(r, ref.name); err != nil {
			return f, err
		}
	}
	if f.CreatedAfter, err = timeQuery(r, "created_after"); err != nil {
		return f, err
	}
	if f.CreatedBefore, err = timeQuery(r, "created_before"); err != nil {
		return f, err
	}
	if !f.CreatedAfter.IsZero() && !f.CreatedBefore.IsZero() && !f.CreatedAfter.Before(f.CreatedBefore) {
		return f, mediatrail.Invalid("created_before", "created_before must be later than created_after")
	}
	status, err := r.Query("status")
	if err != nil {
		return f, err
	}
	switch mediatrail.AssetStatus(status) {
	case "", mediatrail.StatusReady, mediatrail.StatusPending:
		f.Status = mediatrail.AssetStatus(status)
	default:
		return f, mediatrail.Invalid("status", "status must be ready or pending")
	}
	return f, nil
}

// refQuery reads an identifier query parameter ("" when absent).
func refQuery(r *Request, name string) (string, error) {
	v, err := r.Query(name)
	if err == nil && v != "" && !mediatrail.ValidRef(v) {
		err = mediatrail.Invalid(name, "%s is not a valid identifier", name)
	}
	return v, err
}

// cursorQuery reads the opaque paging cursor; an oversized one is invalid.
func cursorQuery(r *Request) (string, error) {
	c, err := r.Query("cursor")
	if err == nil && len(c) > 1024 {
		err = mediatrail.Invalid("cursor", "invalid cursor")
	}
	return c, err
}

// intQuery parses an integer query parameter within [lo, hi]; absent gives def.
func intQuery(r *Request, name string, def, lo, hi int) (int, error) {
	v, err := r.Query(name)
	if err != nil || v == "" {
		return def, err
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, mediatrail.Invalid(name, "%s must be an integer between %d and %d", name, lo, hi)
	}
	return n, nil
}

// timeQuery parses an RFC 3339 time (a bare date means its midnight UTC).
func timeQuery(r *Request, name string) (time.Time, error) {
	v, err := r.Query(name)
	if err != nil || v == "" {
		return time.Time{}, err
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil && t.Year() >= 1970 && t.Year() <= 9999 {
			return t.UTC(), nil
		}
	}
	return time.Time{}, mediatrail.Invalid(name, "%s must be an RFC 3339 time such as 2026-01-02T15:04:05Z", name)
}

// GetAsset serves GET /api/v1/assets/{id}.
func GetAsset(svc *mediatrail.AssetService) Endpoint {
	return func(ctx context.Context, r *Request) (Result, error) {
		a, err := svc.Get(ctx, r.WorkspaceID, r.PathParam("id"))
		if err != nil {
			return Result{}, err
		}
		return OK(a), nil
	}
}

// DeleteAsset serves DELETE /api/v1/assets/{id}: 204, then 404.
func DeleteAsset(svc *mediatrail.AssetService) Endpoint {
	return func(ctx context.Context, r *Request) (Result, error) {
		if err := svc.Delete(ctx, r.WorkspaceID, r.PathParam("id")); err != nil {
			return Result{}, err
		}
		return NoContent(), nil
	}
}

// SignedURL serves GET /api/v1/assets/{id}/signed-url.
func SignedURL(svc *mediatrail.AssetService) Endpoint {
	return func(ctx context.Context, r *Request) (Result, error) {
		secs, err := intQuery(r, "expires_in", int(mediatrail.DefaultSignedURLExpiry/time.Second), 1, int(mediatrail.MaxSignedURLExpiry/time.Second))
		if err != nil {
			return Result{}, mediatrail.Invalid("expires_in", "expires_in must be an integer between 1 and 604800 seconds")
		}
		d, err := r.Query("disposition")
		if err != nil {
			return Result{}, err
		}
		req, err := svc.SignedURL(ctx, r.WorkspaceID, r.PathParam("id"), time.Duration(secs)*time.Second, mediatrail.Disposition(d))
		if err != nil {
			return Result{}, err
		}
		return OK(map[string]any{"url": req.URL, "expires_at": req.ExpiresAt.UTC()}), nil
	}
}

// RegisterAsset serves POST /api/v1/assets.
func RegisterAsset(svc *mediatrail.AssetService) Endpoint {
	return func(ctx context.Context, r *Request) (Result, error) {
		var in mediatrail.RegisterInput
		if err := r.DecodeJSON(&in); err != nil {
			return Result{}, err
		}
		reg, err := svc.Register(ctx, r.WorkspaceID, in)
		if err != nil {
			return Result{}, err
		}
		return Created(reg), nil
	}
}

// CompleteAsset serves POST /api/v1/assets/{id}/complete: no body after a
// single PUT, the upload id and parts' ETags after a multipart upload.
func CompleteAsset(svc *mediatrail.AssetService) Endpoint {
	return func(ctx context.Context, r *Request) (Result, error) {
		var in mediatrail.CompleteInput
		if len(bytes.TrimSpace(r.body)) > 0 {
			if err := r.DecodeJSON(&in); err != nil {
				return Result{}, err
			}
		}
		a, err := svc.Complete(ctx, r.WorkspaceID, r.PathParam("id"), in)
		if err != nil {
			return Result{}, err
		}
		return OK(a), nil
	}
}

// AssetFilterOf parses list parameters given as query values, as GET
// /api/v1/assets does, for other front ends (the MCP tools) to validate
// them the same way.
func AssetFilterOf(q url.Values) (mediatrail.AssetFilter, error) {
	return assetFilter(&Request{query: q})
}
