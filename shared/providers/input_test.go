package providers_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/providers"
	"github.com/mediatrail/mediatrail/shared/providers/fake"
)

func TestInputs(t *testing.T) {
	t.Run("reader, type sniffed", func(t *testing.T) {
		e := newEnv(t, "openai")
		req := sttRequest()
		req.Input = &mediatrail.MediaInput{Body: bytes.NewReader(fake.WAV())}
		if _, err := e.p.Generate(context.Background(), req); err != nil {
			t.Fatal(err)
		}
		_, files := e.fake.Requests()[0].Form()
		wantEqual(t, "file", files["file"], fake.File{Name: "input.wav", ContentType: "audio/wav", Data: fake.WAV()})
	})
	t.Run("reader read once across retries", func(t *testing.T) {
		e := newEnv(t, "deepgram")
		e.fake.Fail(1, e.fake.Error(500, "", "boom"))
		req := sttRequest()
		req.Input = &mediatrail.MediaInput{Body: bytes.NewReader(fake.WAV()), ContentType: "audio/wav"}
		if _, err := e.p.Generate(context.Background(), req); err != nil {
			t.Fatal(err)
		}
		reqs := e.fake.Requests()
		wantEqual(t, "attempts", len(reqs), 2)
		wantEqual(t, "second attempt resent the audio", reqs[1].Body, fake.WAV())
	})
	t.Run("input URL not found", func(t *testing.T) {
		e := newEnv(t, "openai")
		req := sttRequest()
		req.Input = &mediatrail.MediaInput{URL: e.fake.FileURL("missing.ogg")}
		_, err := e.p.Generate(context.Background(), req)
		wantEqual(t, "message", mediatrail.ErrorMessage(err), "input_url answered status 404")
		wantEqual(t, "requests", len(e.fake.Requests()), 0)
	})
	t.Run("input URL without a downloader", func(t *testing.T) {
		// The client never fetches a caller's URL with its own HTTP client.
		e := newEnv(t, "openai", func(c *providers.Config) { c.Inputs = nil })
		req := sttRequest()
		req.Input = &mediatrail.MediaInput{URL: e.fake.FileURL("hello.wav")}
		_, err := e.p.Generate(context.Background(), req)
		wantEqual(t, "code", mediatrail.ErrorCode(err), mediatrail.EINVALID)
		wantEqual(t, "requests", len(e.fake.Requests()), 0)
	})
	t.Run("input too large", func(t *testing.T) {
		e := newEnv(t, "stability")
		req := editRequest()
		req.Input = &mediatrail.MediaInput{Body: io.LimitReader(zeros{}, mediatrail.MaxInputBytes+1)}
		_, err := e.p.Generate(context.Background(), req)
		wantEqual(t, "code", mediatrail.ErrorCode(err), mediatrail.ETOOLARGE)
	})
	t.Run("bytes as a data URI", func(t *testing.T) {
		e := newEnv(t, "runway")
		req := animateRequest("")
		req.Input = &mediatrail.MediaInput{Data: fake.PNG()}
		if _, err := e.p.Submit(context.Background(), req); err != nil {
			t.Fatal(err)
		}
		wantEqual[any](t, "promptImage", e.fake.Requests()[0].JSON()["promptImage"], "data:image/png;base64,"+base64.StdEncoding.EncodeToString(fake.PNG()))
	})
	t.Run("luma takes URLs only", func(t *testing.T) {
		e := newEnv(t, "luma")
		req := animateRequest("")
		req.Input = &mediatrail.MediaInput{Data: fake.PNG()}
		_, err := e.p.Submit(context.Background(), req)
		wantEqual(t, "code", mediatrail.ErrorCode(err), mediatrail.EINVALID)
		wantEqual(t, "requests", len(e.fake.Requests()), 0)
	})
}

type zeros struct{}

func (zeros) Read(b []byte) (int, error) { clear(b); return len(b), nil }

