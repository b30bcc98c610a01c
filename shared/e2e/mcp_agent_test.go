package e2e_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// An agent with media tools attached sees exactly those over MCP, named after
// them with their defaults applied (beside the tools that make no provider
// call), and a call of one makes an asset whose span carries the tool. An
// agent without attachments, or no agent, sees the built-in tools.
func TestMCPAgentSeesItsAttachedTools(t *testing.T) {
	t.Parallel()
	st := newStack(t, 10*time.Second)
	key, _ := st.workspace(t)
	thumbs := st.addTool(t, key, map[string]any{"name": "thumbnail maker", "description": "Small local thumbnails",
		"media_type": "image_gen", "provider": "local", "model": "procedural-v1", "config": map[string]any{"width": 48, "height": 32}})
	clash := st.addTool(t, key, map[string]any{"name": "get_job", "media_type": "image_gen", "provider": "local"})
	wantOK(t, st.do(t, "PUT", "/api/v1/agents/agent-thumbs/media-tools", key,
		map[string]any{"tool_ids": []string{thumbs.ID, clash.ID}}), http.StatusOK)

	names := func(sess *sdk.ClientSession) []string {
		t.Helper()
		res, err := sess.ListTools(t.Context(), nil)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, tl := range res.Tools {
			out = append(out, tl.Name)
		}
		slices.Sort(out)
		return out
	}
	utilities := []string{"delete_asset", "get_asset", "get_job", "get_signed_url", "get_trace_summary", "list_assets"}
	want := slices.Sorted(slices.Values(append(slices.Clone(utilities), "thumbnail_maker", "get_job_"+clash.ID)))
	sess := st.mcpSession(t, map[string]string{"X-API-Key": key, "X-Agent-Id": "agent-thumbs", "X-Execution-Id": "exec-thumbs"}, nil)
	if got := names(sess); !slices.Equal(got, want) {
		t.Fatalf("agent with tools attached lists %v, want %v", got, want)
	}
	builtins := slices.Sorted(slices.Values(append(slices.Clone(utilities), "tts", "stt", "image_gen", "image_edit", "video_gen", "video_from_image")))
	for _, agent := range []string{"agent-without-tools", ""} {
		plain := st.mcpSession(t, map[string]string{"X-API-Key": key, "X-Agent-Id": agent}, nil)
		if got := names(plain); !slices.Equal(got, builtins) {
			t.Fatalf("agent %q lists %v, want the built-ins %v", agent, got, builtins)
		}
	}

	// The tool's defaults apply (provider, size) and the span records it; the
	// model cannot pick another provider through it.
	var out mcpMedia
	res := toolOK(t, sess, "thumbnail_maker", map[string]any{"prompt": "a tiny boat"}, nil, &out)
	checkAssetResult(t, "thumbnail_maker", out, res)
	if out.Asset.Provider != "local" || out.Asset.AgentID != "agent-thumbs" {
		t.Fatalf("asset %+v", out.Asset)
	}
	if w, h := out.Asset.Metadata["width"], out.Asset.Metadata["height"]; w != float64(48) || h != float64(32) {
		t.Fatalf("tool defaults not applied: %vx%v", w, h)
	}
	r := st.do(t, "GET", "/api/v1/traces?execution_id=exec-thumbs", key, nil)
	wantOK(t, r, http.StatusOK)
	var spans []mediatrail.Span
	r.Into(t, &spans)
	if len(spans) != 1 || spans[0].ToolID != thumbs.ID || spans[0].ID != out.SpanID {
		t.Fatalf("spans %+v, want one carrying tool %s", spans, thumbs.ID)
	}
	toolError(t, sess, "thumbnail_maker", map[string]any{"prompt": "x", "provider": "openai"}, mediatrail.EINVALID)
}
