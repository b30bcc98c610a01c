package s3_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/s3"
	"github.com/mediatrail/mediatrail/shared/testenv"
)

const mib = 1 << 20

// TestMain stops the S3 servers the suite started (testenv.S3Backends).
func TestMain(m *testing.M) {
	code := m.Run()
	testenv.StopS3Backends()
	os.Exit(code)
}

// MustStore returns a Store on a fresh bucket of backend b, the raw client,
// and the bucket name. The bucket is emptied and removed after the test.
func MustStore(tb testing.TB, b testenv.S3Backend) (*s3.Store, *awss3.Client, string) {
	tb.Helper()
	c, client := b.S3Config, b.Client()
	bucket := testenv.UniqueName("t")
	if err := s3.EnsureBucket(testenv.Context(tb), client, bucket); err != nil {
		tb.Fatalf("EnsureBucket: %v", err)
	}
	tb.Cleanup(func() { removeBucket(tb, client, bucket) })
	store := s3.New(aws.Config{Region: c.Region}, s3.Config{
		Endpoint:       c.Endpoint,
		Region:         c.Region,
		Bucket:         bucket,
		AccessKeyID:    c.AccessKey,
		SecretKey:      c.SecretKey,
		ForcePathStyle: true,
	})
	return store, client, bucket
}

func removeBucket(tb testing.TB, client *awss3.Client, bucket string) {
	ctx := context.Background()
	uploads, err := client.ListMultipartUploads(ctx, &awss3.ListMultipartUploadsInput{Bucket: &bucket})
	if err == nil {
		for _, u := range uploads.Uploads {
			_, _ = client.AbortMultipartUpload(ctx, &awss3.AbortMultipartUploadInput{Bucket: &bucket, Key: u.Key, UploadId: u.UploadId})
		}
	}
	p := awss3.NewListObjectsV2Paginator(client, &awss3.ListObjectsV2Input{Bucket: &bucket})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			break
		}
		for _, o := range page.Contents {
			_, _ = client.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: &bucket, Key: o.Key})
		}
	}
	if _, err := client.DeleteBucket(ctx, &awss3.DeleteBucketInput{Bucket: &bucket}); err != nil {
		tb.Logf("remove bucket %s: %v", bucket, err)
	}
}

// MustPut stores body under key and fails the test on error.
func MustPut(tb testing.TB, store *s3.Store, key, contentType string, body []byte) mediatrail.BlobInfo {
	tb.Helper()
	info, err := store.Put(testenv.Context(tb), key, contentType, bytes.NewReader(body), int64(len(body)))
	if err != nil {
		tb.Fatalf("Put(%q): %v", key, err)
	}
	return info
}

// testData returns n deterministic pseudo-random bytes.
func testData(n int, seed byte) []byte {
	b := make([]byte, n)
	_, _ = rand.NewChaCha8([32]byte{seed}).Read(b)
	return b
}

