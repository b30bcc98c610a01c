package mediatrail

import (
	"context"
	"io"
	"time"
)

// AssetStore persists asset records. Every method is scoped by workspace: an asset
// of another workspace does not exist for it.
type AssetStore interface {
	// CreateAsset stores a new asset. ECONFLICT if the id exists. A ready asset is
	// counted in the same transaction.
	CreateAsset(ctx context.Context, a *Asset) error

	// FindAsset returns an asset in any status. ENOTFOUND if there is none.
	FindAsset(ctx context.Context, workspaceID, id string) (*Asset, error)

	// ListAssets returns the assets matching f (status ready unless f.Status says
	// otherwise), newest first. EINVALID for a malformed or foreign cursor.
	ListAssets(ctx context.Context, workspaceID string, f AssetFilter) (*AssetPage, error)

	// MarkAssetReady moves a pending asset to ready with its verified size and
	// checksum, counting it in the same transaction. ENOTFOUND if absent or
	// deleted; ECONFLICT if it is not pending. With share, the asset uses the
	// shared blob instead of its upload (storage key share.Key, deduplicated)
	// and joins its share record in the same transaction, on condition that
	// share.Via is still ready with that key and the blob has room
	// (MaxBlobReferrers): else ErrShareLost and nothing changed.
	MarkAssetReady(ctx context.Context, workspaceID, id string, size int64, sha256 string, at time.Time, share *BlobShare) (*Asset, error)

	// MarkAssetDeleted turns a pending or ready asset into a tombstone (status
	// deleted), uncounting it in the same transaction, and returns it as it was.
	// ENOTFOUND if absent or already a tombstone.
	MarkAssetDeleted(ctx context.Context, workspaceID, id string, at time.Time) (*Asset, error)

	// PurgeAsset removes a tombstone or pending record for good. Removing a record
	// that is already gone is not an error; a ready one is ECONFLICT.
	PurgeAsset(ctx context.Context, workspaceID, id string) error
}

// KeyStore maps hashed API keys to workspaces. Raw keys are never stored.
type KeyStore interface {
	// WorkspaceForKeyHash returns the workspace of a key hash (see HashAPIKey).
	// EUNAUTHENTICATED if the hash is unknown.
	WorkspaceForKeyHash(ctx context.Context, keyHash string) (string, error)

	// PutAPIKey binds a key hash to a workspace, replacing any earlier binding.
	PutAPIKey(ctx context.Context, keyHash, workspaceID string) error
}

// BlobInfo describes a stored object.
type BlobInfo struct {
	Size        int64
	SHA256      string // lower-case hex; "" when the store cannot tell without reading
	ContentType string
	// ServedHeaders names, sorted and comma-separated, the response headers
	// stored with the object that downloads would serve (Cache-Control,
	// Content-Disposition, Content-Encoding, Content-Language); "" when none
	// was set.
	ServedHeaders string
}

// Disposition says how a browser should treat a downloaded blob.
type Disposition string

const (
	DispositionAttachment Disposition = "attachment"
	DispositionInline     Disposition = "inline"
)

// PresignedRequest is a request a client may make without credentials.
type PresignedRequest struct {
	URL       string            `json:"url"`
	Method    string            `json:"method"`
	Headers   map[string]string `json:"headers"`
	ExpiresAt time.Time         `json:"expires_at"`
}

// GetOptions shapes a presigned download.
type GetOptions struct {
	Expires     time.Duration
	Disposition Disposition
	FileName    string
	ContentType string
}

// PutOptions binds a presigned upload: the client must send exactly this length,
// content type and checksum or the object store refuses the body.
type PutOptions struct {
	Expires     time.Duration
	ContentType string
	Size        int64
	SHA256      string // hex
	// Tags are signed too (x-amz-tagging): the object gets exactly these.
	Tags []Tag
}

