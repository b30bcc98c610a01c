package e2e_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/providers/fake"
	"github.com/mediatrail/mediatrail/shared/testenv"
)

// The budget routes through the local stack: validation, PUT then GET, and
// workspace isolation (another workspace sees no limit of this one).
func TestBudgetRoutes(t *testing.T) {
	t.Parallel()
	cs := newCleanupStack(t, cleanupOptions{})
	key, _ := cs.workspace(t)
	otherKey, _ := cs.workspace(t)
	budget := func(k string) mediatrail.BudgetView {
		r := cs.do(t, "GET", "/api/v1/workspace/budget", k, nil)
		wantOK(t, r, http.StatusOK)
		var got mediatrail.BudgetView
		r.Into(t, &got)
		return got
	}
	for _, body := range []map[string]any{{"monthly_usd": -1}, {"monthly_usd": "5"}, {"montly_usd": 5}, {"per_agent_daily_usd": 1e13},
		// This stack has no CALLBACK_SIGNING_SECRET: an alert webhook could not be signed.
		{"monthly_usd": 5, "alert_webhook_url": "https://hooks.example.com/budget"}} {
		wantError(t, cs.do(t, "PUT", "/api/v1/workspace/budget", key, body), http.StatusBadRequest, mediatrail.EINVALID)
	}
	wantOK(t, cs.do(t, "PUT", "/api/v1/workspace/budget", key, map[string]any{"monthly_usd": 5, "per_execution_usd": nil, "per_agent_daily_usd": 0.5}), http.StatusOK)
	got, other := budget(key), budget(otherKey)
	if got.MonthlyUSD == nil || *got.MonthlyUSD != 5 || got.PerExecutionUSD != nil || got.PerAgentDailyUSD == nil || *got.PerAgentDailyUSD != 0.5 {
		t.Errorf("after PUT: %+v", got.Budget)
	}
	if len(got.Spend) != 1 || got.Spend[0].Limit != mediatrail.LimitMonthly || got.Spend[0].RemainingUSD == nil || *got.Spend[0].RemainingUSD != 5 {
		t.Errorf("spend %+v, want the month with $5 left", got.Spend)
	}
	if other.MonthlyUSD != nil || other.PerAgentDailyUSD != nil {
		t.Errorf("another workspace sees limits %+v", other.Budget)
	}
	wantError(t, cs.do(t, "GET", "/api/v1/workspace/budget?execution_id=a%23b", key, nil), http.StatusBadRequest, mediatrail.EINVALID)
}

// imagePrice is what one dall-e-3 image costs (prices.json): the priced
// model the budget tests call through the OpenAI fake.
const imagePrice = 0.04

// budgetOf reads the workspace's budget, with the spend of execution and
// agent when given.
func (st *stack) budgetOf(t *testing.T, key, query string) mediatrail.BudgetView {
	t.Helper()
	r := st.do(t, "GET", "/api/v1/workspace/budget"+query, key, nil)
	wantOK(t, r, http.StatusOK)
	var v mediatrail.BudgetView
	r.Into(t, &v)
	return v
}

// spendOf is the counter of limit in v.
func spendOf(t *testing.T, v mediatrail.BudgetView, limit string) mediatrail.SpendReport {
	t.Helper()
	for _, s := range v.Spend {
		if s.Limit == limit {
			return s
		}
	}
	t.Fatalf("no %s counter in %+v", limit, v.Spend)
	return mediatrail.SpendReport{}
}

// wantBudgetExceeded checks a 402's details: the limit it names, the limit's
// amount, what is left and the call's estimate.
func wantBudgetExceeded(t *testing.T, details map[string]any, limit string, limitUSD float64) {
	t.Helper()
	left, _ := details["remaining_usd"].(float64)
	if details["limit"] != limit || details["limit_usd"] != limitUSD || details["estimated_usd"] != imagePrice || left < 0 || left >= imagePrice {
		t.Errorf("402 details %v, want limit %s of %v with less than one call left", details, limit, limitUSD)
	}
}

