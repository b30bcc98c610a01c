package mediatrail

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"time"
)

// Limits of the asset API.
const (
	// MaxSinglePutBytes is the largest upload in one presigned PUT (S3's limit).
	MaxSinglePutBytes = 5 << 30
	// Multipart uploads: S3 wants parts of 5 MiB to 5 GiB (the last may be
	// smaller); one registration presigns at most MaxUploadParts parts, which
	// keeps its answer near 1 MB, under Lambda's 6 MB response limit.
	MinPartBytes     = 5 << 20
	MaxPartBytes     = 5 << 30
	DefaultPartBytes = 64 << 20
	MaxUploadParts   = 1000
	// MaxUploadBytes is the largest registered upload.
	MaxUploadBytes = MaxUploadParts * MaxPartBytes
	// UploadExpiry is how long a presigned upload URL stays valid; a pending
	// asset older than that may be reclaimed by cleanup.
	UploadExpiry = 15 * time.Minute
	// MultipartUploadExpiry is UploadExpiry for uploads in parts: large
	// files take longer. The bucket's lifecycle aborts unfinished multipart
	// uploads after a day, so parts never outlive it by much.
	MultipartUploadExpiry = 6 * time.Hour
	// Signed URL lifetimes (api.md): default 900 s, 1 s to 7 days.
	DefaultSignedURLExpiry = 900 * time.Second
	MaxSignedURLExpiry     = 604800 * time.Second
)

// AssetService holds the asset use cases. Every method takes the caller's
// workspace: an asset of another workspace is ENOTFOUND, never EFORBIDDEN.
type AssetService struct {
	Store AssetStore
	Blobs BlobStore
	// Spans, when set, learns of deleted assets: their spans stay, marked.
	Spans SpanStore
	// Retention decides new assets' retention; nil keeps them forever unless
	// a request says otherwise.
	Retention *RetentionService
	Now       func() time.Time
	Logger    *slog.Logger
	// Multipart, when set, uploads files above Uploads.MultipartThreshold in
	// presigned parts; without it such files are ETOOLARGE.
	Multipart MultipartStore
	Uploads   UploadConfig
	// Sharing, when set, lets a completed upload whose bytes are already
	// stored use that blob (Asset.Deduplicated), and keeps a shared blob
	// until its last asset is deleted. Nil: every asset has its own blob.
	Sharing *BlobSharing
}

func (s *AssetService) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *AssetService) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// RegisterInput is the body of POST /api/v1/assets.
type RegisterInput struct {
	FileName    string         `json:"file_name"`
	ContentType string         `json:"content_type"`
	Size        *int64         `json:"size"`
	SHA256      string         `json:"sha256"`
	ExecutionID string         `json:"execution_id"`
	AgentID     string         `json:"agent_id"`
	SpanID      string         `json:"span_id"`
	Metadata    map[string]any `json:"metadata"`
	// RetentionDays is one of RetentionClasses; nil means the workspace's default.
	RetentionDays *int `json:"retention_days"`
}

// Registration is a pending asset and the request that uploads its bytes:
// Upload, one presigned PUT, or for a file above the single-PUT limit
// Multipart, one presigned PUT per part.
type Registration struct {
	Asset     *Asset            `json:"asset"`
	Upload    *PresignedRequest `json:"upload,omitempty"`
	Multipart *MultipartUpload  `json:"multipart,omitempty"`
}

// MultipartUpload is a presigned multipart upload: each part's bytes go to
// its URL with Headers; the ETag each PUT answers goes to Complete.
type MultipartUpload struct {
	UploadID  string            `json:"upload_id"`
	PartSize  int64             `json:"part_size"`
	Headers   map[string]string `json:"headers"`
	ExpiresAt time.Time         `json:"expires_at"`
	Parts     []UploadPart      `json:"parts"`
}

// UploadPart is one part of a MultipartUpload: Size bytes of the file from
// (PartNumber-1)*PartSize on.
type UploadPart struct {
	PartNumber int    `json:"part_number"`
	URL        string `json:"url"`
	Size       int64  `json:"size"`
}

