package app

import (
	"context"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// reconcileHandler runs one reconciliation per invocation and answers its
// report. The scheduled event (EventBridge) carries no options and runs for
// real; {"dry_run": true} (events/reconcile-dry-run.json, make reconcile
// DRY_RUN=1) only reports.
func reconcileHandler(r *mediatrail.Reconciler) func(context.Context, mediatrail.ReconcileOptions) (*mediatrail.ReconcileReport, error) {
	return func(ctx context.Context, opts mediatrail.ReconcileOptions) (*mediatrail.ReconcileReport, error) {
		return r.Run(ctx, opts)
	}
}
