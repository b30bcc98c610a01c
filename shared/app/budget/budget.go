// Package budget wires PUT /api/v1/workspace/budget: apart from the asset
// functions' table, it reads the provider secret (for the callback signing
// secret), so it is kept out of package app, which every lean function links.
package budget

import (
	"context"

	"github.com/mediatrail/mediatrail/shared/app"
	"github.com/mediatrail/mediatrail/shared/app/secrets"
	"github.com/mediatrail/mediatrail/shared/httpapi"
)

// WorkspaceBudgetSet serves PUT /api/v1/workspace/budget. It reads the
// provider secret for CALLBACK_SIGNING_SECRET only: an alert_webhook_url is
// refused where its alerts could not be signed as job callbacks are.
func WorkspaceBudgetSet(ctx context.Context, e *app.Env) (httpapi.LambdaHandler, error) {
	sec, err := secrets.Read(ctx, e.AWS, e.Config.Media.ProviderSecretID)
	if err != nil {
		return nil, err
	}
	store := e.Table()
	budget := e.Budget(store)
	budget.CallbackSecret = sec.Over(e.Getenv)("CALLBACK_SIGNING_SECRET")
	return e.Route(store, httpapi.SetWorkspaceBudget(budget)), nil
}
