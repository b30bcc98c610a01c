package e2e_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/providers/fake"
)

// tool is a media tool as the API answers it.
type tool = mediatrail.MediaTool

func (st *stack) addTool(t *testing.T, key string, body map[string]any) tool {
	t.Helper()
	out, _ := created[tool](t, st, key, "/api/v1/media-tools", body)
	return out
}

// agentTools is the answer of GET/PUT /api/v1/agents/{id}/media-tools.
type agentTools struct {
	AgentID string   `json:"agent_id"`
	ToolIDs []string `json:"tool_ids"`
	Tools   []tool   `json:"tools"`
}

// Must show: an agent with tools attached may use only those (403
// tool_not_attached otherwise); an attached tool makes an asset whose span
// carries tool_id and the tool's credential. Tools fill provider, model and
// config; another workspace's tools answer 404 everywhere.
func TestMediaToolsAndAgents(t *testing.T) {
	t.Parallel()
	st := newStackWith(t, stackOptions{env: map[string]string{"ALLOW_PLATFORM_CREDENTIALS": "false"}})
	key, ws := st.workspace(t)
	other, _ := st.workspace(t)
	cred := st.openAIKeyOf(t, key, ws)
	painter := st.addTool(t, key, map[string]any{
		"name": "painter", "description": "Square DALL-E images", "media_type": "image_gen", "provider": "openai",
		"model": "dall-e-3", "credential_id": cred.ID, "config": map[string]any{"size": "1024x1024", "quality": "standard"},
	})
	sketcher := st.addTool(t, key, map[string]any{"name": "sketcher", "media_type": "image_gen", "provider": "local", "model": "procedural-v1"})
	if painter.WorkspaceID != ws || painter.CredentialID != cred.ID || painter.Config["size"] != "1024x1024" || !mediatrail.ValidID(painter.ID) {
		t.Fatalf("tool = %+v", painter)
	}

	r := st.do(t, "PUT", "/api/v1/agents/agent-7/media-tools", key, map[string]any{"tool_ids": []string{painter.ID}})
	wantOK(t, r, http.StatusOK)
	var at agentTools
	r.Into(t, &at)
	if at.AgentID != "agent-7" || !slices.Equal(at.ToolIDs, []string{painter.ID}) || len(at.Tools) != 1 || at.Tools[0].Name != "painter" {
		t.Errorf("PUT agent tools = %s", r.Raw)
	}
	r = st.do(t, "GET", "/api/v1/agents/agent-7/media-tools", key, nil)
	wantOK(t, r, http.StatusOK)
	if r.Into(t, &at); !slices.Equal(at.ToolIDs, []string{painter.ID}) {
		t.Errorf("GET agent tools = %s", r.Raw)
	}

	// Not attached: another tool, or no tool at all.
	for name, body := range map[string]map[string]any{
		"unattached tool": {"tool_id": sketcher.ID, "agent_id": "agent-7", "prompt": "a fox"},
		"no tool":         {"provider": "local", "agent_id": "agent-7", "prompt": "a fox"},
	} {
		t.Run(name, func(t *testing.T) {
			wantError(t, st.do(t, "POST", "/api/v1/media/image_gen", key, body), http.StatusForbidden, mediatrail.ETOOLNOTATTACHED)
		})
	}
	before := len(st.fakes["openai"].Requests())
	r = st.do(t, "POST", "/api/v1/media/image_gen", key, map[string]any{"tool_id": painter.ID, "agent_id": "agent-7", "prompt": "a fox", "execution_id": "exec-tools"})
	wantOK(t, r, http.StatusOK)
	sp := st.spanOf(t, key, r)
	if sp["tool_id"] != painter.ID || sp["credential_id"] != cred.ID || sp["provider"] != "openai" || sp["model"] != "dall-e-3" || sp["agent_id"] != "agent-7" {
		t.Errorf("span = %v", sp)
	}
	reqs := st.fakes["openai"].Requests()
	if len(reqs) == before {
		t.Fatal("the provider got no request")
	}
	call := reqs[before].JSON()
	if call["size"] != "1024x1024" || call["model"] != "dall-e-3" || reqs[before].Key != workspaceKey(ws) {
		t.Errorf("the provider got %v with another key or without the tool's config", call)
	}
	var out generated
	r.Into(t, &out)
	if out.Metadata["tool_id"] != painter.ID {
		t.Errorf("asset metadata = %v", out.Metadata)
	}
	// The request's config wins over the tool's; a contradicting provider is refused.
	wantOK(t, st.do(t, "POST", "/api/v1/media/image_gen", key, map[string]any{"tool_id": painter.ID, "prompt": "a fox", "config": map[string]any{"size": "1792x1024"}}), http.StatusOK)
	if got := st.fakes["openai"].Requests(); got[len(got)-1].JSON()["size"] != "1792x1024" {
		t.Errorf("request config lost to the tool's")
	}
	wantError(t, st.do(t, "POST", "/api/v1/media/image_gen", key, map[string]any{"tool_id": painter.ID, "provider": "fal", "prompt": "x"}), http.StatusBadRequest, mediatrail.EINVALID)
	wantError(t, st.do(t, "POST", "/api/v1/media/tts", key, map[string]any{"tool_id": painter.ID, "prompt": "x"}), http.StatusBadRequest, mediatrail.EINVALID)
	// An agent without tools may use anything.
	wantOK(t, st.do(t, "POST", "/api/v1/media/image_gen", key, map[string]any{"provider": "local", "agent_id": "agent-free", "prompt": "a fox"}), http.StatusOK)

	// PATCH and list.
	r = st.do(t, "PATCH", "/api/v1/media-tools/"+sketcher.ID, key, map[string]any{"description": "drafts", "config": map[string]any{"width": 64, "height": 64}})
	wantOK(t, r, http.StatusOK)
	var patched tool
	if r.Into(t, &patched); patched.Description != "drafts" || patched.Name != "sketcher" || patched.Config["width"] != float64(64) {
		t.Errorf("patched = %s", r.Raw)
	}
	r = st.do(t, "GET", "/api/v1/media-tools", key, nil)
	wantOK(t, r, http.StatusOK)
	var tools []tool
	if r.Into(t, &tools); len(tools) != 2 || r.Meta == nil || r.Meta.Total != 2 {
		t.Errorf("list = %s", r.Raw)
	}

	// Another workspace: 404 for the tool and its use, and it cannot attach it.
	for _, c := range []struct{ method, path string }{
		{"GET", "/api/v1/media-tools/" + painter.ID}, {"PATCH", "/api/v1/media-tools/" + painter.ID}, {"DELETE", "/api/v1/media-tools/" + painter.ID},
	} {
		// Only PATCH takes a body: the others refuse one (400) before looking.
		var body any
		if c.method == "PATCH" {
			body = map[string]any{"name": "mine"}
		}
		wantError(t, st.do(t, c.method, c.path, other, body), http.StatusNotFound, mediatrail.ENOTFOUND)
	}
	wantError(t, st.do(t, "PUT", "/api/v1/agents/agent-7/media-tools", other, map[string]any{"tool_ids": []string{painter.ID}}), http.StatusNotFound, mediatrail.ENOTFOUND)
	wantError(t, st.do(t, "POST", "/api/v1/media/image_gen", other, map[string]any{"tool_id": painter.ID, "prompt": "x"}), http.StatusNotFound, mediatrail.ENOTFOUND)
	r = st.do(t, "GET", "/api/v1/agents/agent-7/media-tools", other, nil)
	wantOK(t, r, http.StatusOK)
	if strings.Contains(r.Raw, painter.ID) {
		t.Errorf("another workspace sees the agent's tools: %s", r.Raw)
	}
	// Another workspace's credential cannot be a tool's.
	otherCred := st.addCredential(t, other, map[string]any{"name": "x", "provider": "openai", "api_key": "sk-other-00000001"})
	wantError(t, st.do(t, "POST", "/api/v1/media-tools", key, map[string]any{"name": "x", "media_type": "image_gen", "provider": "openai", "credential_id": otherCred.ID}), http.StatusNotFound, mediatrail.ENOTFOUND)

	for name, body := range map[string]map[string]any{
		"no name":           {"media_type": "tts", "provider": "local"},
		"bad media type":    {"name": "x", "media_type": "hologram", "provider": "local"},
		"unsupported":       {"name": "x", "media_type": "video_gen", "provider": "openai"},
		"unknown provider":  {"name": "x", "media_type": "tts", "provider": "nope"},
		"credential of fal": {"name": "x", "media_type": "image_gen", "provider": "fal", "credential_id": cred.ID},
	} {
		t.Run(name, func(t *testing.T) {
			wantError(t, st.do(t, "POST", "/api/v1/media-tools", key, body), http.StatusBadRequest, mediatrail.EINVALID)
		})
	}
	wantError(t, st.do(t, "PUT", "/api/v1/agents/agent-7/media-tools", key, map[string]any{}), http.StatusBadRequest, mediatrail.EINVALID)

	// Detach all; delete.
	wantOK(t, st.do(t, "PUT", "/api/v1/agents/agent-7/media-tools", key, map[string]any{"tool_ids": []string{}}), http.StatusOK)
	wantOK(t, st.do(t, "POST", "/api/v1/media/image_gen", key, map[string]any{"tool_id": sketcher.ID, "agent_id": "agent-7", "prompt": "a fox"}), http.StatusOK)
	wantOK(t, st.do(t, "DELETE", "/api/v1/media-tools/"+sketcher.ID, key, nil), http.StatusNoContent)
	wantError(t, st.do(t, "POST", "/api/v1/media/image_gen", key, map[string]any{"tool_id": sketcher.ID, "prompt": "a fox"}), http.StatusNotFound, mediatrail.ENOTFOUND)
}

