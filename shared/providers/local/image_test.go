package local_test

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/providers/local"
)

var (
	red   = color.NRGBA{255, 0, 0, 255}
	green = color.NRGBA{0, 255, 0, 255}
	blue  = color.NRGBA{0, 0, 255, 255}
	white = color.NRGBA{255, 255, 255, 255}
	black = color.NRGBA{0, 0, 0, 255}
	gray  = color.NRGBA{100, 100, 100, 255}
)

func solid(w, h int, c color.NRGBA) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetNRGBA(x, y, c)
		}
	}
	return img
}

func pngOf(img image.Image) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// at is the colour of img at (x, y), without premultiplication.
func at(img image.Image, x, y int) color.NRGBA {
	return color.NRGBAModel.Convert(img.At(img.Bounds().Min.X+x, img.Bounds().Min.Y+y)).(color.NRGBA)
}

func TestImageGen(t *testing.T) {
	p := local.New(local.Config{})
	const prompt = "A lighthouse on a cliff at dawn"
	t.Run("sizes", func(t *testing.T) {
		for _, tc := range []struct {
			config map[string]any
			w, h   int
		}{
			{nil, 512, 512},
			{map[string]any{"width": 16, "height": 16}, 16, 16},
			{map[string]any{"width": 2048.0, "height": "24"}, 2048, 24},
			{map[string]any{"size": "320x200"}, 320, 200},
			{map[string]any{"size": "320x200", "height": 100}, 320, 100},
		} {
			res := mustGenerate(t, p, imageGen(prompt, tc.config))
			// Probed from the bytes, as the stored file will be.
			if res.info.ContentType != "image/png" || res.info.Width != tc.w || res.info.Height != tc.h || res.Width != tc.w || res.Height != tc.h {
				t.Errorf("%v: probed %+v, reported %dx%d, want %dx%d", tc.config, res.info, res.Width, res.Height, tc.w, tc.h)
			}
			if b := decode(t, res.data).Bounds(); b.Dx() != tc.w || b.Dy() != tc.h {
				t.Errorf("%v: decoded %v", tc.config, b)
			}
		}
		if res := mustGenerate(t, p, imageGen(prompt, map[string]any{"format": "jpeg", "size": "64x48"})); res.info.ContentType != "image/jpeg" || res.info.Width != 64 {
			t.Errorf("jpeg: %+v", res.info)
		}
	})
	t.Run("deterministic", func(t *testing.T) {
		seeded := func(prompt string, seed any) generated {
			return mustGenerate(t, p, imageGen(prompt, map[string]any{"seed": seed, "size": "256x160"}))
		}
		a, b := seeded(prompt, 42), seeded(prompt, 42.0)
		if !bytes.Equal(a.data, b.data) {
			t.Error("the same prompt and seed made different images")
		}
		if c := seeded(prompt, 43); bytes.Equal(a.data, c.data) {
			t.Error("another seed made the same image")
		}
		if c := seeded(prompt+"!", 42); bytes.Equal(a.data, c.data) {
			t.Error("another prompt made the same image")
		}
		// Without a seed, one is derived from the prompt and reported.
		d := mustGenerate(t, p, imageGen(prompt, map[string]any{"size": "256x160"}))
		seed, _ := d.Metadata["seed"].(int64)
		if e := seeded(prompt, float64(seed)); seed == 0 || !bytes.Equal(d.data, e.data) {
			t.Errorf("the reported seed %v does not remake the image", d.Metadata["seed"])
		}
		if a.Model != local.ModelImageGen || a.Usage != (mediatrail.Usage{Quantity: 1, Unit: mediatrail.UnitImage}) {
			t.Errorf("model %q usage %+v", a.Model, a.Usage)
		}
	})
	t.Run("shows the prompt", func(t *testing.T) {
		// The caption panel darkens what is under it to at most 135 a channel:
		// near-white pixels in the middle band are the caption's letters.
		res := mustGenerate(t, p, imageGen("HELLO WORLD", map[string]any{"size": "512x256", "seed": 7}))
		img := decode(t, res.data)
		letters := 0
		for y := 100; y < 156; y++ {
			for x := 0; x < 512; x++ {
				if c := at(img, x, y); c.R > 245 && c.G > 245 && c.B > 245 {
					letters++
				}
			}
		}
		if letters < 100 {
			t.Errorf("%d white pixels in the caption band", letters)
		}
	})
	t.Run("rejects", func(t *testing.T) {
		for _, config := range []map[string]any{
			{"width": 15}, {"height": 2049}, {"width": 100.5}, {"size": "big"}, {"size": "4096x4096"},
			{"seed": -1}, {"seed": 1e17}, {"seed": "abc"}, {"format": "gif"},
		} {
			_, err := generate(t, p, imageGen(prompt, config))
			wantError(t, err, mediatrail.EINVALID, "config.")
		}
	})
}

