package httpapi

import (
	"context"
	"mime"
	"strings"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// LookupProvenance serves POST /api/v1/provenance: who made a file. A JSON
// body (application/json or +json) is {"sha256": ...} or {"asset_id": ...};
// a body of any other type is the file itself (API Gateway hands binary types
// over base64-encoded, RequestBody decodes them).
func LookupProvenance(svc *mediatrail.ProvenanceService) Endpoint {
	return func(ctx context.Context, r *Request) (Result, error) {
		var q mediatrail.ProvenanceQuery
		if isJSON(Header(r.Event, "content-type")) {
			if err := r.DecodeJSON(&q); err != nil {
				return Result{}, err
			}
		} else {
			q.File = r.body
		}
		out, err := svc.Lookup(ctx, r.WorkspaceID, q)
		if err != nil {
			return Result{}, err
		}
		return OK(out), nil
	}
}

// isJSON reports whether a Content-Type names JSON.
func isJSON(contentType string) bool {
	mt, _, _ := mime.ParseMediaType(contentType)
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

// GetWorkspaceSettings serves GET /api/v1/workspace/settings.
func GetWorkspaceSettings(svc *mediatrail.SettingsService) Endpoint { return workspaceGet(svc.Get) }

// SetWorkspaceSettings serves PUT /api/v1/workspace/settings.
func SetWorkspaceSettings(svc *mediatrail.SettingsService) Endpoint { return workspaceSet(svc.Set) }
