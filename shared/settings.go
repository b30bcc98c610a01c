package mediatrail

import (
	"context"
	"time"
)

// WorkspaceSettings are a workspace's switches, served by GET and PUT
// /api/v1/workspace/settings. Settings with a value and a derived answer of
// their own keep their own routes (retention: its source; budget: what is
// spent); switches live here, so that a new one needs no new function.
type WorkspaceSettings struct {
	// ProvenanceEmbedding writes the provenance record (XMP) into every
	// generated PNG, JPEG and MP4 as it is stored; false stores the
	// provider's bytes unchanged, for teams that need them byte-exact.
	// Default true.
	ProvenanceEmbedding bool `json:"provenance_embedding"`
}

// DefaultWorkspaceSettings apply to a workspace that set nothing.
var DefaultWorkspaceSettings = WorkspaceSettings{ProvenanceEmbedding: true}

// SettingsStore keeps each workspace's switches.
type SettingsStore interface {
	// WorkspaceSettings returns the workspace's settings, DefaultWorkspaceSettings
	// for those it never set.
	WorkspaceSettings(ctx context.Context, workspaceID string) (WorkspaceSettings, error)

	// SetWorkspaceSettings changes the settings in, keeping the workspace's
	// other settings (retention, budget) as they are.
	SetWorkspaceSettings(ctx context.Context, workspaceID string, in SetSettingsInput, at time.Time) error
}

// SetSettingsInput is the body of PUT /api/v1/workspace/settings: each field
// given changes, each absent one stays.
type SetSettingsInput struct {
	ProvenanceEmbedding *bool `json:"provenance_embedding"`
}

// SettingsService reads and changes workspace switches.
type SettingsService struct {
	// Store keeps the settings; nil answers the defaults and refuses changes.
	Store SettingsStore
	Now   func() time.Time
}

// Get returns the workspace's settings.
func (s *SettingsService) Get(ctx context.Context, ws string) (*WorkspaceSettings, error) {
	if s == nil || s.Store == nil {
		d := DefaultWorkspaceSettings
		return &d, nil
	}
	out, err := s.Store.WorkspaceSettings(ctx, ws)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// Set changes the settings the input names and returns them all. EINVALID
// for an input naming none; EUNAVAILABLE when no store keeps settings.
func (s *SettingsService) Set(ctx context.Context, ws string, in SetSettingsInput) (*WorkspaceSettings, error) {
	if in.ProvenanceEmbedding == nil {
		return nil, Invalid("provenance_embedding", "provenance_embedding is required")
	}
	if s.Store == nil {
		return nil, Errorf(EUNAVAILABLE, "workspace settings are not available")
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	if err := s.Store.SetWorkspaceSettings(ctx, ws, in, now().UTC()); err != nil {
		return nil, err
	}
	return s.Get(ctx, ws)
}

// EmbedProvenance reports whether outputs of the workspace carry the
// provenance record. A nil service embeds (the default).
func (s *SettingsService) EmbedProvenance(ctx context.Context, ws string) (bool, error) {
	out, err := s.Get(ctx, ws)
	if err != nil {
		return false, err
	}
	return out.ProvenanceEmbedding, nil
}
