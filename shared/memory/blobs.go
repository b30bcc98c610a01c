package memory

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

var (
	_ mediatrail.ReconcileBlobs = (*Blobs)(nil)
	_ mediatrail.MultipartStore = (*Blobs)(nil)
)

// Blob is a stored object.
type Blob struct {
	Data        []byte
	ContentType string
	Tags        []mediatrail.Tag
	Modified    time.Time
	// ServedHeaders is BlobInfo.ServedHeaders (headers an uploader set).
	ServedHeaders string
}

// Blobs is an object store in a map, with multipart uploads of parts
// "uploaded" by CompleteUpload. Presigned requests are fake URLs
// (mem://key?...) that no client can use.
type Blobs struct {
	mu      sync.Mutex
	objects map[string]*Blob
	uploads map[string]string // upload id -> key
	nextID  int

	// Verifies is what VerifiesChecksums answers.
	Verifies bool
	// Fail, when set, runs at the start of every method with the method's
	// name and the key (no lock held); an error it returns is the call's.
	Fail func(op, key string) error
	// Now stamps written objects (default: the zero time).
	Now func() time.Time
}

func (s *Blobs) fail(op, key string) error {
	if s.Fail == nil {
		return nil
	}
	return s.Fail(op, key)
}

func (s *Blobs) lock() {
	s.mu.Lock()
	if s.objects == nil {
		s.objects, s.uploads = map[string]*Blob{}, map[string]string{}
	}
}

// Set stores b under key, as an upload or another writer would.
func (s *Blobs) Set(key string, b Blob) {
	s.lock()
	defer s.mu.Unlock()
	b.Data = bytes.Clone(b.Data)
	s.objects[key] = &b
}

// Has reports whether key holds an object.
func (s *Blobs) Has(key string) bool {
	s.lock()
	defer s.mu.Unlock()
	_, ok := s.objects[key]
	return ok
}

