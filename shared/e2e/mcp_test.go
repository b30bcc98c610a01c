package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mediatrail/mediatrail/internal/localstack"
	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/testenv"
)

// The media tools over MCP, driven by the official Go SDK's client against
// the template's POST /mcp, with the offline provider local.

// The caller's W3C trace context: its trace and its span, which the calls'
// spans must carry as their trace id and parent.
const (
	callerTraceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	callerSpanID  = "00f067aa0ba902b7"
)

// headerTransport adds headers to every request, as an MCP host configured
// with a key and a run does.
type headerTransport map[string]string

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, v := range h {
		r.Header.Set(k, v)
	}
	return http.DefaultTransport.RoundTrip(r)
}

// mcpSession connects the SDK client to the stack with headers; progress
// notifications go to progress.
func (st *stack) mcpSession(t *testing.T, headers map[string]string, progress func(*sdk.ProgressNotificationParams)) *sdk.ClientSession {
	t.Helper()
	client := sdk.NewClient(&sdk.Implementation{Name: "mediatrail-e2e", Version: "1"}, &sdk.ClientOptions{
		ProgressNotificationHandler: func(_ context.Context, r *sdk.ProgressNotificationClientRequest) {
			if progress != nil {
				progress(r.Params)
			}
		},
	})
	sess, err := client.Connect(testenv.Context(t), &sdk.StreamableClientTransport{
		Endpoint: st.URL + "/mcp", HTTPClient: &http.Client{Transport: headerTransport(headers)},
	}, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = sess.Close() })
	return sess
}

// toolCall calls a tool with _meta and decodes its structured content into out
// (when not nil).
func toolCall(t *testing.T, sess *sdk.ClientSession, name string, args any, meta sdk.Meta, out any) *sdk.CallToolResult {
	t.Helper()
	res, err := sess.CallTool(testenv.Context(t), &sdk.CallToolParams{Name: name, Arguments: args, Meta: meta})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if out != nil {
		b, _ := json.Marshal(res.StructuredContent)
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s: structured content %s: %v", name, b, err)
		}
	}
	return res
}

// toolOK calls a tool that must succeed.
func toolOK(t *testing.T, sess *sdk.ClientSession, name string, args any, meta sdk.Meta, out any) *sdk.CallToolResult {
	t.Helper()
	res := toolCall(t, sess, name, args, meta, out)
	if res.IsError {
		t.Fatalf("%s: error result %s", name, contentText(res))
	}
	return res
}

// toolError calls a tool that must fail with code.
func toolError(t *testing.T, sess *sdk.ClientSession, name string, args any, code string) {
	t.Helper()
	var out struct {
		Error testenv.ErrorBody `json:"error"`
	}
	res := toolCall(t, sess, name, args, nil, &out)
	if !res.IsError || out.Error.Code != code || out.Error.Message == "" || !strings.HasPrefix(contentText(res), code+": ") {
		t.Fatalf("%s(%v): isError %v, error %+v, text %q; want %s", name, args, res.IsError, out.Error, contentText(res), code)
	}
}

func contentText(res *sdk.CallToolResult) string {
	var parts []string
	for _, c := range res.Content {
		if tc, ok := c.(*sdk.TextContent); ok {
			parts = append(parts, tc.Text)
		}
	}
	return strings.Join(parts, "\n")
}

// mcpMedia is the structured content of a media tool and of get_job.
type mcpMedia struct {
	Status     string           `json:"status"`
	JobID      string           `json:"job_id"`
	AssetID    string           `json:"asset_id"`
	Asset      mediatrail.Asset `json:"asset"`
	AssetURL   string           `json:"asset_url"`
	TextOutput string           `json:"text_output"`
	SpanID     string           `json:"span_id"`
}

// mediaTool calls a capability tool with provider local and checks what
// every finished media result has: the asset, a link to its signed URL
// that downloads its bytes.
func mediaTool(t *testing.T, sess *sdk.ClientSession, name string, args map[string]any, meta sdk.Meta) (mcpMedia, *sdk.CallToolResult) {
	t.Helper()
	args["provider"] = "local"
	var out mcpMedia
	res := toolOK(t, sess, name, args, meta, &out)
	if out.Status == "processing" {
		return out, res
	}
	checkAssetResult(t, name, out, res)
	return out, res
}

