package mediatrail_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/memory"
)

// TestTraceSummaryEqualsTheSpansSum: whichever plan Summary makes (the
// counters, a walk of the spans, or whole days of counters plus walks of
// the partial days at the ends), its totals are the sum of the matching
// spans.
func TestTraceSummaryEqualsTheSpansSum(t *testing.T) {
	store := &memory.Store{}
	caps := []mediatrail.Capability{mediatrail.CapabilityTTS, mediatrail.CapabilityImageGen, mediatrail.CapabilityVideoGen}
	var all []*mediatrail.Span
	for i := range 40 {
		c := caps[i%3]
		start := clock.Add(-time.Duration(i) * 7 * time.Hour)
		sp := &mediatrail.Span{ID: mediatrail.NewIDAt(start), WorkspaceID: "ws-a", ExecutionID: fmt.Sprintf("exec-%d", i%4), TraceID: fmt.Sprintf("trace-%d", i%5),
			Kind: c.SpanKind(), MediaType: c, Provider: []string{"openai", "runway"}[i%2], Model: "m", StartedAt: start, DurationMs: int64(i),
			Status: []mediatrail.SpanStatus{mediatrail.SpanCompleted, mediatrail.SpanError}[i%2], Cost: mediatrail.Cost{Amount: float64(i) / 8}}
		store.AddSpan(sp)
		all = append(all, sp)
	}
	store.AddSpan(&mediatrail.Span{ID: mediatrail.NewIDAt(clock), WorkspaceID: "ws-b", StartedAt: clock, Cost: mediatrail.Cost{Amount: 100}})
	traces := &mediatrail.TraceService{Spans: store, Currency: "USD"}
	day := func(d int, h int) time.Time {
		return mediatrail.Day(clock).AddDate(0, 0, -d).Add(time.Duration(h) * time.Hour)
	}
	for _, f := range []mediatrail.SpanFilter{
		{},
		{Kind: mediatrail.SpanImage},
		{ExecutionID: "exec-1"},
		{ExecutionID: "exec-1", From: day(3, 0)},
		{TraceID: "trace-2"},
		{From: day(5, 0)},
		{To: day(2, 13)},
		{From: day(6, 5), To: day(1, 7)},
		{From: day(6, 5), To: day(6, 20)},
		{From: day(4, 20), To: day(3, 4)},
		{From: day(8, 0), To: day(2, 0).Add(-time.Nanosecond), Kind: mediatrail.SpanVideo},
	} {
		t.Run(fmt.Sprintf("%+v", f), func(t *testing.T) {
			got, err := traces.Summary(context.Background(), "ws-a", f)
			if err != nil {
				t.Fatal(err)
			}
			want := mediatrail.NewSpanSummary("USD")
			for _, sp := range all {
				if (f.ExecutionID == "" || sp.ExecutionID == f.ExecutionID) && (f.TraceID == "" || sp.TraceID == f.TraceID) && (f.Kind == "" || sp.Kind == f.Kind) &&
					(f.From.IsZero() || !sp.StartedAt.Before(f.From)) && (f.To.IsZero() || !sp.StartedAt.After(f.To)) {
					want.Add(sp)
				}
			}
			// No budget is set: no alert, whatever the lister's empty value.
			if len(got.Alerts) != 0 {
				t.Errorf("alerts %v without a budget", got.Alerts)
			}
			got.Alerts = want.Alerts
			g, w := mustMarshal(t, got), mustMarshal(t, want)
			if g != w {
				t.Errorf("summary\n%s\nwant\n%s", g, w)
			}
		})
	}
}

