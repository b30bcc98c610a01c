package probe_test

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"testing"
)

// Fixtures are built here, byte by byte where no encoder exists, so that each
// test states exactly which fields a file carries.

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func le16(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }
func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
func le64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }
func be16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
func be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
func be64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }
func zeros(n int) []byte   { return make([]byte, n) }

// testImage is a w×h gradient, so that encoders have something to encode.
func testImage(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x * 7), uint8(y * 11), 90, 255})
		}
	}
	return img
}

func MustPNG(tb testing.TB, w, h int) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, testImage(w, h)); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

func MustJPEG(tb testing.TB, w, h int) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, testImage(w, h), nil); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

func MustGIF(tb testing.TB, w, h int) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := gif.Encode(&b, testImage(w, h), nil); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// riff is a RIFF file of the given form type; chunks come from riffChunk.
func riff(form string, chunks ...[]byte) []byte {
	body := cat(append([][]byte{[]byte(form)}, chunks...)...)
	return cat([]byte("RIFF"), le32(uint32(len(body))), body)
}

// riffChunk is a chunk with its true length, padded to an even size.
func riffChunk(id string, body []byte) []byte {
	return riffChunkLen(id, uint32(len(body)), body)
}

// riffChunkLen is a chunk declaring length n whatever its body holds.
func riffChunkLen(id string, n uint32, body []byte) []byte {
	c := cat([]byte(id), le32(n), body)
	if len(body)%2 == 1 {
		c = append(c, 0)
	}
	return c
}

func webpVP8L(w, h int) []byte {
	bits := uint32(w-1) | uint32(h-1)<<14 | 1<<28 // alpha used, version 0
	return riff("WEBP", riffChunk("VP8L", cat([]byte{0x2f}, le32(bits), zeros(20))))
}

func webpVP8X(w, h int) []byte {
	canvas := []byte{0x10, 0, 0, 0, byte(w - 1), byte((w - 1) >> 8), byte((w - 1) >> 16), byte(h - 1), byte((h - 1) >> 8), byte((h - 1) >> 16)}
	return riff("WEBP", riffChunk("VP8X", canvas), riffChunk("VP8L", cat([]byte{0x2f}, le32(uint32(w-1)|uint32(h-1)<<14), zeros(20))))
}

func webpVP8(w, h int) []byte {
	frame := cat([]byte{0x50, 0x02, 0x00, 0x9d, 0x01, 0x2a}, le16(uint16(w)), le16(uint16(h)), zeros(20))
	return riff("WEBP", riffChunk("VP8 ", frame))
}

// fmtChunk is a PCM fmt chunk.
func fmtChunk(channels, rate, bits int) []byte {
	align := channels * bits / 8
	return riffChunk("fmt ", cat(le16(1), le16(uint16(channels)), le32(uint32(rate)), le32(uint32(rate*align)), le16(uint16(align)), le16(uint16(bits))))
}

// wavPCM is a 16-bit PCM WAV of samples frames whose data chunk declares
// dataLen, or its true length when dataLen is negative.
func wavPCM(channels, rate, samples int, dataLen int64) []byte {
	data := zeros(samples * channels * 2)
	n := uint32(len(data))
	if dataLen >= 0 {
		n = uint32(dataLen)
	}
	return riff("WAVE", fmtChunk(channels, rate, 16), riffChunkLen("data", n, data))
}

// mp3Header describes a Layer III frame header and the frame length it implies.
type mp3Header struct {
	bytes    [4]byte
	length   int
	sideInfo int
	samples  int
	rate     int
	bitrate  int // bits/s
}

var (
	// MPEG-1, 128 kbit/s, 44.1 kHz, joint stereo, no CRC, no padding.
	mp3V1 = mp3Header{[4]byte{0xFF, 0xFB, 0x90, 0x40}, 417, 32, 1152, 44100, 128000}
	// MPEG-2, 64 kbit/s, 22.05 kHz, mono.
	mp3V2 = mp3Header{[4]byte{0xFF, 0xF3, 0x80, 0xC0}, 208, 9, 576, 22050, 64000}
	// MPEG-2.5, 8 kbit/s, 8 kHz, mono.
	mp3V25 = mp3Header{[4]byte{0xFF, 0xE3, 0x18, 0xC0}, 72, 9, 576, 8000, 8000}
)

// mp3Stream is n frames of silence; first, when given, fills the start of the
// first frame after its side information (a Xing or VBRI header).
func mp3Stream(h mp3Header, n int, first []byte) []byte {
	var b []byte
	for i := range n {
		frame := zeros(h.length)
		copy(frame, h.bytes[:])
		if i == 0 && first != nil {
			copy(frame[4+h.sideInfo:], first)
		}
		b = append(b, frame...)
	}
	return b
}

