package mediatrail_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// stubProvider names itself and its capabilities; any call beyond that panics
// (its Provider is nil), so a request must be refused before it gets there.
type stubProvider struct{ mediatrail.Provider }

func (p stubProvider) Name() string { return "stub" }
func (p stubProvider) Capabilities() []mediatrail.Capability {
	return []mediatrail.Capability{mediatrail.CapabilityTTS, mediatrail.CapabilitySTT, mediatrail.CapabilityImageGen, mediatrail.CapabilityImageEdit, mediatrail.CapabilityVideoGen}
}
func (p stubProvider) Get(name string) (mediatrail.Provider, error) {
	if name != "stub" {
		return nil, mediatrail.Invalid("provider", "provider must be one of stub")
	}
	return p, nil
}

// Requests refused before any store, input or provider is touched.
func TestGenerateRefusesBadRequests(t *testing.T) {
	svc := &mediatrail.MediaService{Providers: stubProvider{}}
	base := mediatrail.GenerateInput{Provider: "stub", Prompt: "hello"}
	with := func(f func(*mediatrail.GenerateInput)) mediatrail.GenerateInput { in := base; f(&in); return in }
	for _, tc := range []struct {
		name  string
		route mediatrail.Capability
		in    mediatrail.GenerateInput
		code  string
		field string
	}{
		{"no media type on the generic route", "", base, mediatrail.EINVALID, "media_type"},
		{"unknown media type", "", with(func(in *mediatrail.GenerateInput) { in.MediaType = "music" }), mediatrail.EINVALID, "media_type"},
		{"media type contradicting the route", mediatrail.CapabilityTTS, with(func(in *mediatrail.GenerateInput) { in.MediaType = "stt" }), mediatrail.EINVALID, "media_type"},
		{"no provider", mediatrail.CapabilityTTS, with(func(in *mediatrail.GenerateInput) { in.Provider = " " }), mediatrail.EINVALID, "provider"},
		{"unknown provider", mediatrail.CapabilityTTS, with(func(in *mediatrail.GenerateInput) { in.Provider = "acme" }), mediatrail.EINVALID, "provider"},
		{"no prompt", mediatrail.CapabilityImageGen, with(func(in *mediatrail.GenerateInput) { in.Prompt = "" }), mediatrail.EINVALID, "prompt"},
		{"prompt too long", mediatrail.CapabilityTTS, with(func(in *mediatrail.GenerateInput) { in.Prompt = strings.Repeat("a", mediatrail.MaxPromptBytes+1) }), mediatrail.ETOOLARGE, "prompt"},
		{"prompt not UTF-8", mediatrail.CapabilityTTS, with(func(in *mediatrail.GenerateInput) { in.Prompt = "\xff" }), mediatrail.EINVALID, "prompt"},
		{"no input to transcribe", mediatrail.CapabilitySTT, base, mediatrail.EINVALID, "input_url"},
		{"no image to edit", mediatrail.CapabilityImageEdit, base, mediatrail.EINVALID, "input_url"},
		{"both inputs", mediatrail.CapabilityImageEdit, with(func(in *mediatrail.GenerateInput) {
			in.InputURL, in.InputAssetID = "https://example.com/a.png", mediatrail.NewID()
		}), mediatrail.EINVALID, "input_url"},
		{"input asset id not a KSUID", mediatrail.CapabilitySTT, with(func(in *mediatrail.GenerateInput) { in.InputAssetID = "../x" }), mediatrail.EINVALID, "input_asset_id"},
		{"file URL", mediatrail.CapabilitySTT, with(func(in *mediatrail.GenerateInput) { in.InputURL = "file:///etc/passwd" }), mediatrail.EINVALID, "input_url"},
		{"gopher URL", mediatrail.CapabilitySTT, with(func(in *mediatrail.GenerateInput) { in.InputURL = "gopher://127.0.0.1:70/" }), mediatrail.EINVALID, "input_url"},
		{"tts with a prompt and an input", mediatrail.CapabilityTTS, with(func(in *mediatrail.GenerateInput) { in.InputAssetID = mediatrail.NewID() }), mediatrail.EINVALID, "prompt"},
		{"bad execution id", mediatrail.CapabilityTTS, with(func(in *mediatrail.GenerateInput) { in.ExecutionID = "a b" }), mediatrail.EINVALID, "execution_id"},
		{"bad trace id", mediatrail.CapabilityTTS, with(func(in *mediatrail.GenerateInput) { in.TraceID = "#" }), mediatrail.EINVALID, "trace_id"},
		{"bad parent span id", mediatrail.CapabilityTTS, with(func(in *mediatrail.GenerateInput) { in.ParentSpanID = "#" }), mediatrail.EINVALID, "parent_span_id"},
		{"idempotency key with a space", mediatrail.CapabilityTTS, with(func(in *mediatrail.GenerateInput) { in.IdempotencyKey = "a b" }), mediatrail.EINVALID, "idempotency_key"},
		{"idempotency key too long", mediatrail.CapabilityTTS, with(func(in *mediatrail.GenerateInput) { in.IdempotencyKey = strings.Repeat("k", 256) }), mediatrail.EINVALID, "idempotency_key"},
		{"config too large", mediatrail.CapabilityTTS, with(func(in *mediatrail.GenerateInput) {
			in.Config = map[string]any{"x": strings.Repeat("a", mediatrail.MaxConfigBytes)}
		}), mediatrail.EINVALID, "config"},
		{"video without a job service", "", with(func(in *mediatrail.GenerateInput) { in.MediaType = "video_gen" }), mediatrail.EUNAVAILABLE, "media_type"},
		{"callback on a synchronous call", mediatrail.CapabilityTTS, with(func(in *mediatrail.GenerateInput) { in.CallbackURL = "https://example.com/hook" }), mediatrail.EINVALID, "callback_url"},
		{"callback not http", mediatrail.CapabilityVideoGen, with(func(in *mediatrail.GenerateInput) { in.CallbackURL = "ftp://example.com/hook" }), mediatrail.EINVALID, "callback_url"},
		{"callback with credentials", mediatrail.CapabilityVideoGen, with(func(in *mediatrail.GenerateInput) { in.CallbackURL = "https://u:p@example.com/hook" }), mediatrail.EINVALID, "callback_url"},
		{"callback too long", mediatrail.CapabilityVideoGen, with(func(in *mediatrail.GenerateInput) {
			in.CallbackURL = "https://example.com/" + strings.Repeat("a", 2048)
		}), mediatrail.EINVALID, "callback_url"},
	} {
		_, err := svc.Generate(context.Background(), "ws", tc.route, tc.in)
		var e *mediatrail.Error
		if !errors.As(err, &e) || e.Code != tc.code || e.Details["field"] != tc.field {
			t.Errorf("%s: error %v, want code %s on field %s", tc.name, err, tc.code, tc.field)
		}
	}
}

