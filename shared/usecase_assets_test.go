package mediatrail_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/memory"
)

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestRegisterInputValidation: every malformed field of a registration is
// refused on its name, before anything is stored.
func TestRegisterInputValidation(t *testing.T) {
	ok := func() mediatrail.RegisterInput {
		return mediatrail.RegisterInput{FileName: "a.png", ContentType: "image/png", Size: ptr[int64](3), SHA256: sum([]byte("png"))}
	}
	for _, tc := range []struct {
		name  string
		edit  func(*mediatrail.RegisterInput)
		code  string
		field string
	}{
		{"bad file name", func(in *mediatrail.RegisterInput) { in.FileName = "" }, mediatrail.EINVALID, "file_name"},
		{"bad content type", func(in *mediatrail.RegisterInput) { in.ContentType = "not a type" }, mediatrail.EINVALID, "content_type"},
		{"no size", func(in *mediatrail.RegisterInput) { in.Size = nil }, mediatrail.EINVALID, "size"},
		{"negative size", func(in *mediatrail.RegisterInput) { in.Size = ptr[int64](-1) }, mediatrail.EINVALID, "size"},
		{"too large", func(in *mediatrail.RegisterInput) { in.Size = ptr[int64](mediatrail.MaxUploadBytes + 1) }, mediatrail.ETOOLARGE, "size"},
		{"no checksum", func(in *mediatrail.RegisterInput) { in.SHA256 = "" }, mediatrail.EINVALID, "sha256"},
		{"bad checksum", func(in *mediatrail.RegisterInput) { in.SHA256 = "abc" }, mediatrail.EINVALID, "sha256"},
		{"bad agent id", func(in *mediatrail.RegisterInput) { in.AgentID = "a b" }, mediatrail.EINVALID, "agent_id"},
		{"bad retention", func(in *mediatrail.RegisterInput) { in.RetentionDays = ptr(3) }, mediatrail.EINVALID, "retention_days"},
		{"bad metadata", func(in *mediatrail.RegisterInput) { in.Metadata = map[string]any{"x": func() {}} }, mediatrail.EINVALID, "metadata"},
		{"single PUT above 5 GiB without multipart", func(in *mediatrail.RegisterInput) { in.Size = ptr[int64](mediatrail.MaxSinglePutBytes + 1) }, mediatrail.ETOOLARGE, "size"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, store, _ := assets()
			s.Multipart = nil
			in := ok()
			tc.edit(&in)
			_, err := s.Register(context.Background(), "ws-a", in)
			wantCode(t, err, tc.code)
			if f := fieldOf(err); !strings.HasPrefix(f, tc.field) {
				t.Errorf("field %q, want %q", f, tc.field)
			}
			if got, _ := store.ListAssets(context.Background(), "ws-a", mediatrail.AssetFilter{Status: mediatrail.StatusPending}); len(got.Assets) != 0 {
				t.Error("a refused registration was stored")
			}
		})
	}
}

