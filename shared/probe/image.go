package probe

import (
	"encoding/binary"
)

// imageSize reads the pixel size from the header of a PNG, JPEG or GIF held
// in head, chosen by the sniffed type ct, so that bytes of another format are
// never read as this one. A header that does not fit in head gives 0, 0.
//
// The headers are parsed by hand rather than with image/png, image/jpeg and
// image/gif DecodeConfig: those decoders (and compress/zlib behind PNG) were
// linked into every function reaching the domain package, asset routes
// included, and only the size fields are needed (issue 14, bootstrap size).
func imageSize(ct string, head []byte) (width, height int) {
	switch ct {
	case "image/png", "image/apng":
		return pngSize(head)
	case "image/jpeg":
		return jpegSize(head)
	case "image/gif":
		return gifSize(head)
	}
	return 0, 0
}

// pngSize reads the IHDR chunk, which the format requires first: signature(8)
// length(4) "IHDR" width(4 BE) height(4 BE).
func pngSize(h []byte) (width, height int) {
	if len(h) < 24 || string(h[:8]) != "\x89PNG\r\n\x1a\n" || string(h[12:16]) != "IHDR" {
		return 0, 0
	}
	w, ht := binary.BigEndian.Uint32(h[16:20]), binary.BigEndian.Uint32(h[20:24])
	if w == 0 || ht == 0 || w > 1<<31-1 || ht > 1<<31-1 {
		return 0, 0
	}
	return int(w), int(ht)
}

// gifSize reads the logical screen descriptor: "GIF87a"/"GIF89a", then width
// and height (16 LE each).
func gifSize(h []byte) (width, height int) {
	if len(h) < 10 || (string(h[:6]) != "GIF87a" && string(h[:6]) != "GIF89a") {
		return 0, 0
	}
	return int(binary.LittleEndian.Uint16(h[6:8])), int(binary.LittleEndian.Uint16(h[8:10]))
}

// jpegSize walks the marker segments after SOI up to the first start-of-frame
// (SOF0..SOF15 but DHT c4, JPG c8 and DAC cc), whose payload is precision(1)
// height(16 BE) width(16 BE). Scan data before a frame, or a frame of zero
// size, gives 0, 0.
func jpegSize(h []byte) (width, height int) {
	if len(h) < 4 || h[0] != 0xff || h[1] != 0xd8 {
		return 0, 0
	}
	for i := 2; i+4 <= len(h); {
		if h[i] != 0xff {
			return 0, 0
		}
		m := h[i+1]
		switch {
		case m == 0xff: // fill byte
			i++
			continue
		case m == 0x01 || (m >= 0xd0 && m <= 0xd7): // no payload
			i += 2
			continue
		case m == 0xd9 || m == 0xda: // end of image or start of scan first
			return 0, 0
		}
		n := int(binary.BigEndian.Uint16(h[i+2 : i+4]))
		if n < 2 {
			return 0, 0
		}
		if m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc {
			if n < 7 || i+9 > len(h) {
				return 0, 0
			}
			ht, w := int(binary.BigEndian.Uint16(h[i+5:i+7])), int(binary.BigEndian.Uint16(h[i+7:i+9]))
			if w == 0 || ht == 0 {
				return 0, 0
			}
			return w, ht
		}
		i += 2 + n
	}
	return 0, 0
}

// webpSize reads the canvas size from the first chunk of a RIFF WEBP file: the
// VP8X extended header, or the frame header of a lossy (VP8) or lossless (VP8L)
// still image.
func webpSize(s *source) (width, height int) {
	h := s.bytes(0, 30)
	if h == nil || string(h[0:4]) != "RIFF" || string(h[8:12]) != "WEBP" {
		return 0, 0
	}
	chunk, n, d := string(h[12:16]), binary.LittleEndian.Uint32(h[16:20]), h[20:30]
	switch {
	case chunk == "VP8X" && n >= 10:
		// flags(1) reserved(3) canvas width-1 (24 LE) canvas height-1 (24 LE)
		w := int(d[4]) | int(d[5])<<8 | int(d[6])<<16
		h := int(d[7]) | int(d[8])<<8 | int(d[9])<<16
		return w + 1, h + 1
	case chunk == "VP8L" && n >= 5:
		// signature 0x2f, then 14 bits width-1, 14 bits height-1, 1 bit alpha,
		// 3 bits version (0), packed little-endian.
		if d[0] != 0x2f {
			return 0, 0
		}
		bits := binary.LittleEndian.Uint32(d[1:5])
		if bits>>29 != 0 {
			return 0, 0
		}
		return int(bits&0x3fff) + 1, int(bits>>14&0x3fff) + 1
	case chunk == "VP8 " && n >= 10:
		// frame tag (3, bit 0 clear on key frames), start code 9d 01 2a, then
		// 14-bit width and height each with 2 bits of scaling above them.
		if d[0]&1 != 0 || d[3] != 0x9d || d[4] != 0x01 || d[5] != 0x2a {
			return 0, 0
		}
		return int(binary.LittleEndian.Uint16(d[6:8]) & 0x3fff), int(binary.LittleEndian.Uint16(d[8:10]) & 0x3fff)
	}
	return 0, 0
}
