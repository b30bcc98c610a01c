package httpapi

import (
	"context"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// The credentials, media tools and agents' tools routes are thin: each reads
// the path parameter and/or the JSON body and calls one service method.
// These adapters say it once.

// byPath serves a route acting on path parameter param: 200 with its answer.
func byPath[T any](param string, fn func(ctx context.Context, ws, id string) (T, error)) Endpoint {
	return func(ctx context.Context, r *Request) (Result, error) {
		v, err := fn(ctx, r.WorkspaceID, r.PathParam(param))
		if err != nil {
			return Result{}, err
		}
		return OK(v), nil
	}
}

// deleteByID serves DELETE .../{id}: 204.
func deleteByID(fn func(ctx context.Context, ws, id string) error) Endpoint {
	return func(ctx context.Context, r *Request) (Result, error) {
		if err := fn(ctx, r.WorkspaceID, r.PathParam("id")); err != nil {
			return Result{}, err
		}
		return NoContent(), nil
	}
}

// createFrom serves POST of a JSON body In: 201 with the created value.
func createFrom[In, T any](fn func(ctx context.Context, ws string, in In) (T, error)) Endpoint {
	return func(ctx context.Context, r *Request) (Result, error) {
		var in In
		if err := r.DecodeJSON(&in); err != nil {
			return Result{}, err
		}
		v, err := fn(ctx, r.WorkspaceID, in)
		if err != nil {
			return Result{}, err
		}
		return Created(v), nil
	}
}

// updateFrom serves PATCH (or PUT) .../{param} of a JSON body In: 200.
func updateFrom[In, T any](param string, fn func(ctx context.Context, ws, id string, in In) (T, error)) Endpoint {
	return func(ctx context.Context, r *Request) (Result, error) {
		var in In
		if err := r.DecodeJSON(&in); err != nil {
			return Result{}, err
		}
		v, err := fn(ctx, r.WorkspaceID, r.PathParam(param), in)
		if err != nil {
			return Result{}, err
		}
		return OK(v), nil
	}
}

// listAll serves one page (page, limit) of a short list the service returns
// whole (credentials and tools: at most a few hundred per workspace).
func listAll[T any](fn func(ctx context.Context, ws string) ([]T, error)) Endpoint {
	return func(ctx context.Context, r *Request) (Result, error) {
		limit, err := intQuery(r, "limit", mediatrail.DefaultLimit, 1, mediatrail.MaxLimit)
		if err != nil {
			return Result{}, err
		}
		page, err := intQuery(r, "page", 1, 1, 1_000_000)
		if err != nil {
			return Result{}, err
		}
		all, err := fn(ctx, r.WorkspaceID)
		if err != nil {
			return Result{}, err
		}
		return listPage(all, page, limit), nil
	}
}

func listPage[T any](all []T, page, limit int) Result {
	start := min(len(all), (page-1)*limit)
	items := all[start:min(len(all), start+limit)]
	if items == nil {
		items = []T{}
	}
	return List(items, NewMeta(len(all), page, limit, ""))
}

// ListCredentials serves GET /api/v1/credentials: the workspace's
// credentials, oldest first, never their keys.
func ListCredentials(svc *mediatrail.CredentialService) Endpoint { return listAll(svc.List) }

// GetCredential serves GET /api/v1/credentials/{id}.
func GetCredential(svc *mediatrail.CredentialService) Endpoint { return byPath("id", svc.Get) }

// CreateCredential serves POST /api/v1/credentials {name, provider, api_key, base_url?}: 201.
func CreateCredential(svc *mediatrail.CredentialService) Endpoint { return createFrom(svc.Create) }

// UpdateCredential serves PATCH /api/v1/credentials/{id} {name?, api_key?, base_url?}.
func UpdateCredential(svc *mediatrail.CredentialService) Endpoint {
	return updateFrom("id", svc.Update)
}

// DeleteCredential serves DELETE /api/v1/credentials/{id}: 204.
func DeleteCredential(svc *mediatrail.CredentialService) Endpoint { return deleteByID(svc.Delete) }

// SetDefaultCredential serves POST /api/v1/credentials/{id}/default.
func SetDefaultCredential(svc *mediatrail.CredentialService) Endpoint {
	return byPath("id", svc.SetDefault)
}

// CheckCredential serves POST /api/v1/credentials/{id}/check: the credential
// with is_valid refreshed by one cheap authenticated provider call.
func CheckCredential(svc *mediatrail.CredentialService) Endpoint { return byPath("id", svc.Check) }
