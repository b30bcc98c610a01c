package probe

import (
	"bytes"
	"encoding/binary"
)

// wavDuration is the data chunk's length over the fmt chunk's byte rate. A data
// length of 0 or 0xFFFFFFFF (written by streaming encoders that cannot seek
// back), or one longer than the rest of the object, is taken to run to its end.
func wavDuration(s *source) float64 {
	h := s.bytes(0, 12)
	if h == nil || string(h[0:4]) != "RIFF" || string(h[8:12]) != "WAVE" {
		return 0
	}
	var byteRate uint64
	dataOff, dataLen := int64(-1), int64(0)
	off := int64(12)
	for s.step() {
		c := s.bytes(off, 8)
		if c == nil {
			break
		}
		id, n := string(c[0:4]), int64(binary.LittleEndian.Uint32(c[4:8]))
		body := off + 8
		switch id {
		case "fmt ":
			// format(2) channels(2) sample rate(4) byte rate(4) block align(2) bits(2)
			f := s.bytes(body, 16)
			if n < 16 || f == nil {
				return 0
			}
			sampleRate := uint64(binary.LittleEndian.Uint32(f[4:8]))
			byteRate = uint64(binary.LittleEndian.Uint32(f[8:12]))
			if byteRate == 0 {
				byteRate = sampleRate * uint64(binary.LittleEndian.Uint16(f[12:14]))
			}
			if byteRate == 0 {
				return 0
			}
		case "data":
			dataOff, dataLen = body, n
			if n == 0 || n == 0xFFFFFFFF || n > s.size-body {
				dataLen = max(s.size-body, 0)
			}
		}
		if byteRate != 0 && dataOff >= 0 {
			return float64(dataLen) / float64(byteRate)
		}
		if id == "data" && dataLen != n {
			break // the data chunk runs to the end: nothing follows it
		}
		off = body + n + n&1
	}
	return 0
}

// mp3ScanBytes bounds the search for the first frame after the ID3v2 tags.
const mp3ScanBytes = 64 << 10

// mp3Frame is what an MPEG audio Layer III frame header tells.
type mp3Frame struct {
	bitrate, sampleRate int // bits/s, Hz
	samples             int // per frame
	length              int // bytes, header included
	sideInfo            int // bytes after the 4-byte header
}

var (
	mp3Bitrates1 = [16]int{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0}
	mp3Bitrates2 = [16]int{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0}
	mp3Rates     = [4][3]int{{11025, 12000, 8000}, {}, {22050, 24000, 16000}, {44100, 48000, 32000}}
)

// parseMP3Frame accepts the header of an MPEG 1, 2 or 2.5 Layer III frame with a
// table bitrate (free format is not supported).
func parseMP3Frame(b []byte) (mp3Frame, bool) {
	if len(b) < 4 || b[0] != 0xFF || b[1]&0xE0 != 0xE0 {
		return mp3Frame{}, false
	}
	version, layer := b[1]>>3&3, b[1]>>1&3 // version: 0 = 2.5, 1 reserved, 2 = 2, 3 = 1
	bri, sri := b[2]>>4, b[2]>>2&3
	if version == 1 || layer != 1 || bri == 0 || bri == 15 || sri == 3 || b[3]&3 == 2 {
		return mp3Frame{}, false
	}
	padding, mono := int(b[2]>>1&1), b[3]>>6 == 3
	f := mp3Frame{sampleRate: mp3Rates[version][sri]}
	if version == 3 {
		f.bitrate, f.samples = mp3Bitrates1[bri]*1000, 1152
		f.length = 144*f.bitrate/f.sampleRate + padding
		f.sideInfo = 32
		if mono {
			f.sideInfo = 17
		}
	} else {
		f.bitrate, f.samples = mp3Bitrates2[bri]*1000, 576
		f.length = 72*f.bitrate/f.sampleRate + padding
		f.sideInfo = 17
		if mono {
			f.sideInfo = 9
		}
	}
	return f, true
}

// mp3Duration finds the first frame after any ID3v2 tags. Its Xing/Info or VBRI
// header, when present, gives the frame count; otherwise the stream is taken to
// be constant bitrate and the duration follows from the object's size.
func mp3Duration(s *source) float64 {
	off := int64(0)
	for range 8 { // ID3v2 tags, possibly more than one
		h := s.bytes(off, 10)
		if h == nil || string(h[0:3]) != "ID3" {
			break
		}
		if (h[6]|h[7]|h[8]|h[9])&0x80 != 0 {
			return 0
		}
		off += 10 + (int64(h[6])<<21 | int64(h[7])<<14 | int64(h[8])<<7 | int64(h[9]))
		if h[3] == 4 && h[5]&0x10 != 0 {
			off += 10 // v2.4 footer
		}
	}

	w := s.upTo(off, mp3ScanBytes)
	frameOff := int64(-1)
	var f mp3Frame
	for i := 0; i+4 <= len(w); i++ {
		fh, ok := parseMP3Frame(w[i:])
		if !ok {
			continue
		}
		// A sync word can occur by chance; a second header right after the
		// first, where the window shows it, confirms the frame.
		if j := i + fh.length; j+4 <= len(w) {
			next, ok := parseMP3Frame(w[j:])
			if !ok || next.sampleRate != fh.sampleRate || next.samples != fh.samples {
				continue
			}
		}
		frameOff, f = off+int64(i), fh
		break
	}
	if frameOff < 0 {
		return 0
	}

	if b := s.upTo(frameOff, 4+36+18); b != nil {
		if x := 4 + f.sideInfo; len(b) >= x+12 && (string(b[x:x+4]) == "Xing" || string(b[x:x+4]) == "Info") {
			flags, frames := binary.BigEndian.Uint32(b[x+4:x+8]), binary.BigEndian.Uint32(b[x+8:x+12])
			if flags&1 != 0 && frames > 0 {
				return float64(frames) * float64(f.samples) / float64(f.sampleRate)
			}
		}
		if v := 4 + 32; len(b) >= v+18 && string(b[v:v+4]) == "VBRI" {
			if frames := binary.BigEndian.Uint32(b[v+14 : v+18]); frames > 0 {
				return float64(frames) * float64(f.samples) / float64(f.sampleRate)
			}
		}
	}

	audio := s.size - frameOff
	if t := s.bytes(s.size-128, 3); t != nil && string(t) == "TAG" && s.size-128 >= frameOff {
		audio -= 128 // ID3v1 tag
	}
	return float64(audio) * 8 / float64(f.bitrate)
}

