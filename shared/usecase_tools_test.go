package mediatrail_test

import (
	"context"
	"strings"
	"testing"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/memory"
)

// studioFactory makes the studio's clients; its key is needed and CheckKey
// answers check.
type studioFactory struct {
	p     *studio
	check error
}

func (f studioFactory) Get(name string) (mediatrail.Provider, error) {
	if name != "studio" {
		return nil, mediatrail.Invalid("provider", "provider must be studio")
	}
	return f.p, nil
}
func (f studioFactory) KeyNeeded(name string) (bool, error) { _, err := f.Get(name); return true, err }
func (f studioFactory) PlatformKey(string) bool             { return true }
func (f studioFactory) WithKey(string, mediatrail.Secret, string) (mediatrail.Provider, error) {
	return f.p, nil
}
func (f studioFactory) CheckKey(context.Context, string, mediatrail.Secret, string) error {
	return f.check
}

// withTools gives x's media service workspace credentials (one default for
// the studio, returned) and media tools.
func (x *studioSetup) withTools(t *testing.T) (*mediatrail.ToolService, *mediatrail.Credential) {
	t.Helper()
	creds := &mediatrail.CredentialService{Store: newMemCredentials(), Box: &xorBox{}, Providers: studioFactory{p: x.p}, Now: fixedNow}
	tools := &mediatrail.ToolService{Store: x.store, Credentials: creds, Now: fixedNow}
	x.media.Credentials, x.media.Tools = creds, tools
	return tools, create(t, creds, "ws-a", "studio", "sk-studio-123456")
}

func strp(s string) *string { return &s }

// TestToolInputs: what a media tool may say, field by field.
func TestToolInputs(t *testing.T) {
	ok := func() mediatrail.ToolInput {
		return mediatrail.ToolInput{Name: strp("hero shots"), MediaType: strp("image_gen"), Provider: strp("studio")}
	}
	for _, tc := range []struct {
		name  string
		edit  func(*mediatrail.ToolInput, *mediatrail.Credential)
		code  string
		field string
	}{
		{"valid", func(*mediatrail.ToolInput, *mediatrail.Credential) {}, "", ""},
		{"with its credential and config", func(in *mediatrail.ToolInput, c *mediatrail.Credential) {
			in.CredentialID, in.Config, in.Model, in.Description = &c.ID, &map[string]any{"quality": "hd"}, strp("m1"), strp("for the hero")
		}, "", ""},
		{"no name", func(in *mediatrail.ToolInput, _ *mediatrail.Credential) { in.Name = nil }, mediatrail.EINVALID, "name"},
		{"no provider", func(in *mediatrail.ToolInput, _ *mediatrail.Credential) { in.Provider = nil }, mediatrail.EINVALID, "provider"},
		{"no media type", func(in *mediatrail.ToolInput, _ *mediatrail.Credential) { in.MediaType = nil }, mediatrail.EINVALID, "media_type"},
		{"blank name", func(in *mediatrail.ToolInput, _ *mediatrail.Credential) { in.Name = strp("  ") }, mediatrail.EINVALID, "name"},
		{"long description", func(in *mediatrail.ToolInput, _ *mediatrail.Credential) {
			in.Description = strp(strings.Repeat("d", 2049))
		}, mediatrail.EINVALID, "description"},
		{"unknown media type", func(in *mediatrail.ToolInput, _ *mediatrail.Credential) { in.MediaType = strp("hologram") }, mediatrail.EINVALID, "media_type"},
		{"unknown provider", func(in *mediatrail.ToolInput, _ *mediatrail.Credential) { in.Provider = strp("acme") }, mediatrail.EINVALID, "provider"},
		{"long model", func(in *mediatrail.ToolInput, _ *mediatrail.Credential) { in.Model = strp(strings.Repeat("m", 257)) }, mediatrail.EINVALID, "model"},
		{"deep config", func(in *mediatrail.ToolInput, _ *mediatrail.Credential) { in.Config = &map[string]any{"x": func() {}} }, mediatrail.EINVALID, "config"},
		// Every call of the tool would be refused: the tool is, at once.
		{"config key the provider does not take", func(in *mediatrail.ToolInput, _ *mediatrail.Credential) {
			in.Config = &map[string]any{"quality": "hd", "qualty": "hd"}
		}, mediatrail.EINVALID, "config.qualty"},
		{"unknown credential", func(in *mediatrail.ToolInput, _ *mediatrail.Credential) {
			in.CredentialID = strp(mediatrail.NewIDAt(clock))
		}, mediatrail.ENOTFOUND, "credential_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tools, cred := newStudio().withTools(t)
			in := ok()
			tc.edit(&in, cred)
			tool, err := tools.Create(context.Background(), "ws-a", in)
			wantCode(t, err, tc.code)
			if fieldOf(err) != tc.field {
				t.Errorf("field %q, want %q", fieldOf(err), tc.field)
			}
			if err == nil && (tool.Provider != "studio" || tool.MediaType != mediatrail.CapabilityImageGen) {
				t.Errorf("tool %+v", tool)
			}
		})
	}
}

