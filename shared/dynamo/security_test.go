package dynamo_test

import (
	"context"
	"strings"
	"testing"
	"time"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// A span DynamoDB cannot hold (config nested 40 levels, a 600 KB input URL)
// is refused; its Truncated form is stored, flagged, with the cost intact, so
// a provider call that ran is never invisible.
func TestSecurity_TruncatedSpanIsStored(t *testing.T) {
	deep := map[string]any{"leaf": 1}
	for range 40 {
		deep = map[string]any{"a": deep}
	}
	for _, tc := range []struct {
		name string
		mod  func(*mediatrail.Span)
	}{
		{"deep config", func(sp *mediatrail.Span) { sp.Attributes["config"] = deep }},
		{"600 KB input URL", func(sp *mediatrail.Span) { sp.InputURL = "https://example.com/" + strings.Repeat("a", 600<<10) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			sp := newSpan("ws-1", time.Now().UTC(), nil, tc.mod, func(sp *mediatrail.Span) {
				sp.Status, sp.Error = mediatrail.SpanError, &mediatrail.SpanFailure{Code: "validation_error", Message: "no"}
			})
			if err := e.store.RecordFailure(ctx, sp, nil); err == nil {
				t.Fatal("the full span was stored; this test no longer reproduces the limit")
			}
			if err := e.store.RecordFailure(ctx, sp.Truncated(), nil); err != nil {
				t.Fatalf("RecordFailure(truncated): %v", err)
			}
			got := mustSpans(t, e, "ws-1", mediatrail.SpanFilter{})
			if len(got.Spans) != 1 {
				t.Fatalf("%d spans, want 1", len(got.Spans))
			}
			s := got.Spans[0]
			if s.ID != sp.ID || s.Attributes["truncated"] != true || s.Cost.Amount != sp.Cost.Amount || len(s.InputURL) > 1<<10 {
				t.Errorf("stored span: id %s attributes %v cost %v input %d bytes", s.ID, s.Attributes, s.Cost.Amount, len(s.InputURL))
			}
		})
	}
}
