package local

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"image"
	"image/draw"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	xdraw "golang.org/x/image/draw"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// Video sizes and lengths the local provider makes.
const (
	MinVideoSide          = 64
	MaxVideoWidth         = 1280
	MaxVideoHeight        = 720
	DefaultVideoWidth     = 640
	DefaultVideoHeight    = 360
	MinVideoSeconds       = 1
	MaxVideoSeconds       = 10
	DefaultVideoSeconds   = 3
	videoFPS              = 25
	maxEmbeddedImageBytes = 96 << 10
	jobIDPrefix           = "local-"
)

// videoSpec is a validated video request: everything Status needs to render
// it, carried in the job handle (the local provider keeps no job table: the
// workflow's steps run in other processes).
type videoSpec struct {
	Version    int                   `json:"v"`
	Capability mediatrail.Capability `json:"c"`
	Prompt     string                `json:"p,omitempty"`
	Seed       int64                 `json:"s,omitempty"`
	Width      int                   `json:"w"`
	Height     int                   `json:"h"`
	Seconds    int                   `json:"d"`
	// Image is the JPEG to animate (video_from_image), already scaled to
	// cover at most the video's size.
	Image []byte `json:"-"`
}

// submitVideo validates a video request and answers its completed job: the
// handle is "local-<hash>?<spec>[.<image>]", both parts base64url.
func (p *Provider) submitVideo(req mediatrail.MediaRequest) (mediatrail.Job, error) {
	if err := req.Validate(); err != nil {
		return mediatrail.Job{}, err
	}
	if m := strings.TrimSpace(req.Model); m != "" && m != ModelVideo {
		return mediatrail.Job{}, mediatrail.Invalid("model", "provider %s makes %s with model %s, not %q", Name, req.Capability, ModelVideo, m)
	}
	o := options(req.Config)
	spec := videoSpec{Version: 1, Capability: req.Capability, Prompt: req.Prompt}
	d, err := o.integer("duration", DefaultVideoSeconds, MinVideoSeconds, MaxVideoSeconds)
	if err != nil {
		return mediatrail.Job{}, err
	}
	w, err := o.integer("width", DefaultVideoWidth, MinVideoSide, MaxVideoWidth)
	if err != nil {
		return mediatrail.Job{}, err
	}
	h, err := o.integer("height", DefaultVideoHeight, MinVideoSide, MaxVideoHeight)
	if err != nil {
		return mediatrail.Job{}, err
	}
	if w%2 != 0 || h%2 != 0 {
		return mediatrail.Job{}, invalidOption("width", "and config.height must be even (H.264 in yuv420p)")
	}
	spec.Seconds, spec.Width, spec.Height = int(d), int(w), int(h)
	if req.Capability == mediatrail.CapabilityVideoGen {
		if spec.Seed, err = o.integer("seed", promptSeed(req.Prompt), 0, maxSeed); err != nil {
			return mediatrail.Job{}, err
		}
	} else {
		data, err := inputBytes(req.Input)
		if err != nil {
			return mediatrail.Job{}, err
		}
		img, err := decodeImage(data, p.maxPixels(), 1)
		if err != nil {
			return mediatrail.Job{}, err
		}
		if spec.Image, err = coverJPEG(img, spec.Width, spec.Height); err != nil {
			return mediatrail.Job{}, err
		}
	}
	head, err := json.Marshal(spec)
	if err != nil {
		return mediatrail.Job{}, err
	}
	payload := base64.RawURLEncoding.EncodeToString(head)
	if spec.Image != nil {
		payload += "." + base64.RawURLEncoding.EncodeToString(spec.Image)
	}
	sum := sha256.Sum256([]byte(payload))
	return mediatrail.Job{ProviderJobID: jobIDPrefix + hex.EncodeToString(sum[:12]) + "?" + payload, State: mediatrail.JobQueued}, nil
}

// coverJPEG scales img to cover w x h (cropping the centre to the video's
// aspect) and encodes it as JPEG of at most maxEmbeddedImageBytes.
func coverJPEG(img *image.RGBA, w, h int) ([]byte, error) {
	b := img.Bounds()
	// The centre crop with the video's aspect ratio.
	cw, ch := b.Dx(), b.Dx()*h/w
	if ch > b.Dy() {
		cw, ch = b.Dy()*w/h, b.Dy()
	}
	crop := image.Rect(0, 0, max(cw, 1), max(ch, 1)).Add(image.Pt((b.Dx()-cw)/2, (b.Dy()-ch)/2))
	for scale := 1.0; ; scale *= 0.75 {
		dw, dh := max(int(float64(w)*scale), 16), max(int(float64(h)*scale), 16)
		if cw < dw { // never upscale here: ffmpeg does it once
			dw, dh = max(cw, 1), max(ch, 1)
		}
		dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
		xdraw.CatmullRom.Scale(dst, dst.Bounds(), img, crop, draw.Src, nil)
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, dst, &jpeg.Options{Quality: 85}); err != nil {
			return nil, err
		}
		if buf.Len() <= maxEmbeddedImageBytes || dw <= 16 {
			return buf.Bytes(), nil
		}
	}
}

