package s3_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/s3"
	"github.com/mediatrail/mediatrail/shared/testenv"
)

// methodRecorder records the method of every request a Store sends.
type methodRecorder struct {
	mu      sync.Mutex
	methods []string
}

func (r *methodRecorder) Do(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.methods = append(r.methods, req.Method)
	r.mu.Unlock()
	return http.DefaultClient.Do(req)
}

func (r *methodRecorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.methods
	r.methods = nil
	return m
}

// Both servers refuse an upload whose bytes do not match its checksum and
// answer the checksum on HEAD: an object uploaded through a presigned PUT is
// confirmed, SHA-256 included, by one HEAD, never by reading it back.
func TestPresignedUploadConfirmedByHEAD(t *testing.T) {
	testenv.ForEachS3Backend(t, testPresignedUploadConfirmedByHEAD)
}

func testPresignedUploadConfirmedByHEAD(t *testing.T, b testenv.S3Backend) {
	_, _, bucket := MustStore(t, b)
	c := b.S3Config
	rec := &methodRecorder{}
	store := s3.New(aws.Config{Region: c.Region, HTTPClient: rec}, s3.Config{
		Endpoint: c.Endpoint, Region: c.Region, Bucket: bucket, AccessKeyID: c.AccessKey, SecretKey: c.SecretKey, ForcePathStyle: true,
	})
	ctx := testenv.Context(t)

	if !store.VerifiesChecksums(ctx) {
		t.Fatalf("VerifiesChecksums = false on %s, want true", b.Name)
	}
	if got, want := rec.take(), []string{http.MethodPut}; !slices.Equal(got, want) {
		t.Errorf("probe requests = %v, want %v", got, want)
	}
	if _, err := store.Stat(ctx, "workspaces/.checksum-probe"); !mediatrail.IsNotFound(err) {
		t.Errorf("the refused probe left an object: Stat error = %v", err)
	}
	rec.take()

	body := testData(3*mib, 11)
	req, err := store.PresignPut(ctx, "up", mediatrail.PutOptions{Expires: time.Minute, ContentType: "video/mp4", Size: int64(len(body)), SHA256: hexSHA256(body)})
	if err != nil {
		t.Fatalf("PresignPut: %v", err)
	}
	if status, b := put(t, req.URL, req.Headers, body); status != http.StatusOK {
		t.Fatalf("PUT status %d: %s", status, b)
	}
	info, err := store.Stat(ctx, "up")
	if err != nil || info.SHA256 != hexSHA256(body) || info.Size != int64(len(body)) {
		t.Fatalf("Stat = %+v, %v; want size %d and sha256 %s", info, err, len(body), hexSHA256(body))
	}
	if !store.VerifiesChecksums(ctx) {
		t.Error("VerifiesChecksums changed its answer")
	}
	if got, want := rec.take(), []string{http.MethodHead}; !slices.Equal(got, want) {
		t.Errorf("requests to confirm the upload = %v, want %v (no probe again, no read back)", got, want)
	}
}

// fakeBucket answers a Store's probe as a given S3-compatible store would,
// and counts the requests by method.
type fakeBucket struct {
	t *testing.T
	// answer is the status and error code of the n-th probe PUT (from 1);
	// status 200 stores it.
	answer func(n int) (status int, code string)

	mu       sync.Mutex
	requests map[string]int
}

func (f *fakeBucket) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	if f.requests == nil {
		f.requests = map[string]int{}
	}
	f.requests[r.Method]++
	n := f.requests[r.Method]
	f.mu.Unlock()
	switch r.Method {
	case http.MethodPut:
		sum := sha256.Sum256(body)
		if declared := r.Header.Get("X-Amz-Checksum-Sha256"); declared == "" || declared == b64(sum[:]) {
			f.t.Errorf("probe declares checksum %q of its own bytes (%s), want another's", declared, hex.EncodeToString(sum[:]))
		}
		status, code := f.answer(n)
		if status != http.StatusOK {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(status)
			fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message></Error>`, code, code)
			return
		}
		w.Header().Set("ETag", `"e"`)
	case http.MethodDelete:
		w.WriteHeader(http.StatusNoContent)
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

// VerifiesChecksums finds out once whether the bucket refuses a body that
// does not match its checksum, remembering every answer the bucket gave and
// probing again after a failure that said nothing about it.
func TestVerifiesChecksumsFoundOutOnce(t *testing.T) {
	always := func(status int, code string) func(int) (int, string) {
		return func(int) (int, string) { return status, code }
	}
	tests := []struct {
		name        string
		answer      func(n int) (int, string)
		wantAnswers []bool
		wantPuts    int
		wantDeletes int
	}{
		{"refuses the bad checksum", always(http.StatusBadRequest, "BadDigest"), []bool{true, true, true}, 1, 0},
		{"stores it anyway", always(http.StatusOK, ""), []bool{false, false, false}, 1, 1},
		{"refuses the probe otherwise", always(http.StatusBadRequest, "InvalidArgument"), []bool{false, false, false}, 1, 0},
		{"access denied", always(http.StatusForbidden, "AccessDenied"), []bool{false, false, false}, 1, 0},
		{"unavailable, then refuses the bad checksum", func(n int) (int, string) {
			if n == 1 {
				return http.StatusServiceUnavailable, "SlowDown"
			}
			return http.StatusBadRequest, "BadDigest"
		}, []bool{false, true, true}, 2, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bucket := &fakeBucket{t: t, answer: tt.answer}
			srv := httptest.NewServer(bucket)
			defer srv.Close()
			store := s3.New(aws.Config{Region: "us-east-1", Retryer: func() aws.Retryer { return aws.NopRetryer{} }}, s3.Config{
				Endpoint: srv.URL, Bucket: "b", AccessKeyID: "AKID", SecretKey: "SECRET", ForcePathStyle: true,
			})
			var answers []bool
			for range tt.wantAnswers {
				answers = append(answers, store.VerifiesChecksums(context.Background()))
			}
			if !slices.Equal(answers, tt.wantAnswers) {
				t.Errorf("VerifiesChecksums answered %v, want %v", answers, tt.wantAnswers)
			}
			if got := bucket.requests[http.MethodPut]; got != tt.wantPuts {
				t.Errorf("probes sent = %d, want %d", got, tt.wantPuts)
			}
			if got := bucket.requests[http.MethodDelete]; got != tt.wantDeletes {
				t.Errorf("probe deletions = %d, want %d", got, tt.wantDeletes)
			}
		})
	}
}
