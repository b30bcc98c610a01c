package mediatrail

import (
	"context"
	"slices"
	"strings"
	"time"
)

// MediaModel is one provider × capability × model the deployment can run,
// on the SDK's MediaModels contract (api.md "Round 2"). Config carries the
// model's price rows and whether the calling workspace can use it now
// (available: a workspace credential for the provider, or the deployment's
// key when platform credentials are allowed, or a provider that needs none).
type MediaModel struct {
	ID           string         `json:"id"` // provider/media_type/model
	Name         string         `json:"name"`
	Provider     string         `json:"provider"`
	MediaType    Capability     `json:"media_type"`
	IsActive     bool           `json:"is_active"`
	IsDeprecated bool           `json:"is_deprecated"`
	DeprecatedAt *time.Time     `json:"deprecated_at"`
	Config       map[string]any `json:"config"`
	CreatedAt    time.Time      `json:"created_at"`
	UpdatedAt    time.Time      `json:"updated_at"`
}

// ModelFilter selects media models; empty fields select all. IsActive false
// selects none (every listed model is active).
type ModelFilter struct {
	Provider  string
	MediaType Capability
	IsActive  *bool
}

// ModelService lists media models from the price table and the providers.
type ModelService struct {
	Credentials *CredentialService
	Prices      *PriceTable // nil: DefaultPrices
}

// pricesAsOf dates the price table's rows (created_at, updated_at of models).
var pricesAsOf = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)

// editWords mark image models that only edit.
var editWords = []string{"edit", "inpaint", "search-and-replace", "imageops", "kontext"}

// capabilitiesOf derives what a priced model does from its unit and what its
// provider does: characters are speech, seconds transcription, images and
// megapixels image generation (and editing where the provider edits and the
// model is one that takes an image), videos both video capabilities the
// provider offers.
func capabilitiesOf(p Price, offered []Capability) []Capability {
	var want []Capability
	switch p.Unit {
	case UnitCharacter:
		want = []Capability{CapabilityTTS}
	case UnitSecond:
		want = []Capability{CapabilitySTT}
	case UnitImage, UnitMegapixel:
		edits := slices.ContainsFunc(editWords, func(w string) bool { return strings.Contains(p.Model, w) })
		switch {
		case edits:
			want = []Capability{CapabilityImageEdit}
		case p.Model == "gpt-image-1" || strings.HasPrefix(p.Model, "fal-ai/flux"):
			want = []Capability{CapabilityImageGen, CapabilityImageEdit}
		default:
			want = []Capability{CapabilityImageGen}
		}
	case UnitVideo, UnitVideoSecond:
		want = []Capability{CapabilityVideoGen, CapabilityVideoFromImage}
	}
	return slices.DeleteFunc(want, func(c Capability) bool { return !slices.Contains(offered, c) })
}

// List returns the models f selects for workspace ws, sorted by provider,
// media type and name.
func (s *ModelService) List(ctx context.Context, ws string, f ModelFilter) ([]MediaModel, error) {
	if f.IsActive != nil && !*f.IsActive {
		return []MediaModel{}, nil
	}
	prices := s.Prices
	if prices == nil {
		prices = DefaultPrices()
	}
	creds, err := s.Credentials.List(ctx, ws)
	if err != nil {
		return nil, err
	}
	byID := map[string]*MediaModel{}
	for _, p := range prices.Prices {
		if f.Provider != "" && !strings.EqualFold(f.Provider, p.Provider) {
			continue
		}
		provider, err := s.Credentials.Providers.Get(p.Provider)
		if err != nil {
			continue // priced but not built here
		}
		available, source := s.availability(provider.Name(), creds)
		for _, c := range capabilitiesOf(p, provider.Capabilities()) {
			if f.MediaType != "" && c != f.MediaType {
				continue
			}
			id := provider.Name() + "/" + string(c) + "/" + p.Model
			m := byID[id]
			if m == nil {
				m = &MediaModel{ID: id, Name: p.Model, Provider: provider.Name(), MediaType: c, IsActive: true,
					Config:    map[string]any{"available": available, "credential_source": source, "currency": prices.Currency, "prices": []Price{}},
					CreatedAt: pricesAsOf, UpdatedAt: pricesAsOf}
				byID[id] = m
			}
			m.Config["prices"] = append(m.Config["prices"].([]Price), p)
		}
	}
	out := make([]MediaModel, 0, len(byID))
	for _, m := range byID {
		out = append(out, *m)
	}
	slices.SortFunc(out, func(a, b MediaModel) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// availability says whether the workspace can call provider and with what:
// "workspace" (a credential of its own), "platform" (the deployment's key,
// when allowed), "none" (needs no key) or "" (unavailable).
func (s *ModelService) availability(provider string, creds []*Credential) (bool, string) {
	if needs, err := s.Credentials.Providers.KeyNeeded(provider); err == nil && !needs {
		return true, "none"
	}
	if slices.ContainsFunc(creds, func(c *Credential) bool { return c.Provider == provider }) {
		return true, "workspace"
	}
	if s.Credentials.AllowPlatform && s.Credentials.Providers.PlatformKey(provider) {
		return true, "platform"
	}
	return false, ""
}
