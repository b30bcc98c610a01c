package mediatrail_test

import (
	"context"
	"slices"
	"testing"
	"time"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/memory"
)

func cleanup() (*mediatrail.CleanupService, *memory.Store, *memory.Blobs) {
	as, store, blobs := assets()
	return &mediatrail.CleanupService{Assets: as, Store: store, Blobs: blobs, Concurrency: 2, Now: fixedNow}, store, blobs
}

// TestBlobRemovedDecisions: BlobRemoved's decision table, from the record
// and the object as they are now, with failures injected.
func TestBlobRemovedDecisions(t *testing.T) {
	for _, tc := range []struct {
		name     string
		status   mediatrail.AssetStatus // "" for no record
		age      time.Duration
		blob     bool
		otherKey bool
		foreign  bool
		fail     func(*memory.Store) func(string) error
		blobFail func(op, key string) error
		want     mediatrail.RemovalOutcome
		code     string
		gone     bool // the record was purged
	}{
		{name: "foreign key", foreign: true, want: mediatrail.RemovalForeignKey},
		{name: "no record", want: mediatrail.RemovalNoRecord},
		{name: "record unreadable", status: mediatrail.StatusReady, fail: func(*memory.Store) func(string) error { return failOn("FindAsset", -1, errBoom) }, code: mediatrail.EINTERNAL},
		{name: "record names another blob", status: mediatrail.StatusReady, otherKey: true, want: mediatrail.RemovalOtherBlob},
		{name: "tombstone finished", status: mediatrail.StatusDeleted, want: mediatrail.RemovalDeleteFinished, gone: true},
		{name: "blob re-created", status: mediatrail.StatusReady, blob: true, want: mediatrail.RemovalBlobExists},
		{name: "HEAD fails", status: mediatrail.StatusReady, blobFail: blobFailOn("Stat", errBoom), code: mediatrail.EINTERNAL},
		{name: "pending upload still open", status: mediatrail.StatusPending, want: mediatrail.RemovalUploadOpen},
		{name: "pending upload expired", status: mediatrail.StatusPending, age: time.Hour, want: mediatrail.RemovalRecordDeleted, gone: true},
		{name: "ready record follows its blob", status: mediatrail.StatusReady, want: mediatrail.RemovalRecordDeleted, gone: true},
		{name: "deleted meanwhile", status: mediatrail.StatusReady, fail: func(*memory.Store) func(string) error {
			return failOn("MarkAssetDeleted", -1, mediatrail.NotFound("", "gone"))
		}, want: mediatrail.RemovalNoRecord},
		{name: "tombstoning fails", status: mediatrail.StatusReady, fail: func(*memory.Store) func(string) error { return failOn("MarkAssetDeleted", -1, errBoom) }, code: mediatrail.EINTERNAL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, store, blobs := cleanup()
			key := mediatrail.StorageKeyFor("ws-a", mediatrail.NewIDAt(clock), "a.png")
			var a *mediatrail.Asset
			if tc.status != "" {
				a = asset(t, store, blobs, "ws-a", tc.status, tc.age, tc.blob)
				key = a.StorageKey
				if tc.otherKey {
					key += "-old"
				}
			}
			if tc.foreign {
				key = "elsewhere/a.png"
			}
			if tc.fail != nil {
				store.Fail = tc.fail(store)
			}
			blobs.Fail = tc.blobFail
			got, err := s.BlobRemoved(context.Background(), mediatrail.BlobEvent{Key: key, EventName: "ObjectRemoved:Delete", EventTime: clock})
			wantCode(t, err, tc.code)
			if got != tc.want {
				t.Errorf("outcome %q, want %q", got, tc.want)
			}
			if a != nil && (store.Asset("ws-a", a.ID) == nil) != tc.gone {
				t.Errorf("record purged = %v, want %v", !tc.gone, tc.gone)
			}
			if tc.gone && !slices.Contains(store.Marked, a.SpanID+"/"+a.ID) {
				t.Errorf("span not marked asset_deleted: %v", store.Marked)
			}
		})
	}
}

