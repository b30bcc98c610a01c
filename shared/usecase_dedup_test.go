package mediatrail_test

import (
	"context"
	"testing"
	"time"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/memory"
)

// sharing is an AssetService with content dedup over fresh in-memory stores.
func sharing() (*mediatrail.AssetService, *memory.Store, *memory.Blobs) {
	s, store, blobs := assets()
	s.Sharing = &mediatrail.BlobSharing{Finder: store, Store: store}
	return s, store, blobs
}

// upload registers data in ws (with retention days, at the service's clock),
// uploads it and completes it.
func upload(t *testing.T, s *mediatrail.AssetService, blobs *memory.Blobs, ws string, data []byte, days int) *mediatrail.Asset {
	t.Helper()
	ctx := context.Background()
	size := int64(len(data))
	reg, err := s.Register(ctx, ws, mediatrail.RegisterInput{FileName: "f.png", ContentType: "image/png", Size: &size, SHA256: sum(data), RetentionDays: &days})
	if err != nil {
		t.Fatal(err)
	}
	blobs.Set(reg.Asset.StorageKey, memory.Blob{Data: data, ContentType: "image/png"})
	a, err := s.Complete(ctx, ws, reg.Asset.ID, mediatrail.CompleteInput{})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestUploadDedupRules: a second upload of the same bytes shares the first
// blob only within the workspace, the retention class and the expiry day.
func TestUploadDedupRules(t *testing.T) {
	data := []byte("same bytes")
	for _, tc := range []struct {
		name            string
		ws              string
		firstDays, days int
		later           time.Duration
		data            []byte
		shared          bool
	}{
		{name: "same bytes, same workspace", ws: "ws-a", shared: true},
		{name: "same bytes, same day, 30 days", ws: "ws-a", firstDays: 30, days: 30, later: time.Second, shared: true},
		{name: "other workspace", ws: "ws-b"},
		{name: "other retention", ws: "ws-a", days: 7},
		{name: "other expiry day", ws: "ws-a", firstDays: 30, days: 30, later: 24 * time.Hour},
		{name: "other bytes", ws: "ws-a", data: []byte("other bytes")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, store, blobs := sharing()
			upload(t, s, blobs, "ws-a", data, tc.firstDays)
			s.Now = func() time.Time { return clock.Add(tc.later) }
			body := data
			if tc.data != nil {
				body = tc.data
			}
			second := upload(t, s, blobs, tc.ws, body, tc.days)
			if second.Deduplicated != tc.shared {
				t.Fatalf("deduplicated %v, want %v (%+v)", second.Deduplicated, tc.shared, second)
			}
			own := mediatrail.StorageKeyFor(tc.ws, second.ID, "f.png")
			if tc.shared {
				if second.StorageKey == own || blobs.Has(own) || !blobs.Has(second.StorageKey) {
					t.Fatalf("shared asset's key %s (own copy kept: %v)", second.StorageKey, blobs.Has(own))
				}
				if got := store.Asset(tc.ws, second.ID); got.StorageKey != second.StorageKey || !got.Deduplicated {
					t.Errorf("stored record %+v", got)
				}
			} else if second.StorageKey != own || !blobs.Has(own) {
				t.Errorf("unshared asset's key %s, blob kept %v", second.StorageKey, blobs.Has(own))
			}
		})
	}
}

// TestSharedBlobOutlivesEachAsset: deleting any asset of a shared blob keeps
// the blob for the others; the last delete removes it and its share record.
func TestSharedBlobOutlivesEachAsset(t *testing.T) {
	ctx := context.Background()
	data := []byte("shared")
	for _, order := range [][]int{{0, 1, 2}, {2, 1, 0}, {1, 0, 2}} {
		s, store, blobs := sharing()
		var all []*mediatrail.Asset
		for range 3 {
			all = append(all, upload(t, s, blobs, "ws-a", data, 0))
		}
		key := all[0].StorageKey
		if all[1].StorageKey != key || all[2].StorageKey != key || all[0].Deduplicated || !all[2].Deduplicated {
			t.Fatalf("keys %s %s %s", all[0].StorageKey, all[1].StorageKey, all[2].StorageKey)
		}
		if users, _ := store.BlobUsers(ctx, "ws-a", all[0].ID); len(users) != 3 {
			t.Fatalf("users %v", users)
		}
		for i, n := range order {
			if err := s.Delete(ctx, "ws-a", all[n].ID); err != nil {
				t.Fatal(err)
			}
			last := i == len(order)-1
			if blobs.Has(key) == last {
				t.Fatalf("order %v: after %d deletes the blob exists: %v", order, i+1, blobs.Has(key))
			}
			if store.Asset("ws-a", all[n].ID) != nil {
				t.Fatalf("record %d stayed", n)
			}
		}
		if users, _ := store.BlobUsers(ctx, "ws-a", all[0].ID); users != nil {
			t.Errorf("share record left: %v", users)
		}
		if len(blobs.Keys()) != 0 {
			t.Errorf("blobs left: %v", blobs.Keys())
		}
	}
}

