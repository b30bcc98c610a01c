package localstack_test

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/mediatrail/mediatrail/internal/localstack"
	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/testenv"
)

// multipartThreshold is the single-PUT limit the multipart tests set
// (UPLOAD_MULTIPART_THRESHOLD): files above 1 MiB go in 5 MiB parts, the
// smallest S3 (and versitygw) accepts.
const multipartThreshold = 1 << 20

type multipartRegistration struct {
	Asset     mediatrail.Asset             `json:"asset"`
	Upload    *mediatrail.PresignedRequest `json:"upload"`
	Multipart *mediatrail.MultipartUpload  `json:"multipart"`
}

func newMultipartAPI(t *testing.T) *env {
	t.Helper()
	_, s3c := testenv.S3(t)
	s := startStack(t, localstack.Options{Runtime: localstack.RuntimeInProcess, Emulators: testEmulators(t), APIKeys: apiKeys,
		Env: map[string]string{"UPLOAD_MULTIPART_THRESHOLD": fmt.Sprint(multipartThreshold), "UPLOAD_PART_SIZE": fmt.Sprint(mediatrail.MinPartBytes)}})
	return &env{Stack: s, bucket: s.Bucket, s3: s3c}
}

func (e *env) registerParts(t *testing.T, key string, body []byte, sha string) multipartRegistration {
	t.Helper()
	v := e.do(t, "POST", "/api/v1/assets", key, map[string]any{
		"file_name": "big.bin", "content_type": "application/octet-stream", "size": len(body), "sha256": sha,
	})
	wantStatus(t, v, http.StatusCreated)
	var reg multipartRegistration
	v.Into(t, &reg)
	if reg.Multipart == nil || reg.Upload != nil {
		t.Fatalf("a %d-byte file got no multipart upload: %s", len(body), v.Raw)
	}
	return reg
}

// putPart sends bytes to a part's URL and returns the status and ETag.
func putPart(t *testing.T, m *mediatrail.MultipartUpload, part mediatrail.UploadPart, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest("PUT", part.URL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range m.Headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("ETag")
}

// sendParts uploads body part by part and returns what complete takes.
func sendParts(t *testing.T, m *mediatrail.MultipartUpload, body []byte) mediatrail.CompleteInput {
	t.Helper()
	in := mediatrail.CompleteInput{UploadID: m.UploadID}
	var offset int64
	for _, p := range m.Parts {
		status, etag := putPart(t, m, p, body[offset:offset+p.Size])
		if status != http.StatusOK || etag == "" {
			t.Fatalf("part %d: status %d, etag %q", p.PartNumber, status, etag)
		}
		in.Parts = append(in.Parts, mediatrail.CompletedPart{PartNumber: p.PartNumber, ETag: etag})
		offset += p.Size
	}
	return in
}

// unfinishedUploads counts the bucket's multipart uploads in progress.
func (e *env) unfinishedUploads(t *testing.T) int {
	t.Helper()
	out, err := e.s3.ListMultipartUploads(testenv.Context(t), &awss3.ListMultipartUploadsInput{Bucket: aws.String(e.bucket)})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.Uploads)
}

