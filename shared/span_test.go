package mediatrail_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// Every trace filter value outside its set is EINVALID naming the filter,
// never ignored; level stands for a status.
func TestSpanFilterValuesAreChecked(t *testing.T) {
	svc := &mediatrail.TraceService{Spans: noSpans{}, Currency: "USD"}
	for _, c := range []struct {
		name  string
		f     mediatrail.SpanFilter
		field string // "" for accepted
	}{
		{"status", mediatrail.SpanFilter{Status: "done"}, "status"},
		{"level", mediatrail.SpanFilter{Level: "debug"}, "level"},
		{"level contradicts status", mediatrail.SpanFilter{Level: "error", Status: mediatrail.SpanCompleted}, "level"},
		{"media type", mediatrail.SpanFilter{MediaType: "hologram"}, "media_type"},
		{"kind", mediatrail.SpanFilter{Kind: "text"}, "kind"},
		{"agent", mediatrail.SpanFilter{AgentID: "a b"}, "agent_id"},
		{"session", mediatrail.SpanFilter{SessionID: "s#1"}, "session_id"},
		{"provider", mediatrail.SpanFilter{Provider: "x/y"}, "provider"},
		{"model control", mediatrail.SpanFilter{Model: "a\x00b"}, "model_name"},
		{"dates reversed", mediatrail.SpanFilter{From: time.Unix(2e9, 0), To: time.Unix(1.9e9, 0)}, "date_to"},
		{"all valid", mediatrail.SpanFilter{Status: "error", Level: "error", MediaType: "video_from_img", Kind: "video",
			AgentID: "agent-1", SessionID: "sess-1", Provider: "runway", Model: "gen4.5"}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			for op, call := range map[string]func() error{
				"list":    func() error { _, err := svc.List(context.Background(), "ws", c.f); return err },
				"summary": func() error { _, err := svc.Summary(context.Background(), "ws", c.f); return err },
			} {
				err := call()
				var e *mediatrail.Error
				switch {
				case c.field == "" && err != nil:
					t.Errorf("%s: %v, want none", op, err)
				case c.field != "" && (!errors.As(err, &e) || e.Code != mediatrail.EINVALID || e.Details["field"] != c.field):
					t.Errorf("%s: %v, want EINVALID on %s", op, err, c.field)
				}
			}
		})
	}
}

// A span answers the SDK's level and flags a completed call without a price.
func TestSpanJSONLevelAndUnpriced(t *testing.T) {
	for _, c := range []struct {
		status   mediatrail.SpanStatus
		priced   bool
		level    string
		unpriced bool
	}{
		{mediatrail.SpanCompleted, true, "info", false},
		{mediatrail.SpanCompleted, false, "info", true},
		{mediatrail.SpanError, false, "error", false},
		{mediatrail.SpanCancelled, false, "warning", false},
	} {
		b, err := json.Marshal(mediatrail.Span{ID: "s", Status: c.status, Cost: mediatrail.Cost{Priced: c.priced}})
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			Level    string `json:"level"`
			Unpriced bool   `json:"unpriced"`
		}
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		if got.Level != c.level || got.Unpriced != c.unpriced {
			t.Errorf("%s priced=%v: level %q unpriced %v, want %q %v", c.status, c.priced, got.Level, got.Unpriced, c.level, c.unpriced)
		}
	}
}

// The summary answers the SDK's fields beside the breakdowns.
func TestSpanSummarySDKFields(t *testing.T) {
	sum := mediatrail.NewSpanSummary("USD")
	for _, sp := range []*mediatrail.Span{
		{Provider: "runway", Model: "gen4.5", MediaType: "video_gen", Status: mediatrail.SpanCompleted, SessionID: "a", DurationMs: 100, Cost: mediatrail.Cost{Amount: 0.6, Priced: true}},
		{Provider: "runway", Model: "gen4.5", MediaType: "video_gen", Status: mediatrail.SpanError, SessionID: "a", DurationMs: 300},
		{Provider: "fal", Model: "new-model", MediaType: "image_gen", Status: mediatrail.SpanCompleted, SessionID: "b", DurationMs: 200},
	} {
		sum.Add(sp)
	}
	b, err := json.Marshal(sum)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]float64{
		"total_traces": 3, "total_tokens": 0, "total_cost": 0.6, "avg_duration_ms": 200, "error_count": 1,
		"unique_models": 2, "unique_sessions": 2, "unpriced_count": 1,
	} {
		if got[k] != want {
			t.Errorf("%s = %v, want %v", k, got[k], want)
		}
	}
	if _, ok := got["by_provider"].(map[string]any)["runway"]; !ok {
		t.Errorf("by_provider = %v", got["by_provider"])
	}
}

// noSpans is a SpanStore with no spans, for checks that stop before the store.
type noSpans struct{ mediatrail.SpanStore }

func (noSpans) ListSpans(context.Context, string, mediatrail.SpanFilter) (*mediatrail.SpanPage, error) {
	return &mediatrail.SpanPage{}, nil
}
func (noSpans) EachSpan(context.Context, string, mediatrail.SpanFilter, func(*mediatrail.Span) error) error {
	return nil
}
func (noSpans) SpanUsage(context.Context, string, mediatrail.UsageScope) ([]mediatrail.SpanUsage, error) {
	return nil, nil
}
