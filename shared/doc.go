// Package mediatrail is the domain of mediatrail: the records (assets, spans,
// video jobs, idempotency keys, workspace credentials, media tools, budgets,
// retention settings), the errors every layer speaks (*Error and its codes),
// the interfaces adapters implement (stores, blob stores, providers,
// workflows, downloaders) and the use cases written against those
// interfaces: AssetService (uploads, signed URLs, deletes), MediaService and
// JobService (media calls and video jobs, charged once), CleanupService and
// Reconciler (records follow blobs), TraceService, CredentialService,
// ToolService, BudgetService, RetentionService and ModelService.
//
// It imports no AWS SDK and no adapter. Adapters live in subpackages, one per
// outside system: dynamo (the table), s3 (blobs), sfn (job workflows), kms
// (sealed provider keys), fetch (URLs of callers and providers), providers
// (media provider clients); httpapi and mcp adapt API Gateway events and the
// Model Context Protocol; app builds each Lambda function's handler; memory
// holds in-memory stores for unit tests. functions/* only name their
// constructor in app.
package mediatrail
