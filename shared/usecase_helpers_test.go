package mediatrail_test

import (
	"errors"
	"testing"
	"time"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/memory"
)

// The use cases' unit tests run on shared/memory at a fixed clock.
var clock = time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)

func fixedNow() time.Time { return clock }

// errBoom is an injected failure of the store or the blob store.
var errBoom = errors.New("injected failure")

// failOn answers an injection hook for memory.Store.Fail that fails op with
// err (the first n calls; n < 0: every call).
func failOn(op string, n int, err error) func(string) error {
	return func(got string) error {
		if got != op || n == 0 {
			return nil
		}
		n--
		return err
	}
}

// blobFailOn is an injection hook for memory.Blobs.Fail failing every call
// of op with err.
func blobFailOn(op string, err error) func(string, string) error {
	return func(got, _ string) error {
		if got == op {
			return err
		}
		return nil
	}
}

// assets is an AssetService over fresh in-memory stores.
func assets() (*mediatrail.AssetService, *memory.Store, *memory.Blobs) {
	store, blobs := &memory.Store{}, &memory.Blobs{Now: fixedNow, Verifies: true}
	return &mediatrail.AssetService{Store: store, Blobs: blobs, Spans: store, Multipart: blobs, Now: fixedNow}, store, blobs
}

// asset stores an asset of workspace ws in status st created age ago (its
// upload window ending UploadExpiry later), and its blob when withBlob.
func asset(t *testing.T, store *memory.Store, blobs *memory.Blobs, ws string, st mediatrail.AssetStatus, age time.Duration, withBlob bool) *mediatrail.Asset {
	t.Helper()
	created := clock.Add(-age)
	id := mediatrail.NewIDAt(created)
	a := &mediatrail.Asset{ID: id, WorkspaceID: ws, SpanID: mediatrail.NewIDAt(created), Type: mediatrail.AssetImage, Provider: "local",
		FileName: "a.png", FileSize: 3, ContentType: "image/png", StorageKey: mediatrail.StorageKeyFor(ws, id, "a.png"),
		Status: st, CreatedAt: created, UpdatedAt: created, UploadExpiresAt: created.Add(mediatrail.UploadExpiry)}
	store.PutAsset(a)
	if withBlob {
		blobs.Set(a.StorageKey, memory.Blob{Data: []byte("png"), ContentType: a.ContentType, Modified: created})
	}
	return a
}

// wantCode fails t unless err has code want ("" for no error).
func wantCode(t *testing.T, err error, want string) {
	t.Helper()
	if got := mediatrail.ErrorCode(err); (err == nil) != (want == "") || (err != nil && got != want) {
		t.Fatalf("error %v (code %q), want code %q", err, got, want)
	}
}

// fieldOf is the field an *Error names in its details ("" for none).
func fieldOf(err error) string {
	var e *mediatrail.Error
	if !errors.As(err, &e) {
		return ""
	}
	f, _ := e.Details["field"].(string)
	return f
}

func errorsAs(err error, target **mediatrail.Error) bool { return errors.As(err, target) }