// A file above the single-PUT limit uploads in presigned parts; complete
// assembles them and verifies size and sha256 as for one PUT. Parts that do
// not form the upload, or bytes that do not match, leave no part, no object
// and a pending asset; other workspaces cannot complete the upload.
func TestMultipartUpload(t *testing.T) {
	e := newMultipartAPI(t)
	body := make([]byte, 2*mediatrail.MinPartBytes+12345)
	_, _ = rand.Read(body)

	t.Run("assembled and verified", func(t *testing.T) {
		reg := e.registerParts(t, keyA, body, sum(body))
		m := reg.Multipart
		if len(m.Parts) != 3 || m.PartSize != mediatrail.MinPartBytes || m.Parts[2].Size != 12345 || m.UploadID == "" {
			t.Fatalf("parts: %d of %d bytes, last %d", len(m.Parts), m.PartSize, m.Parts[len(m.Parts)-1].Size)
		}
		// Each URL is bound to its part's length.
		if status, _ := putPart(t, m, m.Parts[2], body[:100]); status == http.StatusOK {
			t.Fatal("a part of the wrong length was accepted")
		}
		in := sendParts(t, m, body)
		wantError(t, e.do(t, "POST", "/api/v1/assets/"+reg.Asset.ID+"/complete", keyB, in), http.StatusNotFound, mediatrail.ENOTFOUND)
		v := e.do(t, "POST", "/api/v1/assets/"+reg.Asset.ID+"/complete", keyA, in)
		wantStatus(t, v, http.StatusOK)
		var a mediatrail.Asset
		v.Into(t, &a)
		if a.Status != mediatrail.StatusReady || a.FileSize != int64(len(body)) || a.SHA256 != sum(body) {
			t.Fatalf("completed asset %+v", a)
		}
		// A repeat (an answer lost on the way) answers the same.
		wantStatus(t, e.do(t, "POST", "/api/v1/assets/"+reg.Asset.ID+"/complete", keyA, in), http.StatusOK)
		if status, _, got := fetch(t, signedURL(t, e, keyA, a.ID, "")); status != http.StatusOK || !bytes.Equal(got, body) {
			t.Fatalf("download: %d, %d bytes", status, len(got))
		}
	})

	t.Run("parts that do not form the upload are aborted", func(t *testing.T) {
		reg := e.registerParts(t, keyA, body, sum(body))
		in := sendParts(t, reg.Multipart, body)
		in.Parts[1].ETag = `"00000000000000000000000000000000"`
		wantError(t, e.do(t, "POST", "/api/v1/assets/"+reg.Asset.ID+"/complete", keyA, in), http.StatusUnprocessableEntity, mediatrail.EUNPROCESSABLE)
		if e.objectExists(t, reg.Asset.StorageKey) || e.unfinishedUploads(t) != 0 {
			t.Fatal("an object or parts outlived a failed complete")
		}
		wantError(t, e.do(t, "POST", "/api/v1/assets/"+reg.Asset.ID+"/complete", keyA, nil), http.StatusConflict, mediatrail.ECONFLICT)
	})

	t.Run("bytes that do not match the sha256 are removed", func(t *testing.T) {
		other := bytes.Clone(body)
		other[len(other)-1] ^= 1
		reg := e.registerParts(t, keyA, other, sum(body))
		v := e.do(t, "POST", "/api/v1/assets/"+reg.Asset.ID+"/complete", keyA, sendParts(t, reg.Multipart, other))
		wantError(t, v, http.StatusUnprocessableEntity, mediatrail.EUNPROCESSABLE)
		if e.objectExists(t, reg.Asset.StorageKey) || e.unfinishedUploads(t) != 0 {
			t.Fatal("a mismatching upload was kept")
		}
		wantStatus(t, e.do(t, "GET", "/api/v1/assets/"+reg.Asset.ID, keyA, nil), http.StatusOK)
	})

	t.Run("malformed parts", func(t *testing.T) {
		reg := e.registerParts(t, keyA, body, sum(body))
		for name, in := range map[string]any{
			"no upload id":     map[string]any{"parts": []map[string]any{{"part_number": 1, "etag": "x"}}},
			"out of order":     map[string]any{"upload_id": reg.Multipart.UploadID, "parts": []map[string]any{{"part_number": 2, "etag": "x"}}},
			"no etag":          map[string]any{"upload_id": reg.Multipart.UploadID, "parts": []map[string]any{{"part_number": 1}}},
			"parts not a list": map[string]any{"upload_id": reg.Multipart.UploadID, "parts": "1"},
		} {
			v := e.do(t, "POST", "/api/v1/assets/"+reg.Asset.ID+"/complete", keyA, in)
			if v.Status != http.StatusBadRequest {
				t.Errorf("%s: %d %s", name, v.Status, v.Raw)
			}
		}
		e.do(t, "POST", "/api/v1/assets/"+reg.Asset.ID+"/complete", keyA, sendParts(t, reg.Multipart, body)).WantStatus(t, http.StatusOK)
	})
	if n := e.unfinishedUploads(t); n != 0 {
		t.Errorf("%d multipart uploads left", n)
	}
}