// CompleteInput is the body of POST /api/v1/assets/{id}/complete: the parts
// of a multipart upload with their ETags; empty after a single PUT.
type CompleteInput struct {
	UploadID string          `json:"upload_id"`
	Parts    []CompletedPart `json:"parts"`
}

// CompletedPart is an uploaded part and the ETag its PUT answered.
type CompletedPart struct {
	PartNumber int    `json:"part_number"`
	ETag       string `json:"etag"`
}

func validateRefField(field, v string, required bool) error {
	if v == "" {
		if required {
			return Invalid(field, "%s is required", field)
		}
		return nil
	}
	if !ValidRef(v) {
		return Invalid(field, "%s must be 1-128 characters of letters, digits, '.', '_', ':' or '-'", field)
	}
	return nil
}

// Validate checks the input and normalises content type and checksum in place.
func (in *RegisterInput) Validate() error {
	if err := ValidateFileName(in.FileName); err != nil {
		return err
	}
	ct, err := ValidateContentType(in.ContentType)
	if err != nil {
		return err
	}
	in.ContentType = ct
	switch {
	case in.Size == nil:
		return Invalid("size", "size is required")
	case *in.Size < 0:
		return Invalid("size", "size must not be negative")
	case *in.Size > MaxUploadBytes:
		return TooLarge("size", "size must be at most %d bytes", int64(MaxUploadBytes))
	}
	if in.SHA256 == "" {
		return Invalid("sha256", "sha256 is required")
	}
	if in.SHA256, err = ValidateSHA256(in.SHA256); err != nil {
		return err
	}
	for _, f := range []struct{ name, v string }{{"execution_id", in.ExecutionID}, {"agent_id", in.AgentID}, {"span_id", in.SpanID}} {
		if err := validateRefField(f.name, f.v, false); err != nil {
			return err
		}
	}
	if in.RetentionDays != nil {
		if err := ValidateRetentionDays(*in.RetentionDays); err != nil {
			return err
		}
	}
	return ValidateMetadata(in.Metadata)
}

// Register records a pending asset, then presigns its upload. The record comes
// first so that no blob can ever exist without a record; a pending record whose
// upload never happens is reclaimed by cleanup once UploadExpiresAt passes.
// The upload is bound to the retention tag, so the blob is tagged from its
// first byte.
func (s *AssetService) Register(ctx context.Context, workspaceID string, in RegisterInput) (*Registration, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	days, err := s.Retention.Resolve(ctx, workspaceID, in.RetentionDays)
	if err != nil {
		return nil, err
	}
	multipart := s.multipart(*in.Size)
	expiry := UploadExpiry
	if multipart {
		expiry = MultipartUploadExpiry
	} else if *in.Size > MaxSinglePutBytes {
		return nil, TooLarge("size", "size must be at most 5 GiB")
	}
	now := s.now()
	id := NewIDAt(now)
	a := &Asset{
		ID:              id,
		WorkspaceID:     workspaceID,
		ExecutionID:     in.ExecutionID,
		AgentID:         in.AgentID,
		SpanID:          in.SpanID,
		Type:            AssetTypeFor(in.ContentType),
		Provider:        stringField(in.Metadata, "provider"),
		Model:           stringField(in.Metadata, "model"),
		FileName:        in.FileName,
		FileSize:        *in.Size,
		ContentType:     in.ContentType,
		StorageKey:      StorageKeyFor(workspaceID, id, in.FileName),
		SHA256:          in.SHA256,
		Metadata:        in.Metadata,
		Status:          StatusPending,
		CreatedAt:       now,
		UpdatedAt:       now,
		UploadExpiresAt: now.Add(expiry),
		RetentionDays:   days,
	}
	if err := s.Store.CreateAsset(ctx, a); err != nil {
		return nil, err
	}
	if multipart {
		m, err := s.presignParts(ctx, a, expiry)
		if err != nil {
			return nil, err
		}
		return &Registration{Asset: a, Multipart: m}, nil
	}
	up, err := s.Blobs.PresignPut(ctx, a.StorageKey, PutOptions{
		Expires: UploadExpiry, ContentType: a.ContentType, Size: a.FileSize, SHA256: a.SHA256,
		Tags: []Tag{RetentionTag(a.RetentionDays), UploadTag},
	})
	if err != nil {
		return nil, err
	}
	return &Registration{Asset: a, Upload: &up}, nil
}

