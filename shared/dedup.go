package mediatrail

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
)

// Content dedup: an asset whose bytes (sha256 and size) already live in the
// workspace, under a blob that will be kept exactly as long, reuses that blob
// instead of keeping its own copy. The blob is reference counted by a share
// record of the asset whose key names it (its owner); deleting one asset keeps
// the blob until the last asset using it goes, and cleanup, S3 removal events
// and reconciliation follow every asset of a shared blob.
//
// The share record's invariant: once it exists, it lists every live asset
// using the blob. The first share adds the owner with the newcomer (the
// owner is then the only asset using it); each later share adds the asset it
// was found through with the newcomer, on condition that that asset is still
// ready and still uses the blob — so nothing joins a blob whose users are all
// being deleted, and the last user to leave may delete it.

// MaxBlobReferrers bounds the assets that share one blob (the share record
// is one DynamoDB item); past it, new copies keep their own blob.
const MaxBlobReferrers = 1000

// ErrShareLost is what a write with a BlobShare answers when the share no
// longer holds (the asset it was found through was deleted or the blob is
// full); the write changed nothing and may be made again without sharing.
var ErrShareLost = errors.New("blob share lost")

// BlobShare says that a new asset reuses the blob Key of the workspace,
// found through Via, a ready asset using it. OwnerID is the asset whose
// storage key Key is (ParseStorageKey), which names the share record.
type BlobShare struct {
	WorkspaceID string
	Key         string
	SHA256      string
	OwnerID     string
	Via         string
}

// BlobShareStore keeps share records. Creating and growing one is part of the
// writes that make an asset ready with a share (AssetStore.MarkAssetReady,
// MediaStore.RecordMedia); these methods read and shrink them.
type BlobShareStore interface {
	// BlobUsers lists the assets using the blob of owner's key; nil when the
	// blob is not shared.
	BlobUsers(ctx context.Context, workspaceID, ownerID string) ([]string, error)

	// DetachBlob removes assetID from the users of owner's blob and answers
	// how many remain; shared is false when the blob has no share record.
	// Detaching an asset that is not a user changes nothing.
	DetachBlob(ctx context.Context, workspaceID, ownerID, assetID string) (remaining int, shared bool, err error)

	// DropSharedBlob removes owner's share record if it has no users left;
	// ECONFLICT when users joined meanwhile (the blob must stay).
	DropSharedBlob(ctx context.Context, workspaceID, ownerID string) error
}

// SharedBlobFinder finds the workspace's assets with given bytes (see
// ProvenanceStore.FindAssetsBySHA256).
type SharedBlobFinder interface {
	FindAssetsBySHA256(ctx context.Context, workspaceID, sha string) ([]*Asset, error)
}

// BlobSharing decides and releases blob shares. A nil *BlobSharing shares
// nothing and lets every delete remove its blob.
type BlobSharing struct {
	Finder SharedBlobFinder
	Store  BlobShareStore
	Logger *slog.Logger
}

func (b *BlobSharing) logger() *slog.Logger { return cmp.Or(b.Logger, slog.Default()) }

// Candidate returns the share a's bytes may use: a ready asset of the same
// workspace with the same sha256 and size, whose blob expires on the same day
// under the same retention class (so no asset's file outlives or undershoots
// its own expires_at, and no blob is ever re-tagged). nil when there is none.
// A failed look-up is logged and answers nil: dedup never fails a write.
func (b *BlobSharing) Candidate(ctx context.Context, a *Asset) *BlobShare {
	if b == nil || a.SHA256 == "" {
		return nil
	}
	found, err := b.Finder.FindAssetsBySHA256(ctx, a.WorkspaceID, a.SHA256)
	if err != nil {
		b.logger().Warn("dedup: look up stored copies", "workspace_id", a.WorkspaceID, "asset_id", a.ID, "err", err)
		return nil
	}
	expires := RetentionExpiresAt(a.CreatedAt, a.RetentionDays)
	for _, c := range found {
		ws, owner, ok := ParseStorageKey(c.StorageKey)
		if c.ID == a.ID || c.Status != StatusReady || !ok || ws != a.WorkspaceID || c.WorkspaceID != a.WorkspaceID ||
			c.SHA256 != a.SHA256 || c.FileSize != a.FileSize || c.RetentionDays != a.RetentionDays ||
			!RetentionExpiresAt(c.CreatedAt, c.RetentionDays).Equal(expires) {
			continue
		}
		return &BlobShare{WorkspaceID: a.WorkspaceID, Key: c.StorageKey, SHA256: c.SHA256, OwnerID: owner, Via: c.ID}
	}
	return nil
}

// write makes a's ready write (write) with the share Candidate finds for it
// and then removes a's own copy of the bytes (StorageKey): a failure to
// remove it is logged and leaves an orphan that no record names, which
// reconciliation deletes. Without a share, or when the share was lost
// meanwhile (ErrShareLost), write runs again without one and the copy stays.
// AssetService (uploads) and MediaService (outputs) record through it.
func (b *BlobSharing) write(ctx context.Context, a *Asset, blobs BlobStore, logger *slog.Logger, write func(*BlobShare) error) error {
	if share := b.Candidate(ctx, a); share != nil {
		err := write(share)
		if err == nil {
			if err := blobs.Delete(ctx, a.StorageKey); err != nil {
				logger.Error("remove deduplicated copy", "workspace_id", a.WorkspaceID, "asset_id", a.ID, "key", a.StorageKey, "err", err)
			}
			return nil
		}
		if !errors.Is(err, ErrShareLost) {
			return err
		}
	}
	return write(nil)
}

// Release detaches a (a tombstone or an expired upload) from its blob and
// reports whether the blob may now be deleted: it is not shared, or a was its
// last user. Repeating it after a crash answers the same, so FinishDelete
// stays idempotent.
func (b *BlobSharing) Release(ctx context.Context, a *Asset) (deleteBlob bool, err error) {
	if b == nil {
		return true, nil
	}
	ws, owner, ok := ParseStorageKey(a.StorageKey)
	if !ok || ws != a.WorkspaceID {
		return true, nil
	}
	remaining, shared, err := b.Store.DetachBlob(ctx, ws, owner, a.ID)
	switch {
	case err != nil:
		return false, err
	case !shared:
		return true, nil
	case remaining > 0:
		return false, nil
	}
	switch err := b.Store.DropSharedBlob(ctx, ws, owner); {
	case ErrorCode(err) == ECONFLICT:
		return false, nil // someone joined after all
	case err != nil:
		return false, err
	}
	return true, nil
}

// Users lists the assets sharing the blob of owner's key; nil when it is not
// shared (or b is nil).
func (b *BlobSharing) Users(ctx context.Context, workspaceID, ownerID string) ([]string, error) {
	if b == nil {
		return nil, nil
	}
	return b.Store.BlobUsers(ctx, workspaceID, ownerID)
}
