package mediatrail

import (
	"cmp"
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// CleanupStore is what cleanup needs of the asset store beyond AssetStore.
type CleanupStore interface {
	AssetStore

	// ExpireUpload turns a pending asset whose upload window ended before at
	// into a tombstone (pending assets are uncounted, so no counter changes)
	// and returns it as it was. ENOTFOUND if absent or already a tombstone;
	// ECONFLICT if it is no longer pending (it was completed) or its window
	// ends at or after at.
	ExpireUpload(ctx context.Context, workspaceID, id string, at time.Time) (*Asset, error)
}

// CleanupService removes assets in bulk (POST /api/v1/assets/cleanup) and
// makes records follow blobs that S3 removed and removes uploads no record
// wants (the cleanup function, fed by the bucket's ObjectRemoved,
// LifecycleExpiration and ObjectCreated events). Every removal
// goes through AssetService's tombstone order, so a crash anywhere leaves
// something reconciliation finishes, never a live record without its blob.
type CleanupService struct {
	Assets *AssetService
	Store  CleanupStore
	Blobs  BlobStore
	// Concurrency bounds the deletions of one bulk call (default 8).
	Concurrency int
	Now         func() time.Time
	Logger      *slog.Logger
}

func (s *CleanupService) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *CleanupService) logger() *slog.Logger { return cmp.Or(s.Logger, slog.Default()) }

// BlobEvent is one S3 event about an object under workspaces/: it is gone,
// deleted (ObjectRemoved:Delete, ObjectRemoved:DeleteMarkerCreated) or expired
// by a lifecycle rule (LifecycleExpiration:Delete, ...:DeleteMarkerCreated),
// or it was written (ObjectCreated:Put, ...:CompleteMultipartUpload, ...).
type BlobEvent struct {
	Key       string // decoded object key
	EventName string
	EventTime time.Time
	Sequencer string
}

// RemovalOutcome is what BlobRemoved did with an event.
type RemovalOutcome string

const (
	// RemovalForeignKey: the key is not one this system owns; left alone.
	RemovalForeignKey RemovalOutcome = "foreign_key"
	// RemovalNoRecord: no record (already purged: a duplicate event, or the
	// echo of our own delete).
	RemovalNoRecord RemovalOutcome = "no_record"
	// RemovalOtherBlob: the record's blob is another key.
	RemovalOtherBlob RemovalOutcome = "other_blob"
	// RemovalBlobExists: the object is there again (re-created after the
	// event, or the event is stale): the record stays.
	RemovalBlobExists RemovalOutcome = "blob_exists"
	// RemovalUploadOpen: a pending asset whose upload window is still open;
	// its upload may still come.
	RemovalUploadOpen RemovalOutcome = "upload_open"
	// RemovalRecordDeleted: the record of the removed blob was tombstoned
	// (uncounted), its span marked asset_deleted, and purged.
	RemovalRecordDeleted RemovalOutcome = "record_deleted"
	// RemovalDeleteFinished: a tombstone (an interrupted delete) was finished.
	RemovalDeleteFinished RemovalOutcome = "delete_finished"
)

// BlobRemoved makes the record of a removed blob follow it. It decides from
// the current state, not from the event's order: the record is read
// consistently and the object is HEADed, so duplicated, late and reordered
// events are harmless, and a record whose blob was re-created after the
// event is never touched. Keys this system does not own are ignored. An
// error means the event should be delivered again (Lambda retries it); what
// retries cannot finish, reconciliation does.
func (s *CleanupService) BlobRemoved(ctx context.Context, ev BlobEvent) (RemovalOutcome, error) {
	out, err := s.blobRemoved(ctx, ev)
	log := s.logger().With("key", ev.Key, "event", ev.EventName, "event_time", ev.EventTime, "sequencer", ev.Sequencer, "outcome", out)
	if err != nil {
		log.Error("blob removal not applied", "err", err)
	} else {
		log.Info("blob removal")
	}
	return out, err
}

func (s *CleanupService) blobRemoved(ctx context.Context, ev BlobEvent) (RemovalOutcome, error) {
	ws, id, ok := ParseStorageKey(ev.Key)
	if !ok {
		return RemovalForeignKey, nil
	}
	out, err := s.recordRemoved(ctx, ws, id, ev.Key)
	if err != nil || out == RemovalBlobExists || out == RemovalUploadOpen {
		return out, err
	}
	// A shared blob (content dedup) takes the records of all its users with it.
	users, err := s.Assets.Sharing.Users(ctx, ws, id)
	if err != nil {
		return "", err
	}
	for _, user := range users {
		if user == id {
			continue
		}
		switch o, err := s.recordRemoved(ctx, ws, user, ev.Key); {
		case err != nil:
			return "", err
		case o == RemovalRecordDeleted || o == RemovalDeleteFinished:
			out = RemovalRecordDeleted
		}
	}
	return out, nil
}