// 20 parallel image calls through the HTTP API against a monthly budget
// that admits 5: 5 are made, 15 refused with 402 budget_exceeded naming the
// limit and what is left, and the month is charged 5 calls, never more than
// one call over. Crossing 80% and 100% is recorded once each, shown in
// /traces/summary and posted, signed, to the budget's webhook. A call the
// provider fails releases its hold; the agent's daily limit and unpriced
// models are checked on the way.
func TestBudgetParallelMediaCalls(t *testing.T) {
	t.Parallel()
	cb := newCallbacks(t)
	st := newVideoStack(t, cb, nil, nil)
	key, _ := st.workspace(t)
	otherKey, _ := st.workspace(t)
	openai := st.fakes["openai"]
	const limit = 5 * imagePrice
	hook := cb.URL + "/budget?token=t1"
	wantOK(t, st.do(t, "PUT", "/api/v1/workspace/budget", key, map[string]any{"monthly_usd": limit, "alert_webhook_url": hook}), http.StatusOK)

	image := func(t *testing.T, k string, extra map[string]any) reply {
		body := map[string]any{"provider": "openai", "model": "dall-e-3", "prompt": "a lighthouse at dawn"}
		for name, v := range extra {
			body[name] = v
		}
		return st.do(t, "POST", "/api/v1/media/image_gen", k, body)
	}
	var mu sync.Mutex
	var made []generated
	var refused []reply
	calls := map[string]int{}
	for i := range 20 {
		calls[fmt.Sprintf("call %02d", i)] = i
	}
	concurrently(t, calls, func(t *testing.T, _ int) {
		r := image(t, key, nil)
		mu.Lock()
		defer mu.Unlock()
		switch r.Status {
		case http.StatusOK:
			var out generated
			r.Into(t, &out)
			made = append(made, out)
		case http.StatusPaymentRequired:
			wantError(t, r, http.StatusPaymentRequired, mediatrail.EBUDGET)
			refused = append(refused, r)
		default:
			t.Errorf("answer %d %s", r.Status, r.Raw)
		}
	})
	if len(made) != 5 || len(refused) != 15 {
		t.Fatalf("%d calls made, %d refused; want 5 and 15", len(made), len(refused))
	}
	charged := 0.0
	for _, out := range made {
		charged += out.Cost
	}
	for _, r := range refused {
		wantBudgetExceeded(t, r.Error.Details, mediatrail.LimitMonthly, limit)
		if !strings.Contains(r.Error.Message, "monthly_usd") {
			t.Errorf("402 message %q does not name the limit", r.Error.Message)
		}
	}
	month := spendOf(t, st.budgetOf(t, key, ""), mediatrail.LimitMonthly)
	if !near(month.Spent, charged) || month.Spent > limit+imagePrice+1e-9 || month.Reserved != 0 || *month.RemainingUSD != 0 {
		t.Errorf("month %+v after calls charged %v: want it all spent, at most one call over %v, nothing held", month, charged, limit)
	}
	if n := apiRequests(openai, "/images/generations"); n != 5 {
		t.Errorf("the provider got %d calls, want 5", n)
	}
	if other := st.budgetOf(t, otherKey, ""); other.Spend[0].Spent != 0 || len(other.Alerts) != 0 {
		t.Errorf("another workspace sees %+v", other)
	}

	t.Run("alerts", func(t *testing.T) {
		r := st.do(t, "GET", "/api/v1/traces/summary", key, nil)
		wantOK(t, r, http.StatusOK)
		var sum struct{ Alerts []mediatrail.BudgetAlert }
		r.Into(t, &sum)
		var thresholds []int
		for _, a := range sum.Alerts {
			if a.Limit != mediatrail.LimitMonthly || a.LimitUSD != limit || a.At.IsZero() || a.SpentUSD < limit*float64(a.Threshold)/100-1e-9 {
				t.Errorf("alert %+v", a)
			}
			thresholds = append(thresholds, a.Threshold)
		}
		slices.Sort(thresholds)
		if !slices.Equal(thresholds, []int{80, 100}) {
			t.Errorf("summary alerts %+v, want 80 and 100 once each", sum.Alerts)
		}
		// The webhook was posted before the crossing call answered.
		cb.mu.Lock()
		posted := slices.Clone(cb.received)
		cb.mu.Unlock()
		if len(posted) != 2 {
			t.Fatalf("%d webhooks, want 2", len(posted))
		}
		for _, p := range posted {
			var body mediatrail.BudgetAlertBody
			if err := json.Unmarshal(p.body, &body); err != nil || p.event != mediatrail.BudgetAlertEvent ||
				p.signature != mediatrail.SignCallback(callbackSecret, p.body) || body.Data == nil || body.Data.Limit != mediatrail.LimitMonthly {
				t.Errorf("webhook %q %q %s (%v)", p.event, p.signature, p.body, err)
			}
		}
		other := st.do(t, "GET", "/api/v1/traces/summary", otherKey, nil)
		wantOK(t, other, http.StatusOK)
		if !strings.Contains(string(other.Data), `"alerts":[]`) {
			t.Errorf("another workspace's summary: %s", other.Data)
		}
	})

	t.Run("a failed call releases its hold", func(t *testing.T) {
		wantOK(t, st.do(t, "PUT", "/api/v1/workspace/budget", key, map[string]any{"monthly_usd": limit + imagePrice}), http.StatusOK)
		openai.Fail(1, openai.Error(http.StatusBadRequest, "invalid_request_error", "Your request was rejected"))
		if r := image(t, key, nil); r.Status < 400 || r.Status == http.StatusPaymentRequired {
			t.Fatalf("failed call answered %d %s", r.Status, r.Raw)
		}
		month := spendOf(t, st.budgetOf(t, key, ""), mediatrail.LimitMonthly)
		if month.Reserved != 0 || !near(month.Spent, charged) || !near(*month.RemainingUSD, imagePrice) {
			t.Errorf("after a failed call: %+v, want its hold released", month)
		}
		wantOK(t, image(t, key, nil), http.StatusOK) // the room it held
		r := image(t, key, nil)
		wantError(t, r, http.StatusPaymentRequired, mediatrail.EBUDGET)
		wantBudgetExceeded(t, r.Error.Details, mediatrail.LimitMonthly, limit+imagePrice)
	})

	t.Run("per agent per day", func(t *testing.T) {
		k, _ := st.workspace(t)
		wantOK(t, st.do(t, "PUT", "/api/v1/workspace/budget", k, map[string]any{"monthly_usd": 1, "per_agent_daily_usd": imagePrice}), http.StatusOK)
		wantOK(t, image(t, k, map[string]any{"agent_id": "agent-a"}), http.StatusOK)
		r := image(t, k, map[string]any{"agent_id": "agent-a"})
		wantError(t, r, http.StatusPaymentRequired, mediatrail.EBUDGET)
		wantBudgetExceeded(t, r.Error.Details, mediatrail.LimitPerAgentDaily, imagePrice)
		wantOK(t, image(t, k, map[string]any{"agent_id": "agent-b"}), http.StatusOK)
		agent := spendOf(t, st.budgetOf(t, k, "?agent_id=agent-a"), mediatrail.LimitPerAgentDaily)
		if agent.AgentID != "agent-a" || !near(agent.Spent, imagePrice) || *agent.RemainingUSD != 0 {
			t.Errorf("agent-a today: %+v", agent)
		}
	})

	// A retry of a call its idempotency key answered gets that answer, even
	// once the budget is spent; a new call is refused.
	t.Run("a retry of an answered call replays it", func(t *testing.T) {
		k, _ := st.workspace(t)
		wantOK(t, st.do(t, "PUT", "/api/v1/workspace/budget", k, map[string]any{"monthly_usd": imagePrice}), http.StatusOK)
		calls := apiRequests(openai, "/images/generations")
		first := image(t, k, map[string]any{"idempotency_key": "retry-1"})
		wantOK(t, first, http.StatusOK)
		again := image(t, k, map[string]any{"idempotency_key": "retry-1"})
		wantOK(t, again, http.StatusOK)
		var a, b generated
		first.Into(t, &a)
		again.Into(t, &b)
		if a.AssetID == "" || b.AssetID != a.AssetID || b.SpanID != a.SpanID {
			t.Errorf("retry answered %+v, want the first answer %+v", b, a)
		}
		if n := apiRequests(openai, "/images/generations") - calls; n != 1 {
			t.Errorf("the provider got %d calls, want 1", n)
		}
		wantError(t, image(t, k, map[string]any{"idempotency_key": "retry-2"}), http.StatusPaymentRequired, mediatrail.EBUDGET)
	})

	t.Run("unpriced model counts 0 with a warning", func(t *testing.T) {
		k, _ := st.workspace(t)
		wantOK(t, st.do(t, "PUT", "/api/v1/workspace/budget", k, map[string]any{"monthly_usd": 0.01}), http.StatusOK)
		r := image(t, k, map[string]any{"model": "dall-e-2", "execution_id": "exec-unpriced"})
		wantOK(t, r, http.StatusOK)
		var out generated
		r.Into(t, &out)
		list := st.do(t, "GET", "/api/v1/traces?execution_id=exec-unpriced", k, nil)
		wantOK(t, list, http.StatusOK)
		var spans []struct {
			Cost       float64        `json:"cost"`
			Attributes map[string]any `json:"attributes"`
		}
		list.Into(t, &spans)
		if len(spans) != 1 || spans[0].Cost != 0 || !strings.Contains(toString(spans[0].Attributes["warning"]), "counted as 0") {
			t.Errorf("unpriced span %+v", spans)
		}
		if month := spendOf(t, st.budgetOf(t, k, ""), mediatrail.LimitMonthly); month.Spent != 0 || month.Reserved != 0 {
			t.Errorf("unpriced call charged %+v", month)
		}
	})
}

