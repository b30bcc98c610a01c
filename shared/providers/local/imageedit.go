package local

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/draw"
	_ "image/gif" // decoders of image_edit inputs
	_ "image/jpeg"
	_ "image/png"
	"math"
	"runtime"
	"strconv"
	"strings"

	xdraw "golang.org/x/image/draw"
	_ "golang.org/x/image/webp"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// Bounds of image_edit: the pixels of an input it decodes and of every
// intermediate result, the sides a result may have, the operations of one
// prompt.
const (
	MaxImagePixels = 40_000_000
	maxEditSide    = 16384
	maxOperations  = 20
	// editBytesPerPixel is the most image memory one pixel of the input
	// holds at once: a 16-bit PNG decodes to 8 bytes a pixel next to its
	// 4-byte RGBA copy, and blur and sharpen hold three more RGBA buffers
	// (input, two passes) while they run. Every other copy is garbage the
	// moment the next one exists.
	editBytesPerPixel = 16
	// MaxPixelOps bounds input pixels times operations: a chain's CPU time
	// (3 steps over the 33 MP a 1024 MB function admits, or 20 over 6 MP, run
	// in seconds, within MEDIA_TIMEOUT).
	MaxPixelOps = 120_000_000
)

// maxPixels is the largest image this function may decode: half of its
// memory (the other half is the runtime's, the encoded input and output's,
// and the tools') over editBytesPerPixel, and never above MaxImagePixels.
// 1024 MB admits 33 MP, 512 MB 16 MP.
func (p *Provider) maxPixels() int64 {
	return min(MaxImagePixels, p.memory/2/editBytesPerPixel)
}

// Operations lists what image_edit does, as its prompt names them.
const Operations = "grayscale, invert, blur [RADIUS], sharpen [AMOUNT], rotate DEGREES (clockwise; any angle), " +
	"flip [horizontal|vertical], resize WxH (or Wx, xH, N%), crop WxH[+X+Y]"

// operation is one parsed step of an edit.
type operation struct {
	text  string // canonical, as recorded in the asset's metadata
	apply func(context.Context, *image.RGBA) (*image.RGBA, error)
}

// edit applies the operations its prompt names, in order, to the input image
// (PNG, JPEG, GIF or WebP; at most MaxImagePixels) and answers PNG, or JPEG
// with config.format jpeg.
func (p *Provider) edit(ctx context.Context, req mediatrail.MediaRequest) (*mediatrail.MediaResult, error) {
	limit := p.maxPixels()
	ops, err := parseOperations(req.Prompt, limit)
	if err != nil {
		return nil, err
	}
	format, err := options(req.Config).choice("format", imageFormats[0], imageFormats...)
	if err != nil {
		return nil, err
	}
	data, err := inputBytes(req.Input)
	if err != nil {
		return nil, err
	}
	img, err := decodeImage(data, limit, len(ops))
	if err != nil {
		return nil, err
	}
	var done []string
	for _, op := range ops {
		release(img)
		if img, err = op.apply(ctx, img); err != nil {
			if ctx.Err() != nil {
				return nil, p.interrupted(ctx, "editing")
			}
			return nil, err
		}
		done = append(done, op.text)
	}
	out, ct, err := encodeImage(img, format)
	if err != nil {
		return nil, err
	}
	b := img.Bounds()
	return &mediatrail.MediaResult{
		Body: bytesBody(out), ContentType: ct, Width: b.Dx(), Height: b.Dy(), Model: ModelImageEdit,
		Usage:    mediatrail.Usage{Quantity: 1, Unit: mediatrail.UnitImage},
		Metadata: map[string]any{"operations": done, "format": format},
	}, nil
}