func hexSHA256(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// onlyReader hides every method but Read, as a network body would.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

func readAll(tb testing.TB, store *s3.Store, key string) []byte {
	tb.Helper()
	rc, err := store.Open(testenv.Context(tb), key)
	if err != nil {
		tb.Fatalf("Open(%q): %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		tb.Fatalf("read %q: %v", key, err)
	}
	return b
}

func TestPut(t *testing.T) { testenv.ForEachS3Backend(t, testPut) }

func testPut(t *testing.T, b testenv.S3Backend) {
	tests := []struct {
		name        string
		body        []byte
		hint        int64
		contentType string
		wantType    string
	}{
		{"empty", nil, 0, "text/plain", "text/plain"},
		{"small", []byte("hello, world"), 12, "text/plain; charset=utf-8", "text/plain; charset=utf-8"},
		{"no content type", []byte{0, 1, 2}, 3, "", "application/octet-stream"},
		{"unknown size", testData(3*mib, 1), -1, "audio/wav", "audio/wav"},
		{"wrong size hint", testData(1*mib, 2), 10, "audio/wav", "audio/wav"},
		{"exactly one part", testData(s3.PartSize, 3), s3.PartSize, "image/png", "image/png"},
		{"multipart", testData(20*mib, 4), 20 * mib, "video/mp4", "video/mp4"},
		{"multipart unknown size", testData(17*mib+5, 5), -1, "video/mp4", "video/mp4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store, _, _ := MustStore(t, b)
			ctx := testenv.Context(t)
			want := mediatrail.BlobInfo{Size: int64(len(tt.body)), SHA256: hexSHA256(tt.body), ContentType: tt.wantType}

			got, err := store.Put(ctx, "a/b/blob.bin", tt.contentType, onlyReader{bytes.NewReader(tt.body)}, tt.hint)
			if err != nil {
				t.Fatalf("Put: %v", err)
			}
			if got != want {
				t.Errorf("Put = %+v, want %+v", got, want)
			}
			got, err = store.Stat(ctx, "a/b/blob.bin")
			if err != nil {
				t.Fatalf("Stat: %v", err)
			}
			if got != want {
				t.Errorf("Stat = %+v, want %+v", got, want)
			}
			if b := readAll(t, store, "a/b/blob.bin"); !bytes.Equal(b, tt.body) {
				t.Errorf("Open returned %d bytes (sha256 %s), want %d (%s)", len(b), hexSHA256(b), len(tt.body), want.SHA256)
			}
		})
	}
}

var errBoom = errors.New("boom")

// cancelAfter reads r and cancels once n bytes have been read, then keeps reading.
type cancelAfter struct {
	r      io.Reader
	n      int64
	cancel context.CancelFunc
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.n -= int64(n); c.n <= 0 {
		c.cancel()
	}
	return n, err
}

func TestPutFailureLeavesNothing(t *testing.T) {
	testenv.ForEachS3Backend(t, testPutFailureLeavesNothing)
}

func testPutFailureLeavesNothing(t *testing.T, b testenv.S3Backend) {
	tests := []struct {
		name    string
		body    func(cancel context.CancelFunc) io.Reader
		wantErr error
	}{
		{
			name: "reader fails within the first part",
			body: func(context.CancelFunc) io.Reader {
				return io.MultiReader(bytes.NewReader(testData(3*mib, 1)), iotestErr{})
			},
			wantErr: errBoom,
		},
		{
			name: "reader fails mid multipart",
			body: func(context.CancelFunc) io.Reader {
				return io.MultiReader(bytes.NewReader(testData(19*mib, 2)), iotestErr{})
			},
			wantErr: errBoom,
		},
		{
			name: "context cancelled mid multipart",
			body: func(cancel context.CancelFunc) io.Reader {
				return &cancelAfter{r: bytes.NewReader(testData(40*mib, 3)), n: 12 * mib, cancel: cancel}
			},
			wantErr: context.Canceled,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store, client, bucket := MustStore(t, b)
			ctx, cancel := context.WithCancel(testenv.Context(t))
			defer cancel()

			_, err := store.Put(ctx, "k", "video/mp4", onlyReader{tt.body(cancel)}, -1)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Put error = %v, want %v", err, tt.wantErr)
			}

			ctx = testenv.Context(t)
			if _, err := store.Stat(ctx, "k"); !mediatrail.IsNotFound(err) {
				t.Errorf("Stat after failed Put: error = %v, want not found", err)
			}
			out, err := client.ListMultipartUploads(ctx, &awss3.ListMultipartUploadsInput{Bucket: &bucket})
			if err != nil {
				t.Fatalf("ListMultipartUploads: %v", err)
			}
			if got := len(out.Uploads); got != 0 {
				t.Errorf("in-progress multipart uploads = %d, want 0", got)
			}
		})
	}
}

type iotestErr struct{}

func (iotestErr) Read([]byte) (int, error) { return 0, errBoom }