// TestUploadLifecycle: register, upload, complete, sign, list and delete,
// in one PUT and in parts, with the failures each step answers.
func TestUploadLifecycle(t *testing.T) {
	ctx := context.Background()
	data := []byte("png")
	for _, tc := range []struct {
		name  string
		size  int64
		parts bool
	}{{"single PUT", 3, false}, {"in parts", 12 << 20, true}} {
		t.Run(tc.name, func(t *testing.T) {
			s, store, blobs := assets()
			s.Uploads = mediatrail.UploadConfig{MultipartThreshold: 8 << 20, PartSize: 5 << 20}
			s.Retention = &mediatrail.RetentionService{Store: store}
			body := data
			if tc.parts {
				body = make([]byte, tc.size)
			}
			reg, err := s.Register(ctx, "ws-a", mediatrail.RegisterInput{FileName: "a.png", ContentType: "image/png", Size: &tc.size,
				SHA256: sum(body), Metadata: map[string]any{"provider": "local", "model": 7}})
			if err != nil {
				t.Fatal(err)
			}
			a := reg.Asset
			if a.Status != mediatrail.StatusPending || a.Provider != "local" || a.Model != "" || (reg.Multipart != nil) != tc.parts || (reg.Upload != nil) == tc.parts {
				t.Fatalf("registration %+v", reg)
			}
			if _, err := s.SignedURL(ctx, "ws-a", a.ID, time.Minute, ""); mediatrail.ErrorCode(err) != mediatrail.ECONFLICT {
				t.Errorf("signing a pending asset: %v", err)
			}
			var in mediatrail.CompleteInput
			if tc.parts {
				if len(reg.Multipart.Parts) != 3 || reg.Multipart.Parts[2].Size != 2<<20 || reg.Multipart.Headers["Content-Length"] != "" {
					t.Fatalf("parts %+v", reg.Multipart)
				}
				in.UploadID = reg.Multipart.UploadID
				for _, p := range reg.Multipart.Parts {
					in.Parts = append(in.Parts, mediatrail.CompletedPart{PartNumber: p.PartNumber, ETag: "e"})
				}
			}
			if _, err := s.Complete(ctx, "ws-a", a.ID, in); mediatrail.ErrorCode(err) != mediatrail.ECONFLICT {
				t.Fatalf("complete before the upload: %v", err)
			}
			blobs.Set(a.StorageKey, memory.Blob{Data: body, ContentType: "image/png"})
			got, err := s.Complete(ctx, "ws-a", a.ID, in)
			if err != nil || got.Status != mediatrail.StatusReady {
				t.Fatalf("complete: %+v, %v", got, err)
			}
			if again, err := s.Complete(ctx, "ws-a", a.ID, in); err != nil || again.Status != mediatrail.StatusReady {
				t.Errorf("complete again: %v", err)
			}
			if _, req, err := s.SignedAsset(ctx, "ws-a", a.ID, time.Minute, mediatrail.DispositionInline); err != nil || !strings.Contains(req.URL, "inline") {
				t.Errorf("signed: %+v, %v", req, err)
			}
			page, err := s.List(ctx, "ws-a", mediatrail.AssetFilter{})
			if err != nil || len(page.Assets) != 1 || page.Limit != mediatrail.DefaultLimit {
				t.Fatalf("list: %+v, %v", page, err)
			}
			if err := s.Delete(ctx, "ws-a", a.ID); err != nil || blobs.Has(a.StorageKey) || store.Asset("ws-a", a.ID) != nil {
				t.Fatalf("delete: %v", err)
			}
			if _, err := s.Get(ctx, "ws-a", a.ID); !mediatrail.IsNotFound(err) {
				t.Errorf("get after delete: %v", err)
			}
		})
	}
}