func TestSpanSummary(t *testing.T) {
	sum := mediatrail.NewSpanSummary("USD")
	for _, sp := range []*mediatrail.Span{
		{Provider: "openai", Model: "tts-1", MediaType: mediatrail.CapabilityTTS, Status: mediatrail.SpanCompleted, DurationMs: 100, MediaDurationSeconds: 1.5, Cost: mediatrail.Cost{Amount: 0.1}},
		{Provider: "openai", Model: "dall-e-3", MediaType: mediatrail.CapabilityImageGen, Status: mediatrail.SpanCompleted, DurationMs: 300, Cost: mediatrail.Cost{Amount: 0.2}},
		{Provider: "fal", Model: "fal-ai/flux/dev", MediaType: mediatrail.CapabilityImageGen, Status: mediatrail.SpanError, DurationMs: 200},
	} {
		sum.Add(sp)
	}
	raw, err := json.Marshal(sum)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Count       int                              `json:"count"`
		Errors      int                              `json:"errors"`
		Cost        float64                          `json:"cost"`
		DurationMs  int64                            `json:"duration_ms"`
		Currency    string                           `json:"currency"`
		TotalTraces int                              `json:"total_traces"`
		TotalCost   float64                          `json:"total_cost"`
		ErrorCount  int                              `json:"error_count"`
		AvgDuration float64                          `json:"avg_duration_ms"`
		Models      int                              `json:"unique_models"`
		ByProvider  map[string]mediatrail.SpanTotals `json:"by_provider"`
		ByMediaType map[string]mediatrail.SpanTotals `json:"by_media_type"`
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	// 0.1 + 0.2 is 0.30000000000000004 in floats: sums are rounded to 1e-9.
	if got.Count != 3 || got.Errors != 1 || got.Cost != 0.3 || got.DurationMs != 600 || got.Currency != "USD" ||
		got.TotalTraces != 3 || got.TotalCost != 0.3 || got.ErrorCount != 1 || got.AvgDuration != 200 || got.Models != 3 {
		t.Errorf("summary = %s", raw)
	}
	if p := got.ByProvider["openai"]; p.Count != 2 || p.Cost != 0.3 || p.Errors != 0 || p.MediaDurationSeconds != 1.5 {
		t.Errorf("by provider openai = %+v", p)
	}
	if m := got.ByMediaType["image_gen"]; m.Count != 2 || m.Errors != 1 || m.Cost != 0.2 {
		t.Errorf("by media type image_gen = %+v", m)
	}
}

