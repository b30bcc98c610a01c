package httpapi

import (
	"context"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// ListTools serves GET /api/v1/media-tools: the workspace's media tools, oldest first.
func ListTools(svc *mediatrail.ToolService) Endpoint { return listAll(svc.List) }

// GetTool serves GET /api/v1/media-tools/{id}.
func GetTool(svc *mediatrail.ToolService) Endpoint { return byPath("id", svc.Get) }

// CreateTool serves POST /api/v1/media-tools: 201.
func CreateTool(svc *mediatrail.ToolService) Endpoint { return createFrom(svc.Create) }

// UpdateTool serves PATCH /api/v1/media-tools/{id}.
func UpdateTool(svc *mediatrail.ToolService) Endpoint { return updateFrom("id", svc.Update) }

// DeleteTool serves DELETE /api/v1/media-tools/{id}: 204.
func DeleteTool(svc *mediatrail.ToolService) Endpoint { return deleteByID(svc.Delete) }

// GetAgentTools serves GET /api/v1/agents/{agent_id}/media-tools:
// {agent_id, tool_ids, tools}.
func GetAgentTools(svc *mediatrail.ToolService) Endpoint {
	return byPath("agent_id", svc.GetAgentTools)
}

// agentToolsInput is the body of PUT /api/v1/agents/{agent_id}/media-tools.
type agentToolsInput struct {
	ToolIDs *[]string `json:"tool_ids"`
}

// SetAgentTools serves PUT /api/v1/agents/{agent_id}/media-tools {tool_ids}:
// exactly these tools are attached ([] detaches all).
func SetAgentTools(svc *mediatrail.ToolService) Endpoint {
	return updateFrom("agent_id", func(ctx context.Context, ws, agent string, in agentToolsInput) (*mediatrail.AgentTools, error) {
		if in.ToolIDs == nil {
			return nil, mediatrail.Invalid("tool_ids", "tool_ids is required (an empty list detaches every tool)")
		}
		return svc.SetAgentTools(ctx, ws, agent, *in.ToolIDs)
	})
}