// testImage is 3x2: red green blue / white black gray.
func testImage() *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, 3, 2))
	for i, c := range []color.NRGBA{red, green, blue, white, black, gray} {
		img.SetNRGBA(i%3, i/3, c)
	}
	return img
}

func TestImageEditOperations(t *testing.T) {
	p := local.New(local.Config{})
	type px struct {
		x, y int
		c    color.NRGBA
	}
	luma := func(c color.NRGBA) uint8 {
		return uint8((19595*uint32(c.R) + 38470*uint32(c.G) + 7471*uint32(c.B) + 1<<15) >> 16)
	}
	grayOf := func(c color.NRGBA) color.NRGBA { y := luma(c); return color.NRGBA{y, y, y, 255} }
	inverse := func(c color.NRGBA) color.NRGBA { return color.NRGBA{255 - c.R, 255 - c.G, 255 - c.B, 255} }
	clear := color.NRGBA{}
	dot := solid(9, 9, black)
	dot.SetNRGBA(4, 4, white)
	edge := solid(8, 4, black)
	for y := range 4 {
		for x := 4; x < 8; x++ {
			edge.SetNRGBA(x, y, gray)
		}
	}
	for _, tc := range []struct {
		prompt string
		input  image.Image
		w, h   int
		pixels []px
		check  func(t *testing.T, img image.Image)
	}{
		{prompt: "grayscale", w: 3, h: 2, pixels: []px{{0, 0, grayOf(red)}, {1, 0, grayOf(green)}, {2, 0, grayOf(blue)}, {0, 1, white}, {2, 1, gray}}},
		{prompt: "invert", w: 3, h: 2, pixels: []px{{0, 0, inverse(red)}, {1, 0, inverse(green)}, {0, 1, black}, {1, 1, white}, {2, 1, inverse(gray)}}},
		{prompt: "flip", w: 3, h: 2, pixels: []px{{0, 0, blue}, {2, 0, red}, {0, 1, gray}}},
		{prompt: "flip vertical", w: 3, h: 2, pixels: []px{{0, 0, white}, {2, 0, gray}, {0, 1, red}, {2, 1, blue}}},
		// Clockwise: the left column becomes the top row, read bottom to top.
		{prompt: "rotate 90", w: 2, h: 3, pixels: []px{{0, 0, white}, {1, 0, red}, {1, 1, green}, {1, 2, blue}, {0, 2, gray}}},
		{prompt: "rotate 180°", w: 3, h: 2, pixels: []px{{0, 0, gray}, {2, 0, white}, {0, 1, blue}, {2, 1, red}}},
		{prompt: "rotate 270", w: 2, h: 3, pixels: []px{{0, 0, blue}, {0, 2, red}, {1, 0, gray}, {1, 2, white}}},
		{prompt: "rotate 90 counterclockwise", w: 2, h: 3, pixels: []px{{0, 0, blue}, {0, 2, red}}},
		{prompt: "rotate -450", w: 2, h: 3, pixels: []px{{0, 0, blue}, {0, 2, red}}},
		{prompt: "rotate 360", w: 3, h: 2, pixels: []px{{0, 0, red}, {2, 1, gray}}},
		// Any angle: the canvas holds the turned image, its corners transparent.
		{prompt: "rotate 45", input: solid(10, 10, red), w: 15, h: 15, pixels: []px{{7, 7, red}, {0, 0, clear}, {14, 14, clear}, {14, 0, clear}}},
		{prompt: "rotate 30 degrees", input: solid(40, 20, green), w: 45, h: 38, pixels: []px{{22, 19, green}, {0, 0, clear}}},
		{prompt: "crop 2x1+1+1", w: 2, h: 1, pixels: []px{{0, 0, black}, {1, 0, gray}}},
		{prompt: "crop 2x2", w: 2, h: 2, pixels: []px{{0, 0, red}, {1, 1, black}}},
		{prompt: "crop 10x10+2+0", w: 1, h: 2, pixels: []px{{0, 0, blue}, {0, 1, gray}}},
		{prompt: "resize 30x20", input: solid(6, 4, blue), w: 30, h: 20, pixels: []px{{0, 0, blue}, {15, 10, blue}, {29, 19, blue}}},
		{prompt: "resize 50%", input: solid(64, 40, green), w: 32, h: 20, pixels: []px{{16, 10, green}}},
		{prompt: "resize 100x", input: solid(50, 20, green), w: 100, h: 40},
		{prompt: "scale x10", input: solid(50, 20, green), w: 25, h: 10},
		{prompt: "resize 16x4", input: edge, w: 16, h: 4, pixels: []px{{1, 1, black}, {14, 2, gray}}},
		{prompt: "blur", input: solid(9, 9, gray), w: 9, h: 9, pixels: []px{{0, 0, gray}, {4, 4, gray}, {8, 8, gray}}},
		{prompt: "blur 1.5", input: dot, w: 9, h: 9, check: func(t *testing.T, img image.Image) {
			centre, near, far := at(img, 4, 4).R, at(img, 5, 4).R, at(img, 0, 0).R
			if !(centre < 255 && centre > near && near > 0 && far == 0) {
				t.Errorf("blurred dot: centre %d, next %d, corner %d", centre, near, far)
			}
			if at(img, 4, 5) != at(img, 4, 3) || at(img, 5, 4) != at(img, 3, 4) {
				t.Error("the blur is not symmetric")
			}
		}},
		{prompt: "sharpen 2", input: edge, w: 8, h: 4, check: func(t *testing.T, img image.Image) {
			// Each side of the edge moves away from the other; flat areas stay.
			if dark, light := at(img, 3, 1).R, at(img, 4, 1).R; dark != 0 || light <= 100 {
				t.Errorf("edge after sharpen: %d | %d", dark, light)
			}
			if at(img, 0, 0) != black || at(img, 7, 3) != gray {
				t.Errorf("flat areas changed: %v %v", at(img, 0, 0), at(img, 7, 3))
			}
		}},
		{prompt: "Grayscale, rotate 90, resize 320x200", w: 320, h: 200, check: func(t *testing.T, img image.Image) {
			for _, p := range [][2]int{{0, 0}, {160, 100}, {319, 199}} {
				if c := at(img, p[0], p[1]); c.R != c.G || c.G != c.B {
					t.Errorf("(%d,%d) = %v is not gray", p[0], p[1], c)
				}
			}
		}},
		{prompt: "invert then invert and flip horizontally; flip horizontal", w: 3, h: 2, pixels: []px{{0, 0, red}, {2, 1, gray}}},
	} {
		t.Run(tc.prompt, func(t *testing.T) {
			input := tc.input
			if input == nil {
				input = testImage()
			}
			res := mustGenerate(t, p, imageEdit(tc.prompt, pngOf(input), nil))
			if res.info.ContentType != "image/png" || res.info.Width != tc.w || res.info.Height != tc.h || res.Width != tc.w || res.Height != tc.h {
				t.Fatalf("probed %+v, reported %dx%d, want %dx%d", res.info, res.Width, res.Height, tc.w, tc.h)
			}
			img := decode(t, res.data)
			for _, want := range tc.pixels {
				if got := at(img, want.x, want.y); !closeColor(got, want.c) {
					t.Errorf("(%d,%d) = %v, want %v", want.x, want.y, got, want.c)
				}
			}
			if tc.check != nil {
				tc.check(t, img)
			}
		})
	}
}

