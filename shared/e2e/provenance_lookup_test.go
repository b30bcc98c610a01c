package e2e_test

import (
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/providers/fake"
	"github.com/mediatrail/mediatrail/shared/testenv"
)

// provenanceAnswer is the data of POST /api/v1/provenance.
type provenanceAnswer struct {
	MatchedBy     string            `json:"matched_by"`
	AssetID       string            `json:"asset_id"`
	Deleted       bool              `json:"deleted"`
	Asset         *mediatrail.Asset `json:"asset"`
	Span          *span             `json:"span"`
	WorkspaceID   string            `json:"workspace_id"`
	ExecutionID   string            `json:"execution_id"`
	AgentID       string            `json:"agent_id"`
	OtherAssetIDs []string          `json:"other_asset_ids"`
}

// lookup asks POST /api/v1/provenance about a file (raw bytes, sent as
// contentType) or a JSON query (contentType "").
func (st *stack) lookup(t *testing.T, key, contentType string, body any) reply {
	t.Helper()
	if contentType == "" {
		return st.do(t, "POST", "/api/v1/provenance", key, body)
	}
	return testenv.CallAs(t, st.URL, "POST", "/api/v1/provenance", key, contentType, body)
}

// reencoded is png scaled down by ffmpeg (new pixels, new bytes, no XMP) with
// the XMP block copied back from the original by exiftool: what a pipeline
// that keeps metadata across an edit produces.
func reencoded(t *testing.T, png []byte) []byte {
	t.Helper()
	var tools []string
	for _, name := range []string{"ffmpeg", "exiftool"} {
		p, err := exec.LookPath(name)
		if err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is not installed: scripts/setup.sh installs it", name)
			}
			t.Skipf("%s is not installed (run scripts/setup.sh)", name)
		}
		tools = append(tools, p)
	}
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "in.png"), filepath.Join(dir, "out.png")
	if err := os.WriteFile(src, png, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range [][]string{
		{tools[0], "-loglevel", "error", "-i", src, "-vf", "scale=iw/2:ih/2", dst},
		{tools[1], "-m", "-q", "-overwrite_original", "-TagsFromFile", src, "-xmp", dst},
	} {
		if b, err := exec.Command(cmd[0], cmd[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v: %s", filepath.Base(cmd[0]), err, b)
		}
	}
	b, err := os.ReadFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestProvenanceLookup: a generated image is found by its bytes, its
// sha256, its id, and after a re-encode that kept the metadata; another
// workspace finds nothing; a deleted asset answers from its span.
func TestProvenanceLookup(t *testing.T) {
	t.Parallel()
	st := newStack(t, 30*time.Second)
	key, ws := st.workspace(t)
	otherKey, _ := st.workspace(t)
	image := media{provider: "openai", route: "image_gen", body: draw, contentType: "image/png", model: "dall-e-3", cost: 0.04}
	out := st.generate(t, key, image, "exec-prov")
	code, _, file := download(t, out.AssetURL)
	if code != http.StatusOK {
		t.Fatalf("download: %d", code)
	}
	sha := sha256Hex(file)

	for _, tc := range []struct {
		name, contentType string
		body              any
		by                string
	}{
		{"file as image/png", "image/png", file, mediatrail.MatchedBySHA256},
		{"file as octet-stream", "application/octet-stream", file, mediatrail.MatchedBySHA256},
		{"sha256", "", map[string]string{"sha256": sha}, mediatrail.MatchedBySHA256},
		{"asset id", "", map[string]string{"asset_id": out.AssetID}, mediatrail.MatchedByAssetID},
		{"re-encoded, metadata kept", "image/png", reencoded(t, file), mediatrail.MatchedByEmbeddedAssetID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := st.lookup(t, key, tc.contentType, tc.body)
			wantOK(t, r, http.StatusOK)
			var p provenanceAnswer
			r.Into(t, &p)
			if p.MatchedBy != tc.by || p.AssetID != out.AssetID || p.Deleted || p.Asset == nil || p.Asset.SHA256 != sha ||
				p.WorkspaceID != ws || p.ExecutionID != "exec-prov" || p.AgentID != "agent-e2e" {
				t.Errorf("answer %s", r.Raw)
			}
			if p.Span == nil || p.Span.ID != out.SpanID || p.Span.Prompt != draw["prompt"] || p.Span.Provider != "openai" ||
				p.Span.Model != "dall-e-3" || !near(p.Span.Cost, 0.04) {
				t.Errorf("span of %s", r.Raw)
			}
		})
	}
	if re := reencoded(t, file); sha256Hex(re) == sha {
		t.Fatal("the re-encode kept the bytes: it proves nothing")
	}

	// Another workspace learns nothing, whatever it sends.
	for name, tc := range map[string]struct {
		contentType string
		body        any
		tried       int
	}{
		"file":     {"image/png", file, 2},
		"sha256":   {"", map[string]string{"sha256": sha}, 1},
		"asset id": {"", map[string]string{"asset_id": out.AssetID}, 1},
	} {
		t.Run("other workspace "+name, func(t *testing.T) {
			r := st.lookup(t, otherKey, tc.contentType, tc.body)
			wantError(t, r, http.StatusNotFound, mediatrail.ENOTFOUND)
			if tried, _ := r.Error.Details["tried"].([]any); len(tried) != tc.tried || bytes.Contains([]byte(r.Raw), []byte(ws)) {
				t.Errorf("answer %s", r.Raw)
			}
		})
	}

	// Refusals.
	for name, tc := range map[string]struct {
		contentType string
		body        any
		status      int
		code        string
	}{
		"both fields":   {"", map[string]string{"sha256": sha, "asset_id": out.AssetID}, 400, mediatrail.EINVALID},
		"bad sha256":    {"", map[string]string{"sha256": "abc"}, 400, mediatrail.EINVALID},
		"bad asset id":  {"", map[string]string{"asset_id": "x"}, 400, mediatrail.EINVALID},
		"unknown field": {"", map[string]string{"md5": "x"}, 400, mediatrail.EINVALID},
		"empty file":    {"image/png", []byte{}, 400, mediatrail.EINVALID},
		"too large":     {"application/octet-stream", make([]byte, mediatrail.MaxProvenanceFileBytes+1), 413, mediatrail.ETOOLARGE},
	} {
		t.Run(name, func(t *testing.T) {
			wantError(t, st.lookup(t, key, tc.contentType, tc.body), tc.status, tc.code)
		})
	}
	if r := st.lookup(t, key, "application/octet-stream", make([]byte, mediatrail.MaxProvenanceFileBytes)); r.Status != http.StatusNotFound {
		t.Errorf("a file of the largest size: %d %.300s", r.Status, r.Raw)
	}

	// Deleted: the file's embedded record reaches the span, which survives;
	// the sha256 or the id alone no longer find anything.
	wantOK(t, st.do(t, "DELETE", "/api/v1/assets/"+out.AssetID, key, nil), http.StatusNoContent)
	r := st.lookup(t, key, "image/png", file)
	wantOK(t, r, http.StatusOK)
	var p provenanceAnswer
	r.Into(t, &p)
	if !p.Deleted || p.Asset != nil || p.AssetID != out.AssetID || p.MatchedBy != mediatrail.MatchedByEmbeddedAssetID ||
		p.Span == nil || !p.Span.AssetDeleted || p.Span.Prompt != draw["prompt"] || p.ExecutionID != "exec-prov" {
		t.Errorf("after delete: %s", r.Raw)
	}
	wantError(t, st.lookup(t, key, "", map[string]string{"sha256": sha}), http.StatusNotFound, mediatrail.ENOTFOUND)
	wantError(t, st.lookup(t, key, "", map[string]string{"asset_id": out.AssetID}), http.StatusNotFound, mediatrail.ENOTFOUND)
}

// TestProvenanceOptOut: with provenance_embedding false the stored bytes
// are the provider's, byte for byte; turning it back on embeds again.
func TestProvenanceOptOut(t *testing.T) {
	t.Parallel()
	st := newStack(t, 30*time.Second)
	key, _ := st.workspace(t)
	otherKey, _ := st.workspace(t)
	settings := func(t *testing.T, key string, r reply) bool {
		t.Helper()
		wantOK(t, r, http.StatusOK)
		var s mediatrail.WorkspaceSettings
		r.Into(t, &s)
		return s.ProvenanceEmbedding
	}
	if !settings(t, key, st.do(t, "GET", "/api/v1/workspace/settings", key, nil)) {
		t.Fatal("embedding is off by default")
	}
	if settings(t, key, st.do(t, "PUT", "/api/v1/workspace/settings", key, map[string]any{"provenance_embedding": false})) {
		t.Fatal("PUT false answered true")
	}
	if !settings(t, otherKey, st.do(t, "GET", "/api/v1/workspace/settings", otherKey, nil)) {
		t.Fatal("one workspace's setting reached another")
	}
	for name, body := range map[string]any{"empty": map[string]any{}, "wrong type": map[string]any{"provenance_embedding": "no"},
		"unknown": map[string]any{"provenance": false}} {
		t.Run(name, func(t *testing.T) {
			wantError(t, st.do(t, "PUT", "/api/v1/workspace/settings", key, body), http.StatusBadRequest, mediatrail.EINVALID)
		})
	}

	image := media{provider: "openai", route: "image_gen", body: draw, contentType: "image/png", model: "dall-e-3", cost: 0.04}
	stored := func(t *testing.T) []byte {
		t.Helper()
		out := st.generate(t, key, image, "exec-optout")
		code, _, b := download(t, out.AssetURL)
		if code != http.StatusOK {
			t.Fatalf("download: %d", code)
		}
		return b
	}
	if got := stored(t); sha256Hex(got) != sha256Hex(fake.PNG()) {
		t.Errorf("opted out: stored sha256 %s, provider's %s", sha256Hex(got), sha256Hex(fake.PNG()))
	}
	settings(t, key, st.do(t, "PUT", "/api/v1/workspace/settings", key, map[string]any{"provenance_embedding": true}))
	if got := stored(t); bytes.Equal(got, fake.PNG()) {
		t.Error("opted back in: the stored bytes carry no provenance")
	}
}
