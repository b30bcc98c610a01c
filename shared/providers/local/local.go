package local

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

var _ mediatrail.Provider = (*Provider)(nil)

// Name is the provider's name in API requests.
const Name = "local"

// Models: one per capability. A request naming another model is EINVALID. The
// image generator's model carries a version: the same prompt and seed give the
// same bytes only under the same version.
const (
	ModelTTS       = "espeak-ng"
	ModelSTT       = "pocketsphinx"
	ModelImageGen  = "procedural-v1"
	ModelImageEdit = "imageops"
	// ModelVideo makes both video capabilities: a slow zoom and pan over a
	// frame drawn from the prompt (video_gen) or the input image.
	ModelVideo = "kenburns-v1"
)

var models = map[mediatrail.Capability]string{
	mediatrail.CapabilityTTS:       ModelTTS,
	mediatrail.CapabilitySTT:       ModelSTT,
	mediatrail.CapabilityImageGen:  ModelImageGen,
	mediatrail.CapabilityImageEdit: ModelImageEdit,
}

// videoCapabilities run as jobs (Submit).
var videoCapabilities = []mediatrail.Capability{mediatrail.CapabilityVideoGen, mediatrail.CapabilityVideoFromImage}

var capabilities = []mediatrail.Capability{
	mediatrail.CapabilityTTS, mediatrail.CapabilitySTT, mediatrail.CapabilityImageGen, mediatrail.CapabilityImageEdit,
}

// DefaultToolTimeout bounds one run of an external tool when the caller's
// context allows longer.
const DefaultToolTimeout = 2 * time.Minute

// Config configures the local provider. The zero value is what production uses.
type Config struct {
	// LookPath finds a tool by name; nil means exec.LookPath (the PATH).
	LookPath func(file string) (string, error)
	// SpeechModelDirs are searched, in order, for the pocketsphinx en-us model
	// (a directory holding en-us/, en-us.lm.bin and cmudict-en-us.dict); nil
	// means the directories the Debian packages install.
	SpeechModelDirs []string
	// Concurrency bounds the media made at once (it is CPU-bound work); 0
	// means one per CPU.
	Concurrency int
	// ToolTimeout bounds each tool run; 0 means DefaultToolTimeout.
	ToolTimeout time.Duration
	// MemoryBytes is the memory of the function this provider runs in, which
	// sizes the largest image it decodes; 0 means AWS_LAMBDA_FUNCTION_MEMORY_SIZE
	// (set by Lambda and the local stack), or 1024 MB when unset.
	MemoryBytes int64
	// ToolMemoryBytes bounds the data segment (heap and private writable
	// mappings) of each tool process; 0 means half the function's memory
	// (AWS_LAMBDA_FUNCTION_MEMORY_SIZE, which Lambda and the local stack set;
	// 1024 MB when unset), leaving the rest to this process.
	ToolMemoryBytes int64
	// ToolFileBytes bounds each file a tool writes (the temporary disk one run
	// may use); 0 means DefaultToolFileBytes.
	ToolFileBytes int64
}

// DefaultToolFileBytes bounds a file a tool writes: 25 minutes of espeak-ng's
// 22 kHz speech, 35 of stt's 16 kHz WAV; far under Lambda's 512 MB of /tmp.
const DefaultToolFileBytes = 64 << 20

// MaxSpeechSeconds bounds the play time of an stt input, read from its
// header before anything is decoded, and of what ffmpeg decodes from it.
const MaxSpeechSeconds = 600

// Provider makes media with local tools. It is safe for concurrent use.
type Provider struct {
	lookPath    func(string) (string, error)
	modelDirs   []string
	slots       chan struct{}
	toolTimeout time.Duration
	memory      int64
	toolMemory  int64
	toolFile    int64
}

