package s3

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

var _ mediatrail.ReconcileBlobs = (*Store)(nil)

// ListBlobs calls visit for every object under prefix, in key order, with
// ListObjectsV2 (1,000 keys a page), until visit returns an error, which
// ListBlobs returns.
func (s *Store) ListBlobs(ctx context.Context, prefix string, visit func(mediatrail.BlobObject) error) error {
	p := awss3.NewListObjectsV2Paginator(s.client, &awss3.ListObjectsV2Input{
		Bucket: aws.String(s.bucket),
		Prefix: aws.String(prefix),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("s3: list %q: %w", prefix, err)
		}
		for _, o := range page.Contents {
			err := visit(mediatrail.BlobObject{
				Key: aws.ToString(o.Key), Size: aws.ToInt64(o.Size), LastModified: aws.ToTime(o.LastModified).UTC(),
			})
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// ListBlobPage lists at most max objects under prefix after startAfter with
// one ListObjectsV2 (StartAfter, MaxKeys), and whether more follow.
func (s *Store) ListBlobPage(ctx context.Context, prefix, startAfter string, max int) ([]mediatrail.BlobObject, bool, error) {
	in := &awss3.ListObjectsV2Input{Bucket: aws.String(s.bucket), Prefix: aws.String(prefix), MaxKeys: aws.Int32(int32(max))}
	if startAfter != "" {
		in.StartAfter = aws.String(startAfter)
	}
	page, err := s.client.ListObjectsV2(ctx, in)
	if err != nil {
		return nil, false, fmt.Errorf("s3: list %q after %q: %w", prefix, startAfter, err)
	}
	objs := make([]mediatrail.BlobObject, 0, len(page.Contents))
	for _, o := range page.Contents {
		objs = append(objs, mediatrail.BlobObject{Key: aws.ToString(o.Key), Size: aws.ToInt64(o.Size), LastModified: aws.ToTime(o.LastModified).UTC()})
	}
	return objs, aws.ToBool(page.IsTruncated), nil
}
