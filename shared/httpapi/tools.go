package httpapi

import (
	"context"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// ListTools serves GET /api/v1/media-tools: the workspace's media tools, oldest first.
func ListTools(svc *mediatrail.ToolService) Endpoint {
	return func(ctx context.Context, r *Request) (Result, error) {
		all, err := svc.List(ctx, r.WorkspaceID)
		if err != nil {
			return Result{}, err
		}
		return listPage(r, all)
	}
}

// GetTool serves GET /api/v1/media-tools/{id}.
func GetTool(svc *mediatrail.ToolService) Endpoint {
	return func(ctx context.Context, r *Request) (Result, error) {
		t, err := svc.Get(ctx, r.WorkspaceID, r.PathParam("id"))
		if err != nil {
			return Result{}, err
		}
		return OK(t), nil
	}
}

// CreateTool serves POST /api/v1/media-tools: 201.
func CreateTool(svc *mediatrail.ToolService) Endpoint {
	return func(ctx context.Context, r *Request) (Result, error) {
		var in mediatrail.ToolInput
		if err := r.DecodeJSON(&in); err != nil {
			return Result{}, err
		}
		t, err := svc.Create(ctx, r.WorkspaceID, in)
		if err != nil {
			return Result{}, err
		}
		return Created(t), nil
	}
}

// UpdateTool serves PATCH /api/v1/media-tools/{id}.
func UpdateTool(svc *mediatrail.ToolService) Endpoint {
	return func(ctx context.Context, r *Request) (Result, error) {
		var in mediatrail.ToolInput
		if err := r.DecodeJSON(&in); err != nil {
			return Result{}, err
		}
		t, err := svc.Update(ctx, r.WorkspaceID, r.PathParam("id"), in)
		if err != nil {
			return Result{}, err
		}
		return OK(t), nil
	}
}

// DeleteTool serves DELETE /api/v1/media-tools/{id}: 204.
func DeleteTool(svc *mediatrail.ToolService) Endpoint {
	return func(ctx context.Context, r *Request) (Result, error) {
		if err := svc.Delete(ctx, r.WorkspaceID, r.PathParam("id")); err != nil {
			return Result{}, err
		}
		return NoContent(), nil
	}
}

// GetAgentTools serves GET /api/v1/agents/{agent_id}/media-tools:
// {agent_id, tool_ids, tools}.
func GetAgentTools(svc *mediatrail.ToolService) Endpoint {
	return func(ctx context.Context, r *Request) (Result, error) {
		out, err := svc.GetAgentTools(ctx, r.WorkspaceID, r.PathParam("agent_id"))
		if err != nil {
			return Result{}, err
		}
		return OK(out), nil
	}
}

// SetAgentTools serves PUT /api/v1/agents/{agent_id}/media-tools {tool_ids}:
// exactly these tools are attached ([] detaches all).
func SetAgentTools(svc *mediatrail.ToolService) Endpoint {
	return func(ctx context.Context, r *Request) (Result, error) {
		var in struct {
			ToolIDs *[]string `json:"tool_ids"`
		}
		if err := r.DecodeJSON(&in); err != nil {
			return Result{}, err
		}
		if in.ToolIDs == nil {
			return Result{}, mediatrail.Invalid("tool_ids", "tool_ids is required (an empty list detaches every tool)")
		}
		out, err := svc.SetAgentTools(ctx, r.WorkspaceID, r.PathParam("agent_id"), *in.ToolIDs)
		if err != nil {
			return Result{}, err
		}
		return OK(out), nil
	}
}