// multipart reports whether a file of size bytes is uploaded in parts.
func (s *AssetService) multipart(size int64) bool {
	return s.Multipart != nil && s.Uploads.InParts(size)
}

// presignParts starts a multipart upload of a's blob and presigns each part.
// A failure aborts the upload: no part can be sent to it.
func (s *AssetService) presignParts(ctx context.Context, a *Asset, expires time.Duration) (*MultipartUpload, error) {
	uploadID, err := s.Multipart.CreateUpload(ctx, a.StorageKey, PutOptions{
		ContentType: a.ContentType, Tags: []Tag{RetentionTag(a.RetentionDays), UploadTag},
	})
	if err != nil {
		return nil, err
	}
	partSize := s.Uploads.PartSizeFor(a.FileSize)
	m := &MultipartUpload{UploadID: uploadID, PartSize: partSize, Headers: map[string]string{}}
	for n, offset := 1, int64(0); offset < a.FileSize; n, offset = n+1, offset+partSize {
		size := min(partSize, a.FileSize-offset)
		req, err := s.Multipart.PresignPart(ctx, a.StorageKey, uploadID, n, size, expires)
		if err != nil {
			s.abort(ctx, a, uploadID)
			return nil, err
		}
		m.Parts = append(m.Parts, UploadPart{PartNumber: n, URL: req.URL, Size: size})
		m.ExpiresAt = req.ExpiresAt
		for k, v := range req.Headers {
			if k != "Content-Length" {
				m.Headers[k] = v
			}
		}
	}
	return m, nil
}

func (s *AssetService) abort(ctx context.Context, a *Asset, uploadID string) {
	if err := s.Multipart.AbortUpload(ctx, a.StorageKey, uploadID); err != nil {
		s.logger().Error("abort multipart upload", "asset", a.ID, "upload", uploadID, "err", err)
	}
}

// Validate checks the parts of a multipart upload: an upload id, and parts
// numbered from 1 in order, each with its ETag.
func (in *CompleteInput) Validate() error {
	switch {
	case in.UploadID == "" || len(in.UploadID) > 1024:
		return Invalid("upload_id", "upload_id of the multipart upload is required with parts")
	case len(in.Parts) == 0 || len(in.Parts) > MaxUploadParts:
		return Invalid("parts", "parts must list 1 to %d parts", MaxUploadParts)
	}
	for i, p := range in.Parts {
		if p.PartNumber != i+1 || p.ETag == "" || len(p.ETag) > 256 {
			return Invalid("parts", "parts must be numbered 1, 2, ... in order, each with the ETag its upload answered")
		}
	}
	return nil
}

// completeParts assembles a multipart upload. Parts that do not form it
// abort it (no part outlives the failure) and are EUNPROCESSABLE: the file
// must be registered again. An upload already assembled (a repeated call)
// is left for the verification that follows.
func (s *AssetService) completeParts(ctx context.Context, a *Asset, in *CompleteInput) error {
	if s.Multipart == nil {
		return Invalid("parts", "this deployment takes no multipart uploads")
	}
	if err := in.Validate(); err != nil {
		return err
	}
	err := s.Multipart.CompleteUpload(ctx, a.StorageKey, in.UploadID, in.Parts)
	switch ErrorCode(err) {
	case "", ENOTFOUND:
		return nil
	case EUNPROCESSABLE:
		s.abort(ctx, a, in.UploadID)
		return Unprocessable("parts", "%s; the upload was discarded, register the file again", ErrorMessage(err)).Wrap(err)
	default:
		return err
	}
}

func stringField(md map[string]any, k string) string {
	if v, ok := md[k].(string); ok && ValidRef(v) {
		return v
	}
	return ""
}