func checkAssetResult(t *testing.T, name string, out mcpMedia, res *sdk.CallToolResult) {
	t.Helper()
	if out.Status != "completed" || out.Asset.ID == "" || out.Asset.ID != out.AssetID || out.Asset.FileSize == 0 || out.Asset.ContentType == "" {
		t.Fatalf("%s: %+v", name, out)
	}
	var link *sdk.ResourceLink
	for _, c := range res.Content {
		if l, ok := c.(*sdk.ResourceLink); ok {
			link = l
		}
	}
	if link == nil || link.URI != out.AssetURL || link.MIMEType != out.Asset.ContentType || link.Size == nil || *link.Size != out.Asset.FileSize {
		t.Fatalf("%s: resource link %+v for %+v", name, link, out)
	}
	if code, _, body := download(t, link.URI); code != http.StatusOK || int64(len(body)) != out.Asset.FileSize {
		t.Fatalf("%s: download status %d, %d bytes", name, code, len(body))
	}
}

func TestMCPAgentRunMakesEveryMedia(t *testing.T) {
	t.Parallel()
	needLocalTools(t)
	st := newStack(t, 30*time.Second)
	key, _ := st.workspace(t)
	var mu sync.Mutex
	var notes []*sdk.ProgressNotificationParams
	sess := st.mcpSession(t, map[string]string{
		"Authorization": "Bearer " + key, "X-Agent-Id": "agent-mcp",
		"Traceparent": "00-" + callerTraceID + "-" + callerSpanID + "-01",
	}, func(p *sdk.ProgressNotificationParams) { mu.Lock(); notes = append(notes, p); mu.Unlock() })

	tools, err := sess.ListTools(testenv.Context(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range tools.Tools {
		names = append(names, tool.Name)
	}
	slices.Sort(names)
	want := []string{"delete_asset", "get_asset", "get_job", "get_signed_url", "get_trace_summary", "image_edit", "image_gen",
		"list_assets", "stt", "tts", "video_from_image", "video_gen"}
	if !slices.Equal(names, want) {
		t.Fatalf("tools %v, want %v", names, want)
	}

	exec := testenv.UniqueName("exec")
	meta := sdk.Meta{"execution_id": exec, "progressToken": "tts-1"}
	speech, _ := mediaTool(t, sess, "tts", map[string]any{"prompt": localSpeech}, meta)
	meta = sdk.Meta{"execution_id": exec}
	transcript, res := mediaTool(t, sess, "stt", map[string]any{"input_asset_id": speech.AssetID}, meta)
	if got := contentText(res); !strings.HasPrefix(got, transcript.TextOutput) || testenv.WordRecall(localSpeech, transcript.TextOutput) < localMinRecall {
		t.Errorf("transcript %q, content %q", transcript.TextOutput, got)
	}
	image, res := mediaTool(t, sess, "image_gen", map[string]any{"prompt": "A lighthouse at dawn", "config": map[string]any{"width": 96, "height": 64}}, meta)
	var inline *sdk.ImageContent
	for _, c := range res.Content {
		if img, ok := c.(*sdk.ImageContent); ok {
			inline = img
		}
	}
	if inline == nil || int64(len(inline.Data)) != image.Asset.FileSize || inline.MIMEType != "image/png" {
		t.Errorf("image_gen: inline image %v", inline)
	}
	edited, _ := mediaTool(t, sess, "image_edit", map[string]any{"input_asset_id": image.AssetID, "prompt": "grayscale"}, meta)
	videoCfg := map[string]any{"duration": 1, "width": 128, "height": 72}
	jobs := []string{}
	for name, args := range map[string]map[string]any{
		"video_gen":        {"prompt": "A lighthouse at dawn", "config": videoCfg},
		"video_from_image": {"input_asset_id": image.AssetID, "config": videoCfg},
	} {
		out, _ := mediaTool(t, sess, name, args, meta)
		if out.Status != "processing" || !mediatrail.ValidID(out.JobID) {
			t.Fatalf("%s: %+v", name, out)
		}
		jobs = append(jobs, out.JobID)
	}
	assets := []string{speech.AssetID, transcript.AssetID, image.AssetID, edited.AssetID}
	for _, id := range jobs {
		var job mcpMedia
		for range 10 {
			res = toolOK(t, sess, "get_job", map[string]any{"job_id": id, "wait_seconds": 10}, sdk.Meta{"progressToken": id}, &job)
			if job.Status != "processing" && job.Status != "queued" {
				break
			}
		}
		if job.Status != "completed" || job.Asset.Type != mediatrail.AssetVideo {
			t.Fatalf("job %s: %+v", id, job)
		}
		job.AssetID = job.Asset.ID
		checkAssetResult(t, "get_job", job, res)
		assets = append(assets, job.AssetID)
	}
	mu.Lock()
	if !slices.ContainsFunc(notes, func(p *sdk.ProgressNotificationParams) bool { return p.ProgressToken == "tts-1" }) {
		t.Errorf("no progress notification for tts: %+v", notes)
	}
	mu.Unlock()

	// Every asset joined the run of _meta, and its span the caller's trace.
	var listed struct {
		Assets []mediatrail.Asset `json:"assets"`
		Total  int                `json:"total"`
	}
	toolOK(t, sess, "list_assets", map[string]any{"execution_id": exec, "limit": 100}, nil, &listed)
	var got []string
	for _, a := range listed.Assets {
		got = append(got, a.ID)
		if a.ExecutionID != exec || a.AgentID != "agent-mcp" {
			t.Errorf("asset %s: execution %q, agent %q", a.ID, a.ExecutionID, a.AgentID)
		}
	}
	slices.Sort(got)
	slices.Sort(assets)
	if !slices.Equal(got, assets) || listed.Total != len(assets) {
		t.Fatalf("list_assets = %v (total %d), want %v", got, listed.Total, assets)
	}
	r := st.do(t, "GET", "/api/v1/traces?limit=100&execution_id="+exec, key, nil)
	wantOK(t, r, http.StatusOK)
	var spans []struct {
		AssetID  string `json:"asset_id"`
		TraceID  string `json:"trace_id"`
		ParentID string `json:"parent_id"`
	}
	r.Into(t, &spans)
	if len(spans) != len(assets) {
		t.Fatalf("%d spans for %d assets: %s", len(spans), len(assets), r.Raw)
	}
	for _, sp := range spans {
		if sp.TraceID != callerTraceID || sp.ParentID != callerSpanID || !slices.Contains(assets, sp.AssetID) {
			t.Errorf("span %+v: want trace %s, parent %s", sp, callerTraceID, callerSpanID)
		}
	}
	var sum struct {
		Count int `json:"count"`
	}
	toolOK(t, sess, "get_trace_summary", map[string]any{"execution_id": exec}, nil, &sum)
	if sum.Count != len(assets) {
		t.Errorf("get_trace_summary count %d, want %d", sum.Count, len(assets))
	}
}

// The asset tools, workspace isolation, and bad input: clear errors with
// the HTTP API's codes, never a 5xx.
func TestMCPAssetToolsAndBadInput(t *testing.T) {
	t.Parallel()
	st := newStack(t, 10*time.Second)
	key, _ := st.workspace(t)
	other, _ := st.workspace(t)
	sess := st.mcpSession(t, map[string]string{"X-API-Key": key, "X-Execution-Id": "exec-tools"}, nil)
	otherSess := st.mcpSession(t, map[string]string{"X-API-Key": other}, nil)

	image, _ := mediaTool(t, sess, "image_gen", map[string]any{"prompt": "a red square", "config": map[string]any{"width": 32, "height": 32}}, nil)
	if image.Asset.ExecutionID != "exec-tools" {
		t.Errorf("execution from X-Execution-Id: %q", image.Asset.ExecutionID)
	}
	var got struct {
		Asset mediatrail.Asset `json:"asset"`
	}
	toolOK(t, sess, "get_asset", map[string]any{"asset_id": image.AssetID}, nil, &got)
	if got.Asset.ID != image.AssetID || got.Asset.Type != mediatrail.AssetImage {
		t.Fatalf("get_asset: %+v", got.Asset)
	}
	var signed struct {
		URL       string    `json:"url"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	toolOK(t, sess, "get_signed_url", map[string]any{"asset_id": image.AssetID, "expires_in": 60}, nil, &signed)
	if code, _, _ := download(t, signed.URL); code != http.StatusOK || time.Until(signed.ExpiresAt) > time.Minute+5*time.Second {
		t.Fatalf("signed url: status %d, expires %v", code, signed.ExpiresAt)
	}

	// Another workspace's asset and job ids are not found, and stay.
	for _, name := range []string{"get_asset", "get_signed_url", "delete_asset"} {
		toolError(t, otherSess, name, map[string]any{"asset_id": image.AssetID}, mediatrail.ENOTFOUND)
	}
	toolError(t, otherSess, "image_edit", map[string]any{"provider": "local", "prompt": "invert", "input_asset_id": image.AssetID}, mediatrail.ENOTFOUND)
	toolError(t, otherSess, "get_job", map[string]any{"job_id": image.AssetID}, mediatrail.ENOTFOUND)
	toolOK(t, sess, "get_asset", map[string]any{"asset_id": image.AssetID}, nil, nil)

	cases := []struct {
		tool string
		args any
		code string
	}{
		{"tts", map[string]any{"provider": 5, "prompt": "hi"}, mediatrail.EINVALID},
		{"tts", map[string]any{"prompt": "hi"}, mediatrail.EINVALID},
		{"tts", map[string]any{"provider": "local", "prompt": "hi", "execution_id": "x"}, mediatrail.EINVALID},
		{"tts", map[string]any{"provider": "nope", "prompt": "hi"}, mediatrail.EINVALID},
		{"tts", map[string]any{"provider": "local", "prompt": strings.Repeat("word ", 10_000)}, mediatrail.ETOOLARGE},
		{"image_edit", map[string]any{"provider": "local", "prompt": "melt", "input_asset_id": image.AssetID}, mediatrail.EINVALID},
		{"get_job", map[string]any{"job_id": "x", "wait_seconds": 600}, mediatrail.EINVALID},
		{"get_asset", map[string]any{}, mediatrail.EINVALID},
		{"get_asset", map[string]any{"asset_id": "not-an-id"}, mediatrail.EINVALID},
		{"list_assets", map[string]any{"limit": 1000}, mediatrail.EINVALID},
		{"list_assets", map[string]any{"created_after": "yesterday"}, mediatrail.EINVALID},
		{"get_trace_summary", map[string]any{"kind": "smell"}, mediatrail.EINVALID},
		{"get_signed_url", map[string]any{"asset_id": image.AssetID, "expires_in": 0.5}, mediatrail.EINVALID},
	}
	for _, tc := range cases {
		toolError(t, sess, tc.tool, tc.args, tc.code)
	}
	if _, err := sess.CallTool(testenv.Context(t), &sdk.CallToolParams{Name: "no_such_tool", Arguments: map[string]any{}}); err == nil ||
		!strings.Contains(err.Error(), "no_such_tool") {
		t.Errorf("unknown tool: %v", err)
	}

	// Delete, then it is gone.
	var deleted struct {
		Deleted bool `json:"deleted"`
	}
	toolOK(t, sess, "delete_asset", map[string]any{"asset_id": image.AssetID}, nil, &deleted)
	if !deleted.Deleted {
		t.Error("delete_asset did not say deleted")
	}
	toolError(t, sess, "get_asset", map[string]any{"asset_id": image.AssetID}, mediatrail.ENOTFOUND)

	// HTTP-level refusals: no or a bad key, a body over 1 MiB, GET and DELETE.
	list := `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}`
	huge := `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"tts","arguments":{"provider":"local","prompt":"` +
		strings.Repeat("a", 2<<20) + `"}}}`
	for _, tc := range []struct {
		method, key, body string
		status            int
		code              string
	}{
		{"POST", "", list, http.StatusUnauthorized, mediatrail.EUNAUTHENTICATED},
		{"POST", "Bearer not-a-key", list, http.StatusUnauthorized, mediatrail.EUNAUTHENTICATED},
		{"POST", "Bearer " + key, huge, http.StatusRequestEntityTooLarge, ""},
		{"GET", "Bearer " + key, "", http.StatusMethodNotAllowed, ""},
		{"DELETE", "Bearer " + key, "", http.StatusMethodNotAllowed, ""},
	} {
		status, body := st.rawMCP(t, tc.method, tc.key, tc.body)
		if status != tc.status {
			t.Errorf("%s with %q: status %d, want %d: %.300s", tc.method, tc.key, status, tc.status, body)
			continue
		}
		if tc.code == "" {
			continue
		}
		var e struct {
			JSONRPC string `json:"jsonrpc"`
			Error   struct {
				Code    int
				Message string
				Data    struct{ Code string }
			} `json:"error"`
		}
		if err := json.Unmarshal(body, &e); err != nil || e.JSONRPC != "2.0" || e.Error.Data.Code != tc.code || e.Error.Message == "" {
			t.Errorf("%s with %q: body %s", tc.method, tc.key, body)
		}
	}
}

// rawMCP sends one HTTP request to /mcp as an MCP client would.
func (st *stack) rawMCP(t *testing.T, method, auth, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, st.URL+"/mcp", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return resp.StatusCode, b.Bytes()
}

// A client nobody here wrote: the MCP Inspector's CLI (tools/node) lists
// the tools and calls one over HTTP, as a user of `make run` would.
func TestMCPInspectorCLI(t *testing.T) {
	bin := filepath.Join(localstack.Tools{Root: repoRoot()}.NodeModules(), ".bin", "mcp-inspector")
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("the MCP Inspector is not installed: scripts/setup.sh installs it (%v)", err)
		}
		t.Skipf("the MCP Inspector is not installed (run scripts/setup.sh): %v", err)
	}
	st := newStack(t, 10*time.Second)
	key, _ := st.workspace(t)
	home := t.TempDir()
	inspect := func(key string, args ...string) (map[string]any, error) {
		t.Helper()
		cmd := exec.CommandContext(testenv.Context(t), bin, append([]string{"--cli", st.URL + "/mcp", "--transport", "http",
			"--header", "X-API-Key: " + key}, args...)...)
		cmd.Env = append(os.Environ(), "HOME="+home, "MCP_CATALOG_PATH="+filepath.Join(home, "mcp.json"), "NO_COLOR=1")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("%v: %s%s", err, out, stderr.Bytes())
		}
		var v map[string]any
		if err := json.Unmarshal(out, &v); err != nil {
			t.Fatalf("inspector output is not JSON: %s", out)
		}
		return v, nil
	}

	listed, err := inspect(key, "--method", "tools/list")
	if err != nil {
		t.Fatal(err)
	}
	var tools struct {
		Tools []struct {
			Name        string         `json:"name"`
			InputSchema map[string]any `json:"inputSchema"`
		} `json:"tools"`
	}
	remarshal(t, listed, &tools)
	if len(tools.Tools) != 12 || !slices.ContainsFunc(tools.Tools, func(tl struct {
		Name        string         `json:"name"`
		InputSchema map[string]any `json:"inputSchema"`
	}) bool {
		return tl.Name == "image_gen" && tl.InputSchema["type"] == "object"
	}) {
		t.Fatalf("inspector tools/list: %v", listed)
	}

	called, err := inspect(key, "--method", "tools/call", "--tool-name", "image_gen",
		"--tool-arg", "provider=local", "prompt=a lighthouse", `config={"width":48,"height":32}`,
		"--tool-metadata", "execution_id=exec-inspector")
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		IsError           bool     `json:"isError"`
		StructuredContent mcpMedia `json:"structuredContent"`
		Content           []struct {
			Type string `json:"type"`
			URI  string `json:"uri"`
		} `json:"content"`
	}
	remarshal(t, called, &res)
	a := res.StructuredContent.Asset
	if res.IsError || a.Type != mediatrail.AssetImage || a.ExecutionID != "exec-inspector" || a.Metadata["width"] != float64(48) ||
		!slices.ContainsFunc(res.Content, func(c struct {
			Type string `json:"type"`
			URI  string `json:"uri"`
		}) bool {
			return c.Type == "resource_link" && c.URI == res.StructuredContent.AssetURL
		}) {
		t.Fatalf("inspector tools/call: %v", called)
	}

	// The inspector takes any 401 for a server that wants OAuth: without a
	// terminal it says authorisation is required, quoting our refusal.
	if out, err := inspect("not-a-key", "--method", "tools/list", "--stored-auth-only"); err == nil ||
		!strings.Contains(err.Error(), "auth_required") || !strings.Contains(err.Error(), "invalid API key") {
		t.Errorf("a bad key: %v, %v", out, err)
	}
}

func remarshal(t *testing.T, from, to any) {
	t.Helper()
	b, _ := json.Marshal(from)
	if err := json.Unmarshal(b, to); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
}