func xingHeader(tag string, frames uint32) []byte {
	return cat([]byte(tag), be32(0x3), be32(frames), be32(frames*400))
}

// vbriHeader sits 32 bytes after the frame header whatever the side info size.
func vbriHeader(frames uint32) []byte {
	return cat([]byte("VBRI"), be16(1), be16(576), be16(75), be32(frames*400), be32(frames))
}

// id3v2 is an ID3v2.4 tag of n bytes of (empty) frames, size syncsafe.
func id3v2(n int) []byte {
	return cat([]byte{'I', 'D', '3', 4, 0, 0, byte(n >> 21 & 0x7f), byte(n >> 14 & 0x7f), byte(n >> 7 & 0x7f), byte(n & 0x7f)}, zeros(n))
}

func id3v1() []byte { return cat([]byte("TAG"), zeros(125)) }

// streamInfo is a FLAC STREAMINFO block body (34 bytes).
func streamInfo(rate, channels, bits int, total uint64) []byte {
	packed := uint64(rate)<<44 | uint64(channels-1)<<41 | uint64(bits-1)<<36 | total&(1<<36-1)
	return cat(be16(4096), be16(4096), zeros(3), zeros(3), be64(packed), zeros(16))
}

// flacFile has STREAMINFO then a last PADDING block, as encoders write it.
func flacFile(rate, channels int, total uint64) []byte {
	return cat([]byte("fLaC"), []byte{0, 0, 0, 34}, streamInfo(rate, channels, 16, total), []byte{0x81, 0, 0, 64}, zeros(64), zeros(512))
}

// oggCRCTable is OGG's CRC-32 (polynomial 0x04C11DB7, not reflected).
var oggCRCTable = func() (t [256]uint32) {
	for i := range t {
		r := uint32(i) << 24
		for range 8 {
			if r&(1<<31) != 0 {
				r = r<<1 ^ 0x04C11DB7
			} else {
				r <<= 1
			}
		}
		t[i] = r
	}
	return t
}()

// oggPage is one page holding whole packets, with lacing and checksum.
func oggPage(flags byte, granule int64, serial, seq uint32, packets ...[]byte) []byte {
	var lacing, body []byte
	for _, p := range packets {
		for n := len(p); ; n -= 255 {
			if n < 255 {
				lacing = append(lacing, byte(n))
				break
			}
			lacing = append(lacing, 255)
		}
		body = append(body, p...)
	}
	page := cat([]byte("OggS"), []byte{0, flags}, le64(uint64(granule)), le32(serial), le32(seq), le32(0), []byte{byte(len(lacing))}, lacing, body)
	var crc uint32
	for _, c := range page {
		crc = crc<<8 ^ oggCRCTable[byte(crc>>24)^c]
	}
	binary.LittleEndian.PutUint32(page[22:], crc)
	return page
}

func opusHead(preSkip uint16) []byte {
	return cat([]byte("OpusHead"), []byte{1, 2}, le16(preSkip), le32(44100), le16(0), []byte{0})
}

func vorbisID(rate uint32) []byte {
	return cat([]byte("\x01vorbis"), le32(0), []byte{2}, le32(rate), le32(0), le32(128000), le32(0), []byte{0xB8, 1})
}

// oggFile is a logical stream: the identification packet, a comment page, then
// pages of audio packets (1000 bytes a page) whose last page has granule last.
func oggFile(serial uint32, id []byte, pages int, last int64) []byte {
	b := cat(oggPage(0x02, 0, serial, 0, id), oggPage(0, 0, serial, 1, []byte("OpusTags\x00\x00\x00\x00\x00\x00\x00\x00")))
	packet := bytes.Repeat([]byte{0x5a}, 250)
	for i := range pages {
		flags, granule := byte(0), last*int64(i+1)/int64(pages)
		if i == pages-1 {
			flags = 0x04
		}
		b = append(b, oggPage(flags, granule, serial, uint32(i+2), packet, packet, packet, packet)...)
	}
	return b
}

// box is an ISO BMFF box with a 32-bit size.
func box(typ string, payload ...[]byte) []byte {
	body := cat(payload...)
	return cat(be32(uint32(8+len(body))), []byte(typ), body)
}

// box64 is a box with size 1 and a 64-bit size after the type.
func box64(typ string, payload ...[]byte) []byte {
	body := cat(payload...)
	return cat(be32(1), []byte(typ), be64(uint64(16+len(body))), body)
}

func ftyp(brand string) []byte {
	return box("ftyp", []byte(brand), be32(0x200), []byte(brand), []byte("mp41"))
}

