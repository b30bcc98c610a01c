package s3_test

import (
	"bytes"
	"errors"
	"maps"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/testenv"
)

// tags reads an object's tags.
func tags(tb testing.TB, client *awss3.Client, bucket, key string) map[string]string {
	tb.Helper()
	out, err := client.GetObjectTagging(testenv.Context(tb), &awss3.GetObjectTaggingInput{Bucket: &bucket, Key: &key})
	if err != nil {
		tb.Fatalf("GetObjectTagging(%q): %v", key, err)
	}
	got := map[string]string{}
	for _, t := range out.TagSet {
		got[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return got
}

// Put tags the object in every path: one PutObject, and a multipart upload
// followed by the copy that records its SHA-256.
func TestPutTagsTheObject(t *testing.T) { testenv.ForEachS3Backend(t, testPutTagsTheObject) }

func testPutTagsTheObject(t *testing.T, b testenv.S3Backend) {
	store, client, bucket := MustStore(t, b)
	for _, tc := range []struct {
		name string
		size int
		tags []mediatrail.Tag
		want map[string]string
	}{
		{"single request", 1000, []mediatrail.Tag{mediatrail.RetentionTag(30)}, map[string]string{"retention": "30d"}},
		{"multipart", 9 * mib, []mediatrail.Tag{mediatrail.RetentionTag(7)}, map[string]string{"retention": "7d"}},
		{"forever", 10, []mediatrail.Tag{mediatrail.RetentionTag(0)}, map[string]string{"retention": "forever"}},
		{"untagged", 10, nil, map[string]string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := testData(tc.size, 3)
			info, err := store.Put(testenv.Context(t), tc.name, "application/octet-stream", bytes.NewReader(body), -1, tc.tags...)
			if err != nil {
				t.Fatal(err)
			}
			if info.SHA256 != hexSHA256(body) {
				t.Errorf("sha256 %s", info.SHA256)
			}
			if got := tags(t, client, bucket, tc.name); !maps.Equal(got, tc.want) {
				t.Errorf("tags %v, want %v", got, tc.want)
			}
		})
	}
}

// A presigned upload carries its tags as a signed header: the object gets
// them, and an upload without them (or with others) is refused.
func TestPresignPutSignsTags(t *testing.T) { testenv.ForEachS3Backend(t, testPresignPutSignsTags) }

func testPresignPutSignsTags(t *testing.T, b testenv.S3Backend) {
	store, client, bucket := MustStore(t, b)
	ctx := testenv.Context(t)
	body := []byte("tagged upload")
	req, err := store.PresignPut(ctx, "up", mediatrail.PutOptions{
		Expires: time.Minute, ContentType: "text/plain", Size: int64(len(body)), SHA256: hexSHA256(body),
		Tags: []mediatrail.Tag{mediatrail.RetentionTag(90)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := req.Headers["X-Amz-Tagging"]; got != "retention=90d" {
		t.Fatalf("X-Amz-Tagging header %q, headers %v", got, req.Headers)
	}
	for _, tc := range []struct {
		name   string
		change func(map[string]string)
		want   int
	}{
		{"without the tag", func(h map[string]string) { delete(h, "X-Amz-Tagging") }, http.StatusForbidden},
		{"another tag", func(h map[string]string) { h["X-Amz-Tagging"] = "retention=forever" }, http.StatusForbidden},
		{"as signed", func(map[string]string) {}, http.StatusOK},
	} {
		h := maps.Clone(req.Headers)
		tc.change(h)
		if status, b := put(t, req.URL, h, body); !matchStatus(status, tc.want) {
			t.Errorf("%s: PUT %d, want %d: %s", tc.name, status, tc.want, b)
		}
	}
	if got := tags(t, client, bucket, "up"); !maps.Equal(got, map[string]string{"retention": "90d"}) {
		t.Errorf("tags %v", got)
	}
}

func TestListBlobs(t *testing.T) { testenv.ForEachS3Backend(t, testListBlobs) }

func testListBlobs(t *testing.T, b testenv.S3Backend) {
	store, _, _ := MustStore(t, b)
	ctx := testenv.Context(t)
	keys := []string{"workspaces/a/1", "workspaces/a/2", "workspaces/b/1", "other/1"}
	for _, k := range keys {
		MustPut(t, store, k, "text/plain", []byte(k))
	}
	var got []string
	err := store.ListBlobs(ctx, "workspaces/", func(o mediatrail.BlobObject) error {
		if o.Size != int64(len(o.Key)) || time.Since(o.LastModified) > time.Minute {
			t.Errorf("object %+v", o)
		}
		got = append(got, o.Key)
		return nil
	})
	if err != nil || !slices.Equal(got, keys[:3]) {
		t.Errorf("listed %v, %v; want %v in key order", got, err, keys[:3])
	}
	stop := errors.New("stop")
	if err := store.ListBlobs(ctx, "", func(mediatrail.BlobObject) error { return stop }); err != stop {
		t.Errorf("visit error: %v", err)
	}
}