func TestMissingBlob(t *testing.T) { testenv.ForEachS3Backend(t, testMissingBlob) }

func testMissingBlob(t *testing.T, b testenv.S3Backend) {
	store, _, _ := MustStore(t, b)
	ctx := testenv.Context(t)
	tests := []struct {
		name string
		call func() error
	}{
		{"Stat", func() error { _, err := store.Stat(ctx, "absent"); return err }},
		{"Open", func() error {
			rc, err := store.Open(ctx, "absent")
			if err == nil {
				rc.Close()
			}
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, want := mediatrail.ErrorCode(tt.call()), mediatrail.ENOTFOUND; got != want {
				t.Errorf("error code = %q, want %q", got, want)
			}
		})
	}
}

func TestDelete(t *testing.T) { testenv.ForEachS3Backend(t, testDelete) }

func testDelete(t *testing.T, b testenv.S3Backend) {
	tests := []struct {
		name   string
		exists bool
	}{
		{"present", true},
		{"absent", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store, _, _ := MustStore(t, b)
			ctx := testenv.Context(t)
			if tt.exists {
				MustPut(t, store, "k", "text/plain", []byte("x"))
			}
			if err := store.Delete(ctx, "k"); err != nil {
				t.Fatalf("Delete: %v", err)
			}
			if _, err := store.Stat(ctx, "k"); !mediatrail.IsNotFound(err) {
				t.Errorf("Stat after Delete: error = %v, want not found", err)
			}
		})
	}
}

func TestEnsureBucket(t *testing.T) { testenv.ForEachS3Backend(t, testEnsureBucket) }

func testEnsureBucket(t *testing.T, b testenv.S3Backend) {
	client := b.Client()
	ctx := testenv.Context(t)
	bucket := testenv.UniqueName("t")
	t.Cleanup(func() { removeBucket(t, client, bucket) })
	for i := range 2 {
		if err := s3.EnsureBucket(ctx, client, bucket); err != nil {
			t.Fatalf("EnsureBucket call %d: %v", i+1, err)
		}
	}
	if _, err := client.HeadBucket(ctx, &awss3.HeadBucketInput{Bucket: &bucket}); err != nil {
		t.Errorf("HeadBucket: %v", err)
	}
}

