package provenance_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"testing"
	"testing/iotest"

	"github.com/mediatrail/mediatrail/shared/provenance"
)

var record = provenance.Record{
	AssetID: "01JASSET", WorkspaceID: "ws-1", Provider: "fal", Model: `a<b&"c"`, SpanID: "span-1", ExecutionID: "exec-1",
}

func MustImage(tb testing.TB, ct string) []byte {
	tb.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 16, 8))
	for x := range 16 {
		img.Set(x, x%8, color.RGBA{R: 200, A: 255})
	}
	var b bytes.Buffer
	var err error
	if ct == "image/png" {
		err = png.Encode(&b, img)
	} else {
		err = jpeg.Encode(&b, img, nil)
	}
	if err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// mp4 is a minimal ftyp + mdat stream; what matters is that it is unchanged
// up to its end.
func mp4() []byte {
	b := binary.BigEndian.AppendUint32(nil, 16)
	b = append(b, "ftypisom\x00\x00\x02\x00"...)
	b = binary.BigEndian.AppendUint32(b, 12)
	return append(b, "mdat1234"...)
}

func MustEmbed(tb testing.TB, in []byte, ct string) []byte {
	tb.Helper()
	// One byte at a time: the framing must not depend on read sizes.
	r, err := provenance.Embed(iotest.OneByteReader(bytes.NewReader(in)), ct, record)
	if err != nil {
		tb.Fatal(err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

func TestEmbed(t *testing.T) {
	for _, tc := range []struct {
		name, ct string
		in       []byte
		embedded bool
		check    func(t *testing.T, in, out []byte)
	}{
		{"png decodes and keeps pixels", "image/png", MustImage(t, "image/png"), true, func(t *testing.T, in, out []byte) {
			a, err1 := png.Decode(bytes.NewReader(in))
			b, err2 := png.Decode(bytes.NewReader(out))
			if err1 != nil || err2 != nil {
				t.Fatalf("decode: %v %v", err1, err2)
			}
			if !bytes.Equal(pix(a), pix(b)) {
				t.Error("pixels changed")
			}
			i, j := bytes.Index(out, []byte("iTXtXML:com.adobe.xmp")), bytes.Index(out, []byte("IDAT"))
			if i < 0 || i > j {
				t.Errorf("iTXt at %d, first IDAT at %d; want iTXt before IDAT", i, j)
			}
		}},
		{"jpeg decodes, APP1 right after SOI", "image/jpeg", MustImage(t, "image/jpeg"), true, func(t *testing.T, in, out []byte) {
			if _, err := jpeg.Decode(bytes.NewReader(out)); err != nil {
				t.Fatal(err)
			}
			// Go's encoder writes no APP0, so APP1 follows SOI.
			if !bytes.HasPrefix(out, []byte{0xFF, 0xD8, 0xFF, 0xE1}) {
				t.Errorf("starts % x", out[:4])
			}
		}},
		{"jpeg keeps APP0 first", "image/jpeg", withAPP0(MustImage(t, "image/jpeg")), true, func(t *testing.T, in, out []byte) {
			if _, err := jpeg.Decode(bytes.NewReader(out)); err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(out, in[:2+2+16]) || !bytes.HasPrefix(out[20:], []byte{0xFF, 0xE1}) {
				t.Errorf("starts % x", out[:24])
			}
		}},
		{"mp4 unchanged up to an appended uuid box", "video/mp4", mp4(), true, func(t *testing.T, in, out []byte) {
			if !bytes.HasPrefix(out, in) {
				t.Fatal("the original boxes moved")
			}
			box := out[len(in):]
			if int(binary.BigEndian.Uint32(box)) != len(box) || string(box[4:8]) != "uuid" || box[8] != 0xBE || box[23] != 0xAC {
				t.Errorf("trailing box % x", box[:24])
			}
		}},
		{"other types stream through", "audio/mpeg", []byte("ID3\x04rest of an mp3"), false, nil},
		{"png content type but not a png", "image/png", []byte("not a png at all"), false, nil},
		{"truncated png before IDAT", "image/png", MustImage(t, "image/png")[:20], false, nil},
		{"jpeg content type, short", "image/jpeg", []byte{0xFF}, false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := MustEmbed(t, tc.in, tc.ct)
			got, ok := provenance.Find(out)
			if ok != tc.embedded {
				t.Fatalf("Find ok = %v, want %v", ok, tc.embedded)
			}
			if !tc.embedded {
				if !bytes.Equal(out, tc.in) {
					t.Error("bytes changed without embedding")
				}
				return
			}
			if got != record {
				t.Errorf("Find = %+v, want %+v", got, record)
			}
			if !bytes.Contains(out, []byte(provenance.DigitalSourceType)) {
				t.Error("no DigitalSourceType")
			}
			tc.check(t, tc.in, out)
		})
	}
}

func pix(img image.Image) []byte {
	var b []byte
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y++ {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x++ {
			r, g, bl, a := img.At(x, y).RGBA()
			b = append(b, byte(r), byte(g), byte(bl), byte(a))
		}
	}
	return b
}

// withAPP0 inserts a JFIF APP0 segment after SOI.
func withAPP0(j []byte) []byte {
	app0 := []byte{0xFF, 0xE0, 0, 16, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0}
	return append(append(append([]byte{}, j[:2]...), app0...), j[2:]...)
}

func TestEmbedPassesReadErrors(t *testing.T) {
	boom := errors.New("boom")
	for _, ct := range []string{"image/png", "image/jpeg", "video/mp4", "audio/wav"} {
		t.Run(ct, func(t *testing.T) {
			src := io.MultiReader(bytes.NewReader(MustImage(t, "image/png")[:40]), iotest.ErrReader(boom))
			r, err := provenance.Embed(src, ct, record)
			if err == nil {
				_, err = io.ReadAll(r)
			}
			if !errors.Is(err, boom) {
				t.Errorf("err = %v, want boom", err)
			}
		})
	}
}

func TestFindElementForm(t *testing.T) {
	// What a tool that rewrites XMP (exiftool, ffmpeg) may write.
	b := []byte(`<rdf:Description xmlns:mediatrail="urn:mediatrail:provenance:1.0#"><mediatrail:AssetID>A&amp;1</mediatrail:AssetID>` +
		`<mediatrail:WorkspaceID>ws</mediatrail:WorkspaceID></rdf:Description>`)
	got, ok := provenance.Find(b)
	if !ok || got.AssetID != "A&1" || got.WorkspaceID != "ws" {
		t.Errorf("Find = %+v, %v", got, ok)
	}
	if _, ok := provenance.Find([]byte("mediatrail:AssetIDX mediatrail:AssetID")); ok {
		t.Error("found a record in noise")
	}
}

func FuzzFind(f *testing.F) {
	f.Add(record.XMP())
	f.Fuzz(func(t *testing.T, b []byte) { provenance.Find(b) })
}

func FuzzEmbedPNG(f *testing.F) {
	f.Add(MustImage(f, "image/png"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := provenance.Embed(bytes.NewReader(b), "image/png", record)
		if err != nil {
			t.Fatal(err)
		}
		out, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		if len(out) < len(b) {
			t.Fatal("bytes lost")
		}
	})
}