// Keys are the stored keys, sorted.
func (s *Blobs) Keys() []string {
	s.lock()
	defer s.mu.Unlock()
	var keys []string
	for k := range s.objects {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func (s *Blobs) find(key string) (*Blob, error) {
	s.lock()
	defer s.mu.Unlock()
	b, ok := s.objects[key]
	if !ok {
		return nil, mediatrail.NotFound("", "no object %s", key)
	}
	return b, nil
}

func (s *Blobs) Put(_ context.Context, key, contentType string, body io.Reader, _ int64, tags ...mediatrail.Tag) (mediatrail.BlobInfo, error) {
	if err := s.fail("Put", key); err != nil {
		return mediatrail.BlobInfo{}, err
	}
	data, err := io.ReadAll(body)
	if err != nil {
		return mediatrail.BlobInfo{}, err
	}
	var now time.Time
	if s.Now != nil {
		now = s.Now()
	}
	s.Set(key, Blob{Data: data, ContentType: contentType, Tags: tags, Modified: now})
	return s.Stat(context.Background(), key)
}

func (s *Blobs) Stat(_ context.Context, key string) (mediatrail.BlobInfo, error) {
	if err := s.fail("Stat", key); err != nil {
		return mediatrail.BlobInfo{}, err
	}
	b, err := s.find(key)
	if err != nil {
		return mediatrail.BlobInfo{}, err
	}
	sum := sha256.Sum256(b.Data)
	return mediatrail.BlobInfo{Size: int64(len(b.Data)), SHA256: hex.EncodeToString(sum[:]), ContentType: b.ContentType, ServedHeaders: b.ServedHeaders}, nil
}

func (s *Blobs) Tags(_ context.Context, key string) ([]mediatrail.Tag, error) {
	if err := s.fail("Tags", key); err != nil {
		return nil, err
	}
	b, err := s.find(key)
	if err != nil {
		return nil, err
	}
	return slices.Clone(b.Tags), nil
}

func (s *Blobs) VerifiesChecksums(context.Context) bool { return s.Verifies }

func (s *Blobs) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	return s.OpenRange(ctx, key, 0, -1)
}

// OpenRange reads length bytes from offset; a negative length reads to the end.
func (s *Blobs) OpenRange(_ context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if err := s.fail("Open", key); err != nil {
		return nil, err
	}
	b, err := s.find(key)
	if err != nil {
		return nil, err
	}
	data := b.Data[min(offset, int64(len(b.Data))):]
	if length >= 0 {
		data = data[:min(length, int64(len(data)))]
	}
	return io.NopCloser(bytes.NewReader(data)), nil
}

func (s *Blobs) AbortUploads(_ context.Context, key string) (int, error) {
	if err := s.fail("AbortUploads", key); err != nil {
		return 0, err
	}
	s.lock()
	defer s.mu.Unlock()
	n := 0
	for id, k := range s.uploads {
		if k == key {
			delete(s.uploads, id)
			n++
		}
	}
	return n, nil
}

func (s *Blobs) PresignGet(_ context.Context, key string, opts mediatrail.GetOptions) (mediatrail.PresignedRequest, error) {
	if err := s.fail("PresignGet", key); err != nil {
		return mediatrail.PresignedRequest{}, err
	}
	return mediatrail.PresignedRequest{URL: "mem://" + key + "?disposition=" + string(opts.Disposition), Method: "GET", Headers: map[string]string{}}, nil
}

func (s *Blobs) PresignPut(_ context.Context, key string, opts mediatrail.PutOptions) (mediatrail.PresignedRequest, error) {
	if err := s.fail("PresignPut", key); err != nil {
		return mediatrail.PresignedRequest{}, err
	}
	return mediatrail.PresignedRequest{URL: "mem://" + key, Method: "PUT", Headers: map[string]string{
		"Content-Type": opts.ContentType, "Content-Length": strconv.FormatInt(opts.Size, 10)}}, nil
}

func (s *Blobs) Delete(_ context.Context, key string) error {
	if err := s.fail("Delete", key); err != nil {
		return err
	}
	s.lock()
	defer s.mu.Unlock()
	delete(s.objects, key)
	return nil
}

// ListBlobs visits the objects under prefix in key order.
func (s *Blobs) ListBlobs(ctx context.Context, prefix string, visit func(mediatrail.BlobObject) error) error {
	objs, _, err := s.ListBlobPage(ctx, prefix, "", -1)
	if err != nil {
		return err
	}
	for _, o := range objs {
		if err := visit(o); err != nil {
			return err
		}
	}
	return nil
}

// ListBlobPage answers at most max objects (all when negative) under prefix
// after startAfter, in key order.
func (s *Blobs) ListBlobPage(_ context.Context, prefix, startAfter string, max int) ([]mediatrail.BlobObject, bool, error) {
	if err := s.fail("ListBlobs", prefix); err != nil {
		return nil, false, err
	}
	var objs []mediatrail.BlobObject
	for _, k := range s.Keys() {
		if !strings.HasPrefix(k, prefix) || k <= startAfter {
			continue
		}
		if max >= 0 && len(objs) == max {
			return objs, true, nil
		}
		b, err := s.find(k)
		if err != nil {
			continue // deleted meanwhile
		}
		objs = append(objs, mediatrail.BlobObject{Key: k, Size: int64(len(b.Data)), LastModified: b.Modified})
	}
	return objs, false, nil
}

func (s *Blobs) CreateUpload(_ context.Context, key string, opts mediatrail.PutOptions) (string, error) {
	if err := s.fail("CreateUpload", key); err != nil {
		return "", err
	}
	s.lock()
	defer s.mu.Unlock()
	s.nextID++
	id := "upload-" + strconv.Itoa(s.nextID)
	s.uploads[id] = key
	return id, nil
}

func (s *Blobs) PresignPart(_ context.Context, key, uploadID string, part int, size int64, expires time.Duration) (mediatrail.PresignedRequest, error) {
	if err := s.fail("PresignPart", key); err != nil {
		return mediatrail.PresignedRequest{}, err
	}
	return mediatrail.PresignedRequest{URL: "mem://" + key + "?uploadId=" + uploadID + "&partNumber=" + strconv.Itoa(part), Method: "PUT",
		Headers: map[string]string{"Content-Length": strconv.FormatInt(size, 10)}}, nil
}

// CompleteUpload ends the upload; the object must have been Set by the test
// (the parts' bytes). ENOTFOUND for an unknown or finished upload.
func (s *Blobs) CompleteUpload(_ context.Context, key, uploadID string, parts []mediatrail.CompletedPart) error {
	if err := s.fail("CompleteUpload", key); err != nil {
		return err
	}
	s.lock()
	defer s.mu.Unlock()
	if s.uploads[uploadID] != key {
		return mediatrail.NotFound("", "no upload %s", uploadID)
	}
	delete(s.uploads, uploadID)
	return nil
}

func (s *Blobs) AbortUpload(_ context.Context, key, uploadID string) error {
	if err := s.fail("AbortUpload", key); err != nil {
		return err
	}
	s.lock()
	defer s.mu.Unlock()
	delete(s.uploads, uploadID)
	return nil
}

// Uploads is how many multipart uploads are open.
func (s *Blobs) Uploads() int {
	s.lock()
	defer s.mu.Unlock()
	return len(s.uploads)
}