func get(tb testing.TB, rawURL string) (*http.Response, []byte) {
	tb.Helper()
	resp, err := http.Get(rawURL)
	if err != nil {
		tb.Fatalf("GET: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("read body: %v", err)
	}
	return resp, b
}

func TestPresignGet(t *testing.T) { testenv.ForEachS3Backend(t, testPresignGet) }

func testPresignGet(t *testing.T, b testenv.S3Backend) {
	store, _, _ := MustStore(t, b)
	body := testData(100_000, 7)
	MustPut(t, store, "k", "audio/wav", body)

	tests := []struct {
		name            string
		opts            mediatrail.GetOptions
		wantType        string
		wantDisposition string
	}{
		{
			name:            "attachment with unicode name",
			opts:            mediatrail.GetOptions{Disposition: mediatrail.DispositionAttachment, FileName: "résumé final.wav", ContentType: "audio/wav"},
			wantType:        "audio/wav",
			wantDisposition: `attachment; filename="r_sum__final.wav"; filename*=UTF-8''r%C3%A9sum%C3%A9%20final.wav`,
		},
		{
			name:            "inline with quotes in name",
			opts:            mediatrail.GetOptions{Disposition: mediatrail.DispositionInline, FileName: `say "hi".wav`, ContentType: "audio/wav"},
			wantType:        "audio/wav",
			wantDisposition: `inline; filename="say__hi_.wav"; filename*=UTF-8''say%20%22hi%22.wav`,
		},
		{
			name:            "header injection attempt",
			opts:            mediatrail.GetOptions{FileName: "a\r\nSet-Cookie: x=1.wav", ContentType: "audio/wav"},
			wantType:        "audio/wav",
			wantDisposition: `attachment; filename="a__Set-Cookie__x_1.wav"; filename*=UTF-8''a%0D%0ASet-Cookie%3A%20x%3D1.wav`,
		},
		{
			name:            "default disposition without name or type",
			opts:            mediatrail.GetOptions{},
			wantType:        "application/octet-stream",
			wantDisposition: "attachment",
		},
		{
			name:            "content type override",
			opts:            mediatrail.GetOptions{Disposition: mediatrail.DispositionInline, FileName: "音声.wav", ContentType: "audio/x-wav"},
			wantType:        "audio/x-wav",
			wantDisposition: `inline; filename="__.wav"; filename*=UTF-8''%E9%9F%B3%E5%A3%B0.wav`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Expires = time.Minute
			before := time.Now().Truncate(time.Second)
			req, err := store.PresignGet(testenv.Context(t), "k", tt.opts)
			if err != nil {
				t.Fatalf("PresignGet: %v", err)
			}
			if req.Method != http.MethodGet {
				t.Errorf("Method = %q, want GET", req.Method)
			}
			if req.ExpiresAt.Before(before.Add(time.Minute)) || req.ExpiresAt.After(time.Now().Add(time.Minute)) {
				t.Errorf("ExpiresAt = %v, want now+1m", req.ExpiresAt)
			}

			resp, got := get(t, req.URL)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET status = %d, body %s", resp.StatusCode, got)
			}
			if !bytes.Equal(got, body) {
				t.Errorf("GET body: %d bytes, want %d identical bytes", len(got), len(body))
			}
			if got, want := resp.Header.Get("Content-Type"), tt.wantType; got != want {
				t.Errorf("Content-Type = %q, want %q", got, want)
			}
			if got, want := resp.Header.Values("Content-Disposition"), []string{tt.wantDisposition}; !slices.Equal(got, want) {
				t.Errorf("Content-Disposition = %q, want %q", got, want)
			}
			if got := resp.Header.Get("Set-Cookie"); got != "" {
				t.Errorf("Set-Cookie = %q, want none", got)
			}
		})
	}
}

func TestPresignGetRefusesTamperedURL(t *testing.T) {
	testenv.ForEachS3Backend(t, testPresignGetRefusesTamperedURL)
}

func testPresignGetRefusesTamperedURL(t *testing.T, b testenv.S3Backend) {
	store, _, _ := MustStore(t, b)
	if !s3.SignsGetsWithoutClient(store) {
		t.Fatal("GET URLs are signed by the PresignClient, want the signer alone")
	}
	MustPut(t, store, "k", "text/plain", []byte("secret"))
	MustPut(t, store, "other", "text/plain", []byte("other secret"))
	req, err := store.PresignGet(testenv.Context(t), "k", mediatrail.GetOptions{Expires: time.Minute, FileName: "k.txt"})
	if err != nil {
		t.Fatalf("PresignGet: %v", err)
	}

	setQuery := func(name, value string) func(*url.URL) {
		return func(u *url.URL) {
			q := u.Query()
			q.Set(name, value)
			u.RawQuery = q.Encode()
		}
	}
	tests := []struct {
		name   string
		tamper func(*url.URL)
	}{
		{"signature char", func(u *url.URL) {
			sig := u.Query().Get("X-Amz-Signature")
			flipped := "0"
			if sig[len(sig)-1] == '0' {
				flipped = "1"
			}
			setQuery("X-Amz-Signature", sig[:len(sig)-1]+flipped)(u)
		}},
		{"longer expiry", setQuery("X-Amz-Expires", "604800")},
		{"other disposition", setQuery("response-content-disposition", "inline")},
		{"added content type", setQuery("response-content-type", "text/html")},
		{"other key", func(u *url.URL) { u.Path = strings.TrimSuffix(u.Path, "/k") + "/other" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := url.Parse(req.URL)
			if err != nil {
				t.Fatal(err)
			}
			tt.tamper(u)
			if resp, body := get(t, u.String()); resp.StatusCode != http.StatusForbidden {
				t.Errorf("GET status = %d, want 403; body %s", resp.StatusCode, body)
			}
		})
	}
}

