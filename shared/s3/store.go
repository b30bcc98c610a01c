package s3

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

var _ mediatrail.BlobStore = (*Store)(nil)

const (
	// PartSize is the multipart part size (S3's smallest), and the size up to
	// which Put sends a body in one PutObject. PartSize and the one part in
	// flight are what bound the memory of a large Put, whatever the body's
	// size: two part buffers, the part being sent and the next being read
	// (the first part read is the first of them). `make bench-video`
	// measures it.
	PartSize = 5 << 20

	// maxUploadParts is S3's limit of parts per upload.
	maxUploadParts = 10000

	// maxSingleRequest bounds a PutObject body and a CopyObject source (S3 limit).
	maxSingleRequest = 5 << 30

	// MaxPresignExpiry is the longest lifetime SigV4 allows a presigned URL.
	MaxPresignExpiry = 7 * 24 * time.Hour

	// metaSHA256 is the user-metadata key (x-amz-meta-sha256) holding a blob's hex SHA-256.
	metaSHA256 = "sha256"

	// cleanupTimeout bounds the requests that undo a failed Put; they run even
	// when the caller's context is already cancelled.
	cleanupTimeout = 30 * time.Second

	defaultContentType = "application/octet-stream"
)

// Config locates the bucket. Each field mirrors an environment variable.
type Config struct {
	// Endpoint (STORAGE_ENDPOINT) is the S3 API base URL the service uses, e.g.
	// https://<account>.r2.cloudflarestorage.com; "" for AWS S3.
	Endpoint string
	// Region (STORAGE_REGION) overrides the region of the aws.Config ("auto" for R2).
	Region string
	// Bucket (STORAGE_BUCKET) holds every blob.
	Bucket string
	// AccessKeyID and SecretKey (STORAGE_ACCESS_KEY_ID, STORAGE_SECRET_KEY), when
	// either is set, replace the credentials of the aws.Config.
	AccessKeyID string
	SecretKey   string
	// PublicURL (STORAGE_PUBLIC_URL) is the S3 API base URL clients reach, used in
	// presigned URLs; "" means Endpoint.
	PublicURL string
	// ForcePathStyle (STORAGE_FORCE_PATH_STYLE) addresses buckets as
	// endpoint/bucket/key instead of bucket.endpoint/key.
	ForcePathStyle bool
}

// Store is a mediatrail.BlobStore on one bucket. It is safe for concurrent use.
type Store struct {
	client  *awss3.Client
	presign *awss3.PresignClient
	// get presigns GET URLs without the PresignClient; nil where the
	// endpoint needs more than SigV4 (see newGetPresigner).
	get    *getPresigner
	bucket string
	// now is the signing clock of get.
	now func() time.Time
	// checksums is what VerifiesChecksums found out.
	checksums checksumVerification
}

// New returns a Store for c.Bucket. cfg is loaded once by the caller; c overrides
// its region, credentials and endpoint. New makes no request.
func New(cfg aws.Config, c Config) *Store {
	client := NewClient(cfg, c)
	public := c.PublicURL
	if public == "" {
		public = c.Endpoint
	}
	publicClient := newClient(cfg, c, public)
	get, _ := newGetPresigner(publicClient, c.Bucket) // nil: the PresignClient signs GETs too
	return &Store{
		client:  client,
		presign: awss3.NewPresignClient(publicClient),
		get:     get,
		now:     time.Now,
		bucket:  c.Bucket,
	}
}

// NewClient returns the S3 client New uses, for set-up tasks such as EnsureBucket.
// Checksums are computed and validated only when an operation requires them:
// the SDK's default trailing CRC checksums are refused by some S3-compatible stores.
func NewClient(cfg aws.Config, c Config) *awss3.Client {
	return newClient(cfg, c, c.Endpoint)
}

func newClient(cfg aws.Config, c Config, endpoint string) *awss3.Client {
	cfg = cfg.Copy()
	if c.AccessKeyID != "" || c.SecretKey != "" {
		cfg.Credentials = aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretKey, ""))
	}
	if c.Region != "" {
		cfg.Region = c.Region
	}
	cfg.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
	cfg.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	return awss3.NewFromConfig(cfg, func(o *awss3.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
		o.UsePathStyle = c.ForcePathStyle
	})
}

