package fake

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/png"
	"slices"
	"sync"
)

// The fakes' media: small, valid enough to sniff, the same bytes on every call.
// Each function returns a fresh copy.

// PNG is a 64×48 gradient.
func PNG() []byte { return slices.Clone(pngBytes()) }

var pngBytes = sync.OnceValue(func() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for y := range 48 {
		for x := range 64 {
			img.Set(x, y, color.RGBA{R: uint8(x * 4), G: uint8(y * 5), B: 128, A: 255})
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
})

// WAV is 0.1 s of 8 kHz 16-bit mono silence.
func WAV() []byte { return slices.Clone(wavBytes()) }

var wavBytes = sync.OnceValue(func() []byte {
	const rate, samples = 8000, 800
	var b bytes.Buffer
	le := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	le(uint32(36 + samples*2))
	b.WriteString("WAVEfmt ")
	le(uint32(16))
	le(uint16(1)) // PCM
	le(uint16(1)) // mono
	le(uint32(rate))
	le(uint32(rate * 2))
	le(uint16(2))
	le(uint16(16))
	b.WriteString("data")
	le(uint32(samples * 2))
	b.Write(make([]byte, samples*2))
	return b.Bytes()
})

// MP3 is an ID3v2 tag and four silent MPEG-1 Layer III frames (128 kbit/s, 44.1 kHz).
func MP3() []byte { return slices.Clone(mp3Bytes()) }

var mp3Bytes = sync.OnceValue(func() []byte {
	b := []byte{'I', 'D', '3', 4, 0, 0, 0, 0, 0, 0}
	frame := make([]byte, 417)
	copy(frame, []byte{0xFF, 0xFB, 0x90, 0x64})
	for range 4 {
		b = append(b, frame...)
	}
	return b
})
