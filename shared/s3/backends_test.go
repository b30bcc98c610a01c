package s3_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/testenv"
)

func apiErrorCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

// What the suite's servers share and where they differ, as README "Storage
// backends" lists it: both refuse anonymous reads and a body that does not
// match its checksum, both answer a browser's CORS preflight for signed
// URLs, neither takes an S3 notification configuration; the lifecycle API
// is SeaweedFS's alone (S3Backend.Lacks).
func TestServerFeatures(t *testing.T) { testenv.ForEachS3Backend(t, testServerFeatures) }

func testServerFeatures(t *testing.T, b testenv.S3Backend) {
	store, client, bucket := MustStore(t, b)
	ctx := testenv.Context(t)
	MustPut(t, store, "k", "text/plain", []byte("hello"))

	t.Run("anonymous read refused", func(t *testing.T) {
		resp, _ := get(t, b.Endpoint+"/"+bucket+"/k")
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("anonymous GET: %d, want 403", resp.StatusCode)
		}
	})
	t.Run("checksum enforced", func(t *testing.T) {
		_, err := client.PutObject(ctx, &awss3.PutObjectInput{Bucket: &bucket, Key: aws.String("bad"), Body: strings.NewReader("abc"),
			ChecksumSHA256: aws.String(b64(make([]byte, 32)))})
		if code := apiErrorCode(err); code != "BadDigest" {
			t.Errorf("PutObject with another body's SHA-256: %q, want BadDigest", code)
		}
	})
	t.Run("CORS for signed URLs", func(t *testing.T) {
		req, err := store.PresignGet(ctx, "k", mediatrail.GetOptions{Expires: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		for _, method := range []string{http.MethodOptions, http.MethodGet} {
			r, _ := http.NewRequest(method, req.URL, nil)
			r.Header.Set("Origin", "https://console.example")
			r.Header.Set("Access-Control-Request-Method", http.MethodGet)
			resp, err := http.DefaultClient.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if allow := resp.Header.Get("Access-Control-Allow-Origin"); resp.StatusCode/100 != 2 || (allow != "*" && allow != "https://console.example") {
				t.Errorf("%s from another origin: %d, Access-Control-Allow-Origin %q", method, resp.StatusCode, allow)
			}
		}
	})
	t.Run("no notification configuration", func(t *testing.T) {
		_, err := client.PutBucketNotificationConfiguration(ctx, &awss3.PutBucketNotificationConfigurationInput{Bucket: &bucket,
			NotificationConfiguration: &types.NotificationConfiguration{}})
		if code := apiErrorCode(err); code != "NotImplemented" {
			t.Errorf("PutBucketNotificationConfiguration: %q, want NotImplemented", code)
		}
	})
	t.Run("lifecycle by tag", func(t *testing.T) {
		_, err := client.PutBucketLifecycleConfiguration(ctx, &awss3.PutBucketLifecycleConfigurationInput{Bucket: &bucket,
			LifecycleConfiguration: &types.BucketLifecycleConfiguration{Rules: []types.LifecycleRule{{
				ID: aws.String("retention-7d"), Status: types.ExpirationStatusEnabled,
				Filter:     &types.LifecycleRuleFilter{Tag: &types.Tag{Key: aws.String("retention"), Value: aws.String("7d")}},
				Expiration: &types.LifecycleExpiration{Days: aws.Int32(7)},
			}}}})
		_, lacks := b.Lacks[testenv.S3LifecycleAPI]
		if code := apiErrorCode(err); lacks && code != "NotImplemented" || !lacks && err != nil {
			t.Errorf("PutBucketLifecycleConfiguration: %v (lacks the API: %v)", err, lacks)
		}
	})
}