// EnsureBucket creates bucket unless it already exists and is accessible with
// client's credentials. Calling it again is a no-op.
func EnsureBucket(ctx context.Context, client *awss3.Client, bucket string) error {
	in := &awss3.CreateBucketInput{Bucket: aws.String(bucket)}
	switch region := client.Options().Region; region {
	case "", "us-east-1", "auto":
	default:
		in.CreateBucketConfiguration = &types.CreateBucketConfiguration{
			LocationConstraint: types.BucketLocationConstraint(region),
		}
	}
	_, err := client.CreateBucket(ctx, in)
	var owned *types.BucketAlreadyOwnedByYou
	var exists *types.BucketAlreadyExists
	switch {
	case err == nil, errors.As(err, &owned):
		return nil
	case errors.As(err, &exists):
		// Some stores answer this for the caller's own bucket; AWS also for a
		// bucket of another account, which HeadBucket then refuses.
		if _, herr := client.HeadBucket(ctx, &awss3.HeadBucketInput{Bucket: aws.String(bucket)}); herr != nil {
			return fmt.Errorf("s3: bucket %q exists but is not accessible: %w", bucket, herr)
		}
		return nil
	default:
		return fmt.Errorf("s3: create bucket %q: %w", bucket, err)
	}
}

// Put streams body into key and returns its size, hex SHA-256 and content type
// ("" becomes application/octet-stream). A body of at most PartSize bytes is sent
// in one PutObject bound to its SHA-256 checksum; a larger one as a multipart
// upload of PartSize parts (larger parts when size, a hint, needs more than
// 10,000), followed by an in-place copy that records the SHA-256 in the object's
// metadata (skipped above 5 GiB, where Stat then reports no SHA-256).
//
// The object carries tags (x-amz-tagging) from its first byte on, in every
// path: the lifecycle rules that read them never see it untagged.
//
// On error nothing is left under key: a failed multipart upload is aborted, even
// when ctx is done, and a blob whose metadata copy failed is deleted.
func (s *Store) Put(ctx context.Context, key, contentType string, body io.Reader, size int64, tags ...mediatrail.Tag) (mediatrail.BlobInfo, error) {
	if contentType == "" {
		contentType = defaultContentType
	}
	tagging := tagging(tags)
	h := &hashCounter{h: sha256.New()}
	tee := io.TeeReader(body, h)

	first, err := readPart(tee, size)
	defer partBuffers.release(first)
	switch {
	case errors.Is(err, io.EOF):
		return s.putSingle(ctx, key, contentType, tagging, first, h)
	case err != nil:
		return mediatrail.BlobInfo{}, fmt.Errorf("s3: put %q: read body: %w", key, err)
	}

	if err := s.putParts(ctx, key, contentType, tagging, first, tee, partSizeFor(size)); err != nil {
		return mediatrail.BlobInfo{}, fmt.Errorf("s3: put %q: %w", key, err)
	}
	info := h.info(contentType)
	if info.Size > maxSingleRequest {
		return info, nil
	}
	// The copy restates the tags (REPLACE) rather than copying them, which
	// would also need s3:GetObjectTagging.
	cp := &awss3.CopyObjectInput{
		Bucket:            aws.String(s.bucket),
		Key:               aws.String(key),
		CopySource:        aws.String(copySource(s.bucket, key)),
		MetadataDirective: types.MetadataDirectiveReplace,
		Metadata:          map[string]string{metaSHA256: info.SHA256},
		ContentType:       aws.String(contentType),
	}
	if tagging != nil {
		cp.TaggingDirective, cp.Tagging = types.TaggingDirectiveReplace, tagging
	}
	_, err = s.client.CopyObject(ctx, cp)
	if err != nil {
		derr := s.deleteDetached(ctx, key)
		return mediatrail.BlobInfo{}, fmt.Errorf("s3: put %q: record sha256: %w", key, errors.Join(err, derr))
	}
	return info, nil
}