// TestToolLifecycle: create, read, update, attach to an agent, delete; a
// tool deleted is no longer among the agent's.
func TestToolLifecycle(t *testing.T) {
	ctx := context.Background()
	x := newStudio()
	tools, _ := x.withTools(t)
	a, err := tools.Create(ctx, "ws-a", mediatrail.ToolInput{Name: strp("a"), MediaType: strp("image_gen"), Provider: strp("studio")})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := tools.Create(ctx, "ws-a", mediatrail.ToolInput{Name: strp("b"), MediaType: strp("tts"), Provider: strp("studio")})
	if _, err := tools.Update(ctx, "ws-a", a.ID, mediatrail.ToolInput{}); fieldOf(err) != "body" {
		t.Errorf("empty update: %v", err)
	}
	if got, err := tools.Update(ctx, "ws-a", a.ID, mediatrail.ToolInput{Name: strp("renamed")}); err != nil || got.Name != "renamed" {
		t.Fatalf("update: %+v, %v", got, err)
	}
	for _, id := range []string{"nope", mediatrail.NewIDAt(clock)} {
		if _, err := tools.Get(ctx, "ws-a", id); !mediatrail.IsNotFound(err) {
			t.Errorf("get %q: %v", id, err)
		}
	}
	if _, err := tools.Get(ctx, "ws-b", a.ID); !mediatrail.IsNotFound(err) {
		t.Errorf("another workspace read a tool: %v", err)
	}
	if got, _ := tools.List(ctx, "ws-a"); len(got) != 2 {
		t.Errorf("list: %d tools", len(got))
	}
	for _, tc := range []struct {
		agent string
		ids   []string
		field string
	}{
		{"", nil, "agent_id"},
		{"agent-1", make([]string, mediatrail.MaxToolsPerAgent+1), "tool_ids"},
		{"agent-1", []string{a.ID, mediatrail.NewIDAt(clock)}, "tool_ids"},
	} {
		if _, err := tools.SetAgentTools(ctx, "ws-a", tc.agent, tc.ids); fieldOf(err) != tc.field {
			t.Errorf("attach %v to %q: %v", tc.ids, tc.agent, err)
		}
	}
	got, err := tools.SetAgentTools(ctx, "ws-a", "agent-1", []string{a.ID, b.ID, a.ID})
	if err != nil || len(got.ToolIDs) != 2 {
		t.Fatalf("attach: %+v, %v", got, err)
	}
	if err := tools.Delete(ctx, "ws-a", b.ID); err != nil {
		t.Fatal(err)
	}
	if err := tools.Delete(ctx, "ws-a", "nope"); !mediatrail.IsNotFound(err) {
		t.Errorf("delete of a malformed id: %v", err)
	}
	if got, err := tools.GetAgentTools(ctx, "ws-a", "agent-1"); err != nil || len(got.Tools) != 1 || got.Tools[0].ID != a.ID {
		t.Fatalf("agent tools: %+v, %v", got, err)
	}
	if _, err := tools.GetAgentTools(ctx, "ws-a", "a b"); fieldOf(err) != "agent_id" {
		t.Errorf("agent tools of a malformed agent: %v", err)
	}
}

// A workspace holds at most MaxToolsPerWorkspace tools.
func TestToolLimit(t *testing.T) {
	x := newStudio()
	tools, _ := x.withTools(t)
	for range mediatrail.MaxToolsPerWorkspace {
		if err := x.store.PutTool(context.Background(), &mediatrail.MediaTool{ID: mediatrail.NewIDAt(clock), WorkspaceID: "ws-a"}, true); err != nil {
			t.Fatal(err)
		}
	}
	_, err := tools.Create(context.Background(), "ws-a", mediatrail.ToolInput{Name: strp("one more"), MediaType: strp("tts"), Provider: strp("studio")})
	wantCode(t, err, mediatrail.ECONFLICT)
}

