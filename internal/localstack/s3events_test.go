package localstack_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/mediatrail/mediatrail/internal/localstack"
	"github.com/mediatrail/mediatrail/shared/testenv"
)

// Bodies in testdata/versitygw were recorded from versitygw v1.8.0's webhook;
// they translate to the records AWS delivers.
func TestTranslateVersitygwEvent(t *testing.T) {
	size := func(n int64) *int64 { return &n }
	cases := []struct {
		file string
		want []map[string]any // selected fields of each record
	}{
		{"put.json", []map[string]any{{"eventName": "ObjectCreated:Put", "key": "uploads/my+photo%3D1.png", "eTag": "5d41402abc4b2a76b9719d911017c592", "size": size(5)}}},
		{"delete.json", []map[string]any{{"eventName": "ObjectRemoved:Delete", "key": "uploads/my+photo%3D1.png", "eTag": "", "size": (*int64)(nil)}}},
		{"deleteobjects.json", []map[string]any{{"eventName": "ObjectRemoved:Delete", "key": "a/1.txt", "eTag": "", "size": (*int64)(nil)}}},
		{"multipart.json", []map[string]any{{"eventName": "ObjectCreated:CompleteMultipartUpload", "key": "big/file.bin", "eTag": "a675974b8fb9bfea1d5007ce26896811-1", "size": size(0)}}},
		{"test-event.json", nil},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", "versitygw", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			recs, err := localstack.TranslateVersitygwEvent(raw)
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != len(tc.want) {
				t.Fatalf("%d records, want %d", len(recs), len(tc.want))
			}
			for i, r := range recs {
				w := tc.want[i]
				got := map[string]any{"eventName": r.EventName, "key": r.S3.Object.Key, "eTag": r.S3.Object.ETag, "size": r.S3.Object.Size}
				for k, v := range w {
					if gv, wv := jsonOf(got[k]), jsonOf(v); gv != wv {
						t.Errorf("%s = %s, want %s", k, gv, wv)
					}
				}
				if r.S3.Bucket.ARN != "arn:aws:s3:::capture-bucket" || r.S3.Bucket.Name != "capture-bucket" || r.EventSource != "aws:s3" ||
					r.AWSRegion != "us-east-1" || !strings.HasSuffix(r.EventTime, ".000Z") || len(r.S3.Object.Sequencer) != 18 ||
					r.UserIdentity.PrincipalID == "" {
					t.Errorf("record %+v", r)
				}
				b, _ := json.Marshal(r)
				for _, absent := range []string{"glacierEventData", "PrincipalId", `"s3:`} {
					if bytes.Contains(b, []byte(absent)) {
						t.Errorf("record has %s: %s", absent, b)
					}
				}
			}
		})
	}
}

func jsonOf(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestS3EventSourceMatches(t *testing.T) {
	src := localstack.DeployedS3Event{
		S3Event:    localstack.S3Event{Types: []string{"s3:ObjectRemoved:*", "s3:ObjectCreated:Put"}, Prefix: "uploads/", Suffix: ".png"},
		BucketName: "b",
	}
	cases := []struct {
		bucket, event, key string
		want               bool
	}{
		{"b", "ObjectRemoved:Delete", "uploads/x.png", true},
		{"b", "ObjectRemoved:DeleteMarkerCreated", "uploads/x.png", true},
		{"b", "ObjectCreated:Put", "uploads/x.png", true},
		{"b", "ObjectCreated:Copy", "uploads/x.png", false},
		{"b", "ObjectRemoved:Delete", "other/x.png", false},
		{"b", "ObjectRemoved:Delete", "uploads/x.jpg", false},
		{"c", "ObjectRemoved:Delete", "uploads/x.png", false},
		{"b", "ObjectRestore:Completed", "uploads/x.png", false},
	}
	for _, tc := range cases {
		if got := src.Matches(tc.bucket, tc.event, tc.key); got != tc.want {
			t.Errorf("Matches(%q, %q, %q) = %v, want %v", tc.bucket, tc.event, tc.key, got, tc.want)
		}
	}
}

// Deleting objects in versitygw invokes the function template.yaml subscribes
// to removals under uploads/, with AWS's event shape; other keys and
// creations invoke nothing.
func TestS3DeleteReachesSubscribedFunction(t *testing.T) {
	s, obs := probeStack(t)
	ctx := testenv.Context(t)
	c := awss3.NewFromConfig(aws.Config{Region: localstack.Region, Credentials: credentials.NewStaticCredentialsProvider(s.Config.S3AccessKey, s.Config.S3SecretKey, "")},
		func(o *awss3.Options) { o.BaseEndpoint, o.UsePathStyle = aws.String(s.Config.S3URL), true })
	dir := testenv.UniqueName("t")
	keys := []string{"other/" + dir + "/x.txt", "uploads/" + dir + "/a b.txt", "uploads/" + dir + "/1.txt", "uploads/" + dir + "/2.txt"}
	for _, k := range keys {
		if _, err := c.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(k), Body: strings.NewReader("x")}); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range keys[:2] {
		if _, err := c.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(k)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.DeleteObjects(ctx, &awss3.DeleteObjectsInput{Bucket: aws.String(s.Bucket), Delete: &s3types.Delete{
		Objects: []s3types.ObjectIdentifier{{Key: aws.String(keys[2])}, {Key: aws.String(keys[3])}},
	}}); err != nil {
		t.Fatal(err)
	}

	type seen struct{ EventName, Bucket, BucketARN, Key, DecodedKey, ETag, ConfigurationID string }
	delivered := func(key string) seen {
		inv := obs.waitFor(t, 10*time.Second, func(inv localstack.Invocation) bool {
			return inv.Function == "S3ProbeFunction" && strings.Contains(string(inv.Payload), localstack.EncodeS3EventKey(key))
		})
		var out []seen
		if inv.Err != nil || json.Unmarshal(inv.Response, &out) != nil || len(out) != 1 {
			t.Fatalf("S3ProbeFunction: %v %s", inv.Err, inv.Response)
		}
		return out[0]
	}
	got := delivered(keys[1])
	want := seen{EventName: "ObjectRemoved:Delete", Bucket: s.Bucket, BucketARN: "arn:aws:s3:::" + s.Bucket,
		Key: "uploads/" + dir + "/a+b.txt", DecodedKey: keys[1], ConfigurationID: "Removed"}
	if got != want {
		t.Errorf("delivered %+v\nwant      %+v", got, want)
	}
	for _, k := range keys[2:] {
		if got := delivered(k); got.EventName != "ObjectRemoved:Delete" || got.DecodedKey != k {
			t.Errorf("DeleteObjects delivered %+v", got)
		}
	}
	if others := obs.all(func(inv localstack.Invocation) bool {
		return inv.Source == "s3" && bytes.Contains(inv.Payload, []byte(dir)) && !bytes.Contains(inv.Payload, []byte("uploads/"))
	}); len(others) > 0 {
		t.Errorf("unsubscribed keys delivered: %s", others[0].Payload)
	}
	if n := len(obs.all(func(inv localstack.Invocation) bool {
		return inv.Source == "s3" && bytes.Contains(inv.Payload, []byte(dir))
	})); n != 3 {
		t.Errorf("%d deliveries, want 3 (creations are not subscribed)", n)
	}
}
