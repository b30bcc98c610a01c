package mediatrail

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// MediaTool is a named media configuration of a workspace: a capability, the
// provider and model that run it, the credential they use (optional: the
// workspace's default for the provider otherwise) and default config (voice,
// size, duration...). Agents get tools attached; a media call may name a tool
// instead of provider and model.
//
// The json names are the API's and the stored attribute names.
type MediaTool struct {
	ID           string         `json:"id"`
	WorkspaceID  string         `json:"workspace_id"`
	Name         string         `json:"name"`
	Description  string         `json:"description"`
	MediaType    Capability     `json:"media_type"`
	Provider     string         `json:"provider"`
	Model        string         `json:"model"`
	CredentialID string         `json:"credential_id"`
	Config       map[string]any `json:"config"`
	CreatedAt    time.Time      `json:"created_at"`
	UpdatedAt    time.Time      `json:"updated_at"`
}

// AgentTools is the set of tools attached to an agent (the answer of GET
// /api/v1/agents/{agent_id}/media-tools).
type AgentTools struct {
	AgentID string       `json:"agent_id"`
	ToolIDs []string     `json:"tool_ids"`
	Tools   []*MediaTool `json:"tools"`
}

// ToolStore keeps media tools and the tools attached to each agent. Every
// method is scoped by workspace.
type ToolStore interface {
	// PutTool creates (create set: on condition that the id is free) or
	// replaces (on condition that it exists) a tool. ENOTFOUND when replacing
	// an absent tool.
	PutTool(ctx context.Context, t *MediaTool, create bool) error
	// FindTool returns a tool. ENOTFOUND if absent.
	FindTool(ctx context.Context, workspaceID, id string) (*MediaTool, error)
	// ListTools returns the workspace's tools, oldest first.
	ListTools(ctx context.Context, workspaceID string) ([]*MediaTool, error)
	// DeleteTool removes a tool. ENOTFOUND if absent. Agents that had it
	// attached keep its id, which no longer resolves (listed without it).
	DeleteTool(ctx context.Context, workspaceID, id string) error
	// AgentToolIDs returns the ids attached to an agent; none when it has none.
	AgentToolIDs(ctx context.Context, workspaceID, agentID string) ([]string, error)
	// SetAgentToolIDs replaces the agent's set; an empty set removes it.
	SetAgentToolIDs(ctx context.Context, workspaceID, agentID string, ids []string, at time.Time) error
}

// Limits of tools.
const (
	MaxToolsPerWorkspace = 200
	MaxToolsPerAgent     = 50
	maxToolNameBytes     = 128
	maxToolDescBytes     = 2048
)

// ToolInput is the body of POST /api/v1/media-tools and PATCH
// /api/v1/media-tools/{id} (every field optional there). credential_id ""
// on PATCH detaches the credential.
type ToolInput struct {
	Name         *string         `json:"name"`
	Description  *string         `json:"description"`
	MediaType    *string         `json:"media_type"`
	Provider     *string         `json:"provider"`
	Model        *string         `json:"model"`
	CredentialID *string         `json:"credential_id"`
	Config       *map[string]any `json:"config"`
}

// ToolService manages media tools and agents' attachments.
type ToolService struct {
	Store       ToolStore
	Credentials *CredentialService
	Now         func() time.Time
}

func (s *ToolService) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func errToolNotFound() *Error { return Errorf(ENOTFOUND, "media tool not found") }

// Get returns a tool. ENOTFOUND for another workspace's.
func (s *ToolService) Get(ctx context.Context, ws, id string) (*MediaTool, error) {
	if !ValidID(id) {
		return nil, errToolNotFound()
	}
	return s.Store.FindTool(ctx, ws, id)
}

// List returns the workspace's tools, oldest first.
func (s *ToolService) List(ctx context.Context, ws string) ([]*MediaTool, error) {
	return s.Store.ListTools(ctx, ws)
}

// Create stores a tool. EINVALID for a missing name, media_type or provider,
// a provider that does not do the media type, a malformed config; ENOTFOUND
// for a credential_id of another workspace; EINVALID for a credential of
// another provider.
func (s *ToolService) Create(ctx context.Context, ws string, in ToolInput) (*MediaTool, error) {
	now := s.now()
	t := &MediaTool{ID: NewIDAt(now), WorkspaceID: ws, CreatedAt: now, UpdatedAt: now}
	if in.Name == nil || in.MediaType == nil || in.Provider == nil {
		return nil, Invalid(firstMissing(map[string]bool{"name": in.Name == nil, "media_type": in.MediaType == nil, "provider": in.Provider == nil}), "name, media_type and provider are required")
	}
	if err := s.apply(ctx, t, in); err != nil {
		return nil, err
	}
	existing, err := s.Store.ListTools(ctx, ws)
	if err != nil {
		return nil, err
	}
	if len(existing) >= MaxToolsPerWorkspace {
		return nil, Errorf(ECONFLICT, "a workspace holds at most %d media tools; delete one first", MaxToolsPerWorkspace)
	}
	if err := s.Store.PutTool(ctx, t, true); err != nil {
		return nil, err
	}
	return t, nil
}