// TestBlobCreatedDecisions: an object no pending or ready record wants is
// deleted only when it came through an upload URL.
func TestBlobCreatedDecisions(t *testing.T) {
	upload := []mediatrail.Tag{mediatrail.RetentionTag(0), mediatrail.UploadTag}
	for _, tc := range []struct {
		name     string
		status   mediatrail.AssetStatus // "" for no record
		tags     []mediatrail.Tag
		noBlob   bool
		foreign  bool
		fail     func(string) error
		blobFail func(op, key string) error
		want     mediatrail.CreationOutcome
		code     string
		kept     bool // the object is still there
	}{
		{name: "foreign key", foreign: true, want: mediatrail.CreationForeignKey, kept: true},
		{name: "record unreadable", fail: failOn("FindAsset", -1, errBoom), code: mediatrail.EINTERNAL, kept: true},
		{name: "tombstone: delete finished", status: mediatrail.StatusDeleted, want: mediatrail.CreationDeleteFinished},
		{name: "pending record wants it", status: mediatrail.StatusPending, want: mediatrail.CreationWanted, kept: true},
		{name: "ready record wants it", status: mediatrail.StatusReady, want: mediatrail.CreationWanted, kept: true},
		{name: "gone already", noBlob: true, want: mediatrail.CreationGone},
		{name: "tags unreadable", blobFail: blobFailOn("Tags", errBoom), code: mediatrail.EINTERNAL, kept: true},
		{name: "media output being recorded", tags: []mediatrail.Tag{mediatrail.RetentionTag(30)}, want: mediatrail.CreationNotUpload, kept: true},
		{name: "upload URL outlived its asset", tags: upload, want: mediatrail.CreationUploadDeleted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, store, blobs := cleanup()
			id := mediatrail.NewIDAt(clock)
			key := mediatrail.StorageKeyFor("ws-a", id, "a.png")
			if tc.status != "" {
				key = asset(t, store, blobs, "ws-a", tc.status, 0, false).StorageKey
			}
			if tc.foreign {
				key = "workspaces/ws-a/other/" + id
			}
			if !tc.noBlob {
				blobs.Set(key, memory.Blob{Data: []byte("x"), Tags: tc.tags})
			}
			store.Fail, blobs.Fail = tc.fail, tc.blobFail
			got, err := s.BlobCreated(context.Background(), mediatrail.BlobEvent{Key: key, EventName: "ObjectCreated:Put", EventTime: clock})
			wantCode(t, err, tc.code)
			if got != tc.want {
				t.Errorf("outcome %q, want %q", got, tc.want)
			}
			if blobs.Has(key) != tc.kept {
				t.Errorf("object kept = %v, want %v", blobs.Has(key), tc.kept)
			}
		})
	}
}

// TestBulkCleanupFilter: every malformed bulk cleanup input is EINVALID on
// its field, before anything is read.
func TestBulkCleanupFilter(t *testing.T) {
	later := clock.Add(time.Hour)
	for _, tc := range []struct {
		name  string
		in    mediatrail.BulkCleanupInput
		field string
	}{
		{"no filter", mediatrail.BulkCleanupInput{}, "filter"},
		{"bad execution id", mediatrail.BulkCleanupInput{ExecutionID: "a b"}, "execution_id"},
		{"bad agent id", mediatrail.BulkCleanupInput{AgentID: "a/b"}, "agent_id"},
		{"bad provider", mediatrail.BulkCleanupInput{Provider: "?"}, "provider"},
		{"type and media_type disagree", mediatrail.BulkCleanupInput{Type: "image", MediaType: "video"}, "type"},
		{"unknown type", mediatrail.BulkCleanupInput{Type: "hologram"}, "type"},
		{"empty window", mediatrail.BulkCleanupInput{CreatedAfter: &later, CreatedBefore: &clock}, "created_before"},
		{"limit too large", mediatrail.BulkCleanupInput{AgentID: "a", Limit: mediatrail.MaxCleanupBatch + 1}, "limit"},
		{"negative limit", mediatrail.BulkCleanupInput{AgentID: "a", Limit: -1}, "limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, store, _ := cleanup()
			store.Fail = func(op string) error { t.Fatalf("store called: %s", op); return nil }
			_, err := s.BulkDelete(context.Background(), "ws-a", tc.in)
			wantCode(t, err, mediatrail.EINVALID)
			if f := fieldOf(err); f != tc.field {
				t.Errorf("field %q, want %q", f, tc.field)
			}
		})
	}
}

