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
	// MaxUploadBytes is the largest registered upload: one presigned PUT.
	MaxUploadBytes = 5 << 30
	// UploadExpiry is how long a presigned upload URL stays valid; a pending
	// asset older than that may be reclaimed by cleanup.
	UploadExpiry = 15 * time.Minute
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
	Parts []CompletedPart `json:"parts"`
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
		return &Error{Code: ETOOLARGE, Message: "size must be at most 5 GiB", Details: map[string]any{"field": "size"}}
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
		UploadExpiresAt: now.Add(UploadExpiry),
		RetentionDays:   days,
	}
	if err := s.Store.CreateAsset(ctx, a); err != nil {
		return nil, err
	}
	up, err := s.Blobs.PresignPut(ctx, a.StorageKey, PutOptions{
		Expires: UploadExpiry, ContentType: a.ContentType, Size: a.FileSize, SHA256: a.SHA256,
		Tags: []Tag{RetentionTag(a.RetentionDays)},
	})
	if err != nil {
		return nil, err
	}
	return &Registration{Asset: a, Upload: &up}, nil
}

func stringField(md map[string]any, k string) string {
	if v, ok := md[k].(string); ok && ValidRef(v) {
		return v
	}
	return ""
}

// Complete verifies an uploaded blob against its registration (size and sha256)
// and marks the asset ready. A missing upload is ECONFLICT (upload first); a
// mismatch is EUNPROCESSABLE and the bad blob is removed so that a new upload
// can be made. Completing a ready asset returns it unchanged.
func (s *AssetService) Complete(ctx context.Context, workspaceID, id string) (*Asset, error) {
	a, err := s.Get(ctx, workspaceID, id)
	if err != nil {
		return nil, err
	}
	if a.Status == StatusReady {
		return a, nil
	}
	info, err := s.Blobs.Stat(ctx, a.StorageKey)
	if IsNotFound(err) {
		return nil, Errorf(ECONFLICT, "the file has not been uploaded yet")
	} else if err != nil {
		return nil, err
	}
	sum := info.SHA256
	if info.Size == a.FileSize && sum == "" {
		if sum, err = s.hashBlob(ctx, a.StorageKey); err != nil {
			return nil, err
		}
	}
	if info.Size != a.FileSize || sum != a.SHA256 {
		if err := s.Blobs.Delete(ctx, a.StorageKey); err != nil {
			s.logger().Error("remove mismatched upload", "asset", a.ID, "err", err)
		}
		return nil, &Error{Code: EUNPROCESSABLE, Message: "uploaded file does not match the registered size and sha256",
			Details: map[string]any{"expected_size": a.FileSize, "actual_size": info.Size}}
	}
	return s.Store.MarkAssetReady(ctx, workspaceID, id, info.Size, sum, s.now())
}

func (s *AssetService) hashBlob(ctx context.Context, key string) (string, error) {
	r, err := s.Blobs.Open(ctx, key)
	if err != nil {
		return "", err
	}
	defer r.Close()
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
	if expires < time.Second || expires > MaxSignedURLExpiry {
		return PresignedRequest{}, Invalid("expires_in", "expires_in must be between 1 and 604800 seconds")
	}
	if d == "" {
		d = DispositionAttachment
	}
	if d != DispositionAttachment && d != DispositionInline {
		return PresignedRequest{}, Invalid("disposition", "disposition must be attachment or inline")
	}
	a, err := s.Get(ctx, workspaceID, id)
	if err != nil {
		return PresignedRequest{}, err
	}
	if a.Status != StatusReady {
		return PresignedRequest{}, Errorf(ECONFLICT, "asset upload is not complete")
	}
	return s.Blobs.PresignGet(ctx, a.StorageKey, GetOptions{
		Expires: expires, Disposition: d, FileName: a.FileName, ContentType: a.ContentType,
	})
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
// a tombstoned (or expired pending) asset. It is idempotent, and the record goes
// last so that a retry after a crash redoes every step.
func (s *AssetService) FinishDelete(ctx context.Context, a *Asset) error {
	if s.Spans != nil && a.SpanID != "" {
		if err := s.Spans.MarkSpanAssetDeleted(ctx, a.WorkspaceID, a.SpanID, a.ID, s.now()); err != nil {
			return err
		}
	}
	if err := s.Blobs.Delete(ctx, a.StorageKey); err != nil {
		return err
	}
	return s.Store.PurgeAsset(ctx, a.WorkspaceID, a.ID)
}
