package dynamo_test

import (
	"bytes"
	"context"
	"encoding/base64"
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

// Cursors carry a MAC under the table's own random key: one made elsewhere
// (another table, so another key) for the very same listing, or one whose id
// or page was changed, is refused; the real one works.
func TestSecurity_CursorsAreKeyed(t *testing.T) {
	e, other := newEnv(t), newEnv(t)
	fx := fixture("ws-1", 10)
	createFixture(t, e, fx)
	createFixture(t, other, fx)
	ctx := context.Background()
	mine := MustList(t, e.store, "ws-1", mediatrail.AssetFilter{Limit: 3}).NextCursor
	foreign := MustList(t, other.store, "ws-1", mediatrail.AssetFilter{Limit: 3}).NextCursor
	if mine == "" || foreign == "" || mine == foreign {
		t.Fatalf("cursors %q and %q: want two different ones", mine, foreign)
	}
	if _, err := e.store.ListAssets(ctx, "ws-1", mediatrail.AssetFilter{Limit: 3, Cursor: mine}); err != nil {
		t.Fatalf("own cursor: %v", err)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(mine)
	bumped := bytes.Clone(raw)
	bumped[1+27]++ // the page number
	for name, c := range map[string]string{
		"made under another key": foreign,
		"page changed":           base64.RawURLEncoding.EncodeToString(bumped),
	} {
		_, err := e.store.ListAssets(ctx, "ws-1", mediatrail.AssetFilter{Limit: 3, Cursor: c})
		if mediatrail.ErrorCode(err) != mediatrail.EINVALID {
			t.Errorf("%s: %v, want EINVALID", name, err)
		}
	}
}