// readPart reads the first PartSize bytes of r, or all of r and io.EOF when it is
// shorter. A size hint below PartSize sizes the buffer; otherwise it is one of
// partBuffers, for the caller to release.
func readPart(r io.Reader, hint int64) ([]byte, error) {
	var b []byte
	if hint >= 0 && hint < PartSize {
		b = make([]byte, 0, hint+1) // one more byte shows whether the hint was right
	} else {
		b = partBuffers.get()[:0]
	}
	for {
		if len(b) == cap(b) {
			if len(b) == PartSize {
				return b, nil
			}
			grown := make([]byte, len(b), min(2*cap(b), PartSize))
			copy(grown, b)
			b = grown
		}
		k, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+k]
		if err != nil {
			return b, err
		}
	}
}

// partSizeFor keeps a body of size bytes within S3's 10,000 parts, rounding up to MiB.
func partSizeFor(size int64) int64 {
	if size <= int64(PartSize)*maxUploadParts {
		return PartSize
	}
	const mib = 1 << 20
	return (size/maxUploadParts + mib) / mib * mib
}

// putParts uploads first and then the rest of body as a multipart upload,
// one part in flight while the next is read into the other of two buffers:
// its memory is 2 × partSize whatever the body's size, with no garbage per
// part (the SDK's uploader copies each streamed part into a pooled buffer
// and its first part into a growing one), and off the heap (partBuffers). On
// error the upload is aborted, even when ctx is done.
func (s *Store) putParts(ctx context.Context, key, contentType string, tagging *string, first []byte, body io.Reader, partSize int64) (err error) {
	uploadID, err := s.createUpload(ctx, key, contentType, tagging)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, s.AbortUpload(ctx, key, uploadID))
		}
	}()
	type sent struct {
		etag string
		err  error
	}
	buffers := [2][]byte{first, nil}
	var parts []mediatrail.CompletedPart
	part := first
	for number := 1; ; number++ {
		done := make(chan sent, 1)
		go func(part []byte, number int32) {
			out, err := s.client.UploadPart(ctx, &awss3.UploadPartInput{
				Bucket: aws.String(s.bucket), Key: aws.String(key), UploadId: aws.String(uploadID),
				PartNumber: aws.Int32(number), Body: bytes.NewReader(part), ContentLength: aws.Int64(int64(len(part))),
			})
			if err != nil {
				done <- sent{err: fmt.Errorf("upload part %d: %w", number, err)}
				return
			}
			done <- sent{etag: aws.ToString(out.ETag)}
		}(part, int32(number))
		next := buffers[number%2]
		if int64(cap(next)) < partSize {
			next = make([]byte, partSize)
			if partSize == PartSize {
				next = partBuffers.get()
				defer partBuffers.release(next) // after the last part, which is awaited below
			}
			buffers[number%2] = next
		}
		n, rerr := io.ReadFull(body, next[:partSize])
		up := <-done
		switch {
		case up.err != nil:
			return up.err
		case rerr != nil && rerr != io.EOF && rerr != io.ErrUnexpectedEOF:
			return fmt.Errorf("read body: %w", rerr)
		}
		parts = append(parts, mediatrail.CompletedPart{PartNumber: number, ETag: up.etag})
		if n == 0 {
			return s.CompleteUpload(ctx, key, uploadID, parts)
		}
		part = next[:n]
	}
}

// tagging is the x-amz-tagging value of tags; nil for none.
func tagging(tags []mediatrail.Tag) *string {
	if len(tags) == 0 {
		return nil
	}
	return aws.String(mediatrail.EncodeTags(tags))
}

func (s *Store) putSingle(ctx context.Context, key, contentType string, tagging *string, body []byte, h *hashCounter) (mediatrail.BlobInfo, error) {
	info := h.info(contentType)
	sum := h.h.Sum(nil)
	_, err := s.client.PutObject(ctx, &awss3.PutObjectInput{
		Bucket:         aws.String(s.bucket),
		Key:            aws.String(key),
		Body:           bytes.NewReader(body),
		ContentLength:  aws.Int64(int64(len(body))),
		ContentType:    aws.String(contentType),
		ChecksumSHA256: aws.String(base64.StdEncoding.EncodeToString(sum)),
		Metadata:       map[string]string{metaSHA256: info.SHA256},
		Tagging:        tagging,
	})
	if err != nil {
		return mediatrail.BlobInfo{}, fmt.Errorf("s3: put %q: %w", key, err)
	}
	return info, nil
}

