package dynamo_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// newSpan returns a completed span of ws started at `at` that produced asset a
// (when not nil).
func newSpan(ws string, at time.Time, a *mediatrail.Asset, mods ...func(*mediatrail.Span)) *mediatrail.Span {
	sp := &mediatrail.Span{
		ID: mediatrail.NewIDAt(at), WorkspaceID: ws, TraceID: "trace-1", ExecutionID: "exec-1", AgentID: "agent-1",
		Name: "media.image_gen", Kind: mediatrail.SpanImage, MediaType: mediatrail.CapabilityImageGen,
		Provider: "openai", Model: "dall-e-3", Prompt: "a cat", Status: mediatrail.SpanCompleted,
		DurationMs: 1200, Cost: mediatrail.Cost{Amount: 0.04, Currency: "USD", Quantity: 1, Unit: "image", UnitPrice: 0.04, Priced: true, Source: "provider"},
		Attributes: map[string]any{"config": map[string]any{"size": "1024x1024"}},
		StartedAt:  at, EndedAt: at.Add(1200 * time.Millisecond),
	}
	if a != nil {
		sp.AssetID, sp.AssetURL, sp.ContentType = a.ID, "/api/v1/assets/"+a.ID, a.ContentType
		a.SpanID = sp.ID
	}
	for _, m := range mods {
		m(sp)
	}
	return sp
}

func claimOf(ws, key string, now time.Time) *mediatrail.IdempotencyRecord {
	return &mediatrail.IdempotencyRecord{
		WorkspaceID: ws, Key: key, RequestHash: "hash-1", State: mediatrail.IdempotencyPending, Token: mediatrail.NewID(),
		ClaimedAt: now, LeaseUntil: now.Add(time.Minute), ExpiresAt: now.Add(mediatrail.IdempotencyTTL),
	}
}

func completed(c *mediatrail.IdempotencyRecord, resp *mediatrail.GenerateOutput) *mediatrail.IdempotencyRecord {
	done := *c
	done.State, done.Response = mediatrail.IdempotencyCompleted, resp
	return &done
}

func mustSpans(tb testing.TB, e *env, ws string, f mediatrail.SpanFilter) *mediatrail.SpanPage {
	tb.Helper()
	p, err := e.store.ListSpans(context.Background(), ws, f)
	if err != nil {
		tb.Fatalf("list spans %+v: %v", f, err)
	}
	return p
}

func spanIDs(spans []*mediatrail.Span) []string {
	out := []string{}
	for _, s := range spans {
		out = append(out, s.ID)
	}
	return out
}

// RecordMedia writes the asset (counted), the span and the completed claim
// together; a lost claim writes nothing.
func TestRecordMediaIsOneTransaction(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	now := time.Now().UTC()

	claim := claimOf("ws", "key-1", now)
	if held, err := e.store.ClaimIdempotencyKey(ctx, claim); err != nil || held != nil {
		t.Fatalf("first claim: held %+v, err %v", held, err)
	}
	held, err := e.store.ClaimIdempotencyKey(ctx, claimOf("ws", "key-1", now))
	if err != nil || held == nil || held.State != mediatrail.IdempotencyPending || held.Token != claim.Token || held.RequestHash != "hash-1" {
		t.Fatalf("second claim while pending: held %+v, err %v", held, err)
	}

	a := newAsset("ws", now)
	sp := newSpan("ws", now, a)
	resp := &mediatrail.GenerateOutput{Status: "completed", AssetID: a.ID, SpanID: sp.ID, ContentType: "image/png", Cost: 0.04, Metadata: map[string]any{"width": float64(64)}}
	if err := e.store.RecordMedia(ctx, a, sp, completed(claim, resp), nil); err != nil {
		t.Fatalf("record: %v", err)
	}
	got, err := e.store.FindAsset(ctx, "ws", a.ID)
	if err != nil {
		t.Fatal(err)
	}
	checkAsset(t, got, a)
	if c := counters(t, e, "ws"); c["COUNT#ALL"] != 1 {
		t.Errorf("counters = %v", c)
	}
	spans := mustSpans(t, e, "ws", mediatrail.SpanFilter{}).Spans
	if len(spans) != 1 || !spans[0].StartedAt.Equal(sp.StartedAt) {
		t.Fatalf("spans = %+v", spans)
	}
	want := *sp
	gotSpan := *spans[0]
	gotSpan.StartedAt, gotSpan.EndedAt, want.StartedAt, want.EndedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if !reflect.DeepEqual(gotSpan, want) {
		t.Errorf("span\n got %+v\nwant %+v", gotSpan, want)
	}
	held, err = e.store.ClaimIdempotencyKey(ctx, claimOf("ws", "key-1", now))
	if err != nil || held == nil || held.State != mediatrail.IdempotencyCompleted || !reflect.DeepEqual(held.Response, resp) {
		t.Fatalf("claim after completion: held %+v, err %v", held, err)
	}

	// Another workspace's key of the same name is its own.
	if held, err := e.store.ClaimIdempotencyKey(ctx, claimOf("other", "key-1", now)); err != nil || held != nil {
		t.Fatalf("claim in another workspace: held %+v, err %v", held, err)
	}

	// A claim taken over (its token lost) cancels the whole transaction.
	lost := claimOf("ws", "key-2", now)
	if _, err := e.store.ClaimIdempotencyKey(ctx, lost); err != nil {
		t.Fatal(err)
	}
	lost.Token = mediatrail.NewID()
	b := newAsset("ws", now.Add(time.Second))
	checkCode(t, e.store.RecordMedia(ctx, b, newSpan("ws", now.Add(time.Second), b), completed(lost, resp), nil), mediatrail.ECONFLICT)
	if _, err := e.store.FindAsset(ctx, "ws", b.ID); !mediatrail.IsNotFound(err) {
		t.Errorf("asset of a lost claim: %v", err)
	}
	if n := len(mustSpans(t, e, "ws", mediatrail.SpanFilter{}).Spans); n != 1 {
		t.Errorf("spans after a lost claim: %d", n)
	}
}