func firstMissing(missing map[string]bool) string {
	for _, k := range []string{"name", "media_type", "provider"} {
		if missing[k] {
			return k
		}
	}
	return "body"
}

// Update changes the fields the input names.
func (s *ToolService) Update(ctx context.Context, ws, id string, in ToolInput) (*MediaTool, error) {
	t, err := s.Get(ctx, ws, id)
	if err != nil {
		return nil, err
	}
	if in == (ToolInput{}) {
		return nil, Invalid("body", "give at least one field to change")
	}
	if err := s.apply(ctx, t, in); err != nil {
		return nil, err
	}
	t.UpdatedAt = s.now()
	if err := s.Store.PutTool(ctx, t, false); err != nil {
		return nil, err
	}
	return t, nil
}

// Delete removes a tool.
func (s *ToolService) Delete(ctx context.Context, ws, id string) error {
	if !ValidID(id) {
		return errToolNotFound()
	}
	return s.Store.DeleteTool(ctx, ws, id)
}

// apply validates the input's fields onto t.
func (s *ToolService) apply(ctx context.Context, t *MediaTool, in ToolInput) error {
	if in.Name != nil {
		n := strings.TrimSpace(*in.Name)
		if n == "" || len(n) > maxToolNameBytes || !utf8.ValidString(n) {
			return Invalid("name", "name must be 1-%d bytes of UTF-8", maxToolNameBytes)
		}
		t.Name = n
	}
	if in.Description != nil {
		if len(*in.Description) > maxToolDescBytes || !utf8.ValidString(*in.Description) {
			return Invalid("description", "description must be at most %d bytes of UTF-8", maxToolDescBytes)
		}
		t.Description = *in.Description
	}
	if in.MediaType != nil {
		c, err := ParseCapability(strings.TrimSpace(*in.MediaType))
		if err != nil {
			return err
		}
		t.MediaType = c
	}
	if in.Provider != nil {
		p, err := s.Credentials.Providers.Get(*in.Provider)
		if err != nil {
			return err
		}
		t.Provider = p.Name()
	}
	if in.Model != nil {
		m := strings.TrimSpace(*in.Model)
		if len(m) > 256 {
			return Invalid("model", "model must be at most 256 bytes")
		}
		t.Model = m
	}
	if in.Config != nil {
		if err := validateConfig(*in.Config); err != nil {
			return err
		}
		t.Config = *in.Config
	}
	if in.CredentialID != nil {
		t.CredentialID = strings.TrimSpace(*in.CredentialID)
	}
	// Whatever changed, the whole must hold together.
	p, err := s.Credentials.Providers.Get(t.Provider)
	if err != nil {
		return err
	}
	if !slices.Contains(p.Capabilities(), t.MediaType) {
		return UnsupportedCapability(t.Provider, t.MediaType)
	}
	// A key the provider does not take would refuse every call the tool
	// makes: refuse it here, where the tool is written.
	if err := checkConfig(p, t.MediaType, t.Config); err != nil {
		return err
	}
	if t.CredentialID != "" {
		c, err := s.Credentials.Get(ctx, t.WorkspaceID, t.CredentialID)
		if IsNotFound(err) {
			return NotFound("credential_id", "credential not found")
		} else if err != nil {
			return err
		}
		if c.Provider != t.Provider {
			return Invalid("credential_id", "credential %s is for provider %s, not %s", c.ID, c.Provider, t.Provider)
		}
	}
	return nil
}