// Stat describes key. SHA256 comes from the metadata Put writes, else from a
// full-object SHA-256 checksum the store verified on upload, else it is "".
// ENOTFOUND if key is absent.
func (s *Store) Stat(ctx context.Context, key string) (mediatrail.BlobInfo, error) {
	out, err := s.client.HeadObject(ctx, &awss3.HeadObjectInput{
		Bucket:       aws.String(s.bucket),
		Key:          aws.String(key),
		ChecksumMode: types.ChecksumModeEnabled,
	})
	if err != nil {
		return mediatrail.BlobInfo{}, s.notFoundOr("stat", key, err)
	}
	info := mediatrail.BlobInfo{
		Size:        aws.ToInt64(out.ContentLength),
		SHA256:      objectSHA256(out.Metadata, out.ChecksumSHA256, out.ChecksumType),
		ContentType: aws.ToString(out.ContentType),
	}
	var served []string
	for _, h := range []struct {
		name  string
		value *string
	}{
		{"Cache-Control", out.CacheControl}, {"Content-Disposition", out.ContentDisposition},
		{"Content-Encoding", out.ContentEncoding}, {"Content-Language", out.ContentLanguage},
	} {
		if aws.ToString(h.value) != "" {
			served = append(served, h.name)
		}
	}
	info.ServedHeaders = strings.Join(served, ", ")
	return info, nil
}

func objectSHA256(metadata map[string]string, checksum *string, typ types.ChecksumType) string {
	for k, v := range metadata {
		if strings.EqualFold(k, metaSHA256) {
			if sum, err := mediatrail.ValidateSHA256(v); err == nil {
				return sum
			}
		}
	}
	// A composite checksum ("<base64>-<parts>") hashes part checksums, not the bytes.
	if checksum == nil || typ == types.ChecksumTypeComposite {
		return ""
	}
	sum, err := base64.StdEncoding.DecodeString(*checksum)
	if err != nil || len(sum) != sha256.Size {
		return ""
	}
	return hex.EncodeToString(sum)
}

// Tags returns key's object tags (GetObjectTagging). ENOTFOUND if key is absent.
func (s *Store) Tags(ctx context.Context, key string) ([]mediatrail.Tag, error) {
	out, err := s.client.GetObjectTagging(ctx, &awss3.GetObjectTaggingInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	if err != nil {
		return nil, s.notFoundOr("read the tags of", key, err)
	}
	tags := make([]mediatrail.Tag, 0, len(out.TagSet))
	for _, t := range out.TagSet {
		tags = append(tags, mediatrail.Tag{Key: aws.ToString(t.Key), Value: aws.ToString(t.Value)})
	}
	return tags, nil
}

// Open streams key's bytes; the caller closes the reader. ENOTFOUND if key is absent.
func (s *Store) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	out, err := s.client.GetObject(ctx, &awss3.GetObjectInput{
		Bucket: aws.String(s.bucket),
		Key:    aws.String(key),
	})
	if err != nil {
		return nil, s.notFoundOr("open", key, err)
	}
	return out.Body, nil
}

// Delete removes key; removing an absent key succeeds.
func (s *Store) Delete(ctx context.Context, key string) error {
	_, err := s.client.DeleteObject(ctx, &awss3.DeleteObjectInput{
		Bucket: aws.String(s.bucket),
		Key:    aws.String(key),
	})
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("s3: delete %q: %w", key, err)
	}
	return nil
}

func (s *Store) deleteDetached(ctx context.Context, key string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	return s.Delete(ctx, key)
}