// BlobStore holds asset bytes under storage keys.
type BlobStore interface {
	// Put streams body into key (multipart when large), hashing it on the way,
	// and returns what was stored. size is a hint; -1 when unknown. The object
	// gets tags (RetentionTag); without any it is kept forever.
	Put(ctx context.Context, key, contentType string, body io.Reader, size int64, tags ...Tag) (BlobInfo, error)

	// Stat describes key. ENOTFOUND if absent.
	Stat(ctx context.Context, key string) (BlobInfo, error)

	// Tags are key's object tags. ENOTFOUND if absent.
	Tags(ctx context.Context, key string) ([]Tag, error)

	// VerifiesChecksums reports whether the store refuses an upload through
	// PresignPut whose bytes do not match opts.SHA256, so that Stat's SHA256
	// of such an object is that of its bytes without reading them. Found
	// out once per process; false when it cannot tell.
	VerifiesChecksums(ctx context.Context) bool

	// Open streams key's bytes. ENOTFOUND if absent.
	Open(ctx context.Context, key string) (io.ReadCloser, error)

	// OpenRange streams at most length bytes of key from offset (shorter at
	// the end of the object). ENOTFOUND if absent.
	OpenRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error)

	// AbortUploads aborts every unfinished multipart upload of key (what a
	// crashed writer leaves) and returns how many there were.
	AbortUploads(ctx context.Context, key string) (int, error)

	// PresignGet returns a time-limited download URL.
	PresignGet(ctx context.Context, key string, opts GetOptions) (PresignedRequest, error)

	// PresignPut returns a time-limited upload request bound to opts.
	PresignPut(ctx context.Context, key string, opts PutOptions) (PresignedRequest, error)

	// Delete removes key; removing an absent key succeeds.
	Delete(ctx context.Context, key string) error
}

// MultipartStore uploads large files in parts through presigned requests
// (POST /api/v1/assets above the single-PUT limit).
type MultipartStore interface {
	// CreateUpload starts a multipart upload of key whose object gets
	// opts.ContentType and opts.Tags, and returns its upload id.
	CreateUpload(ctx context.Context, key string, opts PutOptions) (string, error)

	// PresignPart returns the PUT of part number part (1-based), bound to
	// exactly size bytes.
	PresignPart(ctx context.Context, key, uploadID string, part int, size int64, expires time.Duration) (PresignedRequest, error)

	// CompleteUpload assembles the parts into key's object. EUNPROCESSABLE
	// when they do not form the upload; ENOTFOUND when the upload is gone
	// (completed or aborted).
	CompleteUpload(ctx context.Context, key, uploadID string, parts []CompletedPart) error

	// AbortUpload discards an upload and its parts.
	AbortUpload(ctx context.Context, key, uploadID string) error
}

// SpanStore keeps spans. Every method is scoped by workspace.
type SpanStore interface {
	// ListSpans returns a page of the spans matching f, newest first. EINVALID
	// for a malformed or foreign cursor.
	ListSpans(ctx context.Context, workspaceID string, f SpanFilter) (*SpanPage, error)

	// GetSpan returns span id of the workspace; ENOTFOUND if it has none.
	GetSpan(ctx context.Context, workspaceID, id string) (*Span, error)

	// EachSpan calls visit for every span matching f (paging fields ignored),
	// newest first, until visit returns an error, which EachSpan returns.
	EachSpan(ctx context.Context, workspaceID string, f SpanFilter, visit func(*Span) error) error

	// SpanUsage returns the counters of scope, one per provider, media type
	// and model with spans in it, in no particular order. Every write of a
	// span changes its counters in the same transaction. Its cost grows with
	// the counters in scope (days × providers × media types × models), never
	// with the spans.
	SpanUsage(ctx context.Context, workspaceID string, scope UsageScope) ([]SpanUsage, error)

	// MarkSpanAssetDeleted records that the asset a span produced was deleted.
	// A span that does not exist or did not produce that asset is left alone,
	// without error; marking twice is harmless.
	MarkSpanAssetDeleted(ctx context.Context, workspaceID, spanID, assetID string, at time.Time) error
}

// MediaStore records media calls so that each is charged once: the asset, its
// span and the idempotency record change together or not at all.
type MediaStore interface {
	// ClaimIdempotencyKey stores claim (state pending) unless the key holds a
	// live record: one not past ExpiresAt, and either completed or pending with
	// a lease not past LeaseUntil. It returns nil when the claim was stored, else
	// the record holding the key.
	ClaimIdempotencyKey(ctx context.Context, claim *IdempotencyRecord) (*IdempotencyRecord, error)

	// FindIdempotencyKey reads the record of the workspace's key, whatever
	// its state, without claiming it; nil when there is none.
	FindIdempotencyKey(ctx context.Context, workspaceID, key string) (*IdempotencyRecord, error)

	// RecordMedia writes a new ready asset (counted), its completed span and,
	// when done is set, completes the pending claim done.Token holds, all in one
	// transaction. ECONFLICT if the claim is no longer held by done.Token.
	//
	// With share, a (whose StorageKey is share.Key) joins the share record in
	// the same transaction, as in AssetStore.MarkAssetReady: ErrShareLost when
	// the share no longer holds, and nothing changed.
	RecordMedia(ctx context.Context, a *Asset, s *Span, done *IdempotencyRecord, share *BlobShare) error

	// RecordFailure writes the span of a failed call and, when claim is set,
	// releases that pending claim so that the key may be used again.
	RecordFailure(ctx context.Context, s *Span, claim *IdempotencyRecord) error
}
