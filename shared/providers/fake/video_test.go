package fake_test

import (
	"bytes"
	"io"
	"testing"

	"github.com/mediatrail/mediatrail/shared/probe"
	"github.com/mediatrail/mediatrail/shared/providers/fake"
)

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.ReaderAt
	n int64
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.n += int64(n)
	return n, err
}

// The generated videos are MP4s whose moov is at the end: probing finds
// their duration and size by reading a few ranges, whatever their size
// (above 4 GiB the mdat box needs its 64-bit size).
func TestVideoProbes(t *testing.T) {
	for _, v := range []fake.Video{
		fake.DefaultVideo,
		{Payload: 0, Seconds: 1.5, Width: 64, Height: 48},
		{Payload: 5 << 30, Seconds: 600, Width: 3840, Height: 2160},
	} {
		r := &countingReader{r: v.Reader()}
		info, err := probe.Inspect(r, v.Size())
		if err != nil || info.ContentType != "video/mp4" || info.DurationSeconds != v.Seconds || info.Width != v.Width || info.Height != v.Height {
			t.Errorf("%+v: probed %+v (%v)", v, info, err)
		}
		if r.n > 4<<20 {
			t.Errorf("%+v: probing read %d bytes", v, r.n)
		}
	}
	small := fake.Video{Payload: 1000, Seconds: 2}
	if b := small.Bytes(); int64(len(b)) != small.Size() || !bytes.Equal(b, small.Bytes()) {
		t.Errorf("Bytes: %d bytes, Size %d, or not the same twice", len(b), small.Size())
	}
}