// recordRemoved makes the record id, if it names key, follow its removed blob.
func (s *CleanupService) recordRemoved(ctx context.Context, ws, id, key string) (RemovalOutcome, error) {
	a, err := s.Store.FindAsset(ctx, ws, id)
	switch {
	case IsNotFound(err):
		return RemovalNoRecord, nil
	case err != nil:
		return "", err
	case a.StorageKey != key:
		return RemovalOtherBlob, nil
	case a.Status == StatusDeleted:
		return RemovalDeleteFinished, s.Assets.FinishDelete(ctx, a)
	}
	if _, err := s.Blobs.Stat(ctx, key); err == nil {
		return RemovalBlobExists, nil
	} else if !IsNotFound(err) {
		return "", err
	}
	now := s.now()
	var was *Asset
	if a.Status == StatusPending {
		if now.Before(a.UploadExpiresAt) {
			return RemovalUploadOpen, nil
		}
		was, err = s.Store.ExpireUpload(ctx, ws, id, now)
	} else {
		was, err = s.Store.MarkAssetDeleted(ctx, ws, id, now)
	}
	if IsNotFound(err) {
		return RemovalNoRecord, nil // deleted meanwhile
	} else if err != nil {
		return "", err
	}
	return RemovalRecordDeleted, s.Assets.FinishDelete(ctx, was)
}

// CreationOutcome is what BlobCreated did with an event.
type CreationOutcome string

const (
	// CreationForeignKey: the key is not one this system owns; left alone.
	CreationForeignKey CreationOutcome = "foreign_key"
	// CreationWanted: the object is the blob of a pending or ready record.
	CreationWanted CreationOutcome = "wanted"
	// CreationDeleteFinished: the record is a tombstone (a delete under way
	// or interrupted); the delete was finished, blob included.
	CreationDeleteFinished CreationOutcome = "delete_finished"
	// CreationNotUpload: no record wants the object, but it was not uploaded
	// through an upload URL: a media output whose record is still being
	// written, or a foreign object. Left to reconciliation, which waits a
	// grace period before removing blobs without records.
	CreationNotUpload CreationOutcome = "not_upload"
	// CreationGone: the object was already removed.
	CreationGone CreationOutcome = "gone"
	// CreationUploadDeleted: an uploaded object no record wants (an upload
	// URL used after its asset was deleted) was deleted.
	CreationUploadDeleted CreationOutcome = "upload_deleted"
)

// BlobCreated deletes at once an object written through an upload URL that
// no pending or ready record wants, so an upload URL that outlives its asset
// cannot re-create a blob with no record. As BlobRemoved, it decides from the
// current state (the record read consistently, the object's tags), so late or
// repeated events are harmless; an error means the event should be delivered
// again.
func (s *CleanupService) BlobCreated(ctx context.Context, ev BlobEvent) (CreationOutcome, error) {
	out, err := s.blobCreated(ctx, ev)
	log := s.logger().With("key", ev.Key, "event", ev.EventName, "event_time", ev.EventTime, "sequencer", ev.Sequencer, "outcome", out)
	if err != nil {
		log.Error("blob creation not applied", "err", err)
	} else if out != CreationWanted {
		log.Info("blob creation")
	}
	return out, err
}

func (s *CleanupService) blobCreated(ctx context.Context, ev BlobEvent) (CreationOutcome, error) {
	ws, id, ok := ParseStorageKey(ev.Key)
	if !ok {
		return CreationForeignKey, nil
	}
	a, err := s.Store.FindAsset(ctx, ws, id)
	switch {
	case err != nil && !IsNotFound(err):
		return "", err
	case err == nil && a.StorageKey == ev.Key && a.Status == StatusDeleted:
		return CreationDeleteFinished, s.Assets.FinishDelete(ctx, a)
	case err == nil && a.StorageKey == ev.Key:
		return CreationWanted, nil // pending or ready
	}
	tags, err := s.Blobs.Tags(ctx, ev.Key)
	switch {
	case IsNotFound(err):
		return CreationGone, nil
	case err != nil:
		return "", err
	case !slices.Contains(tags, UploadTag):
		return CreationNotUpload, nil
	}
	// An upload URL of a deleted asset whose blob other assets share (content
	// dedup) wrote the same bytes again (the URL binds the sha256): the blob stays.
	if users, err := s.Assets.Sharing.Users(ctx, ws, id); err != nil {
		return "", err
	} else if len(users) > 0 {
		return CreationWanted, nil
	}
	return CreationUploadDeleted, s.Blobs.Delete(ctx, ev.Key)
}

// Bulk cleanup bounds.
const (
	// MaxCleanupBatch is the most assets one bulk cleanup call removes.
	MaxCleanupBatch           = MaxLimit
	defaultCleanupConcurrency = 8
)

// BulkCleanupInput is the body of POST /api/v1/assets/cleanup. At least one
// filter is required; filters combine with AND, as in listings.
type BulkCleanupInput struct {
	ExecutionID string `json:"execution_id"`
	AgentID     string `json:"agent_id"`
	Type        string `json:"type"`
	// MediaType is the SDK's name of Type.
	MediaType     string     `json:"media_type"`
	Provider      string     `json:"provider"`
	CreatedBefore *time.Time `json:"created_before"` // exclusive
	CreatedAfter  *time.Time `json:"created_after"`  // exclusive
	// DryRun answers the batch a real call would remove, removing nothing.
	DryRun bool `json:"dry_run"`
	// Limit is the batch size, 1..MaxCleanupBatch (default MaxCleanupBatch).
	Limit int `json:"limit"`
	// Cursor continues after the previous batch (its next_cursor).
	Cursor string `json:"cursor"`
}

