package e2e_test

import (
	"bytes"
	"net/http"
	"slices"
	"testing"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// uploadAsset registers body, PUTs it through its upload URL and completes
// it, as a client of the API does; it answers the completed asset.
func (cs *cleanupStack) uploadAsset(t *testing.T, key string, body []byte) mediatrail.Asset {
	t.Helper()
	reg := cs.register(t, key, "photo.png", "image/png", body)
	reg.put(t, body)
	cs.delivered(t, "ObjectCreated:", reg.Asset.StorageKey)
	a := cs.complete(t, key, reg.Asset.ID)
	if a.Deduplicated {
		cs.delivered(t, "ObjectRemoved:", reg.Asset.StorageKey) // its own copy, removed
	}
	return a
}

// signedBytes downloads asset id through a fresh signed URL.
func (cs *cleanupStack) signedBytes(t *testing.T, key, id string) []byte {
	t.Helper()
	r := cs.do(t, "GET", "/api/v1/assets/"+id+"/signed-url", key, nil)
	wantOK(t, r, http.StatusOK)
	var signed struct {
		URL string `json:"url"`
	}
	r.Into(t, &signed)
	status, _, b := download(t, signed.URL)
	if status != http.StatusOK {
		t.Fatalf("download %s: %d", id, status)
	}
	return b
}

// Content dedup through the API with real S3 events: the same bytes
// uploaded twice in a workspace are stored once (deduplicated: true) and
// the blob stays until the last asset using it is deleted; another
// workspace's upload of the same bytes keeps its own blob and never sees
// the first one's assets; S3 removing the shared blob takes every record
// using it; media outputs of a workspace without provenance embedding
// share too.
func TestContentDedup(t *testing.T) {
	t.Parallel()
	cs := newCleanupStack(t, cleanupOptions{events: true})
	key, ws := cs.workspace(t)
	otherKey, otherWS := cs.workspace(t)
	body := []byte("\x89PNG the same picture, twice")

	first := cs.uploadAsset(t, key, body)
	second := cs.uploadAsset(t, key, body)
	theirs := cs.uploadAsset(t, otherKey, body)
	if first.Deduplicated || !second.Deduplicated || second.StorageKey != first.StorageKey {
		t.Fatalf("first %s (dedup %v), second %s (dedup %v)", first.StorageKey, first.Deduplicated, second.StorageKey, second.Deduplicated)
	}
	if theirs.Deduplicated || theirs.StorageKey == first.StorageKey {
		t.Errorf("another workspace's upload shared a blob: %+v", theirs)
	}
	if keys := cs.objects(t, ws); !slices.Equal(keys, []string{first.StorageKey}) {
		t.Errorf("workspace objects %v, want only the first copy", keys)
	}
	if len(cs.objects(t, otherWS)) != 1 {
		t.Errorf("the other workspace's objects: %v", cs.objects(t, otherWS))
	}
	var got mediatrail.Asset
	cs.do(t, "GET", "/api/v1/assets/"+second.ID, key, nil).Into(t, &got)
	if !got.Deduplicated {
		t.Error("GET does not report deduplicated")
	}
	for _, path := range []string{"/api/v1/assets/" + second.ID, "/api/v1/assets/" + second.ID + "/signed-url"} {
		wantError(t, cs.do(t, "GET", path, otherKey, nil), http.StatusNotFound, mediatrail.ENOTFOUND)
	}
	wantError(t, cs.do(t, "DELETE", "/api/v1/assets/"+first.ID, otherKey, nil), http.StatusNotFound, mediatrail.ENOTFOUND)

	// The first copy goes; the second still downloads its bytes.
	wantOK(t, cs.do(t, "DELETE", "/api/v1/assets/"+first.ID, key, nil), http.StatusNoContent)
	if !cs.blobExists(t, first.StorageKey) {
		t.Fatal("deleting the first copy removed the shared blob")
	}
	if b := cs.signedBytes(t, key, second.ID); !bytes.Equal(b, body) {
		t.Fatalf("second copy downloads %q", b)
	}
	// A third upload joins the blob through the second.
	third := cs.uploadAsset(t, key, body)
	if !third.Deduplicated || third.StorageKey != first.StorageKey {
		t.Fatalf("third %+v", third)
	}
	wantOK(t, cs.do(t, "DELETE", "/api/v1/assets/"+second.ID, key, nil), http.StatusNoContent)
	wantOK(t, cs.do(t, "DELETE", "/api/v1/assets/"+third.ID, key, nil), http.StatusNoContent)
	cs.delivered(t, "ObjectRemoved:", first.StorageKey)
	if keys := cs.objects(t, ws); len(keys) != 0 {
		t.Errorf("objects left after the last delete: %v", keys)
	}
	if b := cs.signedBytes(t, otherKey, theirs.ID); !bytes.Equal(b, body) {
		t.Error("the other workspace's copy was touched")
	}

	// S3 removing a shared blob (a lifecycle expiry) takes both records.
	a, b := cs.uploadAsset(t, key, body), cs.uploadAsset(t, key, body)
	cs.deleteObject(t, a.StorageKey)
	cs.delivered(t, "ObjectRemoved:", a.StorageKey)
	for _, id := range []string{a.ID, b.ID} {
		wantError(t, cs.do(t, "GET", "/api/v1/assets/"+id, key, nil), http.StatusNotFound, mediatrail.ENOTFOUND)
	}

	// Media outputs: identical images (the local provider is deterministic)
	// share a blob once the workspace stores providers' bytes unchanged.
	wantOK(t, cs.do(t, "PUT", "/api/v1/workspace/settings", key, map[string]any{"provenance_embedding": false}), http.StatusOK)
	var outs []generated
	for range 2 {
		r := cs.do(t, "POST", "/api/v1/media/image_gen", key, map[string]any{"provider": "local", "prompt": "a lighthouse"})
		wantOK(t, r, http.StatusOK)
		var out generated
		r.Into(t, &out)
		outs = append(outs, out)
	}
	var m0, m1 mediatrail.Asset
	cs.do(t, "GET", "/api/v1/assets/"+outs[0].AssetID, key, nil).Into(t, &m0)
	cs.do(t, "GET", "/api/v1/assets/"+outs[1].AssetID, key, nil).Into(t, &m1)
	if m0.Deduplicated || !m1.Deduplicated || m1.StorageKey != m0.StorageKey || m1.SHA256 != m0.SHA256 {
		t.Fatalf("media outputs: %+v / %+v", m0, m1)
	}
	if status, _, _ := download(t, outs[1].AssetURL); status != http.StatusOK {
		t.Errorf("the deduplicated output's signed URL answers %d", status)
	}
}