func toString(v any) string { s, _ := v.(string); return s }

// A video submission holds its estimate (Luma's ray-2: per video) until the job
// ends: cancelling or failing it releases the hold, and a submission the
// execution's budget cannot hold is refused with 402.
func TestBudgetVideoJobsRelease(t *testing.T) {
	t.Parallel()
	cb := newCallbacks(t)
	st := newVideoStack(t, cb, nil, nil)
	key, _ := st.workspace(t)
	luma := st.fakes["luma"]
	const estimate, perExecution = 0.71, 1.0 // ray-2 (prices.json)
	wantOK(t, st.do(t, "PUT", "/api/v1/workspace/budget", key, map[string]any{"monthly_usd": 10, "per_execution_usd": perExecution}), http.StatusOK)
	video := func(t *testing.T, prompt, exec string) reply {
		return st.do(t, "POST", "/api/v1/media/video_gen", key, map[string]any{"provider": "luma", "model": "ray-2", "prompt": prompt, "execution_id": exec})
	}
	held := func(t *testing.T, exec string) float64 {
		return spendOf(t, st.budgetOf(t, key, "?execution_id="+exec), mediatrail.LimitPerExecution).Reserved
	}
	// released waits for the job's end to release its hold: the workflow
	// ends the job, then releases.
	released := func(t *testing.T, exec string) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); held(t, exec) != 0; {
			if time.Now().After(deadline) {
				t.Fatalf("execution %s still holds %v", exec, held(t, exec))
			}
			time.Sleep(50 * time.Millisecond) // poll interval, bounded by the deadline
		}
	}

	t.Run("cancel", func(t *testing.T) {
		const prompt, exec = "e2e budget: cancel", "exec-budget-cancel"
		luma.PlanPrompt(prompt, fake.JobPlan{Running: fake.Forever})
		r := video(t, prompt, exec)
		wantOK(t, r, http.StatusAccepted)
		var job jobView
		r.Into(t, &job)
		if got := held(t, exec); !near(got, estimate) {
			t.Fatalf("held %v while the job runs, want %v", got, estimate)
		}
		// The execution's budget holds one video: a second is refused.
		second := video(t, prompt+" again", exec)
		wantError(t, second, http.StatusPaymentRequired, mediatrail.EBUDGET)
		if d := second.Error.Details; d["limit"] != mediatrail.LimitPerExecution || !near(d["remaining_usd"].(float64), perExecution-estimate) || !near(d["estimated_usd"].(float64), estimate) {
			t.Errorf("402 details %v", d)
		}
		wantOK(t, st.do(t, "POST", "/api/v1/media/jobs/"+job.JobID+"/cancel", key, nil), http.StatusOK)
		if got := held(t, exec); got != 0 {
			t.Errorf("held %v after cancel, want 0", got)
		}
		wantOK(t, video(t, "e2e budget: after cancel", exec), http.StatusAccepted)
	})

	t.Run("failure", func(t *testing.T) {
		const prompt, exec = "e2e budget: failure", "exec-budget-fail"
		luma.PlanPrompt(prompt, fake.JobPlan{Running: 1, Failure: "generation failed"})
		r := video(t, prompt, exec)
		wantOK(t, r, http.StatusAccepted)
		var job jobView
		r.Into(t, &job)
		if v := st.awaitJob(t, key, job.JobID); v.Status != "failed" {
			t.Fatalf("job %+v, want failed", v)
		}
		released(t, exec)
		if spent := spendOf(t, st.budgetOf(t, key, "?execution_id="+exec), mediatrail.LimitPerExecution).Spent; spent != 0 {
			t.Errorf("a failed job charged %v", spent)
		}
	})
}