// Complete verifies an uploaded blob against its registration (size and sha256)
// and marks the asset ready; a multipart upload (in with its parts) is
// assembled first. A missing upload is ECONFLICT (upload first); a mismatch
// is EUNPROCESSABLE and the bad blob is removed so that a new upload can be
// made. Completing a ready asset returns it unchanged.
//
// Its cost does not grow with the file where the store verifies checksums:
// the presigned PUT binds the registered SHA-256, so the store refused any
// other bytes and one HEAD (Stat) confirms the object. The object is read
// back and hashed only where the store does not verify them
// (Blobs.VerifiesChecksums) or keeps no SHA-256 of the object (a multipart
// upload).
func (s *AssetService) Complete(ctx context.Context, workspaceID, id string, in CompleteInput) (*Asset, error) {
	a, err := s.Get(ctx, workspaceID, id)
	if err != nil {
		return nil, err
	}
	if a.Status == StatusReady {
		return a, nil
	}
	if in.UploadID != "" || len(in.Parts) > 0 {
		if err := s.completeParts(ctx, a, &in); err != nil {
			return nil, err
		}
	}
	info, err := s.Blobs.Stat(ctx, a.StorageKey)
	if IsNotFound(err) {
		return nil, Errorf(ECONFLICT, "the file has not been uploaded yet")
	} else if err != nil {
		return nil, err
	}
	sum := info.SHA256
	if info.Size == a.FileSize && (sum == "" || !s.Blobs.VerifiesChecksums(ctx)) {
		if sum, err = s.hashBlob(ctx, a.StorageKey); err != nil {
			return nil, err
		}
	}
	if info.Size != a.FileSize || sum != a.SHA256 {
		if err := s.Blobs.Delete(ctx, a.StorageKey); err != nil {
			s.logger().Error("remove mismatched upload", "asset", a.ID, "err", err)
		}
		return nil, Unprocessable("", "uploaded file does not match the registered size and sha256").
			With("expected_size", a.FileSize).With("actual_size", info.Size)
	}
	// The presigned PUT does not sign these headers, and signed downloads
	// would serve them (a Content-Encoding or Content-Disposition of the
	// uploader's choosing): such an upload is removed and must be redone.
	if info.ServedHeaders != "" {
		if err := s.Blobs.Delete(ctx, a.StorageKey); err != nil {
			s.logger().Error("remove upload with unsigned headers", "asset", a.ID, "err", err)
		}
		return nil, Unprocessable("", "the upload carried headers that are not allowed (%s); upload again with exactly upload.headers", info.ServedHeaders).
			With("headers", info.ServedHeaders)
	}
	return s.markReady(ctx, a, info.Size, sum)
}

// markReady makes a verified upload ready, sharing an existing blob with the
// same bytes when there is one: then the upload's own copy is removed (a
// failure to remove it leaves an orphan that reconciliation deletes, since
// no record names it any more).
func (s *AssetService) markReady(ctx context.Context, a *Asset, size int64, sum string) (*Asset, error) {
	verified := *a
	verified.FileSize, verified.SHA256 = size, sum
	var ready *Asset
	err := s.Sharing.write(ctx, &verified, s.Blobs, s.logger(), func(share *BlobShare) (err error) {
		ready, err = s.Store.MarkAssetReady(ctx, a.WorkspaceID, a.ID, size, sum, s.now(), share)
		return err
	})
	return ready, err
}

func (s *AssetService) hashBlob(ctx context.Context, key string) (string, error) {
	r, err := s.Blobs.Open(ctx, key)
	if err != nil {
		return "", err
	}
	defer r.Close()
	return SHA256Hex(r)
}

