package local

import (
	"bytes"
	"context"
	"fmt"
	"hash/fnv"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gomedium"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// Image sizes image_gen draws, in pixels per side.
const (
	MinImageSide     = 16
	MaxImageSide     = 2048
	DefaultImageSide = 512
)

// maxSeed keeps seeds exact in JSON numbers (and so in every SDK).
const maxSeed = 1<<53 - 1

var imageFormats = []string{"png", "jpeg"}

// paint renders the prompt over a generative background seeded by config.seed
// (default: derived from the prompt), config.width x config.height pixels
// (or config.size "WxH"), as PNG or, with config.format jpeg, JPEG. The same
// prompt, seed, size and format give the same bytes.
func (p *Provider) paint(ctx context.Context, req mediatrail.MediaRequest) (*mediatrail.MediaResult, error) {
	o := options(req.Config)
	w, h := int64(DefaultImageSide), int64(DefaultImageSide)
	if size, err := o.text("size", ""); err != nil {
		return nil, err
	} else if size != "" {
		if w, h, err = parseSize(size); err != nil || w < MinImageSide || h < MinImageSide || w > MaxImageSide || h > MaxImageSide {
			return nil, invalidOption("size", "must be WIDTHxHEIGHT with sides of %d to %d pixels", MinImageSide, MaxImageSide)
		}
	}
	w, err := o.integer("width", w, MinImageSide, MaxImageSide)
	if err != nil {
		return nil, err
	}
	h, err = o.integer("height", h, MinImageSide, MaxImageSide)
	if err != nil {
		return nil, err
	}
	seed, err := o.integer("seed", promptSeed(req.Prompt), 0, maxSeed)
	if err != nil {
		return nil, err
	}
	format, err := o.choice("format", imageFormats[0], imageFormats...)
	if err != nil {
		return nil, err
	}
	img := render(req.Prompt, uint64(seed), int(w), int(h))
	if ctx.Err() != nil {
		return nil, p.interrupted(ctx, "drawing")
	}
	data, ct, err := encodeImage(img, format)
	if err != nil {
		return nil, err
	}
	return &mediatrail.MediaResult{
		Body: bytesBody(data), ContentType: ct, Width: int(w), Height: int(h), Model: ModelImageGen,
		Usage:    mediatrail.Usage{Quantity: 1, Unit: mediatrail.UnitImage},
		Metadata: map[string]any{"seed": seed, "format": format},
	}, nil
}

// promptSeed is the seed of a request that names none.
func promptSeed(prompt string) int64 {
	h := fnv.New64a()
	h.Write([]byte(prompt))
	return int64(h.Sum64() & maxSeed)
}

// parseSize reads "WxH".
func parseSize(s string) (w, h int64, err error) {
	ws, hs, ok := strings.Cut(strings.ToLower(s), "x")
	if !ok {
		return 0, 0, fmt.Errorf("no x")
	}
	if w, err = strconv.ParseInt(strings.TrimSpace(ws), 10, 32); err != nil {
		return 0, 0, err
	}
	h, err = strconv.ParseInt(strings.TrimSpace(hs), 10, 32)
	return w, h, err
}

func encodeImage(img image.Image, format string) ([]byte, string, error) {
	var buf bytes.Buffer
	if format == "jpeg" {
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
			return nil, "", err
		}
		return buf.Bytes(), "image/jpeg", nil
	}
	if err := png.Encode(&buf, img); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), "image/png", nil
}

