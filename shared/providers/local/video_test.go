package local_test

import (
	"bytes"
	"errors"
	"image"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/probe"
	"github.com/mediatrail/mediatrail/shared/providers/local"
)

func videoGen(prompt string, config map[string]any) mediatrail.MediaRequest {
	return mediatrail.MediaRequest{Capability: mediatrail.CapabilityVideoGen, Prompt: prompt, Config: config}
}

func videoFromImage(input []byte, config map[string]any) mediatrail.MediaRequest {
	return mediatrail.MediaRequest{Capability: mediatrail.CapabilityVideoFromImage, Input: &mediatrail.MediaInput{Data: input}, Config: config}
}

// video submits req, polls it as the workflow does (Poll, then Store) and
// reads the video.
func video(t *testing.T, p *local.Provider, req mediatrail.MediaRequest) (*mediatrail.MediaResult, []byte, probe.Info) {
	t.Helper()
	ctx := testContext(t)
	job, err := p.Submit(ctx, req)
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	if job.State != mediatrail.JobQueued || !strings.HasPrefix(job.ProviderJobID, "local-") {
		t.Fatalf("job = %+v", job)
	}
	// Poll: completed, nothing rendered (the body is never read).
	polled, err := p.Status(ctx, job.ProviderJobID)
	if err != nil || polled.State != mediatrail.JobCompleted || polled.Result == nil {
		t.Fatalf("status = %+v, %v", polled, err)
	}
	// Store: the same answer, read.
	stored, err := p.Status(ctx, job.ProviderJobID)
	if err != nil {
		t.Fatal(err)
	}
	res := stored.Result
	data, err := io.ReadAll(res.Body)
	if cerr := res.Body.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatalf("read video: %v", err)
	}
	info, _ := probe.Inspect(bytes.NewReader(data), int64(len(data)))
	return res, data, info
}

func ffprobe(t *testing.T, data []byte) string {
	t.Helper()
	path, err := exec.LookPath("ffprobe")
	if err != nil {
		return ""
	}
	f := t.TempDir() + "/v.mp4"
	if err := os.WriteFile(f, data, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(path, "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=codec_name,pix_fmt", "-of", "csv=p=0", f).Output()
	if err != nil {
		t.Fatalf("ffprobe: %v", err)
	}
	return strings.TrimSpace(string(out))
}

func TestVideo(t *testing.T) {
	needTools(t, "ffmpeg")
	dir := t.TempDir()
	t.Setenv("TMPDIR", dir)
	p := local.New(local.Config{})
	for _, tc := range []struct {
		name          string
		req           mediatrail.MediaRequest
		w, h, seconds int
	}{
		{"video_gen default", videoGen("A lighthouse at dawn", nil), 640, 360, 3},
		{"video_gen sized", videoGen("A slow pan", map[string]any{"duration": 2, "width": 320, "height": 240}), 320, 240, 2},
		{"video_from_image", videoFromImage(pngOf(testImage()), map[string]any{"duration": "1", "width": 256, "height": 144}), 256, 144, 1},
		{"video_from_image tall input", videoFromImage(pngOf(solid(90, 400, red)), map[string]any{"duration": 1}), 640, 360, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, data, info := video(t, p, tc.req)
			if info.ContentType != "video/mp4" || info.Width != tc.w || info.Height != tc.h || math.Abs(info.DurationSeconds-float64(tc.seconds)) > 0.1 {
				t.Errorf("probed %+v, want video/mp4 %dx%d %ds", info, tc.w, tc.h, tc.seconds)
			}
			if res.ContentType != "video/mp4" || res.Width != tc.w || res.Height != tc.h || res.DurationSeconds != float64(tc.seconds) ||
				res.Model != local.ModelVideo || res.Usage != (mediatrail.Usage{Quantity: float64(tc.seconds), Unit: mediatrail.UnitVideoSecond}) {
				t.Errorf("result = %+v", res)
			}
			if i := bytes.Index(data, []byte("moov")); i < 0 || i > bytes.Index(data, []byte("mdat")) {
				t.Errorf("moov is not before mdat (+faststart)")
			}
			if got := ffprobe(t, data); got != "" && got != "h264,yuv420p" {
				t.Errorf("stream = %q, want h264,yuv420p", got)
			}
		})
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*", "*")); len(left) != 0 { // work dirs under the process dir
		t.Errorf("left in TMPDIR: %v", left)
	}
}