// TestTraceFilters: a malformed span filter is refused on its field.
func TestTraceFilters(t *testing.T) {
	traces := &mediatrail.TraceService{Spans: &memory.Store{}}
	for _, tc := range []struct {
		f     mediatrail.SpanFilter
		field string
	}{
		{mediatrail.SpanFilter{ExecutionID: "a b"}, "execution_id"},
		{mediatrail.SpanFilter{TraceID: "a/b"}, "trace_id"},
		{mediatrail.SpanFilter{Kind: "sculpture"}, "type"},
		{mediatrail.SpanFilter{From: clock, To: clock.Add(-time.Second)}, "date_to"},
		{mediatrail.SpanFilter{Limit: mediatrail.MaxLimit + 1}, "limit"},
	} {
		_, err := traces.List(context.Background(), "ws-a", tc.f)
		_, err2 := traces.Summary(context.Background(), "ws-a", tc.f)
		if fieldOf(err) == "" || fieldOf(err) != fieldOf(err2) || tc.field != "type" && fieldOf(err) != tc.field {
			t.Errorf("%+v: %v / %v, want field %q", tc.f, err, err2, tc.field)
		}
	}
	page, err := traces.List(context.Background(), "ws-a", mediatrail.SpanFilter{})
	if err != nil || page.Limit != mediatrail.DefaultLimit || page.Page != 1 {
		t.Errorf("defaults: %+v, %v", page, err)
	}
}

// TestModelCatalogue: the models are the price table's rows the provider
// offers, by capability, each saying whether and how the workspace can use
// it.
func TestModelCatalogue(t *testing.T) {
	prices := &mediatrail.PriceTable{Currency: "USD", Prices: []mediatrail.Price{
		{Provider: "studio", Model: "voice-1", Unit: mediatrail.UnitCharacter, Price: 1e-5},
		{Provider: "studio", Model: "ears-1", Unit: mediatrail.UnitSecond, Price: 1e-4},
		{Provider: "studio", Model: "paint-1", Unit: mediatrail.UnitImage, Price: 0.04},
		{Provider: "studio", Model: "paint-1", Unit: mediatrail.UnitImage, Price: 0.08, When: map[string]string{"quality": "hd"}},
		{Provider: "studio", Model: "paint-edit", Unit: mediatrail.UnitMegapixel, Price: 0.01},
		{Provider: "studio", Model: "gpt-image-1", Unit: mediatrail.UnitImage, Price: 0.04},
		{Provider: "studio", Model: "film-1", Unit: mediatrail.UnitVideoSecond, Price: 0.1},
		{Provider: "acme", Model: "x", Unit: mediatrail.UnitImage, Price: 1},
	}}
	x := newStudio()
	x.withTools(t)
	models := &mediatrail.ModelService{Credentials: x.media.Credentials, Prices: prices}
	ctx := context.Background()
	for _, tc := range []struct {
		ws     string
		f      mediatrail.ModelFilter
		ids    int
		source string
	}{
		{"ws-a", mediatrail.ModelFilter{}, 8, "workspace"},
		{"ws-b", mediatrail.ModelFilter{}, 8, ""},
		{"ws-a", mediatrail.ModelFilter{MediaType: mediatrail.CapabilityImageEdit}, 2, "workspace"},
		{"ws-a", mediatrail.ModelFilter{Provider: "STUDIO", IsActive: ptr(true)}, 8, "workspace"},
		{"ws-a", mediatrail.ModelFilter{Provider: "acme"}, 0, ""},
		{"ws-a", mediatrail.ModelFilter{IsActive: ptr(false)}, 0, ""},
	} {
		got, err := models.List(ctx, tc.ws, tc.f)
		if err != nil || len(got) != tc.ids {
			t.Fatalf("%s %+v: %d models, %v", tc.ws, tc.f, len(got), err)
		}
		for _, m := range got {
			if m.Config["credential_source"] != tc.source || m.Config["available"] != (tc.source != "") {
				t.Errorf("%s: %s available %v from %q", tc.ws, m.ID, m.Config["available"], m.Config["credential_source"])
			}
			if m.ID == "studio/image_gen/paint-1" && len(m.Config["prices"].([]mediatrail.Price)) != 2 {
				t.Errorf("%s prices %v", m.ID, m.Config["prices"])
			}
		}
	}
	x.media.Credentials.AllowPlatform = true
	if got, _ := models.List(ctx, "ws-b", mediatrail.ModelFilter{}); got[0].Config["credential_source"] != "platform" {
		t.Errorf("with the platform's keys: %v", got[0].Config)
	}
}
