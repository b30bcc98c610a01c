package probe

import (
	"encoding/binary"
	"math"
	"math/bits"
)

// Matroska (and WebM) element IDs, marker bits included.
const (
	mkvEBML          = 0x1A45DFA3
	mkvSegment       = 0x18538067
	mkvInfo          = 0x1549A966
	mkvTracks        = 0x1654AE6B
	mkvCluster       = 0x1F43B675
	mkvTimecodeScale = 0x2AD7B1
	mkvDurationID    = 0x4489
	mkvTrackEntry    = 0xAE
	mkvTrackType     = 0x83
	mkvVideo         = 0xE0
	mkvPixelWidth    = 0xB0
	mkvPixelHeight   = 0xBA
)

// mkvMaxMasterBytes bounds the Info and Tracks elements read into memory.
const mkvMaxMasterBytes = 256 << 10

// element is an EBML element with its data from body to end; end is the
// parent's end when the size is unknown or runs past it.
type element struct {
	id        uint32
	body, end int64
	unknown   bool
}

// ebmlHeader decodes an element ID (1 to 4 bytes, marker bits kept) and data
// size (1 to 8 bytes, marker dropped; all ones means unknown) from b.
func ebmlHeader(b []byte) (id uint32, size uint64, unknown bool, n int, ok bool) {
	if len(b) == 0 || b[0] == 0 {
		return 0, 0, false, 0, false
	}
	idLen := bits.LeadingZeros8(b[0]) + 1
	if idLen > 4 || len(b) < idLen+1 || b[idLen] == 0 {
		return 0, 0, false, 0, false
	}
	for _, c := range b[:idLen] {
		id = id<<8 | uint32(c)
	}
	sizeLen := bits.LeadingZeros8(b[idLen]) + 1
	if len(b) < idLen+sizeLen {
		return 0, 0, false, 0, false
	}
	mask := byte(0xFF) >> sizeLen
	size, unknown = uint64(b[idLen]&mask), b[idLen]&mask == mask
	for _, c := range b[idLen+1 : idLen+sizeLen] {
		size, unknown = size<<8|uint64(c), unknown && c == 0xFF
	}
	return id, size, unknown, idLen + sizeLen, true
}

func readElement(s *source, off, end int64) (element, bool) {
	id, size, unknown, n, ok := ebmlHeader(s.upTo(off, 12))
	body := off + int64(n)
	if !ok || body > end {
		return element{}, false
	}
	e := element{id: id, body: body, end: end, unknown: unknown}
	if !unknown && size < uint64(end-body) {
		e.end = body + int64(size)
	}
	return e, true
}

// eachElement calls f on the elements in b until f returns false or one is
// malformed. Elements of unknown size are not expected inside Info or Tracks.
// The walk is bounded by len(b): every element takes at least two bytes.
func eachElement(b []byte, f func(id uint32, data []byte) bool) {
	for len(b) > 0 {
		id, size, unknown, n, ok := ebmlHeader(b)
		if !ok || unknown || size > uint64(len(b)-n) {
			return
		}
		if !f(id, b[n:n+int(size)]) {
			return
		}
		b = b[n+int(size):]
	}
}

// matroskaInfo reads the Segment's Info (TimecodeScale, Duration) and Tracks
// (PixelWidth and PixelHeight of the first video track) that precede its first
// Cluster. Files recorded live often carry no Duration: then it is 0.
func matroskaInfo(s *source) (width, height int, seconds float64) {
	hdr, ok := readElement(s, 0, s.size)
	if !ok || hdr.id != mkvEBML || hdr.unknown {
		return 0, 0, 0
	}
	seg, ok := readElement(s, hdr.end, s.size)
	if !ok || seg.id != mkvSegment {
		return 0, 0, 0
	}
	for off := seg.body; off < seg.end && s.step(); {
		e, ok := readElement(s, off, seg.end)
		if !ok || e.id == mkvCluster || e.unknown {
			break
		}
		if e.id == mkvInfo || e.id == mkvTracks {
			if n := e.end - e.body; n <= mkvMaxMasterBytes {
				if data := s.bytes(e.body, int(n)); data != nil && e.id == mkvInfo {
					seconds = mkvDuration(data)
				} else if data != nil {
					width, height = mkvVideoSize(data)
				}
			}
		}
		off = e.end
	}
	return width, height, seconds
}

// mkvDuration is Duration (a float of 4 or 8 bytes) in units of TimecodeScale
// nanoseconds (default 1,000,000).
func mkvDuration(info []byte) float64 {
	scale, duration := uint64(1_000_000), 0.0
	eachElement(info, func(id uint32, d []byte) bool {
		switch {
		case id == mkvTimecodeScale && len(d) >= 1 && len(d) <= 8:
			scale = mkvUint(d)
		case id == mkvDurationID && len(d) == 4:
			duration = float64(math.Float32frombits(binary.BigEndian.Uint32(d)))
		case id == mkvDurationID && len(d) == 8:
			duration = math.Float64frombits(binary.BigEndian.Uint64(d))
		}
		return true
	})
	return duration * float64(scale) / 1e9
}

// mkvVideoSize returns the pixel size of the first track of type 1 (video).
func mkvVideoSize(tracks []byte) (width, height int) {
	eachElement(tracks, func(id uint32, entry []byte) bool {
		if id != mkvTrackEntry {
			return true
		}
		var kind uint64
		var w, h int
		eachElement(entry, func(id uint32, d []byte) bool {
			switch id {
			case mkvTrackType:
				kind = mkvUint(d)
			case mkvVideo:
				eachElement(d, func(id uint32, d []byte) bool {
					switch id {
					case mkvPixelWidth:
						w = int(min(mkvUint(d), math.MaxInt32))
					case mkvPixelHeight:
						h = int(min(mkvUint(d), math.MaxInt32))
					}
					return true
				})
			}
			return true
		})
		if kind == 1 && w > 0 && h > 0 {
			width, height = w, h
			return false
		}
		return true
	})
	return width, height
}

// mkvUint decodes a big-endian unsigned integer of up to 8 bytes; longer data
// gives 0.
func mkvUint(d []byte) uint64 {
	if len(d) > 8 {
		return 0
	}
	var v uint64
	for _, c := range d {
		v = v<<8 | uint64(c)
	}
	return v
}