// TestCallsThroughTools: a call naming a tool takes its provider, model,
// config and credential; an agent with attached tools may use only those.
func TestCallsThroughTools(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		in    func(tool, other *mediatrail.MediaTool) mediatrail.GenerateInput
		c     mediatrail.Capability
		code  string
		field string
	}{
		{name: "through the tool", in: func(tool, _ *mediatrail.MediaTool) mediatrail.GenerateInput {
			return mediatrail.GenerateInput{ToolID: tool.ID, Prompt: "p", AgentID: "agent-1", Config: map[string]any{"size": "1k"}}
		}},
		{name: "agent without a tool", in: func(*mediatrail.MediaTool, *mediatrail.MediaTool) mediatrail.GenerateInput {
			return mediatrail.GenerateInput{Provider: "studio", Prompt: "p", AgentID: "agent-1"}
		}, code: mediatrail.ETOOLNOTATTACHED, field: "tool_id"},
		{name: "agent with a tool not its own", in: func(_, other *mediatrail.MediaTool) mediatrail.GenerateInput {
			return mediatrail.GenerateInput{ToolID: other.ID, Prompt: "p", AgentID: "agent-1"}
		}, code: mediatrail.ETOOLNOTATTACHED, field: "tool_id"},
		{name: "a tool of another media type", c: mediatrail.CapabilityTTS, in: func(tool, _ *mediatrail.MediaTool) mediatrail.GenerateInput {
			return mediatrail.GenerateInput{ToolID: tool.ID, Prompt: "p"}
		}, code: mediatrail.EINVALID, field: "tool_id"},
		{name: "an unknown tool", in: func(*mediatrail.MediaTool, *mediatrail.MediaTool) mediatrail.GenerateInput {
			return mediatrail.GenerateInput{ToolID: mediatrail.NewIDAt(clock), Prompt: "p"}
		}, code: mediatrail.ENOTFOUND, field: "tool_id"},
		{name: "another provider than the tool's", in: func(tool, _ *mediatrail.MediaTool) mediatrail.GenerateInput {
			return mediatrail.GenerateInput{ToolID: tool.ID, Provider: "acme", Prompt: "p"}
		}, code: mediatrail.EINVALID, field: "provider"},
		{name: "another model than the tool's", in: func(tool, _ *mediatrail.MediaTool) mediatrail.GenerateInput {
			return mediatrail.GenerateInput{ToolID: tool.ID, Model: "m2", Prompt: "p"}
		}, code: mediatrail.EINVALID, field: "model"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := newStudio()
			tools, cred := x.withTools(t)
			tool, err := tools.Create(ctx, "ws-a", mediatrail.ToolInput{Name: strp("hero"), MediaType: strp("image_gen"), Provider: strp("studio"),
				Model: strp("m1"), CredentialID: &cred.ID, Config: &map[string]any{"quality": "hd", "size": "512"}})
			if err != nil {
				t.Fatal(err)
			}
			other, _ := tools.Create(ctx, "ws-a", mediatrail.ToolInput{Name: strp("other"), MediaType: strp("image_gen"), Provider: strp("studio")})
			if _, err := tools.SetAgentTools(ctx, "ws-a", "agent-1", []string{tool.ID}); err != nil {
				t.Fatal(err)
			}
			out, err := x.media.Generate(ctx, "ws-a", cmpOr(tc.c, mediatrail.CapabilityImageGen), tc.in(tool, other))
			wantCode(t, err, tc.code)
			if fieldOf(err) != tc.field {
				t.Errorf("field %q, want %q", fieldOf(err), tc.field)
			}
			if tc.code != "" {
				return
			}
			req := x.p.got[0]
			if req.Model != "m1" || req.Config["quality"] != "hd" || req.Config["size"] != "1k" || out.Metadata["tool_id"] != tool.ID || out.Metadata["credential_id"] != cred.ID {
				t.Errorf("provider got %+v; metadata %v", req, out.Metadata)
			}
		})
	}
}

