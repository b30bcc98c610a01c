package e2e_test

import (
	"net/http"
	"testing"

	mediatrail "github.com/mediatrail/mediatrail/shared"
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
	for _, body := range []map[string]any{{"monthly_usd": -1}, {"monthly_usd": "5"}, {"montly_usd": 5}, {"per_agent_daily_usd": 1e13}} {
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