// decodeImage decodes a PNG, JPEG, GIF (its first frame) or WebP image into
// premultiplied RGBA at the origin. From the header alone, before decoding any
// pixel, it refuses (ETOOLARGE) more than limit pixels, or more than
// MaxPixelOps pixels times ops operations.
func decodeImage(data []byte, limit int64, ops int) (*image.RGBA, error) {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, mediatrail.Invalid("input_url", "image_edit input must be a PNG, JPEG, GIF or WebP image")
	}
	if err := checkPixels(cfg.Width, cfg.Height, "the input image", limit); err != nil {
		return nil, err
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px*int64(ops) > MaxPixelOps {
		return nil, mediatrail.TooLarge("prompt", "%d operations on a %dx%d image are too much work: at most %d megapixel-operations", ops, cfg.Width, cfg.Height, MaxPixelOps/1_000_000)
	}
	src, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, mediatrail.Invalid("input_url", "the input image is corrupt or truncated")
	}
	b := src.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(dst, dst.Bounds(), src, b.Min, draw.Src)
	return dst, nil
}

// releaseAbovePixels is the image size from which the garbage of the last
// step (the decoded source, the previous operation's input and passes) is
// collected before the next step allocates: at 33 MP one step's garbage is
// half the function's memory, and waiting for the GC to notice it is what
// pushed 40 MP chains past MemorySize.
const releaseAbovePixels = 4_000_000

func release(img *image.RGBA) {
	if b := img.Bounds(); int64(b.Dx())*int64(b.Dy()) >= releaseAbovePixels {
		runtime.GC()
	}
}

func checkPixels(w, h int, what string, limit int64) error {
	if w <= 0 || h <= 0 {
		return mediatrail.Invalid("prompt", "%s would be empty", what)
	}
	if int64(w)*int64(h) > limit || w > maxEditSide || h > maxEditSide {
		return mediatrail.TooLarge("", "%s is %dx%d: this server takes at most %.1f megapixels and %d pixels a side", what, w, h, float64(limit)/1e6, maxEditSide)
	}
	return nil
}

// parseOperations reads a prompt such as "grayscale, rotate 90, resize
// 320x200": operations separated by commas, semicolons, new lines, "then" or
// "and". An unknown operation is EINVALID listing the supported ones.
func parseOperations(prompt string, limit int64) ([]operation, error) {
	var ops []operation
	for _, clause := range strings.FieldsFunc(strings.ToLower(prompt), func(r rune) bool { return r == ',' || r == ';' || r == '\n' }) {
		var words []string
		for _, w := range strings.Fields(strings.NewReplacer("°", " ", "×", "x").Replace(clause)) {
			if w == "then" || w == "and" {
				if len(words) > 0 {
					op, err := parseOperation(words, limit)
					if err != nil {
						return nil, err
					}
					ops = append(ops, op)
				}
				words = nil
				continue
			}
			if !fillers[w] {
				words = append(words, w)
			}
		}
		if len(words) > 0 {
			op, err := parseOperation(words, limit)
			if err != nil {
				return nil, err
			}
			ops = append(ops, op)
		}
	}
	switch {
	case len(ops) == 0:
		return nil, mediatrail.Invalid("prompt", "name the operations to apply, e.g. \"grayscale, rotate 90, resize 320x200\"; provider %s supports %s", Name, Operations)
	case len(ops) > maxOperations:
		return nil, mediatrail.Invalid("prompt", "at most %d operations per edit", maxOperations)
	}
	return ops, nil
}

// fillers are words a prompt may use around operations' arguments.
var fillers = map[string]bool{"by": true, "to": true, "degrees": true, "degree": true, "deg": true, "px": true,
	"pixels": true, "radius": true, "amount": true, "the": true, "image": true, "it": true, "of": true, "sigma": true}

func unknownOperation(name string) error {
	return mediatrail.Invalid("prompt", "unknown image operation %q: provider %s supports %s; chain several with commas, e.g. \"grayscale, rotate 90, resize 320x200\"", name, Name, Operations).
		With("operations", Operations)
}

func badArgument(usage string) error {
	return mediatrail.Invalid("prompt", "usage: %s", usage)
}

