package app

import (
	"context"

	"github.com/aws/aws-lambda-go/events"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/dynamo"
	"github.com/mediatrail/mediatrail/shared/httpapi"
	"github.com/mediatrail/mediatrail/shared/s3"
	"github.com/mediatrail/mediatrail/shared/s3event"
)

// The asset, trace and workspace functions. Reads of records build the table
// only; what presigns, uploads or deletes builds the bucket too.

// AssetList serves GET /api/v1/assets.
func AssetList(_ context.Context, e *Env) (httpapi.LambdaHandler, error) {
	store := e.Table()
	return e.Route(store, httpapi.ListAssets(recordsOnly(e, store))), nil
}

// AssetGet serves GET /api/v1/assets/{id}.
func AssetGet(_ context.Context, e *Env) (httpapi.LambdaHandler, error) {
	store := e.Table()
	return e.Route(store, httpapi.GetAsset(recordsOnly(e, store))), nil
}

// AssetSignedURL serves GET /api/v1/assets/{id}/signed-url.
func AssetSignedURL(_ context.Context, e *Env) (httpapi.LambdaHandler, error) {
	store := e.Table()
	return e.Route(store, httpapi.SignedURL(e.Assets(store, e.Bucket()))), nil
}

// AssetRegister serves POST /api/v1/assets.
func AssetRegister(_ context.Context, e *Env) (httpapi.LambdaHandler, error) {
	store := e.Table()
	return e.Route(store, httpapi.RegisterAsset(e.Assets(store, e.Bucket()))), nil
}

// AssetComplete serves POST /api/v1/assets/{id}/complete.
func AssetComplete(_ context.Context, e *Env) (httpapi.LambdaHandler, error) {
	store := e.Table()
	return e.Route(store, httpapi.CompleteAsset(e.Assets(store, e.Bucket()))), nil
}

// AssetDelete serves DELETE /api/v1/assets/{id}.
func AssetDelete(_ context.Context, e *Env) (httpapi.LambdaHandler, error) {
	store := e.Table()
	return e.Route(store, httpapi.DeleteAsset(e.Assets(store, e.Bucket()))), nil
}

// AssetCleanup serves POST /api/v1/assets/cleanup.
func AssetCleanup(_ context.Context, e *Env) (httpapi.LambdaHandler, error) {
	store := e.Table()
	return e.Route(store, httpapi.CleanupAssets(e.CleanupService(store, e.Bucket()))), nil
}

// Cleanup makes records follow the bucket's removals and deletes uploads no
// record wants (S3 removal, expiry and creation events).
func Cleanup(_ context.Context, e *Env) (func(context.Context, events.S3Event) error, error) {
	handle := s3event.Handler(e.CleanupService(e.Table(), e.Bucket()))
	observed := Observe(e, func(ctx context.Context, ev events.S3Event) (struct{}, error) {
		return struct{}{}, handle(ctx, ev)
	})
	return func(ctx context.Context, ev events.S3Event) error {
		_, err := observed(ctx, ev)
		return err
	}, nil
}

// WorkspaceRetentionGet serves GET /api/v1/workspace/retention.
func WorkspaceRetentionGet(_ context.Context, e *Env) (httpapi.LambdaHandler, error) {
	store := e.Table()
	return e.Route(store, httpapi.GetWorkspaceRetention(e.Retention(store))), nil
}

// WorkspaceRetentionSet serves PUT /api/v1/workspace/retention.
func WorkspaceRetentionSet(_ context.Context, e *Env) (httpapi.LambdaHandler, error) {
	store := e.Table()
	return e.Route(store, httpapi.SetWorkspaceRetention(e.Retention(store))), nil
}

// WorkspaceBudgetGet serves GET /api/v1/workspace/budget.
func WorkspaceBudgetGet(_ context.Context, e *Env) (httpapi.LambdaHandler, error) {
	store := e.Table()
	return e.Route(store, httpapi.GetWorkspaceBudget(e.Budget(store))), nil
}

// WorkspaceBudgetSet (PUT /api/v1/workspace/budget) lives in app/media: it
// reads the provider secret for CALLBACK_SIGNING_SECRET.

// WorkspaceSettingsGet serves GET /api/v1/workspace/settings.
func WorkspaceSettingsGet(_ context.Context, e *Env) (httpapi.LambdaHandler, error) {
	store := e.Table()
	return e.Route(store, httpapi.GetWorkspaceSettings(Settings(store))), nil
}

// WorkspaceSettingsSet serves PUT /api/v1/workspace/settings.
func WorkspaceSettingsSet(_ context.Context, e *Env) (httpapi.LambdaHandler, error) {
	store := e.Table()
	return e.Route(store, httpapi.SetWorkspaceSettings(Settings(store))), nil
}

// ProvenanceLookup serves POST /api/v1/provenance.
func ProvenanceLookup(_ context.Context, e *Env) (httpapi.LambdaHandler, error) {
	store := e.Table()
	return e.Route(store, httpapi.LookupProvenance(&mediatrail.ProvenanceService{Store: store})), nil
}

// TraceList serves GET /api/v1/traces.
func TraceList(_ context.Context, e *Env) (httpapi.LambdaHandler, error) {
	store := e.Table()
	return e.Route(store, httpapi.ListTraces(Traces(store))), nil
}

// TraceSummary serves GET /api/v1/traces/summary.
func TraceSummary(_ context.Context, e *Env) (httpapi.LambdaHandler, error) {
	store := e.Table()
	return e.Route(store, httpapi.TraceSummary(Traces(store))), nil
}

// TraceGet serves GET /api/v1/traces/{trace_id}.
func TraceGet(_ context.Context, e *Env) (httpapi.LambdaHandler, error) {
	store := e.Table()
	return e.Route(store, httpapi.GetTrace(Traces(store))), nil
}

// TraceSpanGet serves GET /api/v1/traces/spans/{span_id}.
func TraceSpanGet(_ context.Context, e *Env) (httpapi.LambdaHandler, error) {
	store := e.Table()
	return e.Route(store, httpapi.GetSpan(Traces(store))), nil
}

// Traces is the trace service over store, summing in the price table's currency.
func Traces(store *dynamo.Store) *mediatrail.TraceService {
	return &mediatrail.TraceService{Spans: store, Currency: mediatrail.DefaultPrices().Currency, Alerts: store}
}

// CleanupService deletes assets for the cleanup route, the bucket's removal
// events and reconciliation.
func (e *Env) CleanupService(store *dynamo.Store, blobs *s3.Store) *mediatrail.CleanupService {
	return &mediatrail.CleanupService{Assets: e.Assets(store, blobs), Store: store, Blobs: blobs, Logger: e.Logger}
}

// recordsOnly is the asset service of the functions that only read records
// (get, list): no bucket is built, and nothing they call reaches one.
func recordsOnly(e *Env, store *dynamo.Store) *mediatrail.AssetService {
	return &mediatrail.AssetService{Store: store, Logger: e.Logger}
}