// closeColor allows a unit of rounding; fully transparent pixels match
// whatever their colour.
func closeColor(a, b color.NRGBA) bool {
	if a.A == 0 && b.A == 0 {
		return true
	}
	d := func(x, y uint8) bool { return x-y <= 1 || y-x <= 1 }
	return d(a.R, b.R) && d(a.G, b.G) && d(a.B, b.B) && d(a.A, b.A)
}

func TestImageEditInputsAndFormats(t *testing.T) {
	p := local.New(local.Config{})
	var jpg, gf bytes.Buffer
	if err := jpeg.Encode(&jpg, solid(20, 10, white), nil); err != nil {
		t.Fatal(err)
	}
	if err := gif.Encode(&gf, testImage(), nil); err != nil {
		t.Fatal(err)
	}
	for name, input := range map[string][]byte{"jpeg": jpg.Bytes(), "gif": gf.Bytes()} {
		res := mustGenerate(t, p, imageEdit("flip", input, nil))
		if res.info.ContentType != "image/png" || res.Width == 0 {
			t.Errorf("%s input: %+v", name, res.info)
		}
	}
	res := mustGenerate(t, p, imageEdit("rotate 90", pngOf(testImage()), map[string]any{"format": "jpeg"}))
	if res.info.ContentType != "image/jpeg" || res.info.Width != 2 || res.info.Height != 3 {
		t.Errorf("jpeg output: %+v", res.info)
	}
	if ops, _ := res.Metadata["operations"].([]string); strings.Join(ops, ",") != "rotate 90" || res.Model != local.ModelImageEdit {
		t.Errorf("metadata %v model %q", res.Metadata, res.Model)
	}
}