// number reads a number with an optional unit suffix (90deg, 3px, 90°).
func number(s string) (float64, bool) {
	for _, unit := range []string{"degrees", "deg", "px"} {
		s = strings.TrimSuffix(s, unit)
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil && !math.IsNaN(f) && !math.IsInf(f, 0)
}

func parseOperation(words []string, limit int64) (operation, error) {
	name, args := words[0], words[1:]
	noArgs := func(text string, apply func(context.Context, *image.RGBA) (*image.RGBA, error)) (operation, error) {
		if len(args) > 0 {
			return operation{}, badArgument(text + " (it takes no argument)")
		}
		return operation{text, apply}, nil
	}
	optional := func(def, lo, hi float64, usage string) (float64, error) {
		switch {
		case len(args) == 0:
			return def, nil
		case len(args) > 1:
			return 0, badArgument(usage)
		}
		v, ok := number(args[0])
		if !ok || v < lo || v > hi {
			return 0, badArgument(usage)
		}
		return v, nil
	}
	switch name {
	case "grayscale", "greyscale", "gray", "grey", "desaturate":
		return noArgs("grayscale", pixelwise(grayPixel))
	case "invert", "negate", "negative":
		return noArgs("invert", pixelwise(invertPixel))
	case "blur":
		r, err := optional(2, 1, 100, "blur [RADIUS], a radius of 1 to 100 pixels (default 2)")
		if err != nil {
			return operation{}, err
		}
		return operation{"blur " + formatNumber(r), func(ctx context.Context, img *image.RGBA) (*image.RGBA, error) { return blur(ctx, img, r) }}, nil
	case "sharpen":
		a, err := optional(1, 0.1, 10, "sharpen [AMOUNT], an amount of 0.1 to 10 (default 1)")
		if err != nil {
			return operation{}, err
		}
		return operation{"sharpen " + formatNumber(a), func(ctx context.Context, img *image.RGBA) (*image.RGBA, error) { return sharpen(ctx, img, a) }}, nil
	case "rotate", "turn":
		return parseRotate(args, limit)
	case "flip", "mirror":
		dir := "horizontal"
		if len(args) > 1 || name == "mirror" && len(args) > 0 {
			return operation{}, badArgument("flip [horizontal|vertical]")
		}
		if len(args) == 1 {
			switch args[0] {
			case "horizontal", "horizontally", "h", "x", "left-right":
			case "vertical", "vertically", "v", "y", "upside-down", "top-bottom":
				dir = "vertical"
			default:
				return operation{}, badArgument("flip [horizontal|vertical]")
			}
		}
		return operation{"flip " + dir, func(ctx context.Context, img *image.RGBA) (*image.RGBA, error) {
			return flip(ctx, img, dir == "vertical")
		}}, nil
	case "resize", "scale":
		return parseResize(strings.Join(args, ""), limit)
	case "crop":
		return parseCrop(strings.Join(args, ""))
	}
	return operation{}, unknownOperation(name)
}

func formatNumber(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func parseRotate(args []string, limit int64) (operation, error) {
	const usage = "rotate DEGREES [clockwise|counterclockwise], e.g. rotate 90 (clockwise unless said otherwise)"
	deg, sign, haveAngle := 90.0, 1.0, false
	for _, a := range args {
		switch a {
		case "clockwise", "cw", "right":
		case "counterclockwise", "anticlockwise", "counter-clockwise", "anti-clockwise", "ccw", "left":
			sign = -1
		default:
			v, ok := number(a)
			if !ok || haveAngle || math.Abs(v) > 3600 {
				return operation{}, badArgument(usage)
			}
			deg, haveAngle = v, true
		}
	}
	if len(args) == 0 {
		return operation{}, badArgument(usage)
	}
	deg = math.Mod(sign*deg, 360)
	if deg < 0 {
		deg += 360
	}
	return operation{"rotate " + formatNumber(deg), func(ctx context.Context, img *image.RGBA) (*image.RGBA, error) { return rotate(ctx, img, deg, limit) }}, nil
}

func parseResize(arg string, limit int64) (operation, error) {
	const usage = "resize WxH, Wx or xH (keeping the aspect ratio) or N%, e.g. resize 320x200"
	var pct float64
	var w, h int
	if s, ok := strings.CutSuffix(arg, "%"); ok {
		v, ok := number(s)
		if !ok || v <= 0 || v > 1000 {
			return operation{}, badArgument(usage)
		}
		pct = v
	} else {
		ws, hs, ok := strings.Cut(arg, "x")
		if !ok || ws == "" && hs == "" {
			return operation{}, badArgument(usage)
		}
		var err error
		if ws != "" {
			if w, err = strconv.Atoi(ws); err != nil || w < 1 || w > maxEditSide {
				return operation{}, badArgument(usage)
			}
		}
		if hs != "" {
			if h, err = strconv.Atoi(hs); err != nil || h < 1 || h > maxEditSide {
				return operation{}, badArgument(usage)
			}
		}
	}
	text := "resize " + arg
	return operation{text, func(_ context.Context, img *image.RGBA) (*image.RGBA, error) {
		sw, sh := img.Bounds().Dx(), img.Bounds().Dy()
		dw, dh := w, h
		switch {
		case pct > 0:
			dw, dh = max(int(math.Round(float64(sw)*pct/100)), 1), max(int(math.Round(float64(sh)*pct/100)), 1)
		case dw == 0:
			dw = max(int(math.Round(float64(dh)*float64(sw)/float64(sh))), 1)
		case dh == 0:
			dh = max(int(math.Round(float64(dw)*float64(sh)/float64(sw))), 1)
		}
		if err := checkPixels(dw, dh, "the resized image", limit); err != nil {
			return nil, err
		}
		dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
		xdraw.CatmullRom.Scale(dst, dst.Bounds(), img, img.Bounds(), xdraw.Src, nil)
		return dst, nil
	}}, nil
}

func parseCrop(arg string) (operation, error) {
	const usage = "crop WxH[+X+Y], e.g. crop 200x100+10+20 (X, Y from the top left corner)"
	size, offset, _ := strings.Cut(arg, "+")
	ws, hs, ok := strings.Cut(size, "x")
	w, err1 := strconv.Atoi(ws)
	h, err2 := strconv.Atoi(hs)
	x, y := 0, 0
	var err3, err4 error
	if offset != "" {
		xs, ys, ok2 := strings.Cut(offset, "+")
		x, err3 = strconv.Atoi(xs)
		y, err4 = strconv.Atoi(ys)
		ok = ok && ok2
	}
	if !ok || err1 != nil || err2 != nil || err3 != nil || err4 != nil || w < 1 || h < 1 || x < 0 || y < 0 || w > maxEditSide || h > maxEditSide || x > maxEditSide || y > maxEditSide {
		return operation{}, badArgument(usage)
	}
	text := fmt.Sprintf("crop %dx%d+%d+%d", w, h, x, y)
	return operation{text, func(_ context.Context, img *image.RGBA) (*image.RGBA, error) {
		r := image.Rect(x, y, x+w, y+h).Intersect(img.Bounds())
		if r.Empty() {
			return nil, mediatrail.Invalid("prompt", "%s lies outside the %dx%d image", text, img.Bounds().Dx(), img.Bounds().Dy())
		}
		dst := image.NewRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
		draw.Draw(dst, dst.Bounds(), img, r.Min, draw.Src)
		return dst, nil
	}}, nil
}

// Heavy operations check for cancellation once per row.

// pixelwise applies f to every premultiplied pixel in place.
func pixelwise(f func(px []uint8)) func(context.Context, *image.RGBA) (*image.RGBA, error) {
	return func(ctx context.Context, img *image.RGBA) (*image.RGBA, error) {
		w, h := img.Bounds().Dx(), img.Bounds().Dy()
		for y := range h {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			row := img.Pix[y*img.Stride : y*img.Stride+4*w]
			for i := 0; i < len(row); i += 4 {
				f(row[i : i+4 : i+4])
			}
		}
		return img, nil
	}
}

// grayPixel sets the colour to its luma (ITU-R 601, as color.GrayModel).
func grayPixel(px []uint8) {
	y := uint8((19595*uint32(px[0]) + 38470*uint32(px[1]) + 7471*uint32(px[2]) + 1<<15) >> 16)
	px[0], px[1], px[2] = y, y, y
}

// invertPixel inverts the colour and keeps the alpha (premultiplied: a - c).
func invertPixel(px []uint8) {
	a := px[3]
	px[0], px[1], px[2] = a-px[0], a-px[1], a-px[2]
}

func flip(ctx context.Context, img *image.RGBA, vertical bool) (*image.RGBA, error) {
	w, h := img.Bounds().Dx(), img.Bounds().Dy()
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		src := img.Pix[y*img.Stride : y*img.Stride+4*w]
		if vertical {
			src = img.Pix[(h-1-y)*img.Stride : (h-1-y)*img.Stride+4*w]
		}
		out := dst.Pix[y*dst.Stride : y*dst.Stride+4*w]
		if vertical {
			copy(out, src)
			continue
		}
		for x := range w {
			copy(out[4*x:4*x+4], src[4*(w-1-x):4*(w-x)])
		}
	}
	return dst, nil
}

// rotate turns img deg degrees clockwise (0 <= deg < 360): quarter turns
// exactly, other angles onto a canvas that holds the whole turned image,
// bilinearly sampled, transparent around it.
func rotate(ctx context.Context, img *image.RGBA, deg float64, limit int64) (*image.RGBA, error) {
	w, h := img.Bounds().Dx(), img.Bounds().Dy()
	switch deg {
	case 0:
		return img, nil
	case 90, 180, 270:
		dw, dh := h, w
		if deg == 180 {
			dw, dh = w, h
		}
		dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
		for y := range dh {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			for x := range dw {
				var sx, sy int
				switch deg {
				case 90:
					sx, sy = y, h-1-x
				case 180:
					sx, sy = w-1-x, h-1-y
				default:
					sx, sy = w-1-y, x
				}
				copy(dst.Pix[dst.PixOffset(x, y):][:4], img.Pix[img.PixOffset(sx, sy):][:4])
			}
		}
		return dst, nil
	}
	sin, cos := math.Sincos(deg * math.Pi / 180)
	fw, fh := float64(w), float64(h)
	dw := int(math.Ceil(math.Abs(fw*cos) + math.Abs(fh*sin) - 1e-6))
	dh := int(math.Ceil(math.Abs(fw*sin) + math.Abs(fh*cos) - 1e-6))
	if err := checkPixels(dw, dh, "the rotated image", limit); err != nil {
		return nil, err
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := range dh {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		for x := range dw {
			// The output pixel's centre, relative to the centre, turned back.
			X, Y := float64(x)+0.5-float64(dw)/2, float64(y)+0.5-float64(dh)/2
			sx := X*cos + Y*sin + fw/2 - 0.5
			sy := -X*sin + Y*cos + fh/2 - 0.5
			bilinear(img, sx, sy, dst.Pix[dst.PixOffset(x, y):][:4])
		}
	}
	return dst, nil
}

// bilinear samples img at (sx, sy) into out; outside the image is transparent.
func bilinear(img *image.RGBA, sx, sy float64, out []uint8) {
	x0, y0 := int(math.Floor(sx)), int(math.Floor(sy))
	fx, fy := sx-float64(x0), sy-float64(y0)
	w, h := img.Bounds().Dx(), img.Bounds().Dy()
	var acc [4]float64
	for _, c := range [4]struct {
		x, y int
		wt   float64
	}{{x0, y0, (1 - fx) * (1 - fy)}, {x0 + 1, y0, fx * (1 - fy)}, {x0, y0 + 1, (1 - fx) * fy}, {x0 + 1, y0 + 1, fx * fy}} {
		if c.x < 0 || c.y < 0 || c.x >= w || c.y >= h || c.wt == 0 {
			continue
		}
		px := img.Pix[img.PixOffset(c.x, c.y):][:4]
		for i := range acc {
			acc[i] += float64(px[i]) * c.wt
		}
	}
	for i := range acc {
		out[i] = uint8(min(math.Round(acc[i]), 255))
	}
}

// blur is a Gaussian blur of standard deviation sigma pixels, approximated by
// three box blurs: its cost does not depend on sigma. Edges repeat.
func blur(ctx context.Context, img *image.RGBA, sigma float64) (*image.RGBA, error) {
	w, h := img.Bounds().Dx(), img.Bounds().Dy()
	a := image.NewRGBA(image.Rect(0, 0, w, h))
	copy(a.Pix, img.Pix)
	b := image.NewRGBA(a.Rect)
	sums := make([]int, 4*w)
	for _, size := range gaussBoxes(sigma, 3) {
		r := (size - 1) / 2
		if r == 0 {
			continue
		}
		for y := range h {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			boxRow(a.Pix[y*a.Stride:y*a.Stride+4*w], b.Pix[y*b.Stride:y*b.Stride+4*w], r)
		}
		if err := boxColumns(ctx, b, a, r, sums); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// gaussBoxes are the widths of n box blurs whose sequence approximates a
// Gaussian of standard deviation sigma.
func gaussBoxes(sigma float64, n int) []int {
	ideal := math.Sqrt(12*sigma*sigma/float64(n) + 1)
	wl := int(math.Floor(ideal))
	if wl%2 == 0 {
		wl--
	}
	wu := wl + 2
	m := int(math.Round((12*sigma*sigma - float64(n*wl*wl) - float64(4*n*wl) - float64(3*n)) / float64(-4*wl-4)))
	sizes := make([]int, n)
	for i := range sizes {
		sizes[i] = wu
		if i < m {
			sizes[i] = wl
		}
	}
	return sizes
}

// boxRow averages each pixel of src over the 2r+1 pixels around it (edges
// repeated) into dst.
func boxRow(src, dst []uint8, r int) {
	n := len(src) / 4
	width := 2*r + 1
	var sum [4]int
	for i := -r; i <= r; i++ {
		p := 4 * min(max(i, 0), n-1)
		for c := range sum {
			sum[c] += int(src[p+c])
		}
	}
	for i := range n {
		for c := range sum {
			dst[4*i+c] = uint8((sum[c] + width/2) / width)
		}
		add, drop := 4*min(i+r+1, n-1), 4*max(i-r, 0)
		for c := range sum {
			sum[c] += int(src[add+c]) - int(src[drop+c])
		}
	}
}

// boxColumns does what boxRow does down every column, a row at a time (the
// memory is read in order), from src into dst; sums holds 4 ints a column.
func boxColumns(ctx context.Context, src, dst *image.RGBA, r int, sums []int) error {
	w, h := src.Bounds().Dx(), src.Bounds().Dy()
	row := func(y int) []uint8 {
		y = min(max(y, 0), h-1)
		return src.Pix[y*src.Stride : y*src.Stride+4*w]
	}
	clear(sums)
	for i := -r; i <= r; i++ {
		for j, v := range row(i) {
			sums[j] += int(v)
		}
	}
	width := 2*r + 1
	for y := range h {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		out := dst.Pix[y*dst.Stride : y*dst.Stride+4*w]
		for j, s := range sums {
			out[j] = uint8((s + width/2) / width)
		}
		add, drop := row(y+r+1), row(y-r)
		for j := range sums {
			sums[j] += int(add[j]) - int(drop[j])
		}
	}
	return nil
}

// sharpen is an unsharp mask: the image plus amount times its difference
// from a blur of one pixel, colours clamped to the alpha.
func sharpen(ctx context.Context, img *image.RGBA, amount float64) (*image.RGBA, error) {
	soft, err := blur(ctx, img, 1)
	if err != nil {
		return nil, err
	}
	k := int(math.Round(amount * 256))
	w, h := img.Bounds().Dx(), img.Bounds().Dy()
	for y := range h {
		row, out := img.Pix[y*img.Stride:y*img.Stride+4*w], soft.Pix[y*soft.Stride:y*soft.Stride+4*w]
		for i := 0; i < len(row); i += 4 {
			a := int(row[i+3])
			for c := range 3 {
				v := int(row[i+c])
				v += ((v-int(out[i+c]))*k + 128) >> 8
				out[i+c] = uint8(min(max(v, 0), a))
			}
			out[i+3] = row[i+3]
		}
	}
	return soft, nil
}