// TestBulkDelete: a dry run answers the batch a real run removes; a real
// run reports each asset removed or failed, never one another request
// removed meanwhile, and pages with next_cursor.
func TestBulkDelete(t *testing.T) {
	s, store, blobs := cleanup()
	var ids []string
	for range 5 {
		ids = append(ids, asset(t, store, blobs, "ws-a", mediatrail.StatusReady, time.Minute, true).ID)
	}
	asset(t, store, blobs, "ws-b", mediatrail.StatusReady, time.Minute, true)
	asset(t, store, blobs, "ws-a", mediatrail.StatusPending, time.Minute, false)
	slices.Sort(ids)
	before := clock
	in := mediatrail.BulkCleanupInput{MediaType: "image", CreatedBefore: &before, Limit: 4}
	ctx := context.Background()

	dry := in
	dry.DryRun = true
	got, err := s.BulkDelete(ctx, "ws-a", dry)
	if err != nil || got.Count != 4 || !got.DryRun || got.NextCursor == "" || len(blobs.Keys()) != 6 {
		t.Fatalf("dry run: %+v, %v (%d blobs)", got, err, len(blobs.Keys()))
	}

	// The newest fails inside the store, the next was removed meanwhile.
	failing, removed := ids[4], ids[3]
	s.Assets.Store = markFails{Store: store, fail: map[string]error{failing: errBoom, removed: mediatrail.NotFound("", "gone")}}
	got, err = s.BulkDelete(ctx, "ws-a", in)
	if err != nil {
		t.Fatal(err)
	}
	if got.Count != 2 || len(got.Failed) != 1 || got.Failed[0].ID != failing || got.Failed[0].Code != mediatrail.EINTERNAL {
		t.Fatalf("real run: %+v", got)
	}
	for _, a := range got.Assets {
		if a.Status != mediatrail.StatusDeleted || store.Asset("ws-a", a.ID) != nil {
			t.Errorf("asset %s answered %s, record left: %v", a.ID, a.Status, store.Asset("ws-a", a.ID))
		}
	}
	next := in
	next.Cursor = got.NextCursor
	if got, err = s.BulkDelete(ctx, "ws-a", next); err != nil || got.Count != 1 || got.Assets[0].ID != ids[0] || got.NextCursor != "" {
		t.Fatalf("second batch: %+v, %v", got, err)
	}

	store.Fail = failOn("ListAssets", 1, mediatrail.Invalid("cursor", "bad cursor"))
	_, err = s.BulkDelete(ctx, "ws-a", mediatrail.BulkCleanupInput{AgentID: "a", Cursor: "x"})
	wantCode(t, err, mediatrail.EINVALID)
}

// markFails is an asset store whose MarkAssetDeleted fails for some ids.
type markFails struct {
	*memory.Store
	fail map[string]error
}

func (m markFails) MarkAssetDeleted(ctx context.Context, ws, id string, at time.Time) (*mediatrail.Asset, error) {
	if err := m.fail[id]; err != nil {
		return nil, err
	}
	return m.Store.MarkAssetDeleted(ctx, ws, id, at)
}