// TestAssetServiceRefusals: the asset use cases' refusals and the failures
// they pass on or survive.
func TestAssetServiceRefusals(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		call func(*testing.T, *mediatrail.AssetService, *memory.Store, *memory.Blobs) error
		code string
	}{
		{"signed URL lifetime too long", func(t *testing.T, s *mediatrail.AssetService, store *memory.Store, blobs *memory.Blobs) error {
			_, err := s.SignedURL(ctx, "ws-a", asset(t, store, blobs, "ws-a", mediatrail.StatusReady, 0, true).ID, 8*24*time.Hour, "")
			return err
		}, mediatrail.EINVALID},
		{"unknown disposition", func(t *testing.T, s *mediatrail.AssetService, store *memory.Store, blobs *memory.Blobs) error {
			_, err := s.SignedURL(ctx, "ws-a", asset(t, store, blobs, "ws-a", mediatrail.StatusReady, 0, true).ID, time.Minute, "download")
			return err
		}, mediatrail.EINVALID},
		{"another workspace's asset", func(t *testing.T, s *mediatrail.AssetService, store *memory.Store, blobs *memory.Blobs) error {
			_, err := s.SignedURL(ctx, "ws-b", asset(t, store, blobs, "ws-a", mediatrail.StatusReady, 0, true).ID, time.Minute, "")
			return err
		}, mediatrail.ENOTFOUND},
		{"malformed id", func(t *testing.T, s *mediatrail.AssetService, _ *memory.Store, _ *memory.Blobs) error {
			return s.Delete(ctx, "ws-a", "nope")
		}, mediatrail.EINVALID},
		{"delete survives a failing blob store", func(t *testing.T, s *mediatrail.AssetService, store *memory.Store, blobs *memory.Blobs) error {
			blobs.Fail = blobFailOn("Delete", errBoom)
			a := asset(t, store, blobs, "ws-a", mediatrail.StatusReady, 0, true)
			if err := s.Delete(ctx, "ws-a", a.ID); err != nil {
				return err
			}
			if got := store.Asset("ws-a", a.ID); got == nil || got.Status != mediatrail.StatusDeleted {
				t.Errorf("tombstone %+v, want left for cleanup", got)
			}
			return nil
		}, ""},
		{"a mismatched upload is removed", func(t *testing.T, s *mediatrail.AssetService, store *memory.Store, blobs *memory.Blobs) error {
			a := asset(t, store, blobs, "ws-a", mediatrail.StatusPending, 0, false)
			blobs.Set(a.StorageKey, memory.Blob{Data: []byte("pnx")})
			_, err := s.Complete(ctx, "ws-a", a.ID, mediatrail.CompleteInput{})
			if blobs.Has(a.StorageKey) {
				t.Error("mismatched upload kept")
			}
			return err
		}, mediatrail.EUNPROCESSABLE},
		{"an upload with served headers is removed", func(t *testing.T, s *mediatrail.AssetService, store *memory.Store, blobs *memory.Blobs) error {
			a := asset(t, store, blobs, "ws-a", mediatrail.StatusPending, 0, false)
			a.SHA256 = sum([]byte("png"))
			store.PutAsset(a)
			blobs.Set(a.StorageKey, memory.Blob{Data: []byte("png"), ServedHeaders: "Content-Encoding"})
			_, err := s.Complete(ctx, "ws-a", a.ID, mediatrail.CompleteInput{})
			if blobs.Has(a.StorageKey) {
				t.Error("upload kept")
			}
			return err
		}, mediatrail.EUNPROCESSABLE},
		{"parts to a deployment without multipart", func(t *testing.T, s *mediatrail.AssetService, store *memory.Store, blobs *memory.Blobs) error {
			s.Multipart = nil
			a := asset(t, store, blobs, "ws-a", mediatrail.StatusPending, 0, false)
			_, err := s.Complete(ctx, "ws-a", a.ID, mediatrail.CompleteInput{UploadID: "u"})
			return err
		}, mediatrail.EINVALID},
		{"parts out of order", func(t *testing.T, s *mediatrail.AssetService, store *memory.Store, blobs *memory.Blobs) error {
			a := asset(t, store, blobs, "ws-a", mediatrail.StatusPending, 0, false)
			_, err := s.Complete(ctx, "ws-a", a.ID, mediatrail.CompleteInput{UploadID: "u", Parts: []mediatrail.CompletedPart{{PartNumber: 2, ETag: "e"}}})
			return err
		}, mediatrail.EINVALID},
		{"parts that do not form the upload abort it", func(t *testing.T, s *mediatrail.AssetService, store *memory.Store, blobs *memory.Blobs) error {
			a := asset(t, store, blobs, "ws-a", mediatrail.StatusPending, 0, false)
			blobs.Fail = blobFailOn("CompleteUpload", mediatrail.Unprocessable("", "part too small"))
			_, err := s.Complete(ctx, "ws-a", a.ID, mediatrail.CompleteInput{UploadID: "u", Parts: []mediatrail.CompletedPart{{PartNumber: 1, ETag: "e"}}})
			return err
		}, mediatrail.EUNPROCESSABLE},
		{"multipart store failing on complete", func(t *testing.T, s *mediatrail.AssetService, store *memory.Store, blobs *memory.Blobs) error {
			a := asset(t, store, blobs, "ws-a", mediatrail.StatusPending, 0, false)
			blobs.Fail = blobFailOn("CompleteUpload", errBoom)
			_, err := s.Complete(ctx, "ws-a", a.ID, mediatrail.CompleteInput{UploadID: "u", Parts: []mediatrail.CompletedPart{{PartNumber: 1, ETag: "e"}}})
			return err
		}, mediatrail.EINTERNAL},
		{"presigning a part fails: upload aborted", func(t *testing.T, s *mediatrail.AssetService, store *memory.Store, blobs *memory.Blobs) error {
			s.Uploads = mediatrail.UploadConfig{MultipartThreshold: 8 << 20, PartSize: 5 << 20}
			blobs.Fail = blobFailOn("PresignPart", errBoom)
			_, err := s.Register(ctx, "ws-a", mediatrail.RegisterInput{FileName: "a.bin", ContentType: "application/octet-stream", Size: ptr[int64](9 << 20), SHA256: sum(nil)})
			if blobs.Uploads() != 0 {
				t.Error("upload left open")
			}
			return err
		}, mediatrail.EINTERNAL},
		{"storing the record fails", func(t *testing.T, s *mediatrail.AssetService, store *memory.Store, _ *memory.Blobs) error {
			store.Fail = failOn("CreateAsset", 1, errBoom)
			_, err := s.Register(ctx, "ws-a", mediatrail.RegisterInput{FileName: "a.png", ContentType: "image/png", Size: ptr[int64](3), SHA256: sum(nil)})
			return err
		}, mediatrail.EINTERNAL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, store, blobs := assets()
			wantCode(t, tc.call(t, s, store, blobs), tc.code)
		})
	}
}
