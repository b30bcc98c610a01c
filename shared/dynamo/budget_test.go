package dynamo_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
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

// hookRecorder is the receiving end of alert webhooks: it keeps what was
// posted and answers status.
type hookRecorder struct {
	mu     sync.Mutex
	status int
	posts  []hookPost
}

type hookPost struct {
	url    string
	header map[string]string
	body   []byte
}

func (h *hookRecorder) Post(_ context.Context, rawURL string, header map[string]string, body []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.posts = append(h.posts, hookPost{rawURL, header, body})
	return h.status, nil
}

func (h *hookRecorder) CheckCallback(context.Context, string) error { return nil }

// TestBudgetAlerts: charging a limited counter past 80% and then 100%
// records each crossing once, posts each to the alert webhook signed as job
// callbacks are, and shows them in GET budget and in the trace summary
// (within its dates, narrowed by execution); an alert webhook needs the
// callback secret and a proper URL.
func TestBudgetAlerts(t *testing.T) {
	t.Parallel()
	ctx := testenv.Context(t)
	e := newEnv(t)
	now := time.Now().UTC()
	hooks := &hookRecorder{status: http.StatusNoContent}
	svc := &mediatrail.BudgetService{Store: e.store, Now: func() time.Time { return now }, CallbackSecret: "s3cret", Callbacks: hooks}
	const ws, hook = "ws-alerts", "https://hooks.example.com/budget"

	for name, in := range map[string]mediatrail.SetBudgetInput{
		"not http":         {MonthlyUSD: usdp(1), AlertWebhookURL: ptr("ftp://hooks.example.com/")},
		"with credentials": {MonthlyUSD: usdp(1), AlertWebhookURL: ptr("https://u:p@hooks.example.com/")},
		"relative":         {MonthlyUSD: usdp(1), AlertWebhookURL: ptr("/budget")},
	} {
		var ae *mediatrail.Error
		if _, err := svc.Set(ctx, ws, in); !errors.As(err, &ae) || ae.Code != mediatrail.EINVALID || ae.Details["field"] != "alert_webhook_url" {
			t.Errorf("%s: %v, want validation_error on alert_webhook_url", name, err)
		}
	}
	unsigned := &mediatrail.BudgetService{Store: e.store}
	if _, err := unsigned.Set(ctx, ws, mediatrail.SetBudgetInput{MonthlyUSD: usdp(1), AlertWebhookURL: ptr(hook)}); mediatrail.ErrorCode(err) != mediatrail.EINVALID {
		t.Errorf("webhook without a callback secret: %v, want validation_error", err)
	}
	v, err := svc.Set(ctx, ws, mediatrail.SetBudgetInput{MonthlyUSD: usdp(1), PerExecutionUSD: usdp(10), AlertWebhookURL: ptr(hook)})
	if err != nil || v.AlertWebhookURL != hook {
		t.Fatalf("set: %+v %v", v, err)
	}

	charge := func(amount float64) {
		t.Helper()
		sp := &mediatrail.Span{ID: mediatrail.NewIDAt(now), WorkspaceID: ws, ExecutionID: "exec-a", Kind: "media.tts",
			Status: mediatrail.SpanError, StartedAt: now, EndedAt: now, Cost: mediatrail.Cost{Amount: amount, Currency: "USD"}}
		if err := e.store.RecordFailure(ctx, sp, nil); err != nil {
			t.Fatal(err)
		}
		svc.Settle(ctx, ws, sp.ID, now, sp.ExecutionID, "")
	}
	charge(0.5) // 50%: nothing
	charge(0.3) // 80%
	charge(0.1) // 90%: already alerted at 80
	if len(hooks.posts) != 1 {
		t.Fatalf("%d webhooks after crossing 80%%, want 1", len(hooks.posts))
	}
	charge(0.2) // 110%: crosses 100 once
	charge(0.2)
	if len(hooks.posts) != 2 {
		t.Fatalf("%d webhooks after crossing 100%%, want 2", len(hooks.posts))
	}
	for i, want := range []int{80, 100} {
		p := hooks.posts[i]
		var body mediatrail.BudgetAlertBody
		if err := json.Unmarshal(p.body, &body); err != nil {
			t.Fatal(err)
		}
		if p.url != hook || p.header[mediatrail.CallbackSignatureHeader] != mediatrail.SignCallback("s3cret", p.body) ||
			p.header["X-Mediatrail-Event"] != mediatrail.BudgetAlertEvent || body.WorkspaceID != ws ||
			body.Data.Limit != mediatrail.LimitMonthly || body.Data.Threshold != want || body.Data.LimitUSD != 1 {
			t.Errorf("webhook %d: %s %v %s, want the signed %d%% alert of the month", i, p.url, p.header, p.body, want)
		}
	}

	v, err = svc.Get(ctx, ws, "", "")
	if err != nil || len(v.Alerts) != 2 {
		t.Fatalf("budget alerts %+v %v, want 2", v, err)
	}
	traces := &mediatrail.TraceService{Spans: e.store, Alerts: e.store}
	for name, tc := range map[string]struct {
		f    mediatrail.SpanFilter
		want int
	}{
		"this month":            {mediatrail.SpanFilter{}, 2},
		"dates around now":      {mediatrail.SpanFilter{From: now.Add(-time.Hour), To: now.Add(time.Hour)}, 2},
		"dates before":          {mediatrail.SpanFilter{From: now.AddDate(0, -2, 0), To: now.Add(-time.Hour)}, 0},
		"another execution":     {mediatrail.SpanFilter{ExecutionID: "exec-b"}, 0},
		"per-execution crossed": {mediatrail.SpanFilter{ExecutionID: "exec-a"}, 0}, // $1.3 of $10: none
	} {
		sum, err := traces.Summary(ctx, ws, tc.f)
		if err != nil || len(sum.Alerts) != tc.want {
			t.Errorf("%s: summary alerts %+v %v, want %d", name, sum, err, tc.want)
			continue
		}
		if tc.want == 2 && (sum.Alerts[0].Threshold != 100 || sum.Alerts[1].Threshold != 80 || sum.Alerts[0].At.IsZero()) {
			t.Errorf("%s: alerts %+v, want 100 then 80 with their times", name, sum.Alerts)
		}
	}
	if sum, err := traces.Summary(ctx, "ws-quiet", mediatrail.SpanFilter{}); err != nil || sum.Alerts == nil || len(sum.Alerts) != 0 {
		t.Errorf("another workspace: %+v %v, want no alerts (an empty list)", sum, err)
	}
	// A call dearer than the whole limit is refused with what is really left.
	err = svc.Reserve(ctx, ws, mediatrail.BudgetCall{ID: mediatrail.NewIDAt(now), Estimate: mediatrail.Cost{Amount: 5}, Holding: time.Minute})
	var ae *mediatrail.Error
	if !errors.As(err, &ae) || ae.Code != mediatrail.EBUDGET || ae.Details["limit"] != mediatrail.LimitMonthly ||
		ae.Details["remaining_usd"] != 0.0 || ae.Details["spent_usd"] != 1.3 || ae.Details["estimated_usd"] != 5.0 {
		t.Errorf("a call over the whole limit: %v, want budget_exceeded with nothing left of $1.3 spent", err)
	}
	// Removing the webhook: absent means none.
	if v, err := svc.Set(ctx, ws, mediatrail.SetBudgetInput{MonthlyUSD: usdp(1)}); err != nil || v.AlertWebhookURL != "" {
		t.Errorf("set without webhook: %+v %v", v, err)
	}
}

func ptr[T any](v T) *T { return &v }