// The same request renders the same handle; a handle survives the process
// (it is all Status needs) and an altered one is refused.
func TestVideoHandle(t *testing.T) {
	needTools(t, "ffmpeg")
	ctx := testContext(t)
	a, err := local.New(local.Config{}).Submit(ctx, videoGen("same", nil))
	if err != nil {
		t.Fatal(err)
	}
	b, err := local.New(local.Config{}).Submit(ctx, videoGen("same", nil))
	if err != nil || a.ProviderJobID != b.ProviderJobID {
		t.Fatalf("handles differ: %q %q %v", a.ProviderJobID, b.ProviderJobID, err)
	}
	other := local.New(local.Config{})
	if j, err := other.Status(ctx, a.ProviderJobID); err != nil || j.State != mediatrail.JobCompleted {
		t.Fatalf("status = %+v, %v", j, err)
	}
	if err := other.Cancel(ctx, a.ProviderJobID); err != nil {
		t.Errorf("cancel: %v", err)
	}
	for _, id := range []string{"", "local-00", a.ProviderJobID + "x", strings.Replace(a.ProviderJobID, "local-", "local-f", 1)} {
		_, err := other.Status(ctx, id)
		wantError(t, err, mediatrail.EINVALID, "not a job of provider local")
	}
	// Unread, a completed job leaves nothing behind.
	j, _ := other.Status(ctx, a.ProviderJobID)
	if err := j.Result.Body.Close(); err != nil {
		t.Error(err)
	}
	// A large input image is scaled down into the handle.
	big, err := other.Submit(ctx, videoFromImage(pngOf(testNoise(1600, 1200)), nil))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(big.ProviderJobID); n > 160<<10 {
		t.Errorf("handle of %d bytes", n)
	}
}

func testNoise(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	s := uint32(1)
	for i := range img.Pix {
		s = s*1664525 + 1013904223
		img.Pix[i] = byte(s >> 24)
	}
	return img
}

func TestVideoRejects(t *testing.T) {
	needTools(t, "ffmpeg")
	p := local.New(local.Config{})
	ctx := testContext(t)
	for _, tc := range []struct {
		req  mediatrail.MediaRequest
		code string
		part string
	}{
		{videoGen("x", map[string]any{"duration": 11}), mediatrail.EINVALID, "config.duration"},
		{videoGen("x", map[string]any{"duration": 1.5}), mediatrail.EINVALID, "config.duration"},
		{videoGen("x", map[string]any{"width": 4000}), mediatrail.EINVALID, "config.width"},
		{videoGen("x", map[string]any{"width": 321}), mediatrail.EINVALID, "even"},
		{videoGen("", nil), mediatrail.EINVALID, "prompt"},
		{mediatrail.MediaRequest{Capability: mediatrail.CapabilityVideoGen, Prompt: "x", Model: "sora"}, mediatrail.EINVALID, "kenburns-v1"},
		{videoFromImage([]byte("not an image"), nil), mediatrail.EINVALID, "image"},
		{videoFromImage(hugePNG(9000, 9000), nil), mediatrail.ETOOLARGE, "megapixels"},
	} {
		_, err := p.Submit(ctx, tc.req)
		wantError(t, err, tc.code, tc.part)
	}
	// A synchronous capability sent to Submit is the caller's mistake, not the
	// client's: internal, never a validation_error naming a method.
	_, err := p.Submit(ctx, imageGen("sync", nil))
	if got := mediatrail.ErrorCode(err); got != mediatrail.EINTERNAL {
		t.Errorf("image through Submit: code %q, want %q", got, mediatrail.EINTERNAL)
	}
	// Videos are not made by Generate, and need ffmpeg.
	_, err = p.Generate(ctx, videoGen("x", nil))
	wantError(t, err, mediatrail.EINVALID, "does not support")
	noFFmpeg := local.New(local.Config{LookPath: func(string) (string, error) { return "", errors.New("not found") }})
	_, err = noFFmpeg.Submit(ctx, videoGen("x", nil))
	wantError(t, err, mediatrail.EUNAVAILABLE, "ffmpeg is not installed")
}
