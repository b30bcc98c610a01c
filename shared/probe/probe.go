package probe

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/gabriel-vasile/mimetype"
)

// Info is what can be learnt from a file's bytes. Zero fields are unknown.
type Info struct {
	// ContentType is sniffed from the bytes with mimetype ("image/png",
	// "audio/mpeg", "audio/wav", "video/mp4", "text/plain; charset=utf-8", ...);
	// "application/octet-stream" when nothing matched. Never empty.
	ContentType string
	// Extension is the usual file extension of ContentType with its dot
	// (".png"), or "" when there is none.
	Extension string
	// Width and Height are in pixels, for images and, when found, videos: the
	// size as stored, before any rotation (EXIF orientation, track matrix).
	Width, Height int
	// DurationSeconds is the play time of audio and video, when determinable.
	// It is finite and non-negative.
	DurationSeconds float64
}

// HeadBytes is how much of the start of an object Inspect reads in one go, and
// the size of the head callers should keep while streaming an upload: with it,
// every supported format except MP4 with its moov box at the end, and OGG
// (whose duration is in its last page), is fully described.
const HeadBytes = 1 << 20

// windowBytes is the least Inspect reads at once past the head, so that a
// ranged-read store answers a walk over nearby box headers with one request.
const windowBytes = 64 << 10

// maxSteps bounds the chunk, box and element headers one Inspect walks over, so
// that a file of many tiny boxes costs a bounded number of reads. Real files
// need a few dozen.
const maxSteps = 4096

// Inspect reads what it needs of an object of size bytes through r and returns
// what it could learn. With only the head of an object at hand, pass a
// bytes.Reader over the head and the object's real size: reads past the head
// are answered short, and what they would have told stays unknown.
//
// Unknown, truncated or corrupt data is not an error: Info then holds what could
// be learnt, the ContentType at least. The error is non-nil only when r fails
// with an error other than io.EOF or io.ErrUnexpectedEOF (the store failed);
// Info then holds what was learnt before the failure: nothing when reading the
// head failed.
func Inspect(r io.ReaderAt, size int64) (Info, error) {
	s := &source{r: r, size: max(size, 0)}
	s.avail = s.size
	if s.readHead(); s.err != nil {
		return Info{}, s.err
	}

	mt := mimetype.Detect(s.head)
	info := Info{ContentType: mt.String(), Extension: mt.Extension()}
	switch ct := mt.String(); {
	case ct == "image/png", ct == "image/apng", ct == "image/jpeg", ct == "image/gif":
		info.Width, info.Height = imageSize(ct, s.head)
	case ct == "image/webp":
		info.Width, info.Height = webpSize(s)
	case ct == "audio/wav":
		info.DurationSeconds = wavDuration(s)
	case ct == "audio/mpeg":
		info.DurationSeconds = mp3Duration(s)
	case ct == "audio/flac":
		info.DurationSeconds = flacDuration(s)
	case ct == "audio/ogg":
		info.DurationSeconds = oggDuration(s)
	case ct == "video/webm", ct == "video/matroska":
		info.Width, info.Height, info.DurationSeconds = matroskaInfo(s)
	case isISOBMFF(mt):
		info.Width, info.Height, info.DurationSeconds = isobmffInfo(s)
	}
	if info.Width <= 0 || info.Height <= 0 {
		info.Width, info.Height = 0, 0
	}
	if math.IsNaN(info.DurationSeconds) || math.IsInf(info.DurationSeconds, 0) || info.DurationSeconds < 0 {
		info.DurationSeconds = 0
	}
	if s.err != nil {
		return info, s.err
	}
	return info, nil
}

// isISOBMFF reports whether mt is an audio or video type of the MP4/QuickTime
// family (images such as AVIF and HEIC share the container but not the moov).
func isISOBMFF(mt *mimetype.MIME) bool {
	if !strings.HasPrefix(mt.String(), "video/") && !strings.HasPrefix(mt.String(), "audio/") {
		return false
	}
	for m := mt; m != nil; m = m.Parent() {
		if m.Is("video/mp4") || m.Is("video/quicktime") {
			return true
		}
	}
	return false
}

// source serves bounded reads of the object: from the head when it covers them,
// else from one cached window read through r.
type source struct {
	r    io.ReaderAt
	size int64
	// avail is where the readable data ends: size, or less once a read came back
	// short (a head-only reader, or a store object shorter than claimed).
	avail  int64
	head   []byte
	win    []byte
	winOff int64
	// err is the first failure of r other than EOF; no read is tried after it.
	err error
	// steps counts headers walked, up to maxSteps.
	steps int
}

// step reports whether the walk may look at one more header.
func (s *source) step() bool {
	s.steps++
	return s.steps <= maxSteps
}

func (s *source) readHead() {
	buf := make([]byte, min(s.size, HeadBytes))
	n, err := s.r.ReadAt(buf, 0)
	s.head = buf[:n]
	if n < len(buf) {
		s.avail = int64(n)
	}
	s.fail(err, 0)
}

// fail records err unless it only says that the data ended early.
func (s *source) fail(err error, off int64) {
	if err != nil && s.err == nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		s.err = fmt.Errorf("probe: reading object at offset %d: %w", off, err)
	}
}

// bytes returns the n bytes at off, or nil unless all of them can be read. The
// slice is valid until the next call and must not be modified.
func (s *source) bytes(off int64, n int) []byte {
	if off < 0 || n < 0 || off > s.avail || int64(n) > s.avail-off {
		return nil
	}
	end := off + int64(n)
	if end <= int64(len(s.head)) {
		return s.head[off:end]
	}
	if off >= s.winOff && end <= s.winOff+int64(len(s.win)) {
		return s.win[off-s.winOff : end-s.winOff]
	}
	if s.err != nil {
		return nil
	}
	buf := make([]byte, min(max(int64(n), windowBytes), s.avail-off))
	k, err := s.r.ReadAt(buf, off)
	s.fail(err, off)
	if k < len(buf) {
		s.avail = off + int64(k)
	}
	s.win, s.winOff = buf[:k], off
	if k < n || s.err != nil {
		return nil
	}
	return buf[:n]
}

// upTo returns the at most n bytes at off that can be read, nil if none.
func (s *source) upTo(off int64, n int) []byte {
	for range 2 { // a short read lowers avail; the second try is served from the window
		if off < 0 || off >= s.avail {
			return nil
		}
		if b := s.bytes(off, int(min(int64(n), s.avail-off))); b != nil {
			return b
		}
	}
	return nil
}