// Media models list every priced provider × capability × model, with
// available saying whether the workspace can call it now.
func TestMediaModels(t *testing.T) {
	t.Parallel()
	st := newStackWith(t, stackOptions{env: map[string]string{"ALLOW_PLATFORM_CREDENTIALS": "false"}})
	key, ws := st.workspace(t)
	bare, _ := st.workspace(t)
	st.openAIKeyOf(t, key, ws)
	type model struct {
		ID        string         `json:"id"`
		Name      string         `json:"name"`
		Provider  string         `json:"provider"`
		MediaType string         `json:"media_type"`
		IsActive  bool           `json:"is_active"`
		Config    map[string]any `json:"config"`
	}
	list := func(key, query string) []model {
		r := st.do(t, "GET", "/api/v1/media-models?"+query, key, nil)
		wantOK(t, r, http.StatusOK)
		var out []model
		r.Into(t, &out)
		return out
	}
	find := func(ms []model, id string) *model {
		for i := range ms {
			if ms[i].ID == id {
				return &ms[i]
			}
		}
		return nil
	}
	all := list(key, "limit=100")
	if len(all) < 10 {
		t.Fatalf("%d models", len(all))
	}
	for id, want := range map[string]bool{"openai/image_gen/dall-e-3": true, "local/tts/espeak-ng": true, "fal/image_gen/fal-ai/flux/schnell": false} {
		m := find(all, id)
		if m == nil {
			t.Errorf("%s not listed", id)
			continue
		}
		if m.Config["available"] != want || !m.IsActive || len(m.Config["prices"].([]any)) == 0 {
			t.Errorf("%s: available %v, want %v: %+v", id, m.Config["available"], want, m)
		}
	}
	if m := find(list(bare, "provider=openai&limit=100"), "openai/image_gen/dall-e-3"); m == nil || m.Config["available"] != false {
		t.Errorf("a workspace without a credential: %+v", m)
	}
	for _, m := range list(key, "provider=openai&media_type=tts&limit=100") {
		if m.Provider != "openai" || m.MediaType != "tts" {
			t.Errorf("filter let through %s", m.ID)
		}
	}
	if got := list(key, "is_active=false"); len(got) != 0 {
		t.Errorf("is_active=false lists %d", len(got))
	}
	wantError(t, st.do(t, "GET", "/api/v1/media-models?media_type=hologram", key, nil), http.StatusBadRequest, mediatrail.EINVALID)
	wantError(t, st.do(t, "GET", "/api/v1/media-models?is_active=maybe", key, nil), http.StatusBadRequest, mediatrail.EINVALID)
}