// TestShareLostFallsBack: when the copy found is deleted before the write,
// the upload keeps its own blob instead of pointing at one being removed.
func TestShareLostFallsBack(t *testing.T) {
	ctx := context.Background()
	s, store, blobs := sharing()
	data := []byte("racing")
	first := upload(t, s, blobs, "ws-a", data, 0)
	size := int64(len(data))
	reg, err := s.Register(ctx, "ws-a", mediatrail.RegisterInput{FileName: "f.png", ContentType: "image/png", Size: &size, SHA256: sum(data)})
	if err != nil {
		t.Fatal(err)
	}
	blobs.Set(reg.Asset.StorageKey, memory.Blob{Data: data})
	deleted := false
	store.Fail = func(op string) error {
		if op == "MarkAssetReady" && !deleted { // the first copy goes between look-up and write
			deleted = true
			if err := s.Delete(ctx, "ws-a", first.ID); err != nil {
				t.Error(err)
			}
		}
		return nil
	}
	got, err := s.Complete(ctx, "ws-a", reg.Asset.ID, mediatrail.CompleteInput{})
	if err != nil || !deleted {
		t.Fatalf("complete: %v (raced: %v)", err, deleted)
	}
	if got.Deduplicated || got.StorageKey != reg.Asset.StorageKey || !blobs.Has(got.StorageKey) || blobs.Has(first.StorageKey) {
		t.Fatalf("asset %+v; blobs %v", got, blobs.Keys())
	}
}

// TestReleaseDecisions: what FinishDelete does with the blob of the first
// copy, by the share record's state, with failures injected; a retry
// answers the same.
func TestReleaseDecisions(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		sharers  int  // later copies of the same bytes
		deleted  bool // the later copies were deleted first
		fail     func(string) error
		code     string
		keepBlob bool
	}{
		{name: "not shared"},
		{name: "others still use it", sharers: 2, keepBlob: true},
		{name: "the last user leaves", sharers: 2, deleted: true},
		{name: "detach fails", sharers: 2, deleted: true, fail: failOn("DetachBlob", 1, errBoom), code: mediatrail.EINTERNAL, keepBlob: true},
		{name: "users joined before the drop", sharers: 1, deleted: true, fail: failOn("DropSharedBlob", 1, mediatrail.Conflict("", "joined")), keepBlob: true},
		{name: "drop fails", sharers: 1, deleted: true, fail: failOn("DropSharedBlob", 1, errBoom), code: mediatrail.EINTERNAL, keepBlob: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, store, blobs := sharing()
			owner := upload(t, s, blobs, "ws-a", []byte("x"), 0)
			for range tc.sharers {
				a := upload(t, s, blobs, "ws-a", []byte("x"), 0)
				if tc.deleted {
					if err := s.Delete(ctx, "ws-a", a.ID); err != nil {
						t.Fatal(err)
					}
				}
			}
			gone, err := store.MarkAssetDeleted(ctx, "ws-a", owner.ID, clock)
			if err != nil {
				t.Fatal(err)
			}
			store.Fail = tc.fail
			err = s.FinishDelete(ctx, gone)
			wantCode(t, err, tc.code)
			if blobs.Has(owner.StorageKey) != tc.keepBlob {
				t.Fatalf("blob kept %v, want %v", blobs.Has(owner.StorageKey), tc.keepBlob)
			}
			if (store.Asset("ws-a", owner.ID) == nil) != (err == nil) {
				t.Errorf("record purged %v after error %v", store.Asset("ws-a", owner.ID) == nil, err)
			}
			if err != nil { // the retry (cleanup) finishes as an uninterrupted run would
				store.Fail = nil
				if err := s.FinishDelete(ctx, gone); err != nil || store.Asset("ws-a", owner.ID) != nil {
					t.Fatalf("retry: %v", err)
				}
				if blobs.Has(owner.StorageKey) {
					t.Error("the retry left the blob of a deleted last user")
				}
			}
		})
	}
}