// BulkCleanupResult is one batch of a bulk cleanup.
type BulkCleanupResult struct {
	DryRun bool `json:"dry_run"`
	// Assets are the assets removed (status deleted), or with DryRun the ones
	// a real call would remove (as they are), newest first.
	Assets []*Asset `json:"assets"`
	Count  int      `json:"count"`
	// Failed are assets whose removal failed; the same call may be repeated.
	Failed []CleanupFailure `json:"failed"`
	// NextCursor continues with the next batch; "" when this was the last.
	NextCursor string `json:"next_cursor"`
}

// CleanupFailure is an asset a bulk cleanup could not remove.
type CleanupFailure struct {
	ID      string `json:"id"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// filter validates the input and returns the listing that selects the batch.
func (in *BulkCleanupInput) filter() (AssetFilter, error) {
	f := AssetFilter{ExecutionID: in.ExecutionID, AgentID: in.AgentID, Provider: in.Provider, Cursor: in.Cursor, Status: StatusReady}
	for _, ref := range []struct{ name, v string }{{"execution_id", in.ExecutionID}, {"agent_id", in.AgentID}, {"provider", in.Provider}} {
		if err := validateRefField(ref.name, ref.v, false); err != nil {
			return f, err
		}
	}
	var err error
	if f.Type, err = ParseAssetTypes(in.Type, in.MediaType); err != nil {
		return f, err
	}
	if in.CreatedBefore != nil {
		f.CreatedBefore = in.CreatedBefore.UTC()
	}
	if in.CreatedAfter != nil {
		f.CreatedAfter = in.CreatedAfter.UTC()
	}
	if !f.CreatedAfter.IsZero() && !f.CreatedBefore.IsZero() && !f.CreatedAfter.Before(f.CreatedBefore) {
		return f, Invalid("created_before", "created_before must be later than created_after")
	}
	if f.ExecutionID == "" && f.AgentID == "" && f.Type == "" && f.Provider == "" && f.CreatedBefore.IsZero() && f.CreatedAfter.IsZero() {
		return f, Invalid("filter", "give at least one filter: execution_id, agent_id, type, provider, created_before or created_after")
	}
	switch {
	case in.Limit == 0:
		f.Limit = MaxCleanupBatch
	case in.Limit < 0 || in.Limit > MaxCleanupBatch:
		return f, Invalid("limit", "limit must be between 1 and %d", MaxCleanupBatch)
	default:
		f.Limit = in.Limit
	}
	return f, nil
}

// BulkDelete removes one batch of the workspace's ready assets matching the
// input's filters (at most Limit, newest first) as Delete does, each
// tombstoned, its blob deleted and its span marked; with DryRun it answers
// the same batch and removes nothing. Pending uploads are not selected: they
// are reclaimed when their upload window has passed. Call again with
// NextCursor until it is "". EINVALID without a filter, or for a malformed
// filter or cursor.
func (s *CleanupService) BulkDelete(ctx context.Context, ws string, in BulkCleanupInput) (*BulkCleanupResult, error) {
	f, err := in.filter()
	if err != nil {
		return nil, err
	}
	page, err := s.Store.ListAssets(ctx, ws, f)
	if err != nil {
		return nil, err
	}
	out := &BulkCleanupResult{DryRun: in.DryRun, Assets: []*Asset{}, Failed: []CleanupFailure{}, NextCursor: page.NextCursor}
	if in.DryRun {
		out.Assets, out.Count = page.Assets, len(page.Assets)
		return out, nil
	}
	removed := make([]bool, len(page.Assets))
	failures := make([]*CleanupFailure, len(page.Assets))
	sem := make(chan struct{}, cmp.Or(s.Concurrency, defaultCleanupConcurrency))
	var wg sync.WaitGroup
	for i, a := range page.Assets {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			switch err := s.Assets.Delete(ctx, ws, a.ID); {
			case err == nil:
				removed[i] = true
			case IsNotFound(err): // removed meanwhile: not this call's doing
			default:
				if ErrorCode(err) == EINTERNAL {
					s.logger().Error("bulk cleanup: delete asset", "workspace", ws, "asset", a.ID, "err", err)
				}
				failures[i] = &CleanupFailure{ID: a.ID, Code: ErrorCode(err), Message: ErrorMessage(err)}
			}
		})
	}
	wg.Wait()
	for i, a := range page.Assets {
		if removed[i] {
			gone := *a
			gone.Status, gone.UpdatedAt = StatusDeleted, s.now()
			out.Assets = append(out.Assets, &gone)
		}
		if failures[i] != nil {
			out.Failed = append(out.Failed, *failures[i])
		}
	}
	out.Count = len(out.Assets)
	return out, nil
}
