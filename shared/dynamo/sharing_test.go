package dynamo_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/testenv"
)

func shareOf(via *mediatrail.Asset) *mediatrail.BlobShare {
	ws, owner, _ := mediatrail.ParseStorageKey(via.StorageKey)
	return &mediatrail.BlobShare{WorkspaceID: ws, Key: via.StorageKey, SHA256: via.SHA256, OwnerID: owner, Via: via.ID}
}

func users(t *testing.T, e *env, owner *mediatrail.Asset) []string {
	t.Helper()
	got, err := e.store.BlobUsers(testenv.Context(t), owner.WorkspaceID, owner.ID)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	return got
}

// TestBlobShareLifecycle: a completed upload and a media output join the
// first copy's blob in their ready writes (counted like any ready asset);
// detaching is idempotent, the record cannot be dropped while it has users,
// and once dropped a detach creates nothing.
func TestBlobShareLifecycle(t *testing.T) {
	t.Parallel()
	ctx := testenv.Context(t)
	e := newEnv(t)
	owner := newAsset("ws-1", base)
	pending := newAsset("ws-1", base.Add(time.Second), func(a *mediatrail.Asset) { a.Status = mediatrail.StatusPending })
	MustCreate(t, e.store, owner, pending)

	got, err := e.store.MarkAssetReady(ctx, "ws-1", pending.ID, owner.FileSize, owner.SHA256, base.Add(time.Minute), shareOf(owner))
	if err != nil {
		t.Fatal(err)
	}
	if got.StorageKey != owner.StorageKey || !got.Deduplicated {
		t.Fatalf("ready asset %+v", got)
	}
	if found, _ := e.store.FindAsset(ctx, "ws-1", pending.ID); found.StorageKey != owner.StorageKey || !found.Deduplicated || found.Status != mediatrail.StatusReady {
		t.Fatalf("stored %+v", found)
	}
	if found, _ := e.store.FindAsset(ctx, "ws-1", owner.ID); found.Deduplicated {
		t.Error("the first copy is marked deduplicated")
	}

	media := newAsset("ws-1", base.Add(2*time.Second), func(a *mediatrail.Asset) { a.StorageKey, a.Deduplicated = owner.StorageKey, true })
	if err := e.store.RecordMedia(ctx, media, newSpan("ws-1", base.Add(2*time.Second), media), nil, shareOf(got)); err != nil {
		t.Fatal(err)
	}
	want := []string{owner.ID, pending.ID, media.ID}
	slices.Sort(want)
	if u := users(t, e, owner); !slices.Equal(u, want) {
		t.Fatalf("users %v, want %v", u, want)
	}
	if c := counters(t, e, "ws-1"); c["COUNT#ALL"] != 3 {
		t.Errorf("counters %v: each asset counts", c)
	}

	for range 2 {
		n, shared, err := e.store.DetachBlob(ctx, "ws-1", owner.ID, owner.ID)
		if err != nil || !shared || n != 2 {
			t.Fatalf("detach owner: %d, %v, %v", n, shared, err)
		}
	}
	checkCode(t, e.store.DropSharedBlob(ctx, "ws-1", owner.ID), mediatrail.ECONFLICT)
	for i, id := range []string{pending.ID, media.ID} {
		if n, shared, err := e.store.DetachBlob(ctx, "ws-1", owner.ID, id); err != nil || !shared || n != 1-i {
			t.Fatalf("detach %s: %d, %v, %v", id, n, shared, err)
		}
	}
	if err := e.store.DropSharedBlob(ctx, "ws-1", owner.ID); err != nil {
		t.Fatal(err)
	}
	if n, shared, err := e.store.DetachBlob(ctx, "ws-1", owner.ID, media.ID); err != nil || shared || n != 0 {
		t.Fatalf("detach after the drop: %d, %v, %v", n, shared, err)
	}
	if u := users(t, e, owner); u != nil {
		t.Errorf("a detach after the drop left a record: %v", u)
	}
	if u, _ := e.store.BlobUsers(ctx, "ws-2", owner.ID); u != nil {
		t.Error("another workspace sees the record")
	}
}

// TestBlobShareLost: a share whose asset was deleted, whose key is another,
// or whose record is full is refused with ErrShareLost, and the write
// changed nothing.
func TestBlobShareLost(t *testing.T) {
	t.Parallel()
	ctx := testenv.Context(t)
	for _, tc := range []struct {
		name  string
		spoil func(t *testing.T, e *env, via *mediatrail.Asset, share *mediatrail.BlobShare)
	}{
		{"asset found was deleted", func(t *testing.T, e *env, via *mediatrail.Asset, _ *mediatrail.BlobShare) {
			if _, err := e.store.MarkAssetDeleted(ctx, "ws-1", via.ID, base); err != nil {
				t.Fatal(err)
			}
		}},
		{"asset found uses another key", func(_ *testing.T, _ *env, _ *mediatrail.Asset, share *mediatrail.BlobShare) {
			share.Key += "-other"
		}},
		{"asset found is in another workspace", func(_ *testing.T, _ *env, _ *mediatrail.Asset, share *mediatrail.BlobShare) {
			share.WorkspaceID = "ws-2"
		}},
		{"record full", func(t *testing.T, e *env, via *mediatrail.Asset, share *mediatrail.BlobShare) {
			ids := make([]string, mediatrail.MaxBlobReferrers)
			for i := range ids {
				ids[i] = mediatrail.NewIDAt(base.Add(time.Duration(i) * time.Millisecond))
			}
			if _, err := e.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(e.table), Item: map[string]types.AttributeValue{
				"PK": &types.AttributeValueMemberS{Value: "WS#ws-1"}, "SK": &types.AttributeValueMemberS{Value: "BLOB#" + share.OwnerID},
				"users": &types.AttributeValueMemberSS{Value: ids},
			}}); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			via := newAsset("ws-1", base)
			pending := newAsset("ws-1", base.Add(time.Second), func(a *mediatrail.Asset) { a.Status = mediatrail.StatusPending })
			MustCreate(t, e.store, via, pending)
			share := shareOf(via)
			tc.spoil(t, e, via, share)

			_, err := e.store.MarkAssetReady(ctx, "ws-1", pending.ID, via.FileSize, via.SHA256, base, share)
			if !errors.Is(err, mediatrail.ErrShareLost) {
				t.Fatalf("mark ready: %v", err)
			}
			if a, _ := e.store.FindAsset(ctx, "ws-1", pending.ID); a.Status != mediatrail.StatusPending || a.Deduplicated {
				t.Errorf("the refused write changed the asset: %+v", a)
			}
			media := newAsset("ws-1", base.Add(2*time.Second), func(a *mediatrail.Asset) { a.StorageKey, a.Deduplicated = share.Key, true })
			err = e.store.RecordMedia(ctx, media, newSpan("ws-1", base.Add(2*time.Second), media), nil, share)
			if !errors.Is(err, mediatrail.ErrShareLost) {
				t.Fatalf("record media: %v", err)
			}
			if _, err := e.store.FindAsset(ctx, "ws-1", media.ID); !mediatrail.IsNotFound(err) {
				t.Errorf("the refused media write stored its asset: %v", err)
			}
			if u, _ := e.store.BlobUsers(ctx, "ws-1", share.OwnerID); len(u) != 0 && len(u) != mediatrail.MaxBlobReferrers {
				t.Errorf("users %d", len(u))
			}
		})
	}
}
