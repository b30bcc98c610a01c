package mediatrail_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"testing"
	"time"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// uploadedBlob is one uploaded object in memory: what a HEAD of it answers,
// its bytes, and whether its store verifies checksums. It counts reads.
type uploadedBlob struct {
	mediatrail.BlobStore
	info     mediatrail.BlobInfo
	body     []byte
	verifies bool
	reads    int
	deleted  bool
}

func (b *uploadedBlob) Stat(context.Context, string) (mediatrail.BlobInfo, error) { return b.info, nil }
func (b *uploadedBlob) VerifiesChecksums(context.Context) bool                    { return b.verifies }
func (b *uploadedBlob) Delete(context.Context, string) error                      { b.deleted = true; return nil }
func (b *uploadedBlob) Open(context.Context, string) (io.ReadCloser, error) {
	b.reads++
	return io.NopCloser(bytes.NewReader(b.body)), nil
}

// pendingAsset holds one pending asset and marks it ready.
type pendingAsset struct {
	mediatrail.AssetStore
	asset mediatrail.Asset
}

func (s *pendingAsset) FindAsset(context.Context, string, string) (*mediatrail.Asset, error) {
	a := s.asset
	return &a, nil
}

func (s *pendingAsset) MarkAssetReady(_ context.Context, _, _ string, size int64, sum string, at time.Time, _ *mediatrail.BlobShare) (*mediatrail.Asset, error) {
	s.asset.Status, s.asset.FileSize, s.asset.SHA256, s.asset.UpdatedAt = mediatrail.StatusReady, size, sum, at
	a := s.asset
	return &a, nil
}

func hexSum(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Complete confirms an upload with the HEAD alone where the store verified
// the checksum the presigned PUT binds, and reads the object back only where
// the store does not verify checksums or keeps no SHA-256 of the object.
func TestCompleteReadsBackOnlyWithoutVerifiedChecksum(t *testing.T) {
	registered := []byte("the registered bytes")
	other := []byte("other bytes, same len")[:len(registered)]
	tests := []struct {
		name      string
		blob      uploadedBlob
		wantReads int
		wantCode  string
	}{
		{"verified checksum: HEAD only",
			uploadedBlob{info: mediatrail.BlobInfo{Size: int64(len(registered)), SHA256: hexSum(registered)}, verifies: true},
			0, ""},
		{"verified checksum of other bytes: refused without reading",
			uploadedBlob{info: mediatrail.BlobInfo{Size: int64(len(registered)), SHA256: hexSum(other)}, verifies: true},
			0, mediatrail.EUNPROCESSABLE},
		{"no SHA-256 kept (multipart): read back",
			uploadedBlob{info: mediatrail.BlobInfo{Size: int64(len(registered))}, body: registered, verifies: true},
			1, ""},
		{"store does not verify: read back",
			uploadedBlob{info: mediatrail.BlobInfo{Size: int64(len(registered)), SHA256: hexSum(registered)}, body: registered},
			1, ""},
		{"store does not verify, bytes differ from the checksum it reports: refused",
			uploadedBlob{info: mediatrail.BlobInfo{Size: int64(len(registered)), SHA256: hexSum(registered)}, body: other},
			1, mediatrail.EUNPROCESSABLE},
		{"other size: refused without reading",
			uploadedBlob{info: mediatrail.BlobInfo{Size: 3, SHA256: hexSum(registered)}, body: registered},
			0, mediatrail.EUNPROCESSABLE},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const ws, id = "ws", "2ZqfNnJv8bY1kQ4rT0hM3sLxWcD"
			store := &pendingAsset{asset: mediatrail.Asset{ID: id, WorkspaceID: ws, Status: mediatrail.StatusPending,
				FileSize: int64(len(registered)), SHA256: hexSum(registered), StorageKey: "workspaces/ws/assets/" + id + "/f.txt"}}
			blob := tt.blob
			svc := &mediatrail.AssetService{Store: store, Blobs: &blob}
			a, err := svc.Complete(context.Background(), ws, id, mediatrail.CompleteInput{})
			if got := mediatrail.ErrorCode(err); got != tt.wantCode {
				t.Fatalf("Complete error = %v, want code %q", err, tt.wantCode)
			}
			if blob.reads != tt.wantReads {
				t.Errorf("object read back %d times, want %d", blob.reads, tt.wantReads)
			}
			switch {
			case tt.wantCode == "" && (a.Status != mediatrail.StatusReady || a.SHA256 != hexSum(registered)):
				t.Errorf("Complete = %s %s, want ready with the registered sha256", a.Status, a.SHA256)
			case tt.wantCode != "" && (!blob.deleted || store.asset.Status != mediatrail.StatusPending):
				t.Errorf("refused upload: blob deleted %v, asset %s; want deleted, pending", blob.deleted, store.asset.Status)
			}
		})
	}
}
