package app

import (
	"context"
	"encoding/json"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// reconcileHandler serves the steps of the reconcile state machine
// (statemachines/reconcile.asl.json: {"step": "plan"|"page"|"finish", ...},
// mediatrail.ReconcileStep) and, for an event without a step, runs one whole
// reconciliation in this invocation and answers its report ({"dry_run":
// true}: events/reconcile-dry-run.json only reports).
func reconcileHandler(r *mediatrail.Reconciler) func(context.Context, json.RawMessage) (any, error) {
	return func(ctx context.Context, event json.RawMessage) (any, error) {
		var step mediatrail.ReconcileStep
		if err := json.Unmarshal(event, &step); err != nil {
			return nil, mediatrail.Invalid("event", "malformed reconcile event")
		}
		switch step.Step {
		case "plan":
			return r.Plan(ctx, step.Execution, step.Options)
		case "page":
			if step.Segment == nil {
				return nil, mediatrail.Invalid("segment", "a page names its segment")
			}
			return r.Page(ctx, step.RunID, *step.Segment)
		case "finish":
			return r.Finish(ctx, step.RunID)
		case "":
			var opts mediatrail.ReconcileOptions
			if err := json.Unmarshal(event, &opts); err != nil {
				return nil, mediatrail.Invalid("event", "malformed reconcile event")
			}
			return r.Run(ctx, opts)
		}
		return nil, mediatrail.Invalid("step", "step must be plan, page or finish")
	}
}
