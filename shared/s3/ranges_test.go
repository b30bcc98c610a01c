package s3_test

import (
	"bytes"
	"io"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/testenv"
)

func TestOpenRange(t *testing.T) { testenv.ForEachS3Backend(t, testOpenRange) }

func testOpenRange(t *testing.T, b testenv.S3Backend) {
	store, _, _ := MustStore(t, b)
	ctx := testenv.Context(t)
	data := testData(100_000, 7)
	MustPut(t, store, "r", "application/octet-stream", data)
	for _, tc := range []struct {
		name        string
		off, length int64
		want        []byte
	}{
		{"start", 0, 10, data[:10]},
		{"middle", 5000, 1000, data[5000:6000]},
		{"past the end is cut short", 99_990, 100, data[99_990:]},
		{"at the end is empty", 100_000, 10, nil},
		{"beyond the end is empty", 200_000, 10, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc, err := store.OpenRange(ctx, "r", tc.off, tc.length)
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			got, err := io.ReadAll(rc)
			if err != nil || !bytes.Equal(got, tc.want) {
				t.Errorf("got %d bytes (%v), want %d", len(got), err, len(tc.want))
			}
		})
	}
	if _, err := store.OpenRange(ctx, "missing", 0, 10); mediatrail.ErrorCode(err) != mediatrail.ENOTFOUND {
		t.Errorf("missing key: %v", err)
	}
	if _, err := store.OpenRange(ctx, "r", -1, 10); mediatrail.ErrorCode(err) != mediatrail.EINVALID {
		t.Errorf("negative offset: %v", err)
	}
}

// AbortUploads removes what a crashed multipart writer left under one key,
// and nothing under other keys.
func TestAbortUploads(t *testing.T) { testenv.ForEachS3Backend(t, testAbortUploads) }

func testAbortUploads(t *testing.T, b testenv.S3Backend) {
	store, client, bucket := MustStore(t, b)
	ctx := testenv.Context(t)
	start := func(key string) {
		t.Helper()
		up, err := client.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{Bucket: &bucket, Key: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		_, err = client.UploadPart(ctx, &awss3.UploadPartInput{
			Bucket: &bucket, Key: aws.String(key), UploadId: up.UploadId, PartNumber: aws.Int32(1),
			Body: bytes.NewReader(testData(mib, 1)),
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	start("v/video.mp4")
	start("v/video.mp4")
	start("v/video.mp4.other")
	n, err := store.AbortUploads(ctx, "v/video.mp4")
	if err != nil || n != 2 {
		t.Fatalf("aborted %d: %v", n, err)
	}
	out, err := client.ListMultipartUploads(ctx, &awss3.ListMultipartUploadsInput{Bucket: &bucket})
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, u := range out.Uploads {
		left = append(left, aws.ToString(u.Key))
	}
	if len(left) != 1 || left[0] != "v/video.mp4.other" {
		t.Errorf("uploads left: %v", left)
	}
	if n, err := store.AbortUploads(ctx, "v/video.mp4"); err != nil || n != 0 {
		t.Errorf("again: %d %v", n, err)
	}
}