// SHA256Hex reads r to its end and returns the hex SHA-256 of its bytes.
func SHA256Hex(r io.Reader) (string, error) {
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Get returns a pending or ready asset. ENOTFOUND for an absent id, a tombstone,
// or an asset of another workspace.
func (s *AssetService) Get(ctx context.Context, workspaceID, id string) (*Asset, error) {
	if !ValidID(id) {
		return nil, Invalid("id", "asset id must be a 27-character KSUID")
	}
	a, err := s.Store.FindAsset(ctx, workspaceID, id)
	if err != nil {
		return nil, err
	}
	if a.Status == StatusDeleted {
		return nil, Errorf(ENOTFOUND, "asset not found")
	}
	return a, nil
}

// List returns a page of the workspace's assets, newest first.
func (s *AssetService) List(ctx context.Context, workspaceID string, f AssetFilter) (*AssetPage, error) {
	if f.Limit == 0 {
		f.Limit = DefaultLimit
	}
	if f.Page == 0 && f.Cursor == "" {
		f.Page = 1
	}
	return s.Store.ListAssets(ctx, workspaceID, f)
}

// SignedURL presigns a download of a ready asset for expires (1 s to 7 days).
// A pending asset is ECONFLICT: there is nothing verified to download yet.
func (s *AssetService) SignedURL(ctx context.Context, workspaceID, id string, expires time.Duration, d Disposition) (PresignedRequest, error) {
	_, req, err := s.SignedAsset(ctx, workspaceID, id, expires, d)
	return req, err
}

// SignedAsset is SignedURL answering the asset it signed as well, for
// callers that describe the link (name, type, size) without reading the
// record again.
func (s *AssetService) SignedAsset(ctx context.Context, workspaceID, id string, expires time.Duration, d Disposition) (*Asset, PresignedRequest, error) {
	if expires < time.Second || expires > MaxSignedURLExpiry {
		return nil, PresignedRequest{}, Invalid("expires_in", "expires_in must be between 1 and 604800 seconds")
	}
	if d == "" {
		d = DispositionAttachment
	}
	if d != DispositionAttachment && d != DispositionInline {
		return nil, PresignedRequest{}, Invalid("disposition", "disposition must be attachment or inline")
	}
	a, err := s.Get(ctx, workspaceID, id)
	if err != nil {
		return nil, PresignedRequest{}, err
	}
	if a.Status != StatusReady {
		return nil, PresignedRequest{}, Errorf(ECONFLICT, "asset upload is not complete")
	}
	req, err := s.Blobs.PresignGet(ctx, a.StorageKey, GetOptions{
		Expires: expires, Disposition: d, FileName: a.FileName, ContentType: a.ContentType,
	})
	return a, req, err
}

// Delete removes an asset's blob and record. The order makes a crash at any
// point safe:
//  1. the record becomes a tombstone (uncounted, answered as not found) — so no
//     live record ever points at a missing blob;
//  2. the blob is deleted;
//  3. the tombstone is purged.
//
// A crash after 1 or 2 leaves a tombstone that still names the blob, which
// cleanup finishes by calling FinishDelete. The span that produced the asset
// stays, marked asset_deleted.
func (s *AssetService) Delete(ctx context.Context, workspaceID, id string) error {
	if !ValidID(id) {
		return Invalid("id", "asset id must be a 27-character KSUID")
	}
	a, err := s.Store.MarkAssetDeleted(ctx, workspaceID, id, s.now())
	if err != nil {
		return err
	}
	if err := s.FinishDelete(ctx, a); err != nil {
		// The asset is already gone for the client; cleanup retries the rest.
		s.logger().Error("finish asset delete", "workspace", workspaceID, "asset", id, "err", err)
	}
	return nil
}

// FinishDelete marks the asset's span, then removes the blob and the record of
// a tombstoned (or expired pending) asset. A blob other assets still use stays
// (Sharing.Release). It is idempotent, and the record goes last so that a
// retry after a crash redoes every step.
func (s *AssetService) FinishDelete(ctx context.Context, a *Asset) error {
	if s.Spans != nil && a.SpanID != "" {
		if err := s.Spans.MarkSpanAssetDeleted(ctx, a.WorkspaceID, a.SpanID, a.ID, s.now()); err != nil {
			return err
		}
	}
	deleteBlob, err := s.Sharing.Release(ctx, a)
	if err != nil {
		return err
	}
	if deleteBlob {
		if err := s.Blobs.Delete(ctx, a.StorageKey); err != nil {
			return err
		}
	}
	return s.Store.PurgeAsset(ctx, a.WorkspaceID, a.ID)
}
