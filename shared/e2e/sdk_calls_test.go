package e2e_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mediatrail/mediatrail/shared/testenv"
)

// sdkCall sends a request as the official Go SDK builds it (api.md, "Round
// 2"): query parameters joined as k=v without escaping, a JSON body, the
// headers Content-Type, Accept, X-API-Key and User-Agent. It decodes the
// answer as the SDK does: a body with meta whole (lists), else its data.
func sdkCall(t *testing.T, st *stack, method, path, key string, query [][2]string, body any, out any) int {
	t.Helper()
	u := st.URL + path
	var parts []string
	for _, kv := range query {
		parts = append(parts, kv[0]+"="+kv[1])
	}
	if len(parts) > 0 {
		u += "?" + strings.Join(parts, "&")
	}
	var sent []byte
	var rd io.Reader
	if body != nil {
		sent, _ = json.Marshal(body)
		rd = bytes.NewReader(sent)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-API-Key", key)
	req.Header.Set("User-Agent", "promptrails-go/test")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	testenv.CheckContract(t, req, sent, resp.StatusCode, resp.Header, raw)
	if resp.StatusCode >= 400 || out == nil || len(raw) == 0 {
		return resp.StatusCode
	}
	var probe struct {
		Meta *json.RawMessage `json:"meta"`
		Data json.RawMessage  `json:"data"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		t.Fatalf("%s %s: %s", method, path, raw)
	}
	doc := []byte(probe.Data)
	if probe.Meta != nil {
		doc = raw
	}
	if err := json.Unmarshal(doc, out); err != nil {
		t.Fatalf("%s %s: decode %s: %v", method, path, raw, err)
	}
	return resp.StatusCode
}

// The fields the SDK decodes, each a pointer so that an absent one shows.
type (
	sdkAsset struct {
		ID          *string         `json:"id"`
		WorkspaceID *string         `json:"workspace_id"`
		ExecutionID *string         `json:"execution_id"`
		AgentID     *string         `json:"agent_id"`
		SpanID      *string         `json:"span_id"`
		MediaType   *string         `json:"media_type"`
		Provider    *string         `json:"provider"`
		Model       *string         `json:"model"`
		FileName    *string         `json:"file_name"`
		Size        *int64          `json:"size"`
		ContentType *string         `json:"content_type"`
		StorageKey  *string         `json:"storage_key"`
		Metadata    *map[string]any `json:"metadata"`
		CreatedAt   *time.Time      `json:"created_at"`
		UpdatedAt   *time.Time      `json:"updated_at"`
	}
	sdkMeta struct {
		Total      *int `json:"total"`
		Page       *int `json:"page"`
		Limit      *int `json:"limit"`
		Pages      *int `json:"pages"`
		TotalPages *int `json:"total_pages"`
	}
	sdkPage[T any] struct {
		Data []T     `json:"data"`
		Meta sdkMeta `json:"meta"`
	}
	sdkMediaModel struct {
		ID           *string         `json:"id"`
		Name         *string         `json:"name"`
		Provider     *string         `json:"provider"`
		MediaType    *string         `json:"media_type"`
		IsActive     *bool           `json:"is_active"`
		IsDeprecated *bool           `json:"is_deprecated"`
		Config       *map[string]any `json:"config"`
		CreatedAt    *time.Time      `json:"created_at"`
		UpdatedAt    *time.Time      `json:"updated_at"`
	}
	sdkTrace struct {
		ID          *string    `json:"id"`
		TraceID     *string    `json:"trace_id"`
		WorkspaceID *string    `json:"workspace_id"`
		Name        *string    `json:"name"`
		Kind        *string    `json:"kind"`
		Status      *string    `json:"status"`
		Cost        *float64   `json:"cost"`
		DurationMs  *int64     `json:"duration_ms"`
		CreatedAt   *time.Time `json:"created_at"`
	}
	sdkSummaryFields struct {
		TotalTraces   *int     `json:"total_traces"`
		TotalTokens   *int     `json:"total_tokens"`
		TotalCost     *float64 `json:"total_cost"`
		AvgDurationMs *float64 `json:"avg_duration_ms"`
		ErrorCount    *int     `json:"error_count"`
		UniqueModels  *int     `json:"unique_models"`
	}
)

// missing names the nil pointer fields of v (a struct of pointers).
func missing(v any) []string {
	raw, _ := json.Marshal(v)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	var out []string
	for k, x := range m {
		if x == nil {
			out = append(out, k)
		}
	}
	return out
}

// The official SDK's calls for media, assets, media models and traces, as
// it sends them, answer every field it decodes.
func TestSDKCalls(t *testing.T) {
	t.Parallel()
	st := newStack(t, 10*time.Second)
	key, _ := st.workspace(t)

	// MediaService.Generate: provider, media_type, model, prompt, input_url, config.
	var gen struct {
		Status, JobID, AssetURL, TextOutput, ContentType string
		Metadata                                         map[string]any
	}
	type genParams struct {
		Provider  string         `json:"provider"`
		MediaType string         `json:"media_type"`
		Model     string         `json:"model"`
		Prompt    string         `json:"prompt,omitempty"`
		InputURL  string         `json:"input_url,omitempty"`
		Config    map[string]any `json:"config,omitempty"`
	}
	if code := sdkCall(t, st, "POST", "/api/v1/media/generate", key, nil,
		genParams{Provider: "openai", MediaType: "image", Model: "dall-e-3", Prompt: "a lighthouse", Config: map[string]any{"size": "1024x1024"}}, &gen); code != http.StatusOK {
		t.Fatalf("generate: %d", code)
	}
	var answer map[string]any
	sdkCall(t, st, "POST", "/api/v1/media/generate", key, nil, genParams{Provider: "openai", MediaType: "speech", Model: "tts-1", Prompt: "hello"}, &answer)
	for _, f := range []string{"status", "asset_url", "content_type", "metadata"} {
		if answer[f] == nil || answer[f] == "" {
			t.Errorf("generate answer lacks %s: %v", f, answer)
		}
	}
	var heard map[string]any
	sdkCall(t, st, "POST", "/api/v1/media/generate", key, nil, genParams{Provider: "openai", MediaType: "transcription", Model: "whisper-1", InputURL: answer["asset_url"].(string)}, &heard)
	if heard["text_output"] == "" || heard["status"] != "completed" {
		t.Errorf("transcription of the SDK's own asset_url: %v", heard)
	}

	// AssetsService: List (page, limit, media_type, provider), Get, GetSignedURL, Delete.
	var assets sdkPage[sdkAsset]
	if code := sdkCall(t, st, "GET", "/api/v1/assets", key, [][2]string{{"page", "1"}, {"limit", "20"}, {"media_type", "image"}, {"provider", "openai"}}, nil, &assets); code != http.StatusOK {
		t.Fatalf("assets: %d", code)
	}
	if len(assets.Data) != 1 || len(missing(assets.Data[0])) > 0 || len(missing(assets.Meta)) > 0 {
		t.Fatalf("assets %+v, missing %v %v", assets, missing(assets.Data), missing(assets.Meta))
	}
	id := *assets.Data[0].ID
	var one sdkAsset
	sdkCall(t, st, "GET", "/api/v1/assets/"+id, key, nil, nil, &one)
	if m := missing(one); len(m) > 0 || *one.MediaType != "image" {
		t.Errorf("asset: missing %v", m)
	}
	var link struct {
		URL       *string    `json:"url"`
		ExpiresAt *time.Time `json:"expires_at"`
	}
	sdkCall(t, st, "GET", "/api/v1/assets/"+id+"/signed-url", key, nil, nil, &link)
	if link.URL == nil || link.ExpiresAt == nil {
		t.Errorf("signed url %+v", link)
	}

	// MediaModelsService.List (page, limit, provider, media_type, is_active).
	var models sdkPage[sdkMediaModel]
	sdkCall(t, st, "GET", "/api/v1/media-models", key, [][2]string{{"page", "1"}, {"limit", "20"}, {"provider", "openai"}, {"media_type", "image"}, {"is_active", "true"}}, nil, &models)
	if len(models.Data) == 0 || len(missing(models.Meta)) > 0 {
		t.Fatalf("media models %+v", models)
	}
	for _, m := range models.Data {
		if miss := missing(m); len(miss) > 0 || *m.MediaType != "image_gen" || *m.Provider != "openai" {
			t.Errorf("media model %v missing %v", *m.ID, miss)
		}
	}

	// TracesService: List (page, limit, trace_id, kind), GetSummary.
	var traces sdkPage[sdkTrace]
	sdkCall(t, st, "GET", "/api/v1/traces", key, [][2]string{{"page", "1"}, {"limit", "20"}, {"kind", "speech"}}, nil, &traces)
	if len(traces.Data) != 2 || len(missing(traces.Meta)) > 0 {
		t.Fatalf("traces %+v", traces)
	}
	for _, tr := range traces.Data {
		if m := missing(tr); len(m) > 0 {
			t.Errorf("trace missing %v", m)
		}
	}
	var byTrace sdkPage[sdkTrace]
	sdkCall(t, st, "GET", "/api/v1/traces", key, [][2]string{{"page", "1"}, {"limit", "20"}, {"trace_id", *traces.Data[0].TraceID}}, nil, &byTrace)
	if len(byTrace.Data) != 1 || *byTrace.Data[0].ID != *traces.Data[0].ID {
		t.Errorf("traces of trace %s: %+v", *traces.Data[0].TraceID, byTrace.Data)
	}
	var sum sdkSummaryFields
	sdkCall(t, st, "GET", "/api/v1/traces/summary", key, [][2]string{{"kind", "speech"}}, nil, &sum)
	if m := missing(sum); len(m) > 0 || *sum.TotalTraces != 2 {
		t.Errorf("summary missing %v: %+v", m, sum)
	}

	if code := sdkCall(t, st, "DELETE", "/api/v1/assets/"+id, key, nil, nil, nil); code != http.StatusNoContent {
		t.Errorf("delete: %d", code)
	}
	if code := sdkCall(t, st, "GET", "/api/v1/assets/"+id, key, nil, nil, &one); code != http.StatusNotFound {
		t.Errorf("deleted asset: %d", code)
	}
}
