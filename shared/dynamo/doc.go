// Package dynamo implements the domain's stores (assets, API keys, spans and their
// usage counters, idempotency keys, video jobs, credentials, media tools,
// budgets, settings and reconciliation checkpoints) on one
// DynamoDB table (single-table design, on-demand billing). TableSchema is the one
// definition of keys and indexes; CreateTable builds it for local set-up and
// tests, template.yaml declares the same for deployment.
//
// # Items
//
//	item       PK                  SK                   other keys and attributes
//	asset      WS#{ws}             ASSET#{id}           GSI1..GSI4 (below), every Asset field, status
//	counter    WS#{ws}             COUNT#ALL            n: number of ready assets
//	           WS#{ws}             COUNT#TYPE#{t}       ... of type t
//	           WS#{ws}             COUNT#PROV#{p}       ... of provider p
//	           WS#{ws}             COUNT#EXEC#{e}       ... of execution e
//	           WS#{ws}             COUNT#AGENT#{a}      ... of agent a
//	API key    KEY#{sha256 hex}    KEY                  workspace_id
//	span       WS#{ws}             SPAN#{id}            GSI1..GSI3 (below), every Span field under its JSON name
//	usage      WS#{ws}             USAGE#ALL#{c}        spans of the workspace per combination c (below):
//	           WS#{ws}             USAGE#EXEC#{e}#{c}   ... of execution e
//	           WS#{ws}             USAGE#DAY#{d}#{c}    ... started on UTC day d (yyyy-mm-dd)
//	                                                    provider, media_type, kind, model, n, errors,
//	                                                    cost, duration_ms, media_duration_seconds
//	idem. key  WS#{ws}             IDEM#{key}           request_hash, state, token, lease_until, expires_at,
//	                                                    response (JSON), ttl
//	settings   WS#{ws}             SETTINGS             retention_days (the workspace's default), updated_at,
//	                                                    provenance_embedding (BOOL), settings_updated_at
//	video job  WS#{ws}             JOB#{id}             every MediaJob field under its JSON name, version
//	credential WS#{ws}             CRED#{id}            Credential fields under their JSON names, ciphertext (KMS)
//	default    WS#{ws}             CREDDEF#{provider}   credential_id (the provider's default credential)
//	shared blob WS#{ws}            BLOB#{owner}         users (string set of the assets using owner's blob:
//	                                                    content dedup), storage_key, sha256
//	media tool WS#{ws}             TOOL#{id}            MediaTool fields under their JSON names
//	agent tools WS#{ws}            AGENTTOOLS#{agent}   tool_ids, updated_at
//
// Asset ids are KSUIDs carrying the nanosecond of their creation in their
// payload (mediatrail.NewIDAt), so sort key order is creation order and a
// Query with ScanIndexForward=false lists newest first, exactly within a
// second (ids minted before that layout: to the second). Times are stored as
// RFC 3339 strings in UTC with a fixed nine-digit fraction, so that string order
// is time order; metadata is a DynamoDB map. Attribute ttl is the table's time to
// live attribute (epoch seconds); assets do not set it.
//
// # Indexes
//
// Four sparse GSIs, projection ALL, each overloaded by a prefix so that one
// workspace's keys never meet another's:
//
//	GSI1  GSI1PK = WS#{ws}#EXEC#{execution}   GSI1SK = ASSET#{id}
//	GSI2  GSI2PK = WS#{ws}#AGENT#{agent}      GSI2SK = ASSET#{id}
//	GSI3  GSI3PK = WS#{ws}#TYPE#{type}        GSI3SK = ASSET#{id}
//	GSI4  GSI4PK = WS#{ws}#PROV#{provider}    GSI4SK = ASSET#{id}
//
// Spans overload the first three, with sort key SPAN#{id}:
//
//	GSI1  GSI1PK = WS#{ws}#EXEC#{execution}   GSI1SK = SPAN#{id}   (the execution's assets and spans together)
//	GSI2  GSI2PK = WS#{ws}#TRACE#{trace}      GSI2SK = SPAN#{id}
//	GSI3  GSI3PK = WS#{ws}#KIND#{kind}        GSI3SK = SPAN#{id}
//
// Assets with a sha256 also have GSI10 (keys only, see GSI10):
//
//	GSI10 GSI10PK = WS#{ws}#SHA#{sha256}     GSI10SK = ASSET#{id}
//
// An item has a GSI's keys only when that field is non-empty. Items of both
// kinds share GSI1's partitions, so every query bounds the sort key inside its
// own prefix: BETWEEN two ASSET# keys, or two SPAN# keys.
//
// # Writes
//
// Every write is conditional. CreateAsset requires attribute_not_exists(PK)
// (else ECONFLICT). Counters count ready assets only and change with ADD n in the
// same TransactWriteItems as the status change that causes it: creating a ready
// asset (+1), MarkAssetReady (+1, on condition status = pending), MarkAssetDeleted
// of a ready asset (-1, on condition status = ready). Transitions read the asset
// first (consistently) to learn its counters, then write on condition that the
// status is still the one read; a failed condition returns the item as it was
// (ReturnValuesOnConditionCheckFailure = ALL_OLD), which decides the error code.
// Transactions cancelled only by a concurrent transaction on a shared counter are
// retried a few times with jittered backoff. PurgeAsset deletes on condition
// attribute_not_exists(PK) OR status <> ready. Tombstones keep their GSI keys.
// ExpireUpload tombstones a pending asset on condition status = pending AND
// upload_expires_at < at (pending assets are uncounted: one UpdateItem). Every
// asset has retention_days (its retention class; 0 keeps it forever).
//
// # Reconciliation
//
// EachAssetRecord is the one reader that enumerates the table: a paginated
// Scan filtered on begins_with(SK, "ASSET#"), for the nightly reconciliation
// only (requests never scan). FindAssets reads the records of a listing's
// blobs with consistent BatchGetItem, 100 keys a request.
//
// # Media calls: charged once
//
// A media call's outcome is one TransactWriteItems: the new ready asset and its
// counters, its span, and (with an idempotency key) the key's record moving
// from pending to completed with the response to replay, on condition that the
// caller's token still holds it. A call is on the books with its replayable
// answer, or not at all. A failed call writes its error span and deletes its
// pending key record (same token condition) in one transaction.
//
// ClaimIdempotencyKey puts the pending record on condition that the key is
// free: absent, expired (expires_at < now; TTL removes records lazily), or
// pending with a lease past (a crashed request). The record kept otherwise is
// returned (ReturnValuesOnConditionCheckFailure) and decides the answer:
// replay, conflict, or in progress.
//
// # Video jobs: charged once
//
// A job item is written whole, always on condition that the job is still
// queued or processing at the version the writer read (optimistic
// concurrency between the workflow's steps and the cancel route), and the
// version goes up by one. CreateJob puts it with the completion of its
// idempotency claim (the 202 answer to replay) in one transaction. FinishJob
// ends it in one TransactWriteItems: the job at its final status, its span
// and, for a completed job, the ready asset and its counters (both on
// condition that they are new), optionally releasing a claim. A retried or
// duplicated Store therefore finds the job ended and writes no second asset,
// span or charge. Jobs have no index: they are read by id only.
//
// # Usage counters: summaries of constant cost
//
// Every transaction that writes a span (RecordMedia, RecordFailure,
// FinishJob) also ADDs it to three usage counters: the workspace's, its
// execution's (when set) and its UTC day's (of started_at), each per
// combination c, the first 16 bytes (hex) of SHA-256 over provider, media
// type, kind and model, whose plain values the item keeps. A span is counted
// exactly when it is written: a cancelled transaction counts nothing, a
// retried one once. Costs are added to 1e-15 and play times to 1e-9, so that
// sums stay exact decimals within DynamoDB's 38 digits. SpanUsage reads one
// scope with a strongly consistent Query: begins_with for the workspace or an
// execution, a BETWEEN of two days for dates; its cost grows with the
// combinations (and days), never with the spans. Which summaries it answers
// is the domain's choice (mediatrail.TraceService.Summary).
//
// # Listing spans
//
// ListSpans queries the execution's, else the trace's, else the kind's GSI
// partition, else the table; other filters and date bounds (started_at, with
// the KSUID key range narrowed as for assets) are a FilterExpression. Cursor
// and page paging work as for assets (below); the total is always counted.
// EachSpan walks the same range, for the summaries counters cannot answer.
//
// # Listing
//
// ListAssets never scans. It queries:
//   - no equality filter: the table, PK = WS#{ws};
//   - one (execution, agent, type or provider): that filter's GSI;
//   - several: the GSI whose counter is smallest (the counters are read with one
//     BatchGetItem; they count ready assets, so for other statuses this is a
//     heuristic), the other equality filters becoming a FilterExpression.
//
// The status (ready unless asked otherwise) is always a FilterExpression. The
// sort key is always bounded, BETWEEN two ASSET# keys: the whole KSUID range by
// default. A date range (CreatedAfter / CreatedBefore, both exclusive) narrows it
// to MinIDAt(after-1s) .. MaxIDAt(before+1s), clamped to the KSUID epoch
// (2014-05-13) and end (2150), plus a FilterExpression on created_at for
// exactness; the second of slack on each side covers an id minted just before a
// clock tick.
//
// A page is filled in a loop of Query calls, each Limit sized from the share of
// items the filter has kept so far, until limit+1 matches are found (the extra one
// tells whether there is a next page) or the range ends. Each Query after the
// first lowers the upper bound to just below the LastEvaluatedKey's sort key (its
// id decremented as a base62 number) instead of passing ExclusiveStartKey. Sort
// keys are unique within each index partition, so this resumes exactly where the
// previous Query stopped, and a bounded range costs the same at any depth, on
// DynamoDB and on DynamoDB Local alike (whose ExclusiveStartKey cost grows with
// the number of items it skips).
//
// # Paging
//
// Cursor paging costs the same at any depth. next_cursor is base64url (no
// padding) of a version byte, the id of the last returned asset, an 8-byte
// fingerprint (SHA-256 prefix) of the workspace, status and filters, and the
// number of the page it leads to. The id only lowers the upper sort key bound of
// a query built from the caller's workspace and filter; the cursor holds no key,
// so it cannot reach another workspace, and an asset deleted since the previous
// page does not break it. A cursor that does not decode, holds no KSUID, or was
// made for another workspace or filter is EINVALID "invalid cursor". The limit
// may change between pages. next_cursor is "" on the last page; page paging also
// returns one.
//
// Page paging (page N of limit L) skips (N-1)*L matching items reading only their
// keys (ProjectionExpression), then fetches the page like a cursor would: its
// cost grows with N. A page beyond Total is answered empty without skipping. A
// cursor wins over a page.
//
// # Totals
//
// Total is read from one counter item when the listing has at most one equality
// filter, no date range and status ready (the SDK's common listings). Otherwise it
// is counted with Query Select=COUNT over the chosen index with the same key
// condition and filter, resumed the same way until the range ends: that cost
// grows with the number of items in the index partition and is paid on every
// page.
//
// # Consistency
//
// FindAsset, the reads before a transition, and API key look-ups are strongly
// consistent. Listings, counters read for totals and GSI queries are eventually
// consistent (GSIs cannot be read otherwise).
package dynamo
