package dynamo_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/testenv"
)

// Summaries read the usage counters that every span write charges in its own
// transaction (media calls, failed calls, finished jobs), and answer exactly
// what adding up the spans themselves answers, for every filter: those the
// counters serve and those that walk spans.
func TestSummaryFromUsageCounters(t *testing.T) {
	e := newEnv(t)
	ctx := testenv.Context(t)
	ws := "ws-usage"
	day := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	at := func(d int, h float64) time.Time {
		return day.AddDate(0, 0, d).Add(time.Duration(h * float64(time.Hour)))
	}

	// Four days of calls: two providers, three media types, models with and
	// without names, two executions, errors, and costs that float sums blur.
	type call struct {
		at     time.Time
		c      mediatrail.Capability
		prov   string
		model  string
		exec   string
		failed bool
		cost   float64
	}
	calls := []call{
		{at(0, 1), mediatrail.CapabilityImageGen, "openai", "dall-e-3", "exec-1", false, 0.04},
		{at(0, 13), mediatrail.CapabilityTTS, "openai", "tts-1", "exec-1", false, 0.1},
		{at(0, 23.5), mediatrail.CapabilityTTS, "elevenlabs", "", "exec-2", true, 0},
		{at(1, 0), mediatrail.CapabilityImageGen, "openai", "dall-e-3", "", false, 0.2},
		{at(1, 6), mediatrail.CapabilityVideoGen, "runway", "gen4.5", "exec-1", false, 0.7},
		{at(1, 12), mediatrail.CapabilityTTS, "openai", "tts-1", "exec-2", false, 0.1},
		{at(2, 3), mediatrail.CapabilitySTT, "openai", "whisper-1", "exec-1", true, 0},
		{at(2, 23.99), mediatrail.CapabilityImageGen, "openai", "gpt-image-1", "exec-2", false, 0.3},
		{at(3, 0.5), mediatrail.CapabilityTTS, "elevenlabs", "eleven_v3", "exec-1", false, 0.000015 * 1234},
	}
	for i, c := range calls {
		sp := newSpan(ws, c.at, nil, func(s *mediatrail.Span) {
			s.MediaType, s.Kind, s.Name, s.Provider, s.Model, s.ExecutionID = c.c, c.c.SpanKind(), "media."+string(c.c), c.prov, c.model, c.exec
			s.TraceID = fmt.Sprintf("trace-%d", i%2)
			s.Cost.Amount, s.DurationMs, s.MediaDurationSeconds = c.cost, int64(100*(i+1)), float64(i)/3
			if c.failed {
				s.Status, s.Error = mediatrail.SpanError, &mediatrail.SpanFailure{Code: "provider_error", Message: "no"}
			}
		})
		var err error
		switch {
		case c.failed:
			err = e.store.RecordFailure(ctx, sp, nil)
		case c.c == mediatrail.CapabilityVideoGen:
			j := newJob(ws, c.at)
			if err = e.store.CreateJob(ctx, j, nil); err == nil {
				done := *j
				done.Status = mediatrail.JobCompleted
				a := newAsset(ws, c.at)
				err = e.store.FinishJob(ctx, &done, sp, a, nil)
			}
		default:
			err = e.store.RecordMedia(ctx, newAsset(ws, c.at), sp, nil, nil)
		}
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	// A transaction that fails charges nothing: the same span again.
	dup := newSpan(ws, at(0, 1), nil)
	if err := e.store.RecordFailure(ctx, dup, nil); err != nil {
		t.Fatal(err)
	}
	checkCode(t, e.store.RecordMedia(ctx, newAsset(ws, at(0, 1)), dup, nil, nil), mediatrail.ECONFLICT)
	// Another workspace's calls never count.
	if err := e.store.RecordFailure(ctx, newSpan("ws-other", at(0, 2), nil), nil); err != nil {
		t.Fatal(err)
	}

	svc := &mediatrail.TraceService{Spans: e.store, Currency: "USD"}
	// counted: answered from counters alone, without reading a span.
	for _, tc := range []struct {
		name    string
		f       mediatrail.SpanFilter
		counted bool
	}{
		{"everything", mediatrail.SpanFilter{}, true},
		{"kind", mediatrail.SpanFilter{Kind: mediatrail.SpanSpeech}, true},
		{"execution", mediatrail.SpanFilter{ExecutionID: "exec-1"}, true},
		{"execution and kind", mediatrail.SpanFilter{ExecutionID: "exec-2", Kind: mediatrail.SpanImage}, true},
		{"unknown execution", mediatrail.SpanFilter{ExecutionID: "exec-9"}, true},
		{"whole days", mediatrail.SpanFilter{From: at(1, 0), To: at(3, 0).Add(-time.Nanosecond)}, true},
		{"whole days and kind", mediatrail.SpanFilter{From: at(0, 0), To: at(2, 0).Add(-time.Nanosecond), Kind: mediatrail.SpanSpeech}, true},
		{"from mid-day", mediatrail.SpanFilter{From: at(0, 12)}, false},
		{"to mid-day", mediatrail.SpanFilter{To: at(2, 12)}, false},
		{"partial days on both sides", mediatrail.SpanFilter{From: at(0, 12), To: at(2, 12)}, false},
		{"inside one day", mediatrail.SpanFilter{From: at(1, 1), To: at(1, 23)}, false},
		{"across one midnight", mediatrail.SpanFilter{From: at(0, 20), To: at(1, 2)}, false},
		{"inclusive bounds", mediatrail.SpanFilter{From: at(0, 13), To: at(1, 12)}, false},
		{"trace", mediatrail.SpanFilter{TraceID: "trace-1"}, false},
		{"execution within dates", mediatrail.SpanFilter{ExecutionID: "exec-1", From: at(1, 0)}, false},
		{"before everything", mediatrail.SpanFilter{To: at(-1, 0).Add(-time.Nanosecond)}, true},
		{"after everything", mediatrail.SpanFilter{From: at(5, 0)}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.rec.take()
			got, err := svc.Summary(ctx, ws, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			var spanQueries int
			for _, q := range e.rec.take() {
				if lo := q.ExpressionAttributeValues[":lo"].(*types.AttributeValueMemberS).Value; !strings.HasPrefix(lo, "USAGE#") {
					spanQueries++
				}
			}
			if counted := spanQueries == 0; counted != tc.counted {
				t.Errorf("%d queries of spans; want counters alone: %v", spanQueries, tc.counted)
			}
			want := mediatrail.NewSpanSummary("USD")
			if err := e.store.EachSpan(ctx, ws, tc.f, func(sp *mediatrail.Span) error { want.Add(sp); return nil }); err != nil {
				t.Fatal(err)
			}
			g, _ := json.Marshal(got)
			w, _ := json.Marshal(want)
			if string(g) != string(w) {
				t.Errorf("summary from counters\n%s\nwant (from the spans)\n%s", g, w)
			}
		})
	}
}
