package s3

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// OpenRange streams at most length bytes of key from offset with one ranged
// GetObject (Range: bytes=offset-(offset+length-1)); the answer is shorter at
// the end of the object and empty past it. ENOTFOUND if key is absent.
func (s *Store) OpenRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if offset < 0 || length <= 0 {
		return nil, mediatrail.Invalid("range", "a range needs a non-negative offset and a positive length")
	}
	out, err := s.client.GetObject(ctx, &awss3.GetObjectInput{
		Bucket: aws.String(s.bucket),
		Key:    aws.String(key),
		Range:  aws.String(fmt.Sprintf("bytes=%d-%d", offset, offset+length-1)),
	})
	if isInvalidRange(err) {
		return io.NopCloser(eofReader{}), nil
	}
	if err != nil {
		return nil, s.notFoundOr("open range of", key, err)
	}
	return out.Body, nil
}

// isInvalidRange is the 416 answer to a range that starts past the end.
func isInvalidRange(err error) bool { return apiErrorCode(err) == "InvalidRange" }

func apiErrorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// AbortUploads aborts every unfinished multipart upload of exactly key, as
// ListMultipartUploads (prefix key) lists them, and returns how many it
// aborted. An upload that vanished meanwhile is not an error.
func (s *Store) AbortUploads(ctx context.Context, key string) (int, error) {
	in := &awss3.ListMultipartUploadsInput{Bucket: aws.String(s.bucket), Prefix: aws.String(key)}
	aborted := 0
	for {
		page, err := s.client.ListMultipartUploads(ctx, in)
		if err != nil {
			return aborted, fmt.Errorf("s3: list uploads of %q: %w", key, err)
		}
		for _, u := range page.Uploads {
			if aws.ToString(u.Key) != key {
				continue
			}
			_, err := s.client.AbortMultipartUpload(ctx, &awss3.AbortMultipartUploadInput{
				Bucket: aws.String(s.bucket), Key: u.Key, UploadId: u.UploadId,
			})
			if err != nil && !isNoSuchUpload(err) {
				return aborted, fmt.Errorf("s3: abort upload %s of %q: %w", aws.ToString(u.UploadId), key, err)
			}
			aborted++
		}
		if !aws.ToBool(page.IsTruncated) {
			return aborted, nil
		}
		in.KeyMarker, in.UploadIdMarker = page.NextKeyMarker, page.NextUploadIdMarker
	}
}

func isNoSuchUpload(err error) bool { return apiErrorCode(err) == "NoSuchUpload" }
