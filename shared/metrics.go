package mediatrail

import "context"

// Metrics receives what an operator watches (shared/obs writes it as
// CloudWatch Embedded Metric Format). Recording never fails the work it
// describes: an implementation logs its own errors. The services take a nil
// Metrics as "record nothing".
type Metrics interface {
	// ProviderCall records one finished media call: its provider,
	// capability, latency, error code ("" for success) and cost.
	ProviderCall(ctx context.Context, span *Span)
	// JobEnded records a video job that reached its final state.
	JobEnded(ctx context.Context, job *MediaJob)
	// Reconciled records a finished reconciliation: findings by kind,
	// repairs, failures and whether missing blobs were held back.
	Reconciled(ctx context.Context, report *ReconcileReport)
}

// noMetrics is the Metrics of services given none.
type noMetrics struct{}

func (noMetrics) ProviderCall(context.Context, *Span)          {}
func (noMetrics) JobEnded(context.Context, *MediaJob)          {}
func (noMetrics) Reconciled(context.Context, *ReconcileReport) {}

func metricsOrNone(m Metrics) Metrics {
	if m == nil {
		return noMetrics{}
	}
	return m
}