// parseJob reads a handle submitVideo made; EINVALID for anything else.
func parseJob(id string) (videoSpec, error) {
	bad := mediatrail.Invalid("job_id", "not a job of provider %s", Name)
	hash, payload, ok := strings.Cut(id, "?")
	sum := sha256.Sum256([]byte(payload))
	if !ok || hash != jobIDPrefix+hex.EncodeToString(sum[:12]) {
		return videoSpec{}, bad
	}
	headB64, imgB64, _ := strings.Cut(payload, ".")
	head, err := base64.RawURLEncoding.DecodeString(headB64)
	var spec videoSpec
	if err != nil || json.Unmarshal(head, &spec) != nil || spec.Version != 1 {
		return videoSpec{}, bad
	}
	if imgB64 != "" {
		if spec.Image, err = base64.RawURLEncoding.DecodeString(imgB64); err != nil {
			return videoSpec{}, bad
		}
	}
	switch {
	case spec.Width < MinVideoSide || spec.Width > MaxVideoWidth || spec.Height < MinVideoSide || spec.Height > MaxVideoHeight,
		spec.Seconds < MinVideoSeconds || spec.Seconds > MaxVideoSeconds,
		spec.Capability == mediatrail.CapabilityVideoFromImage && spec.Image == nil,
		spec.Capability != mediatrail.CapabilityVideoFromImage && spec.Capability != mediatrail.CapabilityVideoGen:
		return videoSpec{}, bad
	}
	return spec, nil
}

// videoStatus answers a job as completed: its video is rendered when its
// body is first read (Poll only asks whether it is done; Store reads it).
func (p *Provider) videoStatus(id string) (mediatrail.Job, error) {
	spec, err := parseJob(id)
	if err != nil {
		return mediatrail.Job{}, err
	}
	requestID, _, _ := strings.Cut(id, "?")
	return mediatrail.Job{
		ProviderJobID: id, State: mediatrail.JobCompleted, Progress: 1,
		Result: &mediatrail.MediaResult{
			Body: &lazyVideo{p: p, spec: spec}, ContentType: "video/mp4",
			DurationSeconds: float64(spec.Seconds), Width: spec.Width, Height: spec.Height,
			Usage:     mediatrail.Usage{Quantity: float64(spec.Seconds), Unit: mediatrail.UnitVideoSecond},
			RequestID: requestID, Model: ModelVideo,
			Metadata: map[string]any{"fps": videoFPS},
		},
	}, nil
}

// lazyVideo renders its video into a temporary file on the first Read and
// removes it on Close. Closed unread, it has done nothing.
type lazyVideo struct {
	p      *Provider
	spec   videoSpec
	body   io.ReadCloser
	err    error
	closed bool
}

func (v *lazyVideo) Read(b []byte) (int, error) {
	if v.body == nil && v.err == nil {
		if v.closed {
			return 0, os.ErrClosed
		}
		v.body, v.err = v.p.renderVideo(context.Background(), v.spec)
		if v.err != nil {
			if _, ok := v.err.(*mediatrail.ProviderError); !ok {
				v.err = &mediatrail.ProviderError{Provider: Name, Code: mediatrail.ProviderJobFailed, Message: "the video could not be rendered", Err: v.err}
			}
		}
	}
	if v.err != nil {
		return 0, v.err
	}
	return v.body.Read(b)
}

func (v *lazyVideo) Close() error {
	v.closed = true
	if v.body != nil {
		return v.body.Close()
	}
	return nil
}

// renderVideo draws or decodes the frame and lets ffmpeg make a slow zoom
// and pan over it: H.264, yuv420p, moov first.
func (p *Provider) renderVideo(ctx context.Context, spec videoSpec) (io.ReadCloser, error) {
	path, _, err := p.find(spec.Capability, ffmpeg)
	if err != nil {
		return nil, err
	}
	select {
	case p.slots <- struct{}{}:
		defer func() { <-p.slots }()
	case <-ctx.Done():
		return nil, p.interrupted(ctx, "waiting for a free worker")
	}
	dir, err := workDir()
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			_ = os.RemoveAll(dir)
		}
	}()
	// The frame: drawn from the prompt, or the embedded image, always
	// encoded here as PNG.
	var frame image.Image
	if spec.Capability == mediatrail.CapabilityVideoGen {
		frame = render(spec.Prompt, uint64(spec.Seed), spec.Width, spec.Height)
	} else if frame, _, err = image.Decode(bytes.NewReader(spec.Image)); err != nil {
		return nil, mediatrail.Invalid("input_url", "the input image is corrupt")
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, frame); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "frame.png"), buf.Bytes(), 0o600); err != nil {
		return nil, err
	}
	w, h, n := spec.Width, spec.Height, spec.Seconds*videoFPS
	// Upscaled 2x before zoompan, whose integer crop positions would
	// otherwise judder; zoom 1 → 1.2, panning left to right.
	filter := "scale=" + strconv.Itoa(2*w) + ":" + strconv.Itoa(2*h) + ":flags=bicubic,setsar=1," +
		"zoompan=z='1+0.2*on/" + strconv.Itoa(n) + "':x='(iw-iw/zoom)*on/" + strconv.Itoa(n) + "':y='(ih-ih/zoom)/2'" +
		":d=" + strconv.Itoa(n) + ":s=" + strconv.Itoa(w) + "x" + strconv.Itoa(h) + ":fps=" + strconv.Itoa(videoFPS) + ",format=yuv420p"
	if _, err := p.run(ctx, dir, nil, path, "-nostdin", "-hide_banner", "-loglevel", "error",
		"-f", "png_pipe", "-i", "frame.png", "-vf", filter, "-frames:v", strconv.Itoa(n),
		"-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p",
		"-movflags", "+faststart", "-f", "mp4", "-y", "video.mp4"); err != nil {
		return nil, err
	}
	body, err := openResult(dir, filepath.Join(dir, "video.mp4"))
	if err != nil {
		return nil, err
	}
	ok = true
	return body, nil
}
