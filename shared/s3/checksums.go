package s3

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// checksumProbeKey is where VerifiesChecksums probes the bucket: under
// workspaces/, where the functions that complete uploads may write, but not
// an asset's key (cleanup and reconciliation leave it alone).
const checksumProbeKey = "workspaces/.checksum-probe"

// checksumVerification is what a Store found out about its bucket.
type checksumVerification struct {
	mu       sync.Mutex
	known    bool
	verifies bool
}

// VerifiesChecksums reports whether the bucket refuses an upload whose bytes
// do not match the x-amz-checksum-sha256 it was sent with, as AWS S3, R2 and
// versitygw do. Then an object uploaded through PresignPut, which signs that
// header, holds exactly the bytes of the SHA-256 it was presigned for, and
// Stat's SHA256 for it needs no reading back.
//
// It is found out once per Store (once per process): one PutObject of a few
// bytes under checksumProbeKey declaring the SHA-256 of other bytes. A bucket
// that verifies refuses it with BadDigest and stores nothing; one that stores
// it, or refuses it for another reason (access denied, the header unknown),
// does not verify for us (a stored probe is deleted again). A failure that
// says nothing about the bucket (network, throttling, 5xx) answers false, the
// safe answer, without being remembered: the next call probes again.
func (s *Store) VerifiesChecksums(ctx context.Context) bool {
	v := &s.checksums
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.known {
		v.verifies, v.known = s.probeChecksums(ctx)
	}
	return v.verifies
}

// probeChecksums sends the probe; known is false when its answer says
// nothing about checksums.
func (s *Store) probeChecksums(ctx context.Context) (verifies, known bool) {
	body := []byte("mediatrail checksum probe")
	other := sha256.Sum256([]byte("other bytes"))
	_, err := s.client.PutObject(ctx, &awss3.PutObjectInput{
		Bucket:         aws.String(s.bucket),
		Key:            aws.String(checksumProbeKey),
		Body:           bytes.NewReader(body),
		ContentLength:  aws.Int64(int64(len(body))),
		ChecksumSHA256: aws.String(base64.StdEncoding.EncodeToString(other[:])),
	})
	var respErr *smithyhttp.ResponseError
	switch {
	case err == nil:
		_ = s.deleteDetached(ctx, checksumProbeKey)
		return false, true
	case apiErrorCode(err) == "BadDigest":
		return true, true
	case errors.As(err, &respErr):
		status := respErr.HTTPStatusCode()
		return false, status < 500 && status != http.StatusTooManyRequests
	default:
		return false, false
	}
}
