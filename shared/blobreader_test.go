package mediatrail

import (
	"bytes"
	"context"
	"io"
	"testing"
)

// rangeStore serves OpenRange from memory and counts the ranges read.
type rangeStore struct {
	BlobStore
	data   []byte
	ranges int
}

func (r *rangeStore) OpenRange(_ context.Context, _ string, off, n int64) (io.ReadCloser, error) {
	r.ranges++
	end := min(off+n, int64(len(r.data)))
	return io.NopCloser(bytes.NewReader(r.data[min(off, end):end])), nil
}

// Reads within the head cost nothing; beyond it, one ranged read each; past
// the end, io.EOF.
func TestBlobReader(t *testing.T) {
	data := make([]byte, 1000)
	for i := range data {
		data[i] = byte(i)
	}
	store := &rangeStore{data: data}
	r := &blobReader{ctx: context.Background(), blobs: store, key: "k", head: data[:100]}
	for _, tc := range []struct {
		off, n   int64
		want     []byte
		eof      bool
		fromHead bool
	}{
		{0, 50, data[:50], false, true},
		{90, 20, data[90:110], false, false},
		{500, 100, data[500:600], false, false},
		{950, 100, data[950:], true, false},
		{1000, 10, nil, true, false},
	} {
		before := store.ranges
		p := make([]byte, tc.n)
		n, err := r.ReadAt(p, tc.off)
		if !bytes.Equal(p[:n], tc.want) || (err == io.EOF) != tc.eof || (err != nil && err != io.EOF) {
			t.Errorf("ReadAt(%d, %d) = %d bytes, %v", tc.off, tc.n, n, err)
		}
		if (store.ranges == before) != tc.fromHead {
			t.Errorf("ReadAt(%d, %d): %d ranged reads", tc.off, tc.n, store.ranges-before)
		}
	}
}