// PresignGet returns a GET URL for key valid for opts.Expires (1s to 7 days,
// whole seconds, else EINVALID). The response carries Content-Disposition
// (opts.Disposition, default attachment, with opts.FileName when set) and
// Content-Type opts.ContentType, both signed, as mediatrail.ServedAs decides:
// only a passive type may be inline or keep its type; any other type, or none,
// is an attachment of type application/octet-stream.
//
// The URL is signed by the SDK's SigV4 signer with cached credentials and the
// endpoint resolved once (getPresigner), the same URL the SDK's PresignClient
// would make at a fraction of its cost; the PresignClient signs it where the
// endpoint is not a plain SigV4 one.
func (s *Store) PresignGet(ctx context.Context, key string, opts mediatrail.GetOptions) (mediatrail.PresignedRequest, error) {
	expires, disposition, ct, err := getResponse(opts)
	if err != nil {
		return mediatrail.PresignedRequest{}, err
	}
	if s.get == nil {
		return s.presignGetWithClient(ctx, key, expires, disposition, ct)
	}
	return s.get.presign(ctx, key, expires, disposition, ct, s.now())
}

// getResponse validates opts and returns the URL's lifetime and the signed
// response headers.
func getResponse(opts mediatrail.GetOptions) (expires time.Duration, disposition, contentType string, err error) {
	if expires, err = validExpiry(opts.Expires); err != nil {
		return 0, "", "", err
	}
	if _, err := ContentDisposition(opts.Disposition, ""); err != nil {
		return 0, "", "", err
	}
	if opts.ContentType != "" {
		if opts.ContentType, err = mediatrail.ValidateContentType(opts.ContentType); err != nil {
			return 0, "", "", err
		}
	}
	d, ct := mediatrail.ServedAs(opts.Disposition, opts.ContentType)
	if disposition, err = ContentDisposition(d, opts.FileName); err != nil {
		return 0, "", "", err
	}
	return expires, disposition, ct, nil
}

// presignGetWithClient signs the GET with the SDK's PresignClient.
func (s *Store) presignGetWithClient(ctx context.Context, key string, expires time.Duration, disposition, contentType string) (mediatrail.PresignedRequest, error) {
	in := &awss3.GetObjectInput{
		Bucket:                     aws.String(s.bucket),
		Key:                        aws.String(key),
		ResponseContentDisposition: aws.String(disposition),
		ResponseContentType:        aws.String(contentType),
	}
	req, err := s.presign.PresignGetObject(ctx, in, awss3.WithPresignExpires(expires))
	if err != nil {
		return mediatrail.PresignedRequest{}, fmt.Errorf("s3: presign get %q: %w", key, err)
	}
	return presigned(req, expires), nil
}

// PresignPut returns a PUT request for key valid for opts.Expires (1s to 7 days,
// else EINVALID). Its signature covers Content-Type, x-amz-checksum-sha256,
// x-amz-tagging (opts.Tags) and, for a non-empty body, Content-Length, so the
// store refuses a body of another type, length or SHA-256, or other tags. Headers lists every signed header with the exact
// value the client must send (HTTP clients derive Content-Length from the body).
// EINVALID for a malformed content type or SHA-256 or a negative size,
// ETOOLARGE above 5 GiB.
func (s *Store) PresignPut(ctx context.Context, key string, opts mediatrail.PutOptions) (mediatrail.PresignedRequest, error) {
	expires, err := validExpiry(opts.Expires)
	if err != nil {
		return mediatrail.PresignedRequest{}, err
	}
	ct, err := mediatrail.ValidateContentType(opts.ContentType)
	if err != nil {
		return mediatrail.PresignedRequest{}, err
	}
	sum, err := mediatrail.ValidateSHA256(opts.SHA256)
	if err != nil {
		return mediatrail.PresignedRequest{}, err
	}
	raw, _ := hex.DecodeString(sum)
	switch {
	case opts.Size < 0:
		return mediatrail.PresignedRequest{}, mediatrail.Invalid("size", "size must not be negative")
	case opts.Size > maxSingleRequest:
		return mediatrail.PresignedRequest{}, mediatrail.TooLarge("size", "a single upload is limited to 5 GiB")
	}
	req, err := s.presign.PresignPutObject(ctx, &awss3.PutObjectInput{
		Bucket:         aws.String(s.bucket),
		Key:            aws.String(key),
		ContentLength:  aws.Int64(opts.Size),
		ContentType:    aws.String(ct),
		ChecksumSHA256: aws.String(base64.StdEncoding.EncodeToString(raw)),
		Tagging:        tagging(opts.Tags),
	}, awss3.WithPresignExpires(expires), signContentType(ct))
	if err != nil {
		return mediatrail.PresignedRequest{}, fmt.Errorf("s3: presign put %q: %w", key, err)
	}
	return presigned(req, expires), nil
}