// SetAgentTools attaches exactly tool_ids to an agent (an empty list detaches
// all: the agent may then use any provider). Every id must be a tool of the
// workspace (ENOTFOUND otherwise, naming it).
func (s *ToolService) SetAgentTools(ctx context.Context, ws, agentID string, ids []string) (*AgentTools, error) {
	if err := validateRefField("agent_id", agentID, true); err != nil {
		return nil, err
	}
	if len(ids) > MaxToolsPerAgent {
		return nil, Invalid("tool_ids", "an agent has at most %d media tools", MaxToolsPerAgent)
	}
	var uniq []string
	for _, id := range ids {
		if !slices.Contains(uniq, id) {
			uniq = append(uniq, id)
		}
	}
	out := &AgentTools{AgentID: agentID, ToolIDs: []string{}, Tools: []*MediaTool{}}
	for _, id := range uniq {
		t, err := s.Get(ctx, ws, id)
		if IsNotFound(err) {
			return nil, NotFound("tool_ids", "media tool %s not found", shortened(id, 64))
		} else if err != nil {
			return nil, err
		}
		out.ToolIDs, out.Tools = append(out.ToolIDs, id), append(out.Tools, t)
	}
	if err := s.Store.SetAgentToolIDs(ctx, ws, agentID, out.ToolIDs, s.now()); err != nil {
		return nil, err
	}
	return out, nil
}

// shortened is s cut to at most n bytes (whole characters), marked "..."
// when cut.
func shortened(s string, n int) string {
	if t, cut := truncateUTF8(s, n); cut {
		return t + "..."
	}
	return s
}

// GetAgentTools answers the tools attached to an agent (none: empty lists).
func (s *ToolService) GetAgentTools(ctx context.Context, ws, agentID string) (*AgentTools, error) {
	if err := validateRefField("agent_id", agentID, true); err != nil {
		return nil, err
	}
	tools, err := s.AgentTools(ctx, ws, agentID)
	if err != nil {
		return nil, err
	}
	out := &AgentTools{AgentID: agentID, ToolIDs: []string{}, Tools: []*MediaTool{}}
	for i := range tools {
		out.ToolIDs, out.Tools = append(out.ToolIDs, tools[i].ID), append(out.Tools, &tools[i])
	}
	return out, nil
}

// AgentTools lists the tools attached to an agent, in the order attached;
// ids of tools deleted since are left out. This is what an agent may use
// (and what the MCP server lists).
func (s *ToolService) AgentTools(ctx context.Context, ws, agentID string) ([]MediaTool, error) {
	ids, err := s.Store.AgentToolIDs(ctx, ws, agentID)
	if err != nil {
		return nil, err
	}
	var out []MediaTool
	for _, id := range ids {
		t, err := s.Store.FindTool(ctx, ws, id)
		if IsNotFound(err) {
			continue
		} else if err != nil {
			return nil, err
		}
		out = append(out, *t)
	}
	return out, nil
}

// forCall applies a media call's tool: it checks the agent's attachments
// (an agent with tools attached uses only those: ETOOLNOTATTACHED), loads the
// tool named by in.ToolID and fills provider, model and config from it (the
// request's config entries win over the tool's defaults). It returns the
// tool, nil when the call names none.
func (s *ToolService) forCall(ctx context.Context, ws string, c Capability, in *GenerateInput) (*MediaTool, error) {
	if in.AgentID != "" {
		ids, err := s.Store.AgentToolIDs(ctx, ws, in.AgentID)
		if err != nil {
			return nil, err
		}
		if len(ids) > 0 && !slices.Contains(ids, in.ToolID) {
			msg := fmt.Sprintf("agent %s may use only its attached media tools: name one of them in tool_id", in.AgentID)
			if in.ToolID != "" {
				msg = fmt.Sprintf("media tool %s is not attached to agent %s", in.ToolID, in.AgentID)
			}
			return nil, fieldError(ETOOLNOTATTACHED, "tool_id", "%s", msg).With("agent_id", in.AgentID)
		}
	}
	if in.ToolID == "" {
		return nil, nil
	}
	t, err := s.Get(ctx, ws, in.ToolID)
	if IsNotFound(err) {
		return nil, NotFound("tool_id", "media tool not found")
	} else if err != nil {
		return nil, err
	}
	if c != t.MediaType {
		return nil, Invalid("tool_id", "media tool %s does %s, not %s", t.ID, t.MediaType, c)
	}
	if in.Provider != "" && !strings.EqualFold(strings.TrimSpace(in.Provider), t.Provider) {
		return nil, Invalid("provider", "provider %s contradicts media tool %s (provider %s)", in.Provider, t.ID, t.Provider)
	}
	if in.Model != "" && in.Model != t.Model && t.Model != "" {
		return nil, Invalid("model", "model %s contradicts media tool %s (model %s)", in.Model, t.ID, t.Model)
	}
	in.Provider = t.Provider
	if in.Model == "" {
		in.Model = t.Model
	}
	if len(t.Config) > 0 {
		merged := maps.Clone(t.Config)
		maps.Copy(merged, in.Config)
		in.Config = merged
	}
	return t, nil
}