// render draws the image: a palette and a noise field from the seed and the
// prompt, soft discs over it, and the prompt on a translucent panel. The
// background is integer arithmetic only, so it is the same on every machine.
func render(prompt string, seed uint64, w, h int) *image.RGBA {
	rng := rand.New(rand.NewPCG(seed, uint64(promptSeed(prompt))))
	pal := palette(rng)
	img := image.NewRGBA(image.Rect(0, 0, w, h))

	// Value noise: octaves of random lattices, smoothly interpolated, blended
	// with a gradient along a random direction.
	const octaves = 4
	cell := max(max(w, h)/(2+rng.IntN(3)), 4)
	var lattices [octaves]lattice
	for i := range lattices {
		lattices[i] = newLattice(rng, w, h, max(cell>>i, 2))
	}
	dx, dy := int64(rng.IntN(2049)-1024), int64(rng.IntN(2049)-1024)
	var lo, hi int64 = 1 << 62, -1 << 62
	for _, c := range [][2]int64{{0, 0}, {int64(w), 0}, {0, int64(h)}, {int64(w), int64(h)}} {
		v := c[0]*dx + c[1]*dy
		lo, hi = min(lo, v), max(hi, v)
	}
	span := max(hi-lo, 1)
	for y := range h {
		row := img.Pix[y*img.Stride:]
		for x := range w {
			// Octave i weighs 8>>i: 8, 4, 2, 1 (sum 15); each value is 0..65535.
			var n int64
			for i := range lattices {
				n += int64(lattices[i].at(x, y)) * int64(8>>i)
			}
			n /= 15
			g := (int64(x)*dx + int64(y)*dy - lo) * 65535 / span
			t := (n*5 + g*3) / 8
			c := pal.at(int(t))
			row[x*4], row[x*4+1], row[x*4+2], row[x*4+3] = c.R, c.G, c.B, 255
		}
	}

	// Soft discs in the palette's lightest colour.
	for range 5 + rng.IntN(8) {
		cx, cy := rng.IntN(w), rng.IntN(h)
		r := max(min(w, h)*(5+rng.IntN(26))/100, 2)
		alpha := 40 + rng.IntN(60) // of 255, at the centre
		c := pal.at(rng.IntN(65536))
		disc(img, cx, cy, r, lighten(c), alpha)
	}

	caption(img, prompt)
	return img
}

// lattice is a grid of random values every cell pixels.
type lattice struct {
	cell, cols int
	v          []uint16
}

func newLattice(rng *rand.Rand, w, h, cell int) lattice {
	cols, rows := w/cell+2, h/cell+2
	l := lattice{cell: cell, cols: cols, v: make([]uint16, cols*rows)}
	for i := range l.v {
		l.v[i] = uint16(rng.Uint32())
	}
	return l
}

// at interpolates the lattice at (x, y) with smoothstep weights in 16-bit
// fixed point.
func (l lattice) at(x, y int) uint16 {
	cx, cy := x/l.cell, y/l.cell
	tx := smooth(int64(x%l.cell) * 65536 / int64(l.cell))
	ty := smooth(int64(y%l.cell) * 65536 / int64(l.cell))
	i := cy*l.cols + cx
	a, b := int64(l.v[i]), int64(l.v[i+1])
	c, d := int64(l.v[i+l.cols]), int64(l.v[i+l.cols+1])
	top := a + (b-a)*tx>>16
	bottom := c + (d-c)*tx>>16
	return uint16(top + (bottom-top)*ty>>16)
}

// smooth is 3t²-2t³ for t in [0, 65536).
func smooth(t int64) int64 { return (t * t >> 16) * (3*65536 - 2*t) >> 16 }

// gradient is a palette of colours at even steps over 0..65535.
type gradient []color.RGBA

// palette picks four related colours: a random hue and its neighbours, from
// dark to light, with one complementary accent.
func palette(rng *rand.Rand) gradient {
	hue := rng.IntN(360)
	offsets := []int{0, 20 + rng.IntN(40), 180 + rng.IntN(60) - 30, 300 + rng.IntN(40)}
	values := []int{25 + rng.IntN(15), 45 + rng.IntN(15), 65 + rng.IntN(15), 85 + rng.IntN(15)}
	var g gradient
	for i, off := range offsets {
		g = append(g, hsv((hue+off)%360, 45+rng.IntN(40), values[i]))
	}
	return g
}

func (g gradient) at(t int) color.RGBA {
	t = min(max(t, 0), 65535)
	seg := t * (len(g) - 1) / 65536
	f := t*(len(g)-1) - seg*65536 // 0..65535 within the segment
	a, b := g[seg], g[seg+1]
	mix := func(p, q uint8) uint8 { return uint8(int(p) + (int(q)-int(p))*f/65536) }
	return color.RGBA{mix(a.R, b.R), mix(a.G, b.G), mix(a.B, b.B), 255}
}