// TestCleanupFollowsSharedBlob: S3 removing a shared blob (lifecycle) takes
// every record using it; an old upload URL re-creating the first copy's key
// after its delete does not remove the blob others use.
func TestCleanupFollowsSharedBlob(t *testing.T) {
	ctx := context.Background()
	s, store, blobs := sharing()
	c := &mediatrail.CleanupService{Assets: s, Store: store, Blobs: blobs, Now: fixedNow}
	first := upload(t, s, blobs, "ws-a", []byte("y"), 0)
	second := upload(t, s, blobs, "ws-a", []byte("y"), 0)
	other := upload(t, s, blobs, "ws-a", []byte("z"), 0)

	if err := s.Delete(ctx, "ws-a", first.ID); err != nil {
		t.Fatal(err)
	}
	blobs.Set(first.StorageKey, memory.Blob{Data: []byte("y"), Tags: []mediatrail.Tag{mediatrail.UploadTag}})
	if out, err := c.BlobCreated(ctx, mediatrail.BlobEvent{Key: first.StorageKey}); err != nil || out != mediatrail.CreationWanted || !blobs.Has(first.StorageKey) {
		t.Fatalf("re-created shared blob: %s, %v (kept %v)", out, err, blobs.Has(first.StorageKey))
	}

	third := upload(t, s, blobs, "ws-a", []byte("y"), 0)
	if !third.Deduplicated {
		t.Fatal("third copy not shared")
	}
	if err := blobs.Delete(ctx, first.StorageKey); err != nil { // the lifecycle rule
		t.Fatal(err)
	}
	out, err := c.BlobRemoved(ctx, mediatrail.BlobEvent{Key: first.StorageKey})
	if err != nil || out != mediatrail.RemovalRecordDeleted {
		t.Fatalf("removal: %s, %v", out, err)
	}
	for _, a := range []*mediatrail.Asset{second, third} {
		if store.Asset("ws-a", a.ID) != nil {
			t.Errorf("record %s of the removed blob stayed", a.ID)
		}
	}
	if store.Asset("ws-a", other.ID) == nil || !blobs.Has(other.StorageKey) {
		t.Error("an unrelated asset was removed")
	}
	if users, _ := store.BlobUsers(ctx, "ws-a", first.ID); users != nil {
		t.Errorf("share record left: %v", users)
	}
}

// TestReconcileKeepsSharedBlob: a blob whose first copy's record is gone is
// no orphan while other assets share it, in a dry run as in a real one.
func TestReconcileKeepsSharedBlob(t *testing.T) {
	ctx := context.Background()
	for _, dry := range []bool{true, false} {
		s, store, blobs := sharing()
		s.Now = func() time.Time { return clock.Add(-2 * time.Hour) }
		first := upload(t, s, blobs, "ws-a", []byte("y"), 0)
		second := upload(t, s, blobs, "ws-a", []byte("y"), 0)
		if err := s.Delete(ctx, "ws-a", first.ID); err != nil {
			t.Fatal(err)
		}
		blobs.Set(first.StorageKey, memory.Blob{Data: []byte("y"), Modified: clock.Add(-2 * time.Hour)})
		r := &mediatrail.Reconciler{Assets: s, Store: store, Blobs: blobs, Now: fixedNow}
		rep, err := r.Run(ctx, mediatrail.ReconcileOptions{DryRun: dry})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Total() != 0 || !blobs.Has(second.StorageKey) {
			t.Errorf("dry run %v: findings %+v, blob kept %v", dry, rep.Findings, blobs.Has(second.StorageKey))
		}
	}
}

// embeddingOff is a settings store of workspaces that store providers'
// bytes unchanged.
type embeddingOff struct{}

func (embeddingOff) WorkspaceSettings(context.Context, string) (mediatrail.WorkspaceSettings, error) {
	return mediatrail.WorkspaceSettings{ProvenanceEmbedding: false}, nil
}
func (embeddingOff) SetWorkspaceSettings(context.Context, string, mediatrail.SetSettingsInput, time.Time) error {
	return nil
}

// TestMediaDedup: with embedding off, a second identical output is recorded
// on the first one's blob and its own copy removed; with embedding on, the
// record names each asset, so outputs never match.
func TestMediaDedup(t *testing.T) {
	ctx := context.Background()
	for _, embed := range []bool{false, true} {
		x := newStudio()
		x.media.Sharing = &mediatrail.BlobSharing{Finder: x.store, Store: x.store}
		if !embed {
			x.media.Settings = &mediatrail.SettingsService{Store: embeddingOff{}}
		}
		var got []*mediatrail.Asset
		for range 2 {
			out, err := x.media.Generate(ctx, "ws-a", mediatrail.CapabilityImageGen, mediatrail.GenerateInput{Provider: "studio", Prompt: "a cat"})
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, x.store.Asset("ws-a", out.AssetID))
		}
		if got[1].Deduplicated == embed || (got[1].StorageKey == got[0].StorageKey) == embed {
			t.Fatalf("embedding %v: second output %+v", embed, got[1])
		}
		if want := map[bool]int{false: 1, true: 2}[embed]; len(x.blobs.Keys()) != want {
			t.Errorf("embedding %v: blobs %v, want %d", embed, x.blobs.Keys(), want)
		}
	}
}

// TestDedupLookupFailure: a failed look-up of stored copies never fails the
// write; the asset keeps its own blob.
func TestDedupLookupFailure(t *testing.T) {
	s, store, blobs := sharing()
	upload(t, s, blobs, "ws-a", []byte("z"), 0)
	store.Fail = failOn("FindAssetsBySHA256", -1, errBoom)
	if a := upload(t, s, blobs, "ws-a", []byte("z"), 0); a.Deduplicated || !blobs.Has(a.StorageKey) || len(blobs.Keys()) != 2 {
		t.Fatalf("asset %+v, blobs %v", a, blobs.Keys())
	}
}