// signContentType keeps Content-Type among the signed headers of a presigned
// PutObject: the SDK drops it when the body is empty, which would let an empty
// upload carry any type.
func signContentType(ct string) func(*awss3.PresignOptions) {
	sign := middleware.BuildMiddlewareFunc("mediatrail.SignContentType", func(
		ctx context.Context, in middleware.BuildInput, next middleware.BuildHandler,
	) (middleware.BuildOutput, middleware.Metadata, error) {
		if req, ok := in.Request.(*smithyhttp.Request); ok {
			req.Header.Set("Content-Type", ct)
		}
		return next.HandleBuild(ctx, in)
	})
	return func(po *awss3.PresignOptions) {
		po.ClientOptions = append(po.ClientOptions, func(o *awss3.Options) {
			o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
				return stack.Build.Add(sign, middleware.After)
			})
		})
	}
}

func validExpiry(d time.Duration) (time.Duration, error) {
	d = d.Truncate(time.Second)
	if d < time.Second || d > MaxPresignExpiry {
		return 0, mediatrail.Invalid("expires_in", "expires_in must be between 1 and %d seconds", int(MaxPresignExpiry/time.Second))
	}
	return d, nil
}

// ContentDisposition builds a Content-Disposition value: the disposition
// ("" means attachment), then, when name is set, an ASCII fallback filename
// (mediatrail.SafeFileName) and the exact name as RFC 8187 UTF-8 filename*.
// No quote, backslash or control character of name reaches the value unencoded.
// EINVALID for an unknown disposition.
func ContentDisposition(d mediatrail.Disposition, name string) (string, error) {
	switch d {
	case "":
		d = mediatrail.DispositionAttachment
	case mediatrail.DispositionAttachment, mediatrail.DispositionInline:
	default:
		return "", mediatrail.Invalid("disposition", "disposition must be attachment or inline")
	}
	if name == "" {
		return string(d), nil
	}
	return string(d) + `; filename="` + mediatrail.SafeFileName(name) + `"; filename*=UTF-8''` +
		percentEncode(strings.ToValidUTF8(name, "\uFFFD")), nil
}

// percentEncode keeps RFC 3986 unreserved bytes, a subset of RFC 8187 attr-char.
func percentEncode(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s) * 3)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '.', c == '_', c == '~':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
	return b.String()
}

func copySource(bucket, key string) string {
	return (&url.URL{Path: bucket + "/" + key}).EscapedPath()
}

// notFoundOr maps a missing object to ENOTFOUND and wraps anything else.
func (s *Store) notFoundOr(op, key string, err error) error {
	if isNotFound(err) {
		return mediatrail.NotFound("", "blob not found").Wrap(err)
	}
	return fmt.Errorf("s3: %s %q: %w", op, key, err)
}

// isNotFound reports a missing object. HEAD responses have no body, so a 404
// there carries no error code; a missing bucket is a configuration error and is
// not reported as a missing object where the store says so.
func isNotFound(err error) bool {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "NoSuchKey", "NotFound":
			return true
		case "NoSuchBucket":
			return false
		}
	}
	var respErr *smithyhttp.ResponseError
	return errors.As(err, &respErr) && respErr.HTTPStatusCode() == http.StatusNotFound
}

// hashCounter hashes and counts what passes through it.
type hashCounter struct {
	h hash.Hash
	n int64
}

func (w *hashCounter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return w.h.Write(p)
}

func (w *hashCounter) info(contentType string) mediatrail.BlobInfo {
	return mediatrail.BlobInfo{Size: w.n, SHA256: hex.EncodeToString(w.h.Sum(nil)), ContentType: contentType}
}
