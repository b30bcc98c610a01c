package httpapi

import (
	"context"
	"slices"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// GetWorkspaceBudget serves GET /api/v1/workspace/budget: the limits, this
// month's spend and alerts and, with ?execution_id= or ?agent_id=, that
// execution's spend and that agent's spend today.
func GetWorkspaceBudget(svc *mediatrail.BudgetService) Endpoint {
	return func(ctx context.Context, r *Request) (Result, error) {
		exec, err := r.Query("execution_id")
		if err != nil {
			return Result{}, err
		}
		agent, err := r.Query("agent_id")
		if err != nil {
			return Result{}, err
		}
		out, err := svc.Get(ctx, r.WorkspaceID, exec, agent)
		if err != nil {
			return Result{}, err
		}
		return OK(out), nil
	}
}

// budgetFields are the fields of PUT /api/v1/workspace/budget. Any other is
// refused: a misspelt limit would otherwise silently mean "no limit".
var budgetFields = []string{mediatrail.LimitMonthly, mediatrail.LimitPerExecution, mediatrail.LimitPerAgentDaily, "alert_webhook_url"}

// SetWorkspaceBudget serves PUT /api/v1/workspace/budget: it replaces the
// limits (absent or null: no limit) and the alert webhook (absent: none).
func SetWorkspaceBudget(svc *mediatrail.BudgetService) Endpoint {
	return func(ctx context.Context, r *Request) (Result, error) {
		var fields map[string]any
		if err := r.DecodeJSON(&fields); err != nil {
			return Result{}, err
		}
		for k := range fields {
			if !slices.Contains(budgetFields, k) {
				return Result{}, mediatrail.Invalid(k, "unknown field %q; the fields are %v", k, budgetFields)
			}
		}
		return workspaceSet(svc.Set)(ctx, r)
	}
}
