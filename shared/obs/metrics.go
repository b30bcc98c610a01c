package obs

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"sync"
	"time"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// Namespace is the CloudWatch namespace of every metric (template.yaml's
// alarms name it).
const Namespace = "Mediatrail"

// Metric is a CloudWatch metric this package emits: its name and unit.
type Metric struct {
	Name string
	Unit string // a CloudWatch unit: Count, Milliseconds, None
}

// The metrics. Dimensions: Provider and Capability for provider calls (and
// none, for the service-wide series), Status (and Provider) for ended jobs,
// Kind (and none) for reconciliation findings, none for the rest.
var (
	// ProviderCalls counts finished media calls; ProviderErrors those that
	// failed (their error code is the line's ErrorCode property).
	ProviderCalls  = Metric{"ProviderCalls", "Count"}
	ProviderErrors = Metric{"ProviderErrors", "Count"}
	// ProviderLatency is a call's duration, provider and copy of its output.
	ProviderLatency = Metric{"ProviderLatency", "Milliseconds"}
	// ProviderCost is a call's estimated price, in the price table's
	// currency (the line's Currency property).
	ProviderCost = Metric{"ProviderCost", "None"}
	// JobsEnded counts video jobs reaching completed, failed or cancelled.
	JobsEnded = Metric{"JobsEnded", "Count"}
	// ReconcileFindings counts what a reconciliation found, by kind
	// (stuck_job: jobs that outlived their deadline and were ended).
	ReconcileFindings = Metric{"ReconcileFindings", "Count"}
	// ReconcileHeldBack is 1 when a run held missing blobs back (its
	// circuit breaker), else 0: records point at a wrong or emptied bucket.
	ReconcileHeldBack = Metric{"ReconcileHeldBack", "Count"}
	// ReconcileRepairFailures counts repairs and checks that failed.
	ReconcileRepairFailures = Metric{"ReconcileRepairFailures", "Count"}
)

// Metrics is every metric emitted: template.yaml's alarms may name no other
// (a test holds them to it).
var Metrics = []Metric{ProviderCalls, ProviderErrors, ProviderLatency, ProviderCost, JobsEnded,
	ReconcileFindings, ReconcileHeldBack, ReconcileRepairFailures}

// Dimension names.
const (
	DimProvider   = "Provider"
	DimCapability = "Capability"
	DimStatus     = "Status"
	DimKind       = "Kind"
)

// Value is one metric's value in a line.
type Value struct {
	Metric
	Value float64
}

// EMF writes CloudWatch Embedded Metric Format lines, one JSON object per
// line. There is no EMF library for Go among the modules we may use (AWS
// publishes them for Node, Python, Java and .NET), so this is the small
// encoder of the specification's one required shape: an "_aws" member naming
// the namespace, dimension sets and metrics, and the values as top-level
// members beside the dimensions and properties.
type EMF struct {
	W   io.Writer
	Now func() time.Time
	// Logger receives write failures, which never reach the caller.
	Logger *slog.Logger
	mu     sync.Mutex
}

// Emit writes one line: values under the dimension sets dims (each a list of
// names; an empty set publishes the series without dimensions) whose values
// are in props beside any other property.
func (e *EMF) Emit(dims [][]string, props map[string]any, values ...Value) {
	type metricDef struct {
		Name string
		Unit string
	}
	type directive struct {
		Namespace  string
		Dimensions [][]string
		Metrics    []metricDef
	}
	now := time.Now
	if e.Now != nil {
		now = e.Now
	}
	line := map[string]any{}
	for k, v := range props {
		line[k] = v
	}
	d := directive{Namespace: Namespace, Dimensions: dims}
	for _, v := range values {
		d.Metrics = append(d.Metrics, metricDef(v.Metric))
		line[v.Name] = v.Value
	}
	if dims == nil {
		d.Dimensions = [][]string{{}}
	}
	line["_aws"] = map[string]any{"Timestamp": now().UnixMilli(), "CloudWatchMetrics": []directive{d}}
	b, err := json.Marshal(line)
	if err == nil {
		e.mu.Lock()
		_, err = e.W.Write(append(b, '\n'))
		e.mu.Unlock()
	}
	if err != nil && e.Logger != nil {
		e.Logger.Warn("write metrics", KeyError, err)
	}
}

// Recorder is mediatrail.Metrics written as EMF. It also adds the provider
// of a call to the log line of the request that made it.
type Recorder struct{ EMF *EMF }

var _ mediatrail.Metrics = (*Recorder)(nil)

// NewRecorder records to w (a function's stdout).
func NewRecorder(w io.Writer, logger *slog.Logger) *Recorder {
	return &Recorder{EMF: &EMF{W: w, Logger: logger}}
}

// ProviderCall writes calls, errors, latency and cost of a finished call
// under [Provider, Capability] and without dimensions.
func (r *Recorder) ProviderCall(ctx context.Context, sp *mediatrail.Span) {
	Annotate(ctx, slog.String(KeyProvider, sp.Provider))
	failed := 0.0
	props := map[string]any{DimProvider: sp.Provider, DimCapability: string(sp.MediaType), "Model": sp.Model,
		"Currency": sp.Cost.Currency}
	if sp.Error != nil {
		failed = 1
		props["ErrorCode"] = sp.Error.Code
	}
	r.EMF.Emit([][]string{{DimProvider, DimCapability}, {}}, props,
		Value{ProviderCalls, 1}, Value{ProviderErrors, failed},
		Value{ProviderLatency, float64(sp.DurationMs)}, Value{ProviderCost, sp.Cost.Amount})
}

// JobEnded writes one ended job under [Status] and [Provider, Status].
func (r *Recorder) JobEnded(ctx context.Context, j *mediatrail.MediaJob) {
	Annotate(ctx, slog.String(KeyProvider, j.Provider), slog.String(KeyWorkspace, j.WorkspaceID))
	r.EMF.Emit([][]string{{DimStatus}, {DimProvider, DimStatus}},
		map[string]any{DimStatus: string(j.Status), DimProvider: j.Provider, DimCapability: string(j.Capability)},
		Value{JobsEnded, 1})
}

// Reconciled writes the run's findings, one line per kind (every kind, zeros
// too, so an alarm always has data) under [Kind] and without dimensions,
// then whether it held missing blobs back and how many repairs failed. A dry
// run writes nothing: it repairs nothing, and an operator's `make reconcile
// DRY_RUN=1` must not page anyone.
func (r *Recorder) Reconciled(_ context.Context, rep *mediatrail.ReconcileReport) {
	if rep.DryRun {
		return
	}
	for _, k := range mediatrail.FindingKinds {
		r.EMF.Emit([][]string{{DimKind}, {}}, map[string]any{DimKind: string(k)},
			Value{ReconcileFindings, float64(rep.Found[k])})
	}
	held := 0.0
	if rep.HeldBack {
		held = 1
	}
	r.EMF.Emit(nil, nil,
		Value{ReconcileHeldBack, held}, Value{ReconcileRepairFailures, float64(rep.Failed)})
}