func TestImageEditRejects(t *testing.T) {
	p := local.New(local.Config{})
	input := pngOf(testImage())
	for _, tc := range []struct {
		prompt string
		input  []byte
		code   string
		parts  []string
	}{
		{"sepia", input, mediatrail.EINVALID, []string{`unknown image operation "sepia"`, "grayscale", "invert", "blur", "sharpen", "rotate", "flip", "resize", "crop"}},
		{"grayscale, make it pop", input, mediatrail.EINVALID, []string{`"make"`, "crop WxH"}},
		{"rotate", input, mediatrail.EINVALID, []string{"rotate DEGREES"}},
		{"rotate ninety", input, mediatrail.EINVALID, []string{"rotate DEGREES"}},
		{"blur 1000", input, mediatrail.EINVALID, []string{"blur [RADIUS]"}},
		{"grayscale 3", input, mediatrail.EINVALID, []string{"no argument"}},
		{"flip diagonal", input, mediatrail.EINVALID, []string{"flip [horizontal|vertical]"}},
		{"resize big", input, mediatrail.EINVALID, []string{"resize WxH"}},
		{"resize 0x10", input, mediatrail.EINVALID, []string{"resize WxH"}},
		{"crop 2x2+5+5", input, mediatrail.EINVALID, []string{"outside the 3x2 image"}},
		{"crop 2x2-1-1", input, mediatrail.EINVALID, []string{"crop WxH[+X+Y]"}},
		{", ;", input, mediatrail.EINVALID, []string{"name the operations"}},
		{strings.Repeat("invert, ", 21), input, mediatrail.EINVALID, []string{"at most 20"}},
		{"resize 16000x16000", input, mediatrail.ETOOLARGE, []string{"33.6 megapixels"}},
		{"resize 4500x4500, rotate 45", input, mediatrail.ETOOLARGE, []string{"rotated image"}},
		{"invert", []byte("not an image"), mediatrail.EINVALID, []string{"PNG, JPEG, GIF or WebP"}},
		{"invert", hugePNG(8000, 6000), mediatrail.ETOOLARGE, []string{"8000x6000", "33.6 megapixels"}},
		{"invert", input[:len(input)-20], mediatrail.EINVALID, []string{"corrupt or truncated"}},
	} {
		t.Run(tc.prompt, func(t *testing.T) {
			_, err := generate(t, p, imageEdit(tc.prompt, tc.input, nil))
			wantError(t, err, tc.code, tc.parts...)
		})
	}
}

// hugePNG is the start of a PNG whose header claims w x h pixels: enough to be
// refused before any pixel is decoded.
func hugePNG(w, h int) []byte {
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = 8, 6 // 8-bit RGBA
	chunk := append([]byte("IHDR"), ihdr...)
	out := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0d")
	out = append(out, chunk...)
	return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(chunk))
}

func TestParseOperations(t *testing.T) {
	for prompt, want := range map[string]string{
		"grayscale, rotate 90, resize 320x200":         "grayscale|rotate 90|resize 320x200",
		"Greyscale then mirror and rotate by 90°":      "grayscale|flip horizontal|rotate 90",
		"blur radius 3px; sharpen\nflip v":             "blur 3|sharpen 1|flip vertical",
		"rotate 90deg counterclockwise, crop 10x5":     "rotate 270|crop 10x5+0+0",
		"turn left, scale 50%, negate, resize 64 x 48": "rotate 270|resize 50%|invert|resize 64x48",
	} {
		got, err := local.ParseOperations(prompt)
		if err != nil || strings.Join(got, "|") != want {
			t.Errorf("%q: %q, %v; want %q", prompt, got, err, want)
		}
	}
}