// The store refuses a URL past its signing time plus its lifetime. The URLs
// are signed in the past rather than waited on.
func TestPresignGetExpired(t *testing.T) { testenv.ForEachS3Backend(t, testPresignGetExpired) }

func testPresignGetExpired(t *testing.T, b testenv.S3Backend) {
	store, _, _ := MustStore(t, b)
	MustPut(t, store, "k", "text/plain", []byte("x"))
	tests := []struct {
		name       string
		signedAgo  time.Duration
		expires    time.Duration
		wantStatus int
	}{
		{"within its lifetime", 10 * time.Minute, 15 * time.Minute, http.StatusOK},
		{"one second lifetime, signed a minute ago", time.Minute, time.Second, http.StatusForbidden},
		{"15 minute lifetime, signed 16 minutes ago", 16 * time.Minute, 15 * time.Minute, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			signedAt := time.Now().Add(-tt.signedAgo)
			s3.SetSigningClock(store, func() time.Time { return signedAt })
			t.Cleanup(func() { s3.SetSigningClock(store, time.Now) })
			req, err := store.PresignGet(testenv.Context(t), "k", mediatrail.GetOptions{Expires: tt.expires})
			if err != nil {
				t.Fatalf("PresignGet: %v", err)
			}
			if want := signedAt.Truncate(time.Second).Add(tt.expires); !req.ExpiresAt.Equal(want) {
				t.Errorf("ExpiresAt = %v, want %v", req.ExpiresAt, want)
			}
			if resp, body := get(t, req.URL); resp.StatusCode != tt.wantStatus {
				t.Errorf("GET status = %d, want %d; body %s", resp.StatusCode, tt.wantStatus, body)
			}
		})
	}
}

// offlineStore needs no server: presigning is local computation.
func offlineStore() *s3.Store {
	return s3.New(aws.Config{Region: "us-east-1"}, s3.Config{
		Endpoint:       "http://127.0.0.1:1",
		PublicURL:      "https://files.example.com",
		Bucket:         "b",
		AccessKeyID:    "AKID",
		SecretKey:      "SECRET",
		ForcePathStyle: true,
	})
}

func TestPresignUsesPublicURL(t *testing.T) {
	store := offlineStore()
	ctx := context.Background()
	get, err := store.PresignGet(ctx, "k", mediatrail.GetOptions{Expires: time.Minute})
	if err != nil {
		t.Fatalf("PresignGet: %v", err)
	}
	put, err := store.PresignPut(ctx, "k", mediatrail.PutOptions{Expires: time.Minute, ContentType: "text/plain", Size: 1, SHA256: hexSHA256([]byte("x"))})
	if err != nil {
		t.Fatalf("PresignPut: %v", err)
	}
	for _, raw := range []string{get.URL, put.URL} {
		if want := "https://files.example.com/b/k?"; !strings.HasPrefix(raw, want) {
			t.Errorf("URL = %s, want prefix %s", raw, want)
		}
	}
}

