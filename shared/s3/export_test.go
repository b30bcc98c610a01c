package s3

import (
	"context"
	"time"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// SetSigningClock makes s sign GET URLs at the times now returns.
func SetSigningClock(s *Store, now func() time.Time) { s.now = now }

// PresignGetWithClient is PresignGet signed by the SDK's PresignClient, the
// path every GET URL took before getPresigner: the baseline of its benchmark
// and the reference its URLs are compared with.
func PresignGetWithClient(s *Store, ctx context.Context, key string, opts mediatrail.GetOptions) (mediatrail.PresignedRequest, error) {
	expires, disposition, ct, err := getResponse(opts)
	if err != nil {
		return mediatrail.PresignedRequest{}, err
	}
	return s.presignGetWithClient(ctx, key, expires, disposition, ct)
}

// SignsGetsWithoutClient reports whether s presigns GETs with getPresigner.
func SignsGetsWithoutClient(s *Store) bool { return s.get != nil }