// TestRefused: requests a provider cannot take are EINVALID and send nothing.
func TestRefused(t *testing.T) {
	tests := []struct {
		name     string
		provider string
		submit   bool
		req      mediatrail.MediaRequest
		wantMsg  string
	}{
		{"unsupported", "stability", false, ttsRequest(), "provider stability does not support capability tts"},
		{"unsupported job", "openai", true, videoRequest(), "provider openai does not support capability video_gen"},
		{"pika does no images", "pika", false, imageRequest(), "provider pika does not support capability image_gen"},
		{"no prompt", "elevenlabs", false, mediatrail.MediaRequest{Capability: mediatrail.CapabilityTTS}, "prompt is required for tts"},
		{"no input", "deepgram", false, mediatrail.MediaRequest{Capability: mediatrail.CapabilitySTT}, "an input (input_url or input_asset_id) is required for stt"},
		{"openai speech too long", "openai", false, mediatrail.MediaRequest{Capability: mediatrail.CapabilityTTS, Prompt: strings.Repeat("é", 4097)}, "provider openai speaks at most 4096 characters per request"},
		{"stability model", "stability", false, mediatrail.MediaRequest{Capability: mediatrail.CapabilityImageGen, Prompt: "x", Model: "dall-e-3"}, `provider stability has no image model "dall-e-3" (core, ultra, sd3.5-large, ...)`},
		{"stability edit path", "stability", false, mediatrail.MediaRequest{Capability: mediatrail.CapabilityImageEdit, Prompt: "x", Model: "../generate/core", Input: &mediatrail.MediaInput{Data: []byte{1}}}, `provider stability has no edit "../generate/core" (search-and-replace, inpaint, ...)`},
		{"replicate model", "replicate", true, mediatrail.MediaRequest{Capability: mediatrail.CapabilityVideoGen, Prompt: "x", Model: "../../account"}, `provider replicate models are owner/name or owner/name:version, not "../../account"`},
		{"fal model", "fal", true, mediatrail.MediaRequest{Capability: mediatrail.CapabilityVideoGen, Prompt: "x", Model: "flux"}, `provider fal has no model "flux"`},
		{"pika runs pika only", "pika", true, mediatrail.MediaRequest{Capability: mediatrail.CapabilityVideoGen, Prompt: "x", Model: "fal-ai/kling-video/v2/master/text-to-video"}, `provider pika has no model "fal-ai/kling-video/v2/master/text-to-video"`},
		{"config not JSON", "openai", false, mediatrail.MediaRequest{Capability: mediatrail.CapabilityImageGen, Prompt: "x", Config: map[string]any{"f": func() {}}}, "config must hold JSON values only"},
		{"runway duration", "runway", true, mediatrail.MediaRequest{Capability: mediatrail.CapabilityVideoGen, Prompt: "x", Config: map[string]any{"duration": "long"}}, "config.duration must be a number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.provider)
			var err error
			if tt.submit {
				_, err = e.p.Submit(context.Background(), tt.req)
			} else {
				_, err = e.p.Generate(context.Background(), tt.req)
			}
			wantEqual(t, "code", mediatrail.ErrorCode(err), mediatrail.EINVALID)
			wantEqual(t, "message", mediatrail.ErrorMessage(err), tt.wantMsg)
			wantEqual(t, "requests", len(e.fake.Requests()), 0)
		})
	}
}

// TestWrongMethodIsInternal: a capability sent to the other method is the
// service's own mistake, so the client sees a generic 500 and no method name.
func TestWrongMethodIsInternal(t *testing.T) {
	for _, tt := range []struct {
		name, provider string
		submit         bool
		req            mediatrail.MediaRequest
	}{
		{"video through Generate", "runway", false, videoRequest()},
		{"image through Submit", "fal", true, imageRequest()},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.provider)
			var err error
			if tt.submit {
				_, err = e.p.Submit(context.Background(), tt.req)
			} else {
				_, err = e.p.Generate(context.Background(), tt.req)
			}
			wantEqual(t, "code", mediatrail.ErrorCode(err), mediatrail.EINTERNAL)
			wantEqual(t, "message", mediatrail.ErrorMessage(err), "internal error")
			wantEqual(t, "requests", len(e.fake.Requests()), 0)
		})
	}
}

func TestCallerCancels(t *testing.T) {
	e := newEnv(t, "openai")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := e.p.Generate(ctx, ttsRequest())
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	wantEqual(t, "sleeps", len(e.clock.Sleeps()), 0)
}

// TestGenerateGivesUp: a job Generate waits for that never finishes in time is
// cancelled and answered ETIMEOUT.
func TestGenerateGivesUp(t *testing.T) {
	e := newEnv(t, "replicate")
	e.fake.PlanJobs(fake.JobPlan{Running: 1 << 20, SlowerThanWait: true})
	ctx, cancel := context.WithCancel(context.Background())
	polls := 0
	e.p = providers.NewReplicate(providers.Config{
		APIKey: fake.Key, BaseURL: e.fake.BaseURL, PollInterval: pollEvery,
		Retry: providers.RetryPolicy{Sleep: func(ctx context.Context, _ time.Duration) error {
			if polls++; polls == 3 {
				cancel()
			}
			return ctx.Err()
		}},
	})
	_, err := e.p.Generate(ctx, imageRequest())
	wantEqual(t, "code", mediatrail.ErrorCode(err), mediatrail.ETIMEOUT)
	reqs := e.fake.Requests()
	last := reqs[len(reqs)-1]
	wantEqual(t, "last request", last.Method+" "+last.Path, "POST /v1/predictions/"+fakeJobID+"/cancel")
}

// TestStreamBreaksOff: a media stream that ends short of its length fails the
// reader with a ProviderError carrying the request id.
func TestStreamBreaksOff(t *testing.T) {
	e := newEnv(t, "elevenlabs")
	audio := bytes.Repeat(fake.MP3(), 20)
	e.fake.Fail(1, fake.Fault{Status: 200, Header: http.Header{"Content-Type": {"audio/mpeg"}, "Content-Length": {"999999"}}, Body: audio})
	res, err := e.p.Generate(context.Background(), ttsRequest())
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	defer res.Body.Close()
	got, err := io.ReadAll(res.Body)
	wantEqual(t, "bytes before the break", got, audio)
	pe := providerError(t, err)
	wantEqual(t, "code", pe.Code, mediatrail.ProviderTruncated)
	wantEqual(t, "request id", pe.RequestID, "elevenlabs-req-0001")
}

// TestFakesListenOnLoopback: every fake binds 127.0.0.1 and nothing else.
func TestFakesListenOnLoopback(t *testing.T) {
	for _, name := range fake.Providers() {
		s := fake.New(name)
		u, _ := url.Parse(s.URL)
		host, _, _ := net.SplitHostPort(u.Host)
		wantEqual(t, name+" host", host, "127.0.0.1")
		s.Close()
	}
	wantEqual(t, "fakes", fake.Providers(), []string{"deepgram", "elevenlabs", "fal", "luma", "openai", "replicate", "runway", "stability"})
}
