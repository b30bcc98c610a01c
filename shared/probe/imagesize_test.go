package probe

import (
	"bytes"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"testing"
)

// The hand-written header readers agree with the standard decoders'
// DecodeConfig on whole images, and give 0, 0 (never a wrong size or a panic)
// on every truncation and on bytes of another format.
func TestImageSizeAgreesWithDecoders(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 37, 21))
	var pngBuf, jpegBuf, gifBuf bytes.Buffer
	if err := png.Encode(&pngBuf, img); err != nil {
		t.Fatal(err)
	}
	if err := jpeg.Encode(&jpegBuf, img, nil); err != nil {
		t.Fatal(err)
	}
	if err := gif.Encode(&gifBuf, img, nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		ct   string
		data []byte
	}{
		{"image/png", pngBuf.Bytes()},
		{"image/jpeg", jpegBuf.Bytes()},
		{"image/gif", gifBuf.Bytes()},
	} {
		t.Run(tc.ct, func(t *testing.T) {
			if w, h := imageSize(tc.ct, tc.data); w != 37 || h != 21 {
				t.Fatalf("whole image: got %dx%d, want 37x21", w, h)
			}
			for n := 0; n < len(tc.data) && n < 1024; n++ {
				w, h := imageSize(tc.ct, tc.data[:n])
				if (w != 0 || h != 0) && (w != 37 || h != 21) {
					t.Fatalf("first %d bytes: got %dx%d", n, w, h)
				}
			}
			for _, other := range []string{"image/png", "image/jpeg", "image/gif"} {
				if other == tc.ct {
					continue
				}
				if w, h := imageSize(other, tc.data); w != 0 || h != 0 {
					t.Errorf("read as %s: got %dx%d, want 0x0", other, w, h)
				}
			}
		})
	}
}
