package probe

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
)

// imageSize decodes the header of a PNG, JPEG or GIF held in head with the
// decoder of the sniffed type ct, so that bytes of another format are never
// given to it. A header that does not fit in head gives 0, 0.
func imageSize(ct string, head []byte) (width, height int) {
	var decode func(io.Reader) (image.Config, error)
	switch ct {
	case "image/png", "image/apng":
		decode = png.DecodeConfig
	case "image/jpeg":
		decode = jpeg.DecodeConfig
	case "image/gif":
		decode = gif.DecodeConfig
	default:
		return 0, 0
	}
	cfg, err := decode(bytes.NewReader(head))
	if err != nil {
		return 0, 0
	}
	return cfg.Width, cfg.Height
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
