package mcp

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// AgentToolLister answers the media tools attached to an agent
// (mediatrail.ToolService.AgentTools).
type AgentToolLister interface {
	AgentTools(ctx context.Context, workspaceID, agentID string) ([]mediatrail.MediaTool, error)
}

// AttachedTools is a Server.Tools for workspaces that attach media tools to
// agents: a caller whose run names an agent with tools attached sees exactly
// those media tools, each named after its tool, calling it by tool_id (so its
// provider, model, credential and config defaults apply, and the span records
// the tool), beside the tools that make no provider call (get_job, the asset
// tools, get_trace_summary) without which a video tool could not be followed.
// Any other caller sees Builtins.
func AttachedTools(agents AgentToolLister) func(context.Context, Caller) ([]Tool, error) {
	return func(ctx context.Context, c Caller) ([]Tool, error) {
		if c.Run.AgentID == "" {
			return Builtins(), nil
		}
		attached, err := agents.AgentTools(ctx, c.WorkspaceID, c.Run.AgentID)
		if err != nil || len(attached) == 0 {
			return Builtins(), err
		}
		utilities := utilityTools()
		taken := make(map[string]bool, len(attached)+len(utilities))
		for _, t := range utilities {
			taken[t.Spec.Name] = true
		}
		tools := make([]Tool, 0, len(attached)+len(utilities))
		for _, t := range attached {
			name := toolName(t, taken)
			taken[name] = true
			desc := t.Description
			if desc == "" {
				desc = capabilityDescriptions[t.MediaType]
			}
			desc = fmt.Sprintf("%s (media tool %s: %s, %s)", desc, t.ID, t.MediaType, strings.TrimSpace(t.Provider+" "+t.Model))
			tools = append(tools, MediaTool(name, desc, t.MediaType, mediatrail.GenerateInput{ToolID: t.ID, Provider: t.Provider}))
		}
		return append(tools, utilities...), nil
	}
}

// notToolName matches what MCP tool names may not hold (letters, digits, '_',
// '-' and '.' only, at most 128 characters).
var notToolName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// toolName names t after its name, made a valid MCP tool name; a name already
// taken (another tool, a utility) gets the tool id appended, so every tool
// stays callable.
func toolName(t mediatrail.MediaTool, taken map[string]bool) string {
	name := strings.Trim(notToolName.ReplaceAllString(strings.TrimSpace(t.Name), "_"), "_")
	if name == "" {
		name = string(t.MediaType)
	}
	if len(name) > 96 {
		name = name[:96]
	}
	if taken[name] {
		name += "_" + t.ID
	}
	return name
}
