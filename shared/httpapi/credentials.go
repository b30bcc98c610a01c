package httpapi

import (
	"context"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// pageQuery reads page (from 1) and limit (1..MaxLimit, default DefaultLimit).
func pageQuery(r *Request) (page, limit int, err error) {
	if limit, err = intQuery(r, "limit", mediatrail.DefaultLimit, 1, mediatrail.MaxLimit); err != nil {
		return 0, 0, err
	}
	page, err = intQuery(r, "page", 1, 1, 1_000_000)
	return page, limit, err
}

// listPage answers one page of a short list the service returns whole
// (credentials and tools: at most a few hundred per workspace).
func listPage[T any](r *Request, all []T) (Result, error) {
	page, limit, err := pageQuery(r)
	if err != nil {
		return Result{}, err
	}
	start := min(len(all), (page-1)*limit)
	items := all[start:min(len(all), start+limit)]
	if items == nil {
		items = []T{}
	}
	return List(items, NewMeta(len(all), page, limit, "")), nil
}

// ListCredentials serves GET /api/v1/credentials: the workspace's
// credentials, oldest first, never their keys.
func ListCredentials(svc *mediatrail.CredentialService) Endpoint {
	return func(ctx context.Context, r *Request) (Result, error) {
		all, err := svc.List(ctx, r.WorkspaceID)
		if err != nil {
			return Result{}, err
		}
		return listPage(r, all)
	}
}

// GetCredential serves GET /api/v1/credentials/{id}.
func GetCredential(svc *mediatrail.CredentialService) Endpoint {
	return func(ctx context.Context, r *Request) (Result, error) {
		c, err := svc.Get(ctx, r.WorkspaceID, r.PathParam("id"))
		if err != nil {
			return Result{}, err
		}
		return OK(c), nil
	}
}

// CreateCredential serves POST /api/v1/credentials {name, provider, api_key, base_url?}: 201.
func CreateCredential(svc *mediatrail.CredentialService) Endpoint {
	return func(ctx context.Context, r *Request) (Result, error) {
		var in mediatrail.CredentialInput
		if err := r.DecodeJSON(&in); err != nil {
			return Result{}, err
		}
		c, err := svc.Create(ctx, r.WorkspaceID, in)
		if err != nil {
			return Result{}, err
		}
		return Created(c), nil
	}
}

// UpdateCredential serves PATCH /api/v1/credentials/{id} {name?, api_key?, base_url?}.
func UpdateCredential(svc *mediatrail.CredentialService) Endpoint {
	return func(ctx context.Context, r *Request) (Result, error) {
		var in mediatrail.CredentialInput
		if err := r.DecodeJSON(&in); err != nil {
			return Result{}, err
		}
		c, err := svc.Update(ctx, r.WorkspaceID, r.PathParam("id"), in)
		if err != nil {
			return Result{}, err
		}
		return OK(c), nil
	}
}

// DeleteCredential serves DELETE /api/v1/credentials/{id}: 204.
func DeleteCredential(svc *mediatrail.CredentialService) Endpoint {
	return func(ctx context.Context, r *Request) (Result, error) {
		if err := svc.Delete(ctx, r.WorkspaceID, r.PathParam("id")); err != nil {
			return Result{}, err
		}
		return NoContent(), nil
	}
}

// SetDefaultCredential serves POST /api/v1/credentials/{id}/default.
func SetDefaultCredential(svc *mediatrail.CredentialService) Endpoint {
	return func(ctx context.Context, r *Request) (Result, error) {
		c, err := svc.SetDefault(ctx, r.WorkspaceID, r.PathParam("id"))
		if err != nil {
			return Result{}, err
		}
		return OK(c), nil
	}
}

// CheckCredential serves POST /api/v1/credentials/{id}/check: the credential
// with is_valid refreshed by one cheap authenticated provider call.
func CheckCredential(svc *mediatrail.CredentialService) Endpoint {
	return func(ctx context.Context, r *Request) (Result, error) {
		c, err := svc.Check(ctx, r.WorkspaceID, r.PathParam("id"))
		if err != nil {
			return Result{}, err
		}
		return OK(c), nil
	}
}