func TestIdempotencyClaimLifecycle(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	now := time.Now().UTC()
	for i, tc := range []struct {
		name  string
		first func(c *mediatrail.IdempotencyRecord)
		later time.Duration // the second claim is made this long after the first
		free  bool
	}{
		{"pending within its lease", nil, 30 * time.Second, false},
		{"pending past its lease (crashed)", nil, 2 * time.Minute, true},
		{"expired", func(c *mediatrail.IdempotencyRecord) { c.ExpiresAt = now.Add(time.Hour) }, 2 * time.Hour, true},
	} {
		key := fmt.Sprintf("life-%d", i)
		first := claimOf("ws", key, now)
		if tc.first != nil {
			tc.first(first)
		}
		if _, err := e.store.ClaimIdempotencyKey(ctx, first); err != nil {
			t.Fatal(err)
		}
		held, err := e.store.ClaimIdempotencyKey(ctx, claimOf("ws", key, now.Add(tc.later)))
		if err != nil || (held == nil) != tc.free {
			t.Errorf("%s: held %+v, err %v, want free %v", tc.name, held, err, tc.free)
		}
	}

	// A failure releases the claim and keeps its span.
	c := claimOf("ws", "failing", now)
	if _, err := e.store.ClaimIdempotencyKey(ctx, c); err != nil {
		t.Fatal(err)
	}
	failed := newSpan("ws", now, nil, func(s *mediatrail.Span) {
		s.Status, s.Error, s.Cost = mediatrail.SpanError, &mediatrail.SpanFailure{Code: "provider_error", Message: "provider openai failed"}, mediatrail.Cost{Currency: "USD"}
	})
	if err := e.store.RecordFailure(ctx, failed, c); err != nil {
		t.Fatal(err)
	}
	if held, err := e.store.ClaimIdempotencyKey(ctx, claimOf("ws", "failing", now)); err != nil || held != nil {
		t.Errorf("claim after a failure: held %+v, err %v", held, err)
	}
	// A claim no longer held is not released, but the span is written.
	other := newSpan("ws", now, nil, func(s *mediatrail.Span) { s.Status = mediatrail.SpanError })
	if err := e.store.RecordFailure(ctx, other, c); err != nil {
		t.Fatal(err)
	}
	if held, _ := e.store.ClaimIdempotencyKey(ctx, claimOf("ws", "failing", now)); held == nil {
		t.Errorf("another request's claim was released")
	}
	got := spanIDs(mustSpans(t, e, "ws", mediatrail.SpanFilter{Kind: mediatrail.SpanImage}).Spans)
	if !slices.Contains(got, failed.ID) || !slices.Contains(got, other.ID) {
		t.Errorf("error spans %v, want %s and %s", got, failed.ID, other.ID)
	}
}

