package fake

import (
	"bytes"
	"encoding/binary"
	"io"
	"math"
)

// Video is a generated MP4 of any size, laid out as encoders that do not
// "fast start" write it: an ftyp box, an mdat box of Payload bytes (a
// repeating pattern, never held in memory), then the moov box, at the end,
// whose mvhd says Seconds and whose video track is Width×Height. Only its
// boxes are real; the payload is not a decodable stream.
type Video struct {
	Payload       int64
	Seconds       float64
	Width, Height int
}

// DefaultVideo is what a fake's video jobs produce unless their plan says
// otherwise: five seconds (Runway's default duration) of 1280×720.
var DefaultVideo = Video{Payload: 64 << 10, Seconds: 5, Width: 1280, Height: 720}

// MP4 is DefaultVideo's bytes.
func MP4() []byte { return DefaultVideo.Bytes() }

// Size is the length of the file.
func (v Video) Size() int64 {
	head, tail := v.parts()
	return int64(len(head)) + v.Payload + int64(len(tail))
}

// Bytes is the whole file; for small videos only.
func (v Video) Bytes() []byte {
	b, _ := io.ReadAll(v.Reader())
	return b
}

// Reader reads the file on demand (an io.ReadSeeker, for ranged answers).
func (v Video) Reader() *io.SectionReader {
	head, tail := v.parts()
	return io.NewSectionReader(&video{v, head, tail}, 0, v.Size())
}

type video struct {
	Video
	head, tail []byte
}

// ReadAt serves the head, the pattern and the tail by offset.
func (v *video) ReadAt(p []byte, off int64) (int, error) {
	h := int64(len(v.head))
	size := h + v.Payload + int64(len(v.tail))
	n := 0
	for n < len(p) && off < size {
		var k int
		switch {
		case off < h:
			k = copy(p[n:], v.head[off:])
		case off < h+v.Payload:
			k = int(min(int64(len(p)-n), h+v.Payload-off))
			for i := range k {
				p[n+i] = pattern(off - h + int64(i))
			}
		default:
			k = copy(p[n:], v.tail[off-h-v.Payload:])
		}
		n += k
		off += int64(k)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func pattern(i int64) byte { return byte(i*7 + i>>9) }

// parts are the bytes before the payload (ftyp, mdat header) and after it (moov).
func (v Video) parts() (head, tail []byte) {
	var h bytes.Buffer
	box(&h, "ftyp", []byte("isom\x00\x00\x02\x00isomiso2avc1mp41"))
	if v.Payload+8 > math.MaxUint32 {
		_ = binary.Write(&h, binary.BigEndian, uint32(1))
		h.WriteString("mdat")
		_ = binary.Write(&h, binary.BigEndian, uint64(v.Payload+16))
	} else {
		_ = binary.Write(&h, binary.BigEndian, uint32(v.Payload+8))
		h.WriteString("mdat")
	}

	const timescale = 1000
	mvhd := make([]byte, 100)
	binary.BigEndian.PutUint32(mvhd[12:], timescale)
	binary.BigEndian.PutUint32(mvhd[16:], uint32(math.Round(v.Seconds*timescale)))
	binary.BigEndian.PutUint32(mvhd[20:], 0x00010000) // rate 1.0
	binary.BigEndian.PutUint32(mvhd[96:], 2)          // next track id
	tkhd := make([]byte, 84)
	binary.BigEndian.PutUint32(tkhd[12:], 1) // track id
	binary.BigEndian.PutUint32(tkhd[76:], uint32(v.Width)<<16)
	binary.BigEndian.PutUint32(tkhd[80:], uint32(v.Height)<<16)
	hdlr := append(make([]byte, 8), []byte("vide\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00")...)
	var mdia, trak, moov bytes.Buffer
	box(&mdia, "hdlr", hdlr)
	box(&trak, "tkhd", tkhd)
	box(&trak, "mdia", mdia.Bytes())
	box(&moov, "mvhd", mvhd)
	box(&moov, "trak", trak.Bytes())
	var t bytes.Buffer
	box(&t, "moov", moov.Bytes())
	return h.Bytes(), t.Bytes()
}

func box(b *bytes.Buffer, kind string, payload []byte) {
	_ = binary.Write(b, binary.BigEndian, uint32(8+len(payload)))
	b.WriteString(kind)
	b.Write(payload)
}
