package dynamo_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/testenv"
)

func usdp(v float64) *float64 { return &v }

// TestBudgetParallelHolds: 20 parallel calls estimated at $1 against a
// monthly budget of $5 on DynamoDB Local: exactly 5 are held, the others
// refused with the limit and what is left; the counter holds what was held;
// releasing gives it back; another workspace is untouched.
func TestBudgetParallelHolds(t *testing.T) {
	t.Parallel()
	ctx := testenv.Context(t)
	e := newEnv(t)
	now := base
	svc := &mediatrail.BudgetService{Store: e.store, Now: func() time.Time { return now }}
	if _, err := svc.Set(ctx, "ws-b", mediatrail.SetBudgetInput{MonthlyUSD: usdp(5)}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var held []string
	var refusals []*mediatrail.Error
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := mediatrail.NewIDAt(now)
			err := svc.Reserve(ctx, "ws-b", mediatrail.BudgetCall{ID: id, Estimate: mediatrail.Cost{Amount: 1}, Holding: time.Minute})
			mu.Lock()
			defer mu.Unlock()
			var ae *mediatrail.Error
			switch {
			case err == nil:
				held = append(held, id)
			case errors.As(err, &ae) && ae.Code == mediatrail.EBUDGET:
				refusals = append(refusals, ae)
			default:
				t.Errorf("reserve: %v", err)
			}
		}()
	}
	wg.Wait()
	if got, want := len(held), 5; got != want {
		t.Fatalf("held %d calls, want %d", got, want)
	}
	for _, r := range refusals {
		if r.Details["limit"] != mediatrail.LimitMonthly || r.Details["remaining_usd"] != 0.0 {
			t.Errorf("refusal details %v, want limit monthly_usd with 0 left", r.Details)
		}
	}
	spend := func(ws string) mediatrail.Spend {
		t.Helper()
		s, err := e.store.SpendOf(ctx, ws, mediatrail.SpendScopes(now, "", ""))
		if err != nil {
			t.Fatal(err)
		}
		return s[0]
	}
	if got := spend("ws-b"); got.Reserved != 5 || got.Spent != 0 {
		t.Errorf("after the holds: %+v, want 5 reserved, 0 spent", got)
	}
	// A failed call releases its hold: the room is back for one more.
	if ok, err := e.store.Release(ctx, "ws-b", held[0]); !ok || err != nil {
		t.Fatalf("release: %v %v", ok, err)
	}
	if ok, err := e.store.Release(ctx, "ws-b", held[0]); ok || err != nil {
		t.Errorf("second release: %v %v, want a no-op", ok, err)
	}
	if got := spend("ws-b"); got.Reserved != 4 {
		t.Errorf("after a release: %+v, want 4 reserved", got)
	}
	if err := svc.Reserve(ctx, "ws-b", mediatrail.BudgetCall{ID: mediatrail.NewIDAt(now), Estimate: mediatrail.Cost{Amount: 1}, Holding: time.Minute}); err != nil {
		t.Errorf("reserve after a release: %v", err)
	}
	// Workspace isolation: ws-other has no budget and no spend.
	if err := svc.Reserve(ctx, "ws-other", mediatrail.BudgetCall{ID: mediatrail.NewIDAt(now), Estimate: mediatrail.Cost{Amount: 100}, Holding: time.Minute}); err != nil {
		t.Errorf("workspace without a budget: %v", err)
	}
	if got := spend("ws-other"); got.Reserved != 0 || got.Spent != 0 {
		t.Errorf("ws-other spend %+v, want none", got)
	}
	v, err := svc.Get(ctx, "ws-other", "", "")
	if err != nil || v.MonthlyUSD != nil {
		t.Errorf("ws-other budget %+v %v, want no limit", v, err)
	}
	// An abandoned hold expires: once past its time, a refused call
	// releases it and gets through.
	now = now.Add(2 * time.Minute)
	if err := svc.Reserve(ctx, "ws-b", mediatrail.BudgetCall{ID: mediatrail.NewIDAt(now), Estimate: mediatrail.Cost{Amount: 1}, Holding: time.Minute}); err != nil {
		t.Errorf("reserve past expired holds: %v", err)
	}
	if got := spend("ws-b"); got.Reserved != 1 {
		t.Errorf("after expiry: %+v, want only the new hold (1) reserved", got)
	}
}

// TestBudgetChargedWithTheSpan: a span's cost reaches the spend counters of
// its month, execution and agent's day in the transaction that writes it.
func TestBudgetChargedWithTheSpan(t *testing.T) {
	t.Parallel()
	ctx := testenv.Context(t)
	e := newEnv(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sp := &mediatrail.Span{ID: mediatrail.NewIDAt(base), WorkspaceID: "ws-c", ExecutionID: "exec-1", AgentID: "agent-1",
				Kind: "media.tts", Status: mediatrail.SpanError, StartedAt: base, EndedAt: base, Cost: mediatrail.Cost{Amount: 0.25, Currency: "USD"}}
			if err := e.store.RecordFailure(ctx, sp, nil); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	got, err := e.store.SpendOf(ctx, "ws-c", mediatrail.SpendScopes(base, "exec-1", "agent-1"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range got {
		if s.Spent != 2 || s.Reserved != 0 {
			t.Errorf("%s: %+v, want 2 spent", s.Limit, s)
		}
	}
	other, _ := e.store.SpendOf(ctx, "ws-d", mediatrail.SpendScopes(base, "exec-1", "agent-1"))
	if other[0].Spent != 0 {
		t.Errorf("another workspace sees spend %+v", other[0])
	}
}