// hsv converts hue (degrees), saturation and value (percent) to RGB.
func hsv(h, s, v int) color.RGBA {
	c := v * s * 255 / 10000 // chroma, 0..255
	x := c * (60 - abs(h%120-60)) / 60
	m := v*255/100 - c
	var r, g, b int
	switch h / 60 {
	case 0:
		r, g = c, x
	case 1:
		r, g = x, c
	case 2:
		g, b = c, x
	case 3:
		g, b = x, c
	case 4:
		r, b = x, c
	default:
		r, b = c, x
	}
	return color.RGBA{uint8(r + m), uint8(g + m), uint8(b + m), 255}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func lighten(c color.RGBA) color.RGBA {
	up := func(v uint8) uint8 { return uint8(int(v) + (255-int(v))/2) }
	return color.RGBA{up(c.R), up(c.G), up(c.B), 255}
}

// disc blends c over img in a disc of radius r, opaque alpha/255 at the
// centre and fading to nothing at the rim.
func disc(img *image.RGBA, cx, cy, r int, c color.RGBA, alpha int) {
	b := image.Rect(cx-r, cy-r, cx+r+1, cy+r+1).Intersect(img.Bounds())
	r2 := r * r
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			d2 := (x-cx)*(x-cx) + (y-cy)*(y-cy)
			if d2 >= r2 {
				continue
			}
			a := alpha * (r2 - d2) / r2
			i := img.PixOffset(x, y)
			px := img.Pix[i : i+3 : i+3]
			px[0] = uint8((int(px[0])*(255-a) + int(c.R)*a) / 255)
			px[1] = uint8((int(px[1])*(255-a) + int(c.G)*a) / 255)
			px[2] = uint8((int(px[2])*(255-a) + int(c.B)*a) / 255)
		}
	}
}

var captionFont = sync.OnceValues(func() (*opentype.Font, error) { return opentype.Parse(gomedium.TTF) })

// caption writes the prompt, wrapped and centred, on a dark translucent panel.
// Images too small to read text on get none.
func caption(img *image.RGBA, prompt string) {
	w, h := img.Bounds().Dx(), img.Bounds().Dy()
	if min(w, h) < 48 {
		return
	}
	f, err := captionFont()
	if err != nil {
		return
	}
	size := min(max(float64(min(w, h))/14, 9), 64)
	face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		return
	}
	defer face.Close()
	margin := max(w/20, 4)
	lineHeight := face.Metrics().Height.Ceil()
	maxLines := max((h-4*margin)/lineHeight, 1)
	lines := wrap(face, cleanText(prompt), fixed.I(w-4*margin), maxLines)
	if len(lines) == 0 {
		return
	}
	textWidth := 0
	for _, l := range lines {
		textWidth = max(textWidth, font.MeasureString(face, l).Ceil())
	}
	textHeight := lineHeight * len(lines)
	panel := image.Rect((w-textWidth)/2-margin, (h-textHeight)/2-margin/2, (w+textWidth)/2+margin, (h+textHeight)/2+margin/2).Intersect(img.Bounds())
	draw.Draw(img, panel, image.NewUniform(color.RGBA{0, 0, 0, 120}), image.Point{}, draw.Over)
	d := &font.Drawer{Dst: img, Src: image.White, Face: face}
	ascent := face.Metrics().Ascent.Ceil()
	for i, l := range lines {
		d.Dot = fixed.P((w-font.MeasureString(face, l).Ceil())/2, (h-textHeight)/2+i*lineHeight+ascent)
		d.DrawString(l)
	}
}

// cleanText is the prompt on one line: control characters become spaces and
// runs of spaces one.
func cleanText(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
}

// wrap breaks text into at most maxLines lines no wider than width, breaking
// words longer than a line; text that does not fit ends in an ellipsis.
func wrap(face font.Face, text string, width fixed.Int26_6, maxLines int) []string {
	fits := func(s string) bool { return font.MeasureString(face, s) <= width }
	var lines []string
	line := ""
	for _, word := range strings.Fields(text) {
		for word != "" {
			candidate := word
			if line != "" {
				candidate = line + " " + word
			}
			if fits(candidate) {
				line, word = candidate, ""
				continue
			}
			if line != "" {
				lines, line = append(lines, line), ""
				continue
			}
			// A word wider than a line: as many runes as fit.
			rs := []rune(word)
			n := 1
			for n < len(rs) && fits(string(rs[:n+1])) {
				n++
			}
			lines, word = append(lines, string(rs[:n])), string(rs[n:])
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	if len(lines) > maxLines {
		last := []rune(lines[maxLines-1])
		for len(last) > 0 && !fits(string(last)+"…") {
			last = last[:len(last)-1]
		}
		lines = append(lines[:maxLines-1], strings.TrimRight(string(last), " ")+"…")
	}
	return lines
}