// TestCredentialLifecycle: defaults follow deletes, a check records the
// provider's verdict, a media call the provider refuses marks the
// credential invalid and names it, and a workspace without credentials
// and without the platform's key is told to add one.
func TestCredentialLifecycle(t *testing.T) {
	ctx := context.Background()
	x := newStudio()
	_, first := x.withTools(t)
	creds := x.media.Credentials
	second := create(t, creds, "ws-a", "studio", "sk-studio-654321")
	if second.IsDefault || !first.IsDefault {
		t.Fatalf("defaults: first %v, second %v", first.IsDefault, second.IsDefault)
	}
	if c, err := creds.SetDefault(ctx, "ws-a", second.ID); err != nil || !c.IsDefault {
		t.Fatalf("set default: %v", err)
	}
	if err := creds.Delete(ctx, "ws-a", second.ID); err != nil {
		t.Fatal(err)
	}
	if c, _ := creds.Get(ctx, "ws-a", first.ID); !c.IsDefault {
		t.Error("the remaining credential did not become the default")
	}
	if list, err := creds.List(ctx, "ws-a"); err != nil || len(list) != 1 {
		t.Errorf("list: %v, %v", list, err)
	}

	for _, tc := range []struct {
		check error
		valid bool
		code  string
	}{
		{nil, true, ""},
		{&mediatrail.ProviderError{Provider: "studio", Status: 401}, false, ""},
		{&mediatrail.ProviderError{Provider: "studio", Status: 503}, true, mediatrail.EPROVIDER},
	} {
		creds.Providers = studioFactory{p: x.p, check: tc.check}
		c, err := creds.Check(ctx, "ws-a", first.ID)
		wantCode(t, err, tc.code)
		if err == nil && (c.IsValid != tc.valid || c.CheckedAt == nil) {
			t.Errorf("check with %v: valid %v", tc.check, c.IsValid)
		}
	}

	x.p.result = func(mediatrail.MediaRequest) (*mediatrail.MediaResult, error) {
		return nil, &mediatrail.ProviderError{Provider: "studio", Status: 401, Message: "bad key"}
	}
	_, err := x.media.Generate(ctx, "ws-a", mediatrail.CapabilityImageGen, mediatrail.GenerateInput{Provider: "studio", Prompt: "p"})
	wantCode(t, err, mediatrail.EPROVIDERAUTH)
	var e *mediatrail.Error
	if errorsAs(err, &e); e.Details["credential_id"] != first.ID {
		t.Errorf("details %v", e.Details)
	}
	if c, _ := creds.Get(ctx, "ws-a", first.ID); c.IsValid {
		t.Error("a refused credential stays valid")
	}
	if _, err := x.media.Generate(ctx, "ws-b", mediatrail.CapabilityImageGen, mediatrail.GenerateInput{Provider: "studio", Prompt: "p"}); mediatrail.ErrorCode(err) != mediatrail.ECREDENTIALMISSING {
		t.Errorf("a workspace without credentials: %v", err)
	}
}

// TestCredentialInputs: what a credential may say, field by field.
func TestCredentialInputs(t *testing.T) {
	for _, tc := range []struct {
		name  string
		in    mediatrail.CredentialInput
		noBox bool
		code  string
		field string
	}{
		{name: "no name", in: mediatrail.CredentialInput{Provider: strp("studio"), APIKey: strp("sk-123456789")}, code: mediatrail.EINVALID, field: "name"},
		{name: "unknown provider", in: mediatrail.CredentialInput{Name: strp("n"), Provider: strp("acme"), APIKey: strp("sk-123456789")}, code: mediatrail.EINVALID, field: "provider"},
		{name: "no key", in: mediatrail.CredentialInput{Name: strp("n"), Provider: strp("studio")}, code: mediatrail.EINVALID, field: "api_key"},
		{name: "key on two lines", in: mediatrail.CredentialInput{Name: strp("n"), Provider: strp("studio"), APIKey: strp("sk-1\nsk-2")}, code: mediatrail.EINVALID, field: "api_key"},
		{name: "base URL not https", in: mediatrail.CredentialInput{Name: strp("n"), Provider: strp("studio"), APIKey: strp("sk-123456789"), BaseURL: strp("ftp://x")},
			code: mediatrail.EINVALID, field: "base_url"},
		{name: "no key box", noBox: true, in: mediatrail.CredentialInput{Name: strp("n"), Provider: strp("studio"), APIKey: strp("sk-123456789")}, code: mediatrail.EUNAVAILABLE},
	} {
		t.Run(tc.name, func(t *testing.T) {
			creds := &mediatrail.CredentialService{Store: newMemCredentials(), Box: &xorBox{}, Providers: studioFactory{p: &studio{}}}
			if tc.noBox {
				creds.Box = nil
			}
			_, err := creds.Create(context.Background(), "ws-a", tc.in)
			wantCode(t, err, tc.code)
			if fieldOf(err) != tc.field {
				t.Errorf("field %q, want %q", fieldOf(err), tc.field)
			}
		})
	}
	if _, err := (&mediatrail.CredentialService{Store: newMemCredentials()}).Get(context.Background(), "ws-a", "nope"); !mediatrail.IsNotFound(err) {
		t.Errorf("get of a malformed id: %v", err)
	}
}

var _ mediatrail.ToolStore = (*memory.Store)(nil)