func mvhd(version byte, timescale uint32, duration uint64) []byte {
	rest := zeros(80)
	if version == 1 {
		return box("mvhd", []byte{1, 0, 0, 0}, be64(0), be64(0), be32(timescale), be64(duration), rest)
	}
	return box("mvhd", []byte{0, 0, 0, 0}, be32(0), be32(0), be32(timescale), be32(uint32(duration)), rest)
}

var identity = cat(be32(0x10000), be32(0), be32(0), be32(0), be32(0x10000), be32(0), be32(0), be32(0), be32(0x40000000))

func tkhd(version byte, width, height int) []byte {
	w, h := be32(uint32(width)<<16), be32(uint32(height)<<16)
	if version == 1 {
		return box("tkhd", []byte{1, 0, 0, 3}, be64(0), be64(0), be32(1), be32(0), be64(0), zeros(8), zeros(8), identity, w, h)
	}
	return box("tkhd", []byte{0, 0, 0, 3}, be32(0), be32(0), be32(1), be32(0), be32(0), zeros(8), zeros(8), identity, w, h)
}

func hdlr(handler string) []byte {
	return box("hdlr", zeros(4), zeros(4), []byte(handler), zeros(12), []byte("handler\x00"))
}

func trak(handler string, version byte, width, height int) []byte {
	return box("trak", tkhd(version, width, height), box("mdia", box("mdhd", zeros(24)), hdlr(handler), box("minf")))
}

// ebml is a Matroska element with an 8-byte size; id carries its marker bits.
func ebml(id uint32, payload ...[]byte) []byte {
	body := cat(payload...)
	return cat(ebmlID(id), []byte{0x01}, be64(uint64(len(body)))[1:], body)
}

// ebmlUnknown is an element whose size is the reserved "unknown" value.
func ebmlUnknown(id uint32, payload ...[]byte) []byte {
	return cat(ebmlID(id), []byte{0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}, cat(payload...))
}

func ebmlID(id uint32) []byte {
	b := be32(id)
	for len(b) > 1 && b[0] == 0 {
		b = b[1:]
	}
	return b
}

func ebmlUint(id uint32, v uint64) []byte {
	b := be64(v)
	for len(b) > 1 && b[0] == 0 {
		b = b[1:]
	}
	return ebml(id, b)
}

func ebmlHeader(docType string) []byte {
	return ebml(0x1A45DFA3, ebmlUint(0x4286, 1), ebmlUint(0x42F7, 1), ebml(0x4282, []byte(docType)), ebmlUint(0x4287, 4), ebmlUint(0x4285, 2))
}

func mkvInfo(scale uint64, duration []byte) []byte {
	info := [][]byte{ebmlUint(0x2AD7B1, scale), ebml(0x4D80, []byte("probe-test"))}
	if duration != nil {
		info = append(info, ebml(0x4489, duration))
	}
	return ebml(0x1549A966, info...)
}

func f64(v float64) []byte { return be64(math.Float64bits(v)) }
func f32(v float32) []byte { return be32(math.Float32bits(v)) }

func mkvTrack(kind uint64, width, height uint64) []byte {
	entry := [][]byte{ebmlUint(0xD7, 1), ebmlUint(0x83, kind), ebml(0x86, []byte("V_VP9"))}
	if kind == 1 {
		entry = append(entry, ebml(0xE0, ebmlUint(0xB0, width), ebmlUint(0xBA, height)))
	}
	return ebml(0xAE, entry...)
}

func mkvCluster() []byte { return ebml(0x1F43B675, ebmlUint(0xE7, 0), ebml(0xA3, zeros(64))) }

// sparseFile is a ReaderAt of size bytes, zero except where parts hold data,
// so that tests can describe huge objects without allocating them.
type sparseFile struct {
	size  int64
	parts map[int64][]byte
}

func (f sparseFile) ReadAt(p []byte, off int64) (int, error) {
	if off >= f.size {
		return 0, io.EOF
	}
	n := len(p)
	if int64(n) > f.size-off {
		n = int(f.size - off)
	}
	clear(p[:n])
	for at, data := range f.parts {
		lo, hi := max(at, off), min(at+int64(len(data)), off+int64(n))
		if lo < hi {
			copy(p[lo-off:hi-off], data[lo-at:hi-at])
		}
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// countingReader records how much is read through it.
type countingReader struct {
	r            io.ReaderAt
	calls, bytes int64
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	c.calls++
	n, err := c.r.ReadAt(p, off)
	c.bytes += int64(n)
	return n, err
}

// failingReader answers reads below from and fails every read that reaches it.
type failingReader struct {
	r    io.ReaderAt
	from int64
	err  error
}

func (f failingReader) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > f.from {
		return 0, f.err
	}
	return f.r.ReadAt(p, off)
}
