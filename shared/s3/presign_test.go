package s3_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/s3"
)

// PresignGet's URL is byte for byte the one the SDK's PresignClient makes for
// the same request signed at the same second, in every addressing style.
func TestPresignGetMatchesPresignClient(t *testing.T) {
	stores := []struct {
		name  string
		cfg   aws.Config
		c     s3.Config
		wantA string // the URL's start for key "a"
	}{
		{"path style public URL", aws.Config{Region: "us-east-1"},
			s3.Config{Endpoint: "http://127.0.0.1:1", PublicURL: "https://files.example.com", Bucket: "b", AccessKeyID: "AKID", SecretKey: "SECRET", ForcePathStyle: true},
			"https://files.example.com/b/a?"},
		{"path style with port and base path", aws.Config{Region: "auto"},
			s3.Config{Endpoint: "http://127.0.0.1:7070/s3/", Bucket: "media", AccessKeyID: "AKID", SecretKey: "SECRET", ForcePathStyle: true},
			"http://127.0.0.1:7070/s3/media/a?"},
		{"virtual host on an endpoint", aws.Config{Region: "auto"},
			s3.Config{Endpoint: "https://account.r2.example.com", Bucket: "media", AccessKeyID: "AKID", SecretKey: "SECRET"},
			"https://media.account.r2.example.com/a?"},
		{"AWS regional endpoint", aws.Config{Region: "eu-west-1"},
			s3.Config{Bucket: "media-bucket", AccessKeyID: "AKID", SecretKey: "SECRET"},
			"https://media-bucket.s3.eu-west-1.amazonaws.com/a?"},
		{"AWS bucket name with dots", aws.Config{Region: "us-west-2"},
			s3.Config{Bucket: "media.example", AccessKeyID: "AKID", SecretKey: "SECRET"},
			"https://s3.us-west-2.amazonaws.com/media.example/a?"},
		{"role session credentials", aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("ASIA1", "SECRET", "token1")},
			s3.Config{Bucket: "media-bucket"},
			"https://media-bucket.s3.us-east-1.amazonaws.com/a?"},
	}
	keys := []string{
		"a",
		"workspaces/ws/assets/2ZqfNnJv8bY1kQ4rT0hM3sLxWcD/r_sum_.wav",
		"dir/a b+c~d%e&f=g?h#i;j,k:l@m$n!o'p(q)r*s",
		"ünïcode/音声.wav",
		"double//slash/",
	}
	opts := mediatrail.GetOptions{Expires: 15 * time.Minute, Disposition: mediatrail.DispositionInline, FileName: `résumé "final".wav`, ContentType: "audio/wav"}
	ctx := context.Background()
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			store := s3.New(st.cfg, st.c)
			if !s3.SignsGetsWithoutClient(store) {
				t.Fatal("GET URLs are signed by the PresignClient, want the signer alone")
			}
			for _, key := range keys {
				want, err := s3.PresignGetWithClient(store, ctx, key, opts)
				if err != nil {
					t.Fatalf("PresignClient: %v", err)
				}
				u, err := url.Parse(want.URL)
				if err != nil {
					t.Fatal(err)
				}
				signedAt, err := time.Parse("20060102T150405Z", u.Query().Get("X-Amz-Date"))
				if err != nil {
					t.Fatal(err)
				}
				s3.SetSigningClock(store, func() time.Time { return signedAt.Add(999 * time.Millisecond) })
				got, err := store.PresignGet(ctx, key, opts)
				if err != nil {
					t.Fatalf("PresignGet(%q): %v", key, err)
				}
				if got.URL != want.URL {
					t.Errorf("PresignGet(%q) URL\n%s\nwant the PresignClient's\n%s", key, got.URL, want.URL)
				}
				if got.Method != want.Method || !got.ExpiresAt.Equal(want.ExpiresAt) || len(got.Headers) != 0 || got.Headers == nil {
					t.Errorf("PresignGet(%q) = %s %v expires %v, want %s %v expires %v", key, got.Method, got.Headers, got.ExpiresAt, want.Method, want.Headers, want.ExpiresAt)
				}
				if key == "a" && !strings.HasPrefix(got.URL, st.wantA) {
					t.Errorf("URL = %s, want prefix %s", got.URL, st.wantA)
				}
			}
		})
	}
}

