package mediatrail_test

import (
	"testing"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

func TestLoadUploadConfig(t *testing.T) {
	env := func(extra map[string]string) func(string) string {
		return func(k string) string {
			if v, ok := extra[k]; ok {
				return v
			}
			return map[string]string{"TABLE_NAME": "t", "STORAGE_BUCKET": "b"}[k]
		}
	}
	c, err := mediatrail.LoadConfig(env(nil))
	if err != nil || c.Uploads != (mediatrail.UploadConfig{MultipartThreshold: mediatrail.MaxSinglePutBytes, PartSize: mediatrail.DefaultPartBytes}) {
		t.Fatalf("defaults: %+v %v", c.Uploads, err)
	}
	c, err = mediatrail.LoadConfig(env(map[string]string{"UPLOAD_MULTIPART_THRESHOLD": "1048576", "UPLOAD_PART_SIZE": "5242880"}))
	if err != nil || c.Uploads.MultipartThreshold != 1<<20 || c.Uploads.PartSize != 5<<20 {
		t.Fatalf("set: %+v %v", c.Uploads, err)
	}
	for name, extra := range map[string]map[string]string{
		"threshold not a number":  {"UPLOAD_MULTIPART_THRESHOLD": "1MiB"},
		"threshold zero":          {"UPLOAD_MULTIPART_THRESHOLD": "0"},
		"threshold above a PUT":   {"UPLOAD_MULTIPART_THRESHOLD": "5368709121"},
		"part under S3's minimum": {"UPLOAD_PART_SIZE": "1048576"},
		"part above S3's maximum": {"UPLOAD_PART_SIZE": "5368709121"},
	} {
		if _, err := mediatrail.LoadConfig(env(extra)); mediatrail.ErrorCode(err) != mediatrail.EINVALID {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func TestUploadParts(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		name     string
		cfg      mediatrail.UploadConfig
		size     int64
		inParts  bool
		partSize int64
	}{
		{"unset: one PUT up to 5 GiB", mediatrail.UploadConfig{}, 5 << 30, false, 64 * mib},
		{"unset: parts above", mediatrail.UploadConfig{}, 5<<30 + 1, true, 64 * mib},
		{"lowered threshold", mediatrail.UploadConfig{MultipartThreshold: mib, PartSize: 5 * mib}, mib + 1, true, 5 * mib},
		{"at the threshold", mediatrail.UploadConfig{MultipartThreshold: mib}, mib, false, 64 * mib},
		{"parts never under 5 MiB", mediatrail.UploadConfig{MultipartThreshold: mib, PartSize: 1}, 1 << 30, true, 5 * mib},
		// 1 TB / 1000 parts needs 1e9 bytes a part: rounded up to 954 MiB.
		{"at most 1000 parts", mediatrail.UploadConfig{}, 1_000_000_000_000, true, 954 * mib},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.cfg.InParts(tc.size); got != tc.inParts {
				t.Errorf("InParts(%d) = %v", tc.size, got)
			}
			got := tc.cfg.PartSizeFor(tc.size)
			if got != tc.partSize || (tc.size+got-1)/got > mediatrail.MaxUploadParts {
				t.Errorf("PartSizeFor(%d) = %d, want %d", tc.size, got, tc.partSize)
			}
		})
	}
}

func TestCompleteInputValidate(t *testing.T) {
	part := func(n int, etag string) mediatrail.CompletedPart {
		return mediatrail.CompletedPart{PartNumber: n, ETag: etag}
	}
	for _, tc := range []struct {
		name string
		in   mediatrail.CompleteInput
		ok   bool
	}{
		{"in order", mediatrail.CompleteInput{UploadID: "u", Parts: []mediatrail.CompletedPart{part(1, `"a"`), part(2, `"b"`)}}, true},
		{"no upload id", mediatrail.CompleteInput{Parts: []mediatrail.CompletedPart{part(1, `"a"`)}}, false},
		{"no parts", mediatrail.CompleteInput{UploadID: "u"}, false},
		{"starts at 2", mediatrail.CompleteInput{UploadID: "u", Parts: []mediatrail.CompletedPart{part(2, `"a"`)}}, false},
		{"out of order", mediatrail.CompleteInput{UploadID: "u", Parts: []mediatrail.CompletedPart{part(1, `"a"`), part(3, `"b"`)}}, false},
		{"no etag", mediatrail.CompleteInput{UploadID: "u", Parts: []mediatrail.CompletedPart{part(1, "")}}, false},
	} {
		if err := tc.in.Validate(); (err == nil) != tc.ok || (err != nil && mediatrail.ErrorCode(err) != mediatrail.EINVALID) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}