// Over MCP a refused call is a tool result with isError and the HTTP API's
// budget_exceeded envelope: 5 parallel image_gen calls against a budget for
// 2 make 2.
func TestBudgetOverMCP(t *testing.T) {
	t.Parallel()
	st := newStack(t, 10*time.Second)
	key, _ := st.workspace(t)
	wantOK(t, st.do(t, "PUT", "/api/v1/workspace/budget", key, map[string]any{"monthly_usd": 2 * imagePrice}), http.StatusOK)
	sess := st.mcpSession(t, map[string]string{"X-API-Key": key, "X-Execution-Id": "exec-mcp-budget"}, nil)
	var mu sync.Mutex
	var ok, refused int
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			res, err := sess.CallTool(testenv.Context(t), &sdk.CallToolParams{Name: "image_gen",
				Arguments: map[string]any{"provider": "openai", "model": "dall-e-3", "prompt": "a lighthouse at dusk"}})
			if err != nil {
				t.Errorf("image_gen: %v", err)
				return
			}
			var out struct {
				Error testenv.ErrorBody `json:"error"`
			}
			b, _ := json.Marshal(res.StructuredContent)
			_ = json.Unmarshal(b, &out)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case !res.IsError:
				ok++
			case out.Error.Code == mediatrail.EBUDGET && strings.HasPrefix(contentText(res), mediatrail.EBUDGET+": "):
				refused++
				wantBudgetExceeded(t, out.Error.Details, mediatrail.LimitMonthly, 2*imagePrice)
			default:
				t.Errorf("image_gen: %s", b)
			}
		})
	}
	wg.Wait()
	if ok != 2 || refused != 3 {
		t.Errorf("%d made, %d refused; want 2 and 3", ok, refused)
	}
}