// countingCredentials hands out a new access key at every Retrieve; each
// expires at expires (never when zero).
type countingCredentials struct {
	expires   time.Time
	retrieved atomic.Int32
}

func (c *countingCredentials) Retrieve(context.Context) (aws.Credentials, error) {
	n := c.retrieved.Add(1)
	return aws.Credentials{
		AccessKeyID: fmt.Sprintf("ASIA%d", n), SecretAccessKey: "SECRET", SessionToken: fmt.Sprintf("token%d", n),
		CanExpire: !c.expires.IsZero(), Expires: c.expires,
	}, nil
}

func rotatingCredentials(expires time.Time) *countingCredentials {
	return &countingCredentials{expires: expires}
}

// Credentials are retrieved once and reused until they expire; expired ones
// (a Lambda role's, rotated) are retrieved again and sign the next URL.
func TestPresignGetCachesCredentialsUntilTheyExpire(t *testing.T) {
	tests := []struct {
		name          string
		expires       time.Time
		wantRetrieved int32
		wantLastKey   string
	}{
		{"valid for an hour", time.Now().Add(time.Hour), 1, "ASIA1"},
		{"never expire", time.Time{}, 1, "ASIA1"},
		{"already expired", time.Now().Add(-time.Minute), 5, "ASIA5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			creds := rotatingCredentials(tt.expires)
			store := s3.New(aws.Config{Region: "us-east-1", Credentials: creds}, s3.Config{Bucket: "b"})
			var last string
			for range 5 {
				req, err := store.PresignGet(context.Background(), "k", mediatrail.GetOptions{Expires: time.Minute})
				if err != nil {
					t.Fatalf("PresignGet: %v", err)
				}
				last = req.URL
			}
			if got := creds.retrieved.Load(); got != tt.wantRetrieved {
				t.Errorf("credentials retrieved %d times for 5 URLs, want %d", got, tt.wantRetrieved)
			}
			u, _ := url.Parse(last)
			q := u.Query()
			if got := strings.Split(q.Get("X-Amz-Credential"), "/")[0]; got != tt.wantLastKey {
				t.Errorf("last URL signed by %s, want %s", got, tt.wantLastKey)
			}
			if got, want := q.Get("X-Amz-Security-Token"), "token"+strings.TrimPrefix(tt.wantLastKey, "ASIA"); got != want {
				t.Errorf("X-Amz-Security-Token = %q, want %q", got, want)
			}
		})
	}
}

// BenchmarkPresignGet signs the same GET URL with PresignGet and with the
// SDK's PresignClient (the path it replaced), in interleaved batches so both
// see the same machine, and reports PresignGet's URLs per second and its
// speed-up over the PresignClient. Per core: run it with -cpu 1 (make bench).
func BenchmarkPresignGet(b *testing.B) {
	store := offlineStore()
	ctx := context.Background()
	const key = "workspaces/ws/assets/2ZqfNnJv8bY1kQ4rT0hM3sLxWcD/r_sum_.wav"
	opts := mediatrail.GetOptions{Expires: 15 * time.Minute, Disposition: mediatrail.DispositionInline, FileName: "résumé.wav", ContentType: "audio/wav"}
	const batch = 64
	var signer, client time.Duration
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		start := time.Now()
		for range batch {
			if _, err := store.PresignGet(ctx, key, opts); err != nil {
				b.Fatal(err)
			}
		}
		mid := time.Now()
		for range batch {
			if _, err := s3.PresignGetWithClient(store, ctx, key, opts); err != nil {
				b.Fatal(err)
			}
		}
		signer += mid.Sub(start)
		client += time.Since(mid)
		n += batch
	}
	b.ReportMetric(float64(n)/signer.Seconds(), "URLs/s")
	b.ReportMetric(float64(n)/client.Seconds(), "client-URLs/s")
	b.ReportMetric(client.Seconds()/signer.Seconds(), "x-PresignClient")
	b.ReportMetric(float64(signer.Nanoseconds())/float64(n), "ns/URL")
}