func TestListSpans(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var all []*mediatrail.Span
	kinds := []mediatrail.SpanKind{mediatrail.SpanSpeech, mediatrail.SpanImage, mediatrail.SpanVideo}
	for i := range 9 {
		at := base.Add(time.Duration(i) * time.Minute)
		sp := newSpan("ws", at, nil, func(s *mediatrail.Span) {
			s.Kind = kinds[i%3]
			s.ExecutionID = fmt.Sprintf("exec-%d", i%2)
			s.TraceID = fmt.Sprintf("trace-%d", i/3)
		})
		if err := e.store.RecordFailure(ctx, sp, nil); err != nil {
			t.Fatal(err)
		}
		all = append(all, sp)
	}
	// Another workspace and an asset in the same execution partition.
	if err := e.store.RecordFailure(ctx, newSpan("other", base, nil), nil); err != nil {
		t.Fatal(err)
	}
	MustCreate(t, e.store, newAsset("ws", base, func(a *mediatrail.Asset) { a.ExecutionID = "exec-0" }))

	pick := func(keep func(*mediatrail.Span) bool) []string {
		var out []string
		for i := len(all) - 1; i >= 0; i-- {
			if keep(all[i]) {
				out = append(out, all[i].ID)
			}
		}
		return out
	}
	for _, tc := range []struct {
		name string
		f    mediatrail.SpanFilter
		keep func(*mediatrail.Span) bool
	}{
		{"all", mediatrail.SpanFilter{}, func(*mediatrail.Span) bool { return true }},
		{"execution", mediatrail.SpanFilter{ExecutionID: "exec-0"}, func(s *mediatrail.Span) bool { return s.ExecutionID == "exec-0" }},
		{"trace", mediatrail.SpanFilter{TraceID: "trace-1"}, func(s *mediatrail.Span) bool { return s.TraceID == "trace-1" }},
		{"kind", mediatrail.SpanFilter{Kind: mediatrail.SpanVideo}, func(s *mediatrail.Span) bool { return s.Kind == mediatrail.SpanVideo }},
		{"execution and kind", mediatrail.SpanFilter{ExecutionID: "exec-1", Kind: mediatrail.SpanImage}, func(s *mediatrail.Span) bool {
			return s.ExecutionID == "exec-1" && s.Kind == mediatrail.SpanImage
		}},
		{"dates, inclusive", mediatrail.SpanFilter{From: base.Add(2 * time.Minute), To: base.Add(5 * time.Minute)}, func(s *mediatrail.Span) bool {
			return !s.StartedAt.Before(base.Add(2*time.Minute)) && !s.StartedAt.After(base.Add(5*time.Minute))
		}},
		{"nothing", mediatrail.SpanFilter{TraceID: "none"}, func(*mediatrail.Span) bool { return false }},
	} {
		want := pick(tc.keep)
		f := tc.f
		f.Limit = 2
		var got []string
		for page := 0; ; page++ {
			p := mustSpans(t, e, "ws", f)
			if p.Total != len(want) {
				t.Errorf("%s: total %d, want %d", tc.name, p.Total, len(want))
			}
			got = append(got, spanIDs(p.Spans)...)
			if p.NextCursor == "" {
				break
			}
			f.Cursor = p.NextCursor
		}
		if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Errorf("%s: cursor pages %v, want %v", tc.name, got, want)
		}
		// Page paging agrees with cursor paging.
		if len(want) > 2 {
			p := mustSpans(t, e, "ws", mediatrail.SpanFilter{ExecutionID: tc.f.ExecutionID, TraceID: tc.f.TraceID, Kind: tc.f.Kind, From: tc.f.From, To: tc.f.To, Limit: 2, Page: 2})
			if !slices.Equal(spanIDs(p.Spans), want[2:min(4, len(want))]) {
				t.Errorf("%s: page 2 = %v, want %v", tc.name, spanIDs(p.Spans), want[2:min(4, len(want))])
			}
		}
		var each []string
		if err := e.store.EachSpan(ctx, "ws", tc.f, func(s *mediatrail.Span) error { each = append(each, s.ID); return nil }); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(each, want) && !(len(each) == 0 && len(want) == 0) {
			t.Errorf("%s: each %v, want %v", tc.name, each, want)
		}
	}
	// A cursor is bound to its workspace and filter.
	p := mustSpans(t, e, "ws", mediatrail.SpanFilter{Limit: 2})
	_, err := e.store.ListSpans(ctx, "ws", mediatrail.SpanFilter{Limit: 2, Kind: mediatrail.SpanImage, Cursor: p.NextCursor})
	checkCode(t, err, mediatrail.EINVALID)
	_, err = e.store.ListSpans(ctx, "other", mediatrail.SpanFilter{Limit: 2, Cursor: p.NextCursor})
	checkCode(t, err, mediatrail.EINVALID)
}

func TestMarkSpanAssetDeleted(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	now := time.Now().UTC()
	a := newAsset("ws", now)
	sp := newSpan("ws", now, a)
	if err := e.store.RecordMedia(ctx, a, sp, nil, nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ ws, span, asset string }{
		{"ws", sp.ID, "2ouzm0mSJ4Aq5JQYkM5S5RxJcBB"}, // another asset: left alone
		{"other", sp.ID, a.ID},                       // another workspace: left alone
		{"ws", mediatrail.NewID(), a.ID},             // no such span: nothing created
		{"ws", "span-from-a-client", a.ID},           // not one of ours
	} {
		if err := e.store.MarkSpanAssetDeleted(ctx, tc.ws, tc.span, tc.asset, now); err != nil {
			t.Fatal(err)
		}
	}
	spans := mustSpans(t, e, "ws", mediatrail.SpanFilter{}).Spans
	if len(spans) != 1 || spans[0].AssetDeleted {
		t.Fatalf("spans = %+v", spans)
	}
	for range 2 {
		if err := e.store.MarkSpanAssetDeleted(ctx, "ws", sp.ID, a.ID, now); err != nil {
			t.Fatal(err)
		}
	}
	if spans := mustSpans(t, e, "ws", mediatrail.SpanFilter{}).Spans; len(spans) != 1 || !spans[0].AssetDeleted || spans[0].AssetID != a.ID {
		t.Fatalf("spans = %+v", spans)
	}
}