// A video job keeps the credential it was submitted with: the submission and
// every poll of the state machine carry the workspace's key, and the job's
// span names the tool and the credential.
func TestVideoJobUsesTheWorkspaceCredential(t *testing.T) {
	t.Parallel()
	cb := newCallbacks(t)
	st := newVideoStack(t, cb, map[string]string{"ALLOW_PLATFORM_CREDENTIALS": "false"}, nil)
	key, ws := st.workspace(t)
	runwayKey := "rw-ws-" + ws + "-11aa"
	f := st.fakes["runway"]
	f.AcceptKeys(runwayKey)
	cred := st.addCredential(t, key, map[string]any{"name": "runway", "provider": "runway", "api_key": runwayKey})
	director := st.addTool(t, key, map[string]any{"name": "director", "media_type": "video_gen", "provider": "runway", "model": "gen4.5", "credential_id": cred.ID})
	prompt := "e2e video with a workspace key"
	f.PlanPrompt(prompt, fake.JobPlan{Queued: 1, Running: 2, Video: &fake.DefaultVideo})
	id := st.submit(t, key, "video_gen", map[string]any{"tool_id": director.ID, "prompt": prompt})
	if v := st.awaitJob(t, key, id); v.Status != "completed" || v.Provider != "runway" {
		t.Fatalf("job = %+v", v)
	}
	n := 0
	for _, r := range f.Requests() {
		n++
		if r.Key != runwayKey {
			t.Errorf("%s %s carried another key", r.Method, r.Path)
		}
	}
	if n < 3 {
		t.Errorf("runway got %d requests, want the submission and its polls", n)
	}
	r := st.do(t, "GET", "/api/v1/traces?kind=video", key, nil)
	wantOK(t, r, http.StatusOK)
	var spans []map[string]any
	if r.Into(t, &spans); len(spans) != 1 || spans[0]["tool_id"] != director.ID || spans[0]["credential_id"] != cred.ID {
		t.Errorf("spans = %s", r.Raw)
	}
}