// flacDuration reads total samples and sample rate from STREAMINFO, which the
// format requires to be the first metadata block.
func flacDuration(s *source) float64 {
	b := s.bytes(0, 8+34)
	if b == nil || string(b[0:4]) != "fLaC" || b[4]&0x7F != 0 || int(b[5])<<16|int(b[6])<<8|int(b[7]) < 34 {
		return 0
	}
	return streamInfoDuration(b[8:])
}

// streamInfoDuration decodes a 34-byte FLAC STREAMINFO block: 20 bits of sample
// rate at bit 80, then 3 bits channels, 5 bits depth and 36 bits total samples.
func streamInfoDuration(si []byte) float64 {
	rate := uint32(si[10])<<12 | uint32(si[11])<<4 | uint32(si[12])>>4
	total := uint64(si[13]&0x0F)<<32 | uint64(binary.BigEndian.Uint32(si[14:18]))
	if rate == 0 || total == 0 {
		return 0
	}
	return float64(total) / float64(rate)
}

// oggTailBytes is how much of the end of an OGG object is searched for its last
// page. Pages are at most 65,307 bytes.
const oggTailBytes = 64 << 10

// oggPage is what an OGG page header tells.
type oggPage struct {
	granule   int64
	serial    uint32
	headerLen int // 27 + segment table
	bodyLen   int
}

func parseOggPage(b []byte) (oggPage, bool) {
	if len(b) < 27 || string(b[0:4]) != "OggS" || b[4] != 0 {
		return oggPage{}, false
	}
	p := oggPage{
		granule:   int64(binary.LittleEndian.Uint64(b[6:14])),
		serial:    binary.LittleEndian.Uint32(b[14:18]),
		headerLen: 27 + int(b[26]),
	}
	if len(b) < p.headerLen {
		return oggPage{}, false
	}
	for _, n := range b[27:p.headerLen] {
		p.bodyLen += int(n)
	}
	return p, true
}

// oggDuration reads the codec and its sample clock from the identification
// header on the first page, and the granule position (samples played) from the
// last page of the same logical stream, found in the object's last 64 KiB.
func oggDuration(s *source) float64 {
	first, ok := parseOggPage(s.upTo(0, 27+255))
	if !ok {
		return 0
	}
	id := s.upTo(int64(first.headerLen), min(first.bodyLen, 64))
	var rate float64
	var preSkip int64
	switch {
	case bytes.HasPrefix(id, []byte("OpusHead")) && len(id) >= 19:
		rate, preSkip = 48000, int64(binary.LittleEndian.Uint16(id[10:12])) // granule runs at 48 kHz
	case bytes.HasPrefix(id, []byte("\x01vorbis")) && len(id) >= 16:
		rate = float64(binary.LittleEndian.Uint32(id[12:16]))
	case bytes.HasPrefix(id, []byte("Speex   ")) && len(id) >= 40:
		rate = float64(binary.LittleEndian.Uint32(id[36:40]))
	case bytes.HasPrefix(id, []byte("\x7fFLAC")) && len(id) >= 17+34 && string(id[9:13]) == "fLaC":
		si := id[17:]
		rate = float64(uint32(si[10])<<12 | uint32(si[11])<<4 | uint32(si[12])>>4)
	}
	if rate == 0 {
		return 0
	}

	n := min(s.size, oggTailBytes)
	tail := s.bytes(s.size-n, int(n))
	for i := len(tail) - 27; i >= 0; i-- {
		if tail[i] != 'O' {
			continue
		}
		p, ok := parseOggPage(tail[i:])
		if !ok || p.serial != first.serial || p.granule < 0 || p.headerLen+p.bodyLen > len(tail)-i {
			continue // -1 marks a page on which no packet ends
		}
		if !oggChecksumOK(tail[i : i+p.headerLen+p.bodyLen]) {
			continue
		}
		samples := p.granule - preSkip
		if samples <= 0 {
			return 0
		}
		return float64(samples) / rate
	}
	return 0
}

// oggCRC is the table of OGG's CRC-32: polynomial 0x04C11DB7, not reflected,
// initial value 0.
var oggCRC = func() (t [256]uint32) {
	for i := range t {
		r := uint32(i) << 24
		for range 8 {
			if r&0x80000000 != 0 {
				r = r<<1 ^ 0x04C11DB7
			} else {
				r <<= 1
			}
		}
		t[i] = r
	}
	return t
}()

// oggChecksumOK checks a whole page against the CRC in its header, computed with
// the CRC field taken as zero. It rules out "OggS" found inside packet data.
func oggChecksumOK(page []byte) bool {
	var crc uint32
	for i, c := range page {
		if i >= 22 && i < 26 {
			c = 0
		}
		crc = crc<<8 ^ oggCRC[byte(crc>>24)^c]
	}
	return crc == binary.LittleEndian.Uint32(page[22:26])
}
