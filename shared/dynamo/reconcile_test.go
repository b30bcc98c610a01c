package dynamo_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// pendingAsset is a registered upload whose window ends at expires.
func pendingAsset(ws string, expires time.Time) *mediatrail.Asset {
	return newAsset(ws, expires.Add(-mediatrail.UploadExpiry), func(a *mediatrail.Asset) {
		a.Status, a.UploadExpiresAt = mediatrail.StatusPending, expires
	})
}

func TestExpireUpload(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ws := "ws-expire"
	expired := pendingAsset(ws, base)
	open := pendingAsset(ws, base.Add(time.Hour))
	ready := newAsset(ws, base)
	tomb := pendingAsset(ws, base)
	MustCreate(t, e.store, expired, open, ready, tomb)
	if _, err := e.store.MarkAssetDeleted(ctx, ws, tomb.ID, base); err != nil {
		t.Fatal(err)
	}
	at := base.Add(time.Minute)
	for _, tc := range []struct {
		name string
		id   string
		want string
	}{
		{"window ended", expired.ID, ""},
		{"again: now a tombstone", expired.ID, mediatrail.ENOTFOUND},
		{"window open", open.ID, mediatrail.ECONFLICT},
		{"completed", ready.ID, mediatrail.ECONFLICT},
		{"tombstone", tomb.ID, mediatrail.ENOTFOUND},
		{"absent", mediatrail.NewIDAt(base), mediatrail.ENOTFOUND},
	} {
		t.Run(tc.name, func(t *testing.T) {
			was, err := e.store.ExpireUpload(ctx, ws, tc.id, at)
			checkCode(t, err, tc.want)
			if err == nil && (was.ID != tc.id || was.Status != mediatrail.StatusPending) {
				t.Errorf("returned %s %s, want the pending asset as it was", was.ID, was.Status)
			}
		})
	}
	got, err := e.store.FindAsset(ctx, ws, expired.ID)
	if err != nil || got.Status != mediatrail.StatusDeleted {
		t.Errorf("expired upload is %v %v, want a tombstone", got, err)
	}
	// Pending assets are uncounted: only the ready one is.
	if got, want := counters(t, e, ws), wantCounters([]*mediatrail.Asset{ready}); !maps.Equal(got, want) {
		t.Errorf("counters %v, want %v", got, want)
	}
}

func TestWorkspaceRetentionSetting(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, ok, err := e.store.WorkspaceRetention(ctx, "ws-r"); ok || err != nil {
		t.Fatalf("unset: ok=%v err=%v", ok, err)
	}
	for _, days := range []int{30, 0, 365} {
		if err := e.store.SetWorkspaceRetention(ctx, "ws-r", days, base); err != nil {
			t.Fatal(err)
		}
		if got, ok, err := e.store.WorkspaceRetention(ctx, "ws-r"); got != days || !ok || err != nil {
			t.Errorf("after set %d: %d %v %v", days, got, ok, err)
		}
	}
	if _, ok, _ := e.store.WorkspaceRetention(ctx, "ws-other"); ok {
		t.Errorf("another workspace sees the setting")
	}
	checkCode(t, e.store.SetWorkspaceRetention(ctx, "ws-r", 12, base), mediatrail.EINVALID)
	checkCode(t, e.store.SetWorkspaceRetention(ctx, "bad#ws", 7, base), mediatrail.EINVALID)
}

func TestRetentionDaysRoundTrip(t *testing.T) {
	e := newEnv(t)
	a := newAsset("ws-rt", base, func(a *mediatrail.Asset) { a.RetentionDays = 90 })
	MustCreate(t, e.store, a)
	got, err := e.store.FindAsset(context.Background(), "ws-rt", a.ID)
	if err != nil {
		t.Fatal(err)
	}
	checkAsset(t, got, a)
}

// EachAssetRecord visits every asset of every workspace in any status, and
// nothing else (spans, counters, keys, settings); FindAssets reads any
// number of them in batches of 100.
func TestEnumerateAssetRecords(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var all []*mediatrail.Asset
	for i := range 130 {
		ws := []string{"ws-a", "ws-b"}[i%2]
		a := newAsset(ws, base.Add(time.Duration(i)*time.Second))
		if i%10 == 0 {
			a.Status, a.UploadExpiresAt = mediatrail.StatusPending, base
		}
		all = append(all, a)
	}
	MustCreate(t, e.store, all...)
	if _, err := e.store.MarkAssetDeleted(ctx, "ws-a", all[2].ID, base); err != nil {
		t.Fatal(err)
	}
	if err := e.store.SetWorkspaceRetention(ctx, "ws-a", 7, base); err != nil {
		t.Fatal(err)
	}
	if err := e.store.PutAPIKey(ctx, mediatrail.HashAPIKey("k"), "ws-a"); err != nil {
		t.Fatal(err)
	}

	var seen []string
	statuses := map[mediatrail.AssetStatus]int{}
	err := e.store.EachAssetRecord(ctx, func(a *mediatrail.Asset) error {
		seen = append(seen, a.ID)
		statuses[a.Status]++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(seen)
	want := ids(all)
	slices.Sort(want)
	if !slices.Equal(seen, want) {
		t.Errorf("visited %d records, want the %d assets", len(seen), len(want))
	}
	if statuses[mediatrail.StatusDeleted] != 1 || statuses[mediatrail.StatusPending] != 13 {
		t.Errorf("statuses %v", statuses)
	}
	stop := errors.New("stop")
	n := 0
	if err := e.store.EachAssetRecord(ctx, func(*mediatrail.Asset) error { n++; return stop }); err != stop || n != 1 {
		t.Errorf("visit error: %v after %d visits", err, n)
	}

	refs := []mediatrail.AssetRef{{WorkspaceID: "ws-a", ID: mediatrail.NewIDAt(base)}, {WorkspaceID: "bad#ws", ID: all[0].ID}}
	for _, a := range all {
		refs = append(refs, mediatrail.AssetRef{WorkspaceID: a.WorkspaceID, ID: a.ID})
	}
	refs = append(refs, refs[5]) // duplicates are read once
	found, err := e.store.FindAssets(ctx, refs)
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != len(all) {
		t.Errorf("found %d records, want %d", len(found), len(all))
	}
	for _, a := range all {
		if got := found[mediatrail.AssetRef{WorkspaceID: a.WorkspaceID, ID: a.ID}]; got == nil || got.StorageKey != a.StorageKey {
			t.Errorf("record %s: %+v", a.ID, got)
		}
	}
	// Another workspace's id is not found under this one.
	other, _ := e.store.FindAssets(ctx, []mediatrail.AssetRef{{WorkspaceID: "ws-b", ID: all[0].ID}})
	if len(other) != 0 {
		t.Errorf("found %v across workspaces", other)
	}
}