// New returns the local provider.
func New(cfg Config) *Provider {
	p := &Provider{lookPath: cfg.LookPath, modelDirs: cfg.SpeechModelDirs, toolTimeout: cfg.ToolTimeout,
		memory: cfg.MemoryBytes, toolMemory: cfg.ToolMemoryBytes, toolFile: cmp.Or(cfg.ToolFileBytes, DefaultToolFileBytes)}
	if p.memory <= 0 {
		mb, err := strconv.ParseInt(os.Getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"), 10, 64)
		if err != nil || mb <= 0 {
			mb = 1024
		}
		p.memory = mb << 20
	}
	if p.toolMemory <= 0 {
		p.toolMemory = p.memory / 2
	}
	if p.lookPath == nil {
		p.lookPath = exec.LookPath
	}
	if p.modelDirs == nil {
		p.modelDirs = debianSpeechModelDirs
	}
	if p.toolTimeout <= 0 {
		p.toolTimeout = DefaultToolTimeout
	}
	n := cfg.Concurrency
	if n <= 0 {
		n = runtime.NumCPU()
	}
	p.slots = make(chan struct{}, n)
	removeStaleWorkDirs()
	return p
}

func (p *Provider) Name() string { return Name }

func (p *Provider) Capabilities() []mediatrail.Capability {
	return slices.Concat(capabilities, videoCapabilities)
}

// TakesInputBytes: Submit reads the image of video_from_image from
// MediaInput.Data (mediatrail.InputBytesSubmitter); this provider fetches nothing.
func (p *Provider) TakesInputBytes() bool { return true }

// Generate makes the media of a synchronous capability. Errors: EINVALID for
// a request the capability cannot take (an unknown model, option, voice or
// image operation; an input that is not audio or an image), ETOOLARGE for an
// image over the pixels its memory allows, EUNAVAILABLE when a tool or model is not
// installed, and a *mediatrail.ProviderError when a tool fails or overruns.
func (p *Provider) Generate(ctx context.Context, req mediatrail.MediaRequest) (*mediatrail.MediaResult, error) {
	if !slices.Contains(capabilities, req.Capability) {
		return nil, mediatrail.UnsupportedCapability(Name, req.Capability)
	}
	if err := req.Validate(); err != nil {
		return nil, err
	}
	want := models[req.Capability]
	if m := strings.TrimSpace(req.Model); m != "" && m != want {
		return nil, mediatrail.Invalid("model", "provider %s makes %s with model %s, not %q", Name, req.Capability, want, m)
	}
	select {
	case p.slots <- struct{}{}:
		defer func() { <-p.slots }()
	case <-ctx.Done():
		return nil, p.interrupted(ctx, "waiting for a free worker")
	}
	switch req.Capability {
	case mediatrail.CapabilityTTS:
		return p.speak(ctx, req)
	case mediatrail.CapabilitySTT:
		return p.transcribe(ctx, req)
	case mediatrail.CapabilityImageGen:
		return p.paint(ctx, req)
	default:
		return p.edit(ctx, req)
	}
}

// Submit takes a video request (video_gen, video_from_image). There is no
// job server: the handle carries the validated request (and the image to
// animate, scaled down to the video's size), and Status answers it
// completed, its video rendered with ffmpeg when its body is read. Errors
// as for Generate.
func (p *Provider) Submit(_ context.Context, req mediatrail.MediaRequest) (mediatrail.Job, error) {
	if slices.Contains(capabilities, req.Capability) {
		// The caller's mistake, not the client's (see providers' mismatch): internal.
		return mediatrail.Job{}, fmt.Errorf("local: %s is synchronous: call Generate, not Submit", req.Capability)
	}
	if !slices.Contains(videoCapabilities, req.Capability) {
		return mediatrail.Job{}, mediatrail.UnsupportedCapability(Name, req.Capability)
	}
	if _, _, err := p.find(req.Capability, ffmpeg); err != nil {
		return mediatrail.Job{}, err
	}
	return p.submitVideo(req)
}

// Status answers a job Submit made: completed, with a body that renders the
// video when first read. Polling again answers the same.
func (p *Provider) Status(_ context.Context, providerJobID string) (mediatrail.Job, error) {
	return p.videoStatus(providerJobID)
}

// Cancel has nothing to stop (nothing runs until the video is read).
func (p *Provider) Cancel(_ context.Context, providerJobID string) error {
	_, err := parseJob(providerJobID)
	return err
}

// interrupted is the error of work cut short by ctx: a timeout when its
// deadline passed, the context's own error when the caller went away.
func (p *Provider) interrupted(ctx context.Context, doing string) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return &mediatrail.ProviderError{Provider: Name, Code: mediatrail.ProviderTimeout, Message: "the media was not made in time (" + doing + ")", Err: ctx.Err()}
	}
	return ctx.Err()
}

// inputBytes is the request's input. The media service always passes bytes:
// it fetches callers' URLs itself under its address policy, so this provider
// fetches nothing.
func inputBytes(in *mediatrail.MediaInput) ([]byte, error) {
	switch {
	case in.Data != nil:
		return in.Data, nil
	case in.Body != nil:
		data, err := io.ReadAll(io.LimitReader(in.Body, mediatrail.MaxInputBytes+1))
		if err != nil {
			return nil, err
		}
		if len(data) > mediatrail.MaxInputBytes {
			return nil, mediatrail.TooLarge("", "the input must be at most %d MiB", mediatrail.MaxInputBytes>>20)
		}
		return data, nil
	}
	return nil, mediatrail.Invalid("input_url", "provider %s takes the input's bytes, not a URL", Name)
}

// fileBody streams a file of a temporary directory and removes the directory
// when closed.
type fileBody struct {
	*os.File
	dir string
}

func (b *fileBody) Close() error {
	err := b.File.Close()
	_ = os.RemoveAll(b.dir)
	return err
}

// openResult opens path, inside dir, as a result body that owns dir.
func openResult(dir, path string) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	return &fileBody{File: f, dir: dir}, nil
}

func bytesBody(b []byte) io.ReadCloser { return io.NopCloser(bytes.NewReader(b)) }
