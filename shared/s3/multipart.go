package s3

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

var _ mediatrail.MultipartStore = (*Store)(nil)

// CreateUpload starts a multipart upload of key whose object gets
// opts.ContentType and opts.Tags, and returns its upload id.
func (s *Store) CreateUpload(ctx context.Context, key string, opts mediatrail.PutOptions) (string, error) {
	ct, err := mediatrail.ValidateContentType(opts.ContentType)
	if err != nil {
		return "", err
	}
	return s.createUpload(ctx, key, ct, tagging(opts.Tags))
}

func (s *Store) createUpload(ctx context.Context, key, contentType string, tagging *string) (string, error) {
	out, err := s.client.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{
		Bucket:      aws.String(s.bucket),
		Key:         aws.String(key),
		ContentType: aws.String(contentType),
		Tagging:     tagging,
	})
	if err != nil {
		return "", fmt.Errorf("s3: create upload of %q: %w", key, err)
	}
	return aws.ToString(out.UploadId), nil
}

// PresignPart returns the PUT of part number part (1-based) of an upload,
// bound to exactly size bytes and valid for expires (1 s to 7 days).
func (s *Store) PresignPart(ctx context.Context, key, uploadID string, part int, size int64, expires time.Duration) (mediatrail.PresignedRequest, error) {
	expires, err := validExpiry(expires)
	if err != nil {
		return mediatrail.PresignedRequest{}, err
	}
	req, err := s.presign.PresignUploadPart(ctx, &awss3.UploadPartInput{
		Bucket:        aws.String(s.bucket),
		Key:           aws.String(key),
		UploadId:      aws.String(uploadID),
		PartNumber:    aws.Int32(int32(part)),
		ContentLength: aws.Int64(size),
	}, awss3.WithPresignExpires(expires))
	if err != nil {
		return mediatrail.PresignedRequest{}, fmt.Errorf("s3: presign part %d of %q: %w", part, key, err)
	}
	return presigned(req, expires), nil
}

// CompleteUpload assembles an upload's parts into the object. Parts that do
// not form the upload (an unknown part or ETag, parts out of order, a part
// other than the last under 5 MiB) are EUNPROCESSABLE; an upload that is no
// longer there (completed or aborted) is ENOTFOUND.
func (s *Store) CompleteUpload(ctx context.Context, key, uploadID string, parts []mediatrail.CompletedPart) error {
	completed := make([]types.CompletedPart, len(parts))
	for i, p := range parts {
		completed[i] = types.CompletedPart{PartNumber: aws.Int32(int32(p.PartNumber)), ETag: aws.String(p.ETag)}
	}
	_, err := s.client.CompleteMultipartUpload(ctx, &awss3.CompleteMultipartUploadInput{
		Bucket:          aws.String(s.bucket),
		Key:             aws.String(key),
		UploadId:        aws.String(uploadID),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: completed},
	})
	switch code := apiErrorCode(err); {
	case err == nil:
		return nil
	case code == "NoSuchUpload":
		return mediatrail.Errorf(mediatrail.ENOTFOUND, "the upload is not in progress")
	case code == "InvalidPart" || code == "InvalidPartOrder" || code == "EntityTooSmall" || code == "MalformedXML":
		return mediatrail.Unprocessable("", "the parts do not form the upload (%s)", code).Wrap(err)
	default:
		return fmt.Errorf("s3: complete upload of %q: %w", key, err)
	}
}

// AbortUpload discards an upload and its parts, even when ctx is already
// done; an upload that is no longer there is fine.
func (s *Store) AbortUpload(ctx context.Context, key, uploadID string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	_, err := s.client.AbortMultipartUpload(ctx, &awss3.AbortMultipartUploadInput{
		Bucket: aws.String(s.bucket), Key: aws.String(key), UploadId: aws.String(uploadID),
	})
	if err != nil && !isNoSuchUpload(err) {
		return fmt.Errorf("s3: abort upload %s of %q: %w", uploadID, key, err)
	}
	return nil
}