func TestPresignRejectsInvalidOptions(t *testing.T) {
	store := offlineStore()
	ctx := context.Background()
	okPut := mediatrail.PutOptions{Expires: time.Minute, ContentType: "text/plain", Size: 1, SHA256: hexSHA256([]byte("x"))}
	withPut := func(f func(*mediatrail.PutOptions)) func() error {
		return func() error {
			o := okPut
			f(&o)
			_, err := store.PresignPut(ctx, "k", o)
			return err
		}
	}
	withGet := func(o mediatrail.GetOptions) func() error {
		return func() error { _, err := store.PresignGet(ctx, "k", o); return err }
	}
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"get expires 7d", withGet(mediatrail.GetOptions{Expires: s3.MaxPresignExpiry}), ""},
		{"get expires 1s", withGet(mediatrail.GetOptions{Expires: time.Second}), ""},
		{"get expires 0", withGet(mediatrail.GetOptions{}), mediatrail.EINVALID},
		{"get expires 999ms", withGet(mediatrail.GetOptions{Expires: 999 * time.Millisecond}), mediatrail.EINVALID},
		{"get expires 7d+1s", withGet(mediatrail.GetOptions{Expires: s3.MaxPresignExpiry + time.Second}), mediatrail.EINVALID},
		{"get bad disposition", withGet(mediatrail.GetOptions{Expires: time.Minute, Disposition: "download"}), mediatrail.EINVALID},
		{"get bad content type", withGet(mediatrail.GetOptions{Expires: time.Minute, ContentType: "text/html\r\nX-Evil: 1"}), mediatrail.EINVALID},
		{"put valid", withPut(func(*mediatrail.PutOptions) {}), ""},
		{"put expires 0", withPut(func(o *mediatrail.PutOptions) { o.Expires = 0 }), mediatrail.EINVALID},
		{"put expires 8d", withPut(func(o *mediatrail.PutOptions) { o.Expires = 8 * 24 * time.Hour }), mediatrail.EINVALID},
		{"put bad sha256", withPut(func(o *mediatrail.PutOptions) { o.SHA256 = "abc" }), mediatrail.EINVALID},
		{"put no content type", withPut(func(o *mediatrail.PutOptions) { o.ContentType = "" }), mediatrail.EINVALID},
		{"put negative size", withPut(func(o *mediatrail.PutOptions) { o.Size = -1 }), mediatrail.EINVALID},
		{"put over 5 GiB", withPut(func(o *mediatrail.PutOptions) { o.Size = 5<<30 + 1 }), mediatrail.ETOOLARGE},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mediatrail.ErrorCode(tt.call()); got != tt.want {
				t.Errorf("error code = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPresignPut(t *testing.T) { testenv.ForEachS3Backend(t, testPresignPut) }

func testPresignPut(t *testing.T, b testenv.S3Backend) {
	body := testData(300_000, 9)
	sameLength := bytes.Clone(body)
	sameLength[1000] ^= 1

	tests := []struct {
		name       string
		body       []byte
		headers    func(map[string]string)
		wantStatus int
		wantStored bool
	}{
		{name: "exact body", body: body, wantStatus: http.StatusOK, wantStored: true},
		{name: "same length other bytes", body: sameLength, wantStatus: http.StatusBadRequest},
		{name: "longer body", body: append(bytes.Clone(body), 0), wantStatus: http.StatusForbidden},
		{name: "shorter body", body: body[:len(body)-1], wantStatus: http.StatusForbidden},
		{name: "other content type", body: body, headers: func(h map[string]string) { h["Content-Type"] = "text/html" }, wantStatus: http.StatusForbidden},
		{name: "no content type", body: body, headers: func(h map[string]string) { delete(h, "Content-Type") }, wantStatus: http.StatusForbidden},
		{name: "no checksum header", body: body, headers: func(h map[string]string) { delete(h, "X-Amz-Checksum-Sha256") }, wantStatus: http.StatusForbidden},
		{name: "other checksum header", body: sameLength, headers: func(h map[string]string) {
			sum := sha256.Sum256(sameLength)
			h["X-Amz-Checksum-Sha256"] = b64(sum[:])
		}, wantStatus: http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store, _, _ := MustStore(t, b)
			ctx := testenv.Context(t)
			sum := sha256.Sum256(body)
			req, err := store.PresignPut(ctx, "up", mediatrail.PutOptions{
				Expires: time.Minute, ContentType: "audio/wav", Size: int64(len(body)), SHA256: hex.EncodeToString(sum[:]),
			})
			if err != nil {
				t.Fatalf("PresignPut: %v", err)
			}
			wantHeaders := map[string]string{
				"Content-Type":          "audio/wav",
				"Content-Length":        "300000",
				"X-Amz-Checksum-Sha256": b64(sum[:]),
			}
			if req.Method != http.MethodPut || !maps.Equal(req.Headers, wantHeaders) {
				t.Errorf("PresignPut = %s %v, want PUT %v", req.Method, req.Headers, wantHeaders)
			}

			headers := maps.Clone(req.Headers)
			if tt.headers != nil {
				tt.headers(headers)
			}
			status, respBody := put(t, req.URL, headers, tt.body)
			if !matchStatus(status, tt.wantStatus) {
				t.Errorf("PUT status = %d, want %d; body %s", status, tt.wantStatus, respBody)
			}

			info, err := store.Stat(ctx, "up")
			switch {
			case tt.wantStored && err != nil:
				t.Fatalf("Stat: %v", err)
			case tt.wantStored:
				want := mediatrail.BlobInfo{Size: int64(len(body)), SHA256: hex.EncodeToString(sum[:]), ContentType: "audio/wav"}
				if info != want {
					t.Errorf("Stat = %+v, want %+v", info, want)
				}
			case !mediatrail.IsNotFound(err):
				t.Errorf("Stat after refused PUT: %+v, %v; want not found", info, err)
			}
		})
	}
}

func TestPresignPutEmptyBody(t *testing.T) { testenv.ForEachS3Backend(t, testPresignPutEmptyBody) }

func testPresignPutEmptyBody(t *testing.T, b testenv.S3Backend) {
	store, _, _ := MustStore(t, b)
	ctx := testenv.Context(t)
	req, err := store.PresignPut(ctx, "empty", mediatrail.PutOptions{
		Expires: time.Minute, ContentType: "text/plain", Size: 0, SHA256: hexSHA256(nil),
	})
	if err != nil {
		t.Fatalf("PresignPut: %v", err)
	}
	wantHeaders := map[string]string{"Content-Type": "text/plain", "X-Amz-Checksum-Sha256": b64(sha256.New().Sum(nil))}
	if !maps.Equal(req.Headers, wantHeaders) {
		t.Errorf("Headers = %v, want %v", req.Headers, wantHeaders)
	}
	tests := []struct {
		name        string
		body        []byte
		contentType string
		wantStatus  int
	}{
		{"non-empty body", []byte("x"), "text/plain", http.StatusBadRequest},
		{"other content type", nil, "text/html", http.StatusForbidden},
		{"no content type", nil, "", http.StatusForbidden},
		{"empty body", nil, "text/plain", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			headers := maps.Clone(req.Headers)
			delete(headers, "Content-Type")
			if tt.contentType != "" {
				headers["Content-Type"] = tt.contentType
			}
			if status, body := put(t, req.URL, headers, tt.body); !matchStatus(status, tt.wantStatus) {
				t.Errorf("PUT status = %d, want %d; body %s", status, tt.wantStatus, body)
			}
		})
	}
	want := mediatrail.BlobInfo{Size: 0, SHA256: hexSHA256(nil), ContentType: "text/plain"}
	if got, err := store.Stat(ctx, "empty"); err != nil || got != want {
		t.Errorf("Stat = %+v, %v; want %+v", got, err, want)
	}
}

// refused is put's status for a request the server cut off mid-body: it counts
// as any 4xx refusal (the object must still be absent, which callers check).
const refused = -1

func matchStatus(got, want int) bool {
	return got == want || (got == refused && want >= 400 && want < 500)
}

func put(tb testing.TB, rawURL string, headers map[string]string, body []byte) (int, []byte) {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPut, rawURL, bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	for k, v := range headers {
		if k != "Content-Length" { // net/http sends the body's length
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		// The server refused the request before reading the body and closed the
		// connection while the body was still being written.
		return refused, []byte(err.Error())
	}
	if err != nil {
		tb.Fatalf("PUT: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
