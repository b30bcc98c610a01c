package mediatrail

import (
	"context"
	"io"
)

// blobReader reads a stored object through ranged reads, serving its first
// bytes from the head kept while it was uploaded: probing a video whose moov
// box is at its end reads a few small ranges, never the whole object.
type blobReader struct {
	ctx   context.Context
	blobs BlobStore
	key   string
	head  []byte
}

func (r *blobReader) ReadAt(p []byte, off int64) (int, error) {
	if off < int64(len(r.head)) {
		n := copy(p, r.head[off:])
		if n == len(p) {
			return n, nil
		}
		m, err := r.ReadAt(p[n:], off+int64(n))
		return n + m, err
	}
	rc, err := r.blobs.OpenRange(r.ctx, r.key, off, int64(len(p)))
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	n, err := io.ReadFull(rc, p)
	if err == io.ErrUnexpectedEOF {
		err = io.EOF
	}
	return n, err
}