func TestSpanJSONCarriesSDKNames(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600))
	raw, err := json.Marshal(mediatrail.Span{
		ID: "s", Model: "tts-1", Status: mediatrail.SpanError, StartedAt: at, EndedAt: at,
		Error: &mediatrail.SpanFailure{Code: "timeout", Message: "too slow"}, Cost: mediatrail.Cost{Amount: 0.25},
	})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	for k, want := range map[string]any{
		"cost": 0.25, "model_name": "tts-1", "error_type": "timeout", "error_message": "too slow",
		"created_at": "2026-01-02T02:04:05Z", "started_at": "2026-01-02T02:04:05Z", "asset_deleted": false,
	} {
		if m[k] != want {
			t.Errorf("%s = %v, want %v (%s)", k, m[k], want, raw)
		}
	}
	if attrs, ok := m["attributes"].(map[string]any); !ok || attrs == nil {
		t.Errorf("attributes = %v, want {}", m["attributes"])
	}
}

// keyedStub is stubProvider naming the config keys it takes
// (mediatrail.ConfigKeyed).
type keyedStub struct{ stubProvider }

func (p keyedStub) ConfigKeys(c mediatrail.Capability) []string {
	if c == mediatrail.CapabilityTTS {
		return []string{"voice", "speed"}
	}
	return nil
}

func (p keyedStub) Get(name string) (mediatrail.Provider, error) {
	if _, err := p.stubProvider.Get(name); err != nil {
		return nil, err
	}
	return p, nil
}

// Config keys a provider does not take, and malformed asset input URLs, are
// refused before anything is called; the answer lists the allowed keys.
func TestGenerateRefusesUnknownConfigAndAssetURLs(t *testing.T) {
	svc := &mediatrail.MediaService{Providers: keyedStub{}}
	for _, tc := range []struct {
		name    string
		route   mediatrail.Capability
		in      mediatrail.GenerateInput
		field   string
		allowed []string
	}{
		{"a typo", mediatrail.CapabilityTTS, mediatrail.GenerateInput{Provider: "stub", Prompt: "hi", Config: map[string]any{"voise": "x", "speed": 1}},
			"config.voise", []string{"speed", "voice"}},
		{"a key of another capability", mediatrail.CapabilityImageGen, mediatrail.GenerateInput{Provider: "stub", Prompt: "a fox", Config: map[string]any{"voice": "x"}},
			"config.voice", []string{}},
		{"the generic route with an alias", "", mediatrail.GenerateInput{Provider: "stub", MediaType: "speech", Prompt: "hi", Config: map[string]any{"size": "1x1"}},
			"config.size", []string{"speed", "voice"}},
		{"asset URL without an id", mediatrail.CapabilitySTT, mediatrail.GenerateInput{Provider: "stub", InputURL: "asset://nope"}, "input_url", nil},
		{"asset URL with a path", mediatrail.CapabilitySTT, mediatrail.GenerateInput{Provider: "stub", InputURL: "asset://" + mediatrail.NewID() + "/x"}, "input_url", nil},
		{"asset URL with a query", mediatrail.CapabilitySTT, mediatrail.GenerateInput{Provider: "stub", InputURL: "asset://" + mediatrail.NewID() + "?a=1"}, "input_url", nil},
	} {
		_, err := svc.Generate(context.Background(), "ws", tc.route, tc.in)
		var e *mediatrail.Error
		if !errors.As(err, &e) || e.Code != mediatrail.EINVALID || e.Details["field"] != tc.field {
			t.Errorf("%s: error %v, want %s on field %s", tc.name, err, mediatrail.EINVALID, tc.field)
			continue
		}
		if tc.allowed == nil {
			continue
		}
		if got, _ := e.Details["allowed"].([]string); !slices.Equal(got, tc.allowed) {
			t.Errorf("%s: allowed %v, want %v (%s)", tc.name, e.Details["allowed"], tc.allowed, e.Message)
		}
	}
}
