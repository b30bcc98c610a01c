package probe

import "encoding/binary"

// box is an ISO BMFF box: payload from body to end, end clamped to the parent.
type box struct {
	typ       string
	body, end int64
}

// readBox reads the header of the box at off inside a parent ending at end:
// a 32-bit size, or 1 and a 64-bit size after the type, or 0 for "to the end".
func readBox(s *source, off, end int64) (box, bool) {
	h := s.bytes(off, 8)
	if h == nil || end-off < 8 {
		return box{}, false
	}
	b := box{typ: string(h[4:8]), body: off + 8}
	size := uint64(binary.BigEndian.Uint32(h[0:4]))
	switch size {
	case 0:
		size = uint64(end - off)
	case 1:
		x := s.bytes(off+8, 8)
		if x == nil {
			return box{}, false
		}
		size, b.body = binary.BigEndian.Uint64(x), off+16
	}
	if size < uint64(b.body-off) {
		return box{}, false
	}
	b.end = end
	if size < uint64(end-off) {
		b.end = off + int64(size)
	}
	return b, b.body <= b.end
}

// eachBox calls f on the boxes from body to end until f returns false, a
// header cannot be read or the source's step budget is spent.
func eachBox(s *source, body, end int64, f func(box) bool) {
	for off := body; off < end && s.step(); {
		b, ok := readBox(s, off, end)
		if !ok || !f(b) {
			return
		}
		off = b.end
	}
}

// isobmffInfo walks the top-level boxes of an MP4/MOV/M4A file by their headers
// alone, so a moov at the end of a large object costs a few small reads, and
// reads the movie duration (mvhd, or mehd for fragmented files) and the size of
// the first video track (tkhd of a trak whose handler is "vide").
func isobmffInfo(s *source) (width, height int, seconds float64) {
	eachBox(s, 0, s.size, func(b box) bool {
		if b.typ != "moov" {
			return true
		}
		width, height, seconds = moovInfo(s, b)
		return false
	})
	return width, height, seconds
}

func moovInfo(s *source, moov box) (width, height int, seconds float64) {
	var timescale, duration, fragmented uint64
	eachBox(s, moov.body, moov.end, func(b box) bool {
		switch b.typ {
		case "mvhd":
			timescale, duration = mvhdTimes(s, b)
		case "mvex":
			eachBox(s, b.body, b.end, func(c box) bool {
				if c.typ == "mehd" {
					fragmented = fullBoxTime(s, c, 4)
				}
				return c.typ != "mehd"
			})
		case "trak":
			if width == 0 {
				width, height = videoTrackSize(s, b)
			}
		}
		return true
	})
	if duration == 0 {
		duration = fragmented
	}
	if timescale > 0 && duration > 0 {
		seconds = float64(duration) / float64(timescale)
	}
	return width, height, seconds
}

// mvhdTimes reads timescale and duration: after version and flags come two
// times (4 bytes each in version 0, 8 in version 1), the 4-byte timescale and
// the duration (4 or 8 bytes). An all-ones duration means unknown: 0.
func mvhdTimes(s *source, b box) (timescale, duration uint64) {
	v := s.bytes(b.body, 1)
	if v == nil {
		return 0, 0
	}
	timeLen := int64(4)
	if v[0] == 1 {
		timeLen = 8
	}
	t := s.bytes(b.body+4+2*timeLen, 4)
	if t == nil || b.body+4+3*timeLen+4 > b.end {
		return 0, 0
	}
	timescale = uint64(binary.BigEndian.Uint32(t))
	return timescale, fullBoxTime(s, b, 4+2*timeLen+4)
}

// fullBoxTime reads the time at offset at of a full box's payload: 8 bytes in
// version 1, else 4. An all-ones (unknown) or unreadable value gives 0.
func fullBoxTime(s *source, b box, at int64) uint64 {
	v := s.bytes(b.body, 1)
	if v == nil {
		return 0
	}
	if v[0] == 1 {
		if at+8 > b.end-b.body {
			return 0
		}
		if x := s.bytes(b.body+at, 8); x != nil && binary.BigEndian.Uint64(x) != 1<<64-1 {
			return binary.BigEndian.Uint64(x)
		}
		return 0
	}
	if at+4 > b.end-b.body {
		return 0
	}
	if x := s.bytes(b.body+at, 4); x != nil && binary.BigEndian.Uint32(x) != 1<<32-1 {
		return uint64(binary.BigEndian.Uint32(x))
	}
	return 0
}

// videoTrackSize returns the tkhd width and height (16.16 fixed point, at 76
// and 80 in version 0, 88 and 92 in version 1) of a trak whose media handler
// is "vide", else 0, 0.
func videoTrackSize(s *source, trak box) (width, height int) {
	var video bool
	eachBox(s, trak.body, trak.end, func(b box) bool {
		switch b.typ {
		case "tkhd":
			v := s.bytes(b.body, 1)
			if v == nil {
				return false
			}
			at := int64(76)
			if v[0] == 1 {
				at = 88
			}
			if b.body+at+8 > b.end {
				return false
			}
			if d := s.bytes(b.body+at, 8); d != nil {
				width, height = int(binary.BigEndian.Uint32(d[0:4])>>16), int(binary.BigEndian.Uint32(d[4:8])>>16)
			}
		case "mdia":
			eachBox(s, b.body, b.end, func(c box) bool {
				if c.typ != "hdlr" {
					return true
				}
				// version and flags (4), pre_defined (4), handler_type (4)
				h := s.bytes(c.body+8, 4)
				video = h != nil && c.body+12 <= c.end && string(h) == "vide"
				return false
			})
		}
		return true
	})
	if !video {
		return 0, 0
	}
	return width, height
}
