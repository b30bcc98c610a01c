package providers_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/providers"
	"github.com/mediatrail/mediatrail/shared/providers/fake"
)

// allProviders are the providers configured by a key; FromEnv registers them
// and the local provider, which needs none (registered).
var (
	allProviders = []string{"deepgram", "elevenlabs", "fal", "luma", "openai", "pika", "replicate", "runway", "stability"}
	registered   = []string{"deepgram", "elevenlabs", "fal", "local", "luma", "openai", "pika", "replicate", "runway", "stability"}
)

// someRequest is one request each provider takes.
func someRequest(provider string) mediatrail.MediaRequest {
	switch provider {
	case "elevenlabs", "deepgram", "openai":
		return ttsRequest()
	case "stability", "fal", "replicate":
		return imageRequest()
	}
	return videoRequest()
}

func run(ctx context.Context, p mediatrail.Provider, req mediatrail.MediaRequest) error {
	if req.Capability.Async() {
		_, err := p.Submit(ctx, req)
		return err
	}
	res, err := p.Generate(ctx, req)
	if err == nil && res.Body != nil {
		res.Body.Close()
	}
	return err
}

// recorder is a transport that answers 400 to everything and remembers what
// was asked: it lets a test see the real default URLs without leaving the machine.
type recorder struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.reqs = append(r.reqs, req)
	r.mu.Unlock()
	return &http.Response{StatusCode: 400, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(`{}`)), Request: req}, nil
}

func TestFromEnvDefaults(t *testing.T) {
	env := map[string]string{
		"OPENAI_API_KEY": "k-openai", "ELEVENLABS_API_KEY": "k-eleven", "DEEPGRAM_API_KEY": "k-dg", "FAL_KEY": "k-fal",
		"REPLICATE_API_TOKEN": "k-rep", "STABILITY_API_KEY": "k-stab", "RUNWAYML_API_SECRET": "k-run", "LUMAAI_API_KEY": "k-luma",
	}
	tests := []struct {
		provider, url, authHeader, auth string
	}{
		{"openai", "https://api.openai.com/v1/audio/speech", "Authorization", "Bearer k-openai"},
		{"elevenlabs", "https://api.elevenlabs.io/v1/text-to-speech/21m00Tcm4TlvDq8ikWAM?output_format=mp3_44100_128", "Xi-Api-Key", "k-eleven"},
		{"deepgram", "https://api.deepgram.com/v1/speak?model=aura-2-thalia-en", "Authorization", "Token k-dg"},
		{"fal", "https://queue.fal.run/fal-ai/flux/dev", "Authorization", "Key k-fal"},
		{"pika", "https://queue.fal.run/fal-ai/pika/v2.2/text-to-video", "Authorization", "Key k-fal"},
		{"replicate", "https://api.replicate.com/v1/models/black-forest-labs/flux-schnell/predictions", "Authorization", "Bearer k-rep"},
		{"stability", "https://api.stability.ai/v2beta/stable-image/generate/core", "Authorization", "Bearer k-stab"},
		{"runway", "https://api.dev.runwayml.com/v1/text_to_video", "Authorization", "Bearer k-run"},
		{"luma", "https://api.lumalabs.ai/dream-machine/v1/generations/video", "Authorization", "Bearer k-luma"},
	}
	rec := &recorder{}
	reg := providers.FromEnv(func(k string) string { return env[k] }, &http.Client{Transport: rec})
	wantEqual(t, "names", reg.Names(), registered)
	for _, tt := range tests {
		t.Run(tt.provider, func(t *testing.T) {
			p, err := reg.Get(tt.provider)
			if err != nil {
				t.Fatal(err)
			}
			wantEqual(t, "name", p.Name(), tt.provider)
			err = run(context.Background(), p, someRequest(tt.provider))
			wantEqual(t, "code", mediatrail.ErrorCode(err), mediatrail.EINVALID)
			last := rec.reqs[len(rec.reqs)-1]
			wantEqual(t, "url", last.URL.String(), tt.url)
			wantEqual(t, "auth", last.Header.Get(tt.authHeader), tt.auth)
			if tt.provider == "runway" {
				wantEqual(t, "version", last.Header.Get("X-Runway-Version"), "2024-11-06")
			}
		})
	}
}

func TestFromEnvBaseURLs(t *testing.T) {
	env := map[string]string{}
	for _, name := range []string{"openai", "elevenlabs", "deepgram", "fal", "replicate", "stability", "runway", "luma"} {
		s := fake.New(name)
		t.Cleanup(s.Close)
		prefix := map[string]string{"openai": "OPENAI", "elevenlabs": "ELEVENLABS", "deepgram": "DEEPGRAM", "fal": "FAL", "replicate": "REPLICATE", "stability": "STABILITY", "runway": "RUNWAY", "luma": "LUMA"}[name]
		key := map[string]string{"openai": "OPENAI_API_KEY", "elevenlabs": "ELEVENLABS_API_KEY", "deepgram": "DEEPGRAM_API_KEY", "fal": "FAL_KEY", "replicate": "REPLICATE_API_TOKEN", "stability": "STABILITY_API_KEY", "runway": "RUNWAYML_API_SECRET", "luma": "LUMAAI_API_KEY"}[name]
		env[prefix+"_BASE_URL"], env[key] = s.BaseURL+"/", " "+fake.Key+"\n"
	}
	reg := providers.FromEnv(func(k string) string { return env[k] }, nil)
	for _, name := range allProviders {
		t.Run(name, func(t *testing.T) {
			p, _ := reg.Get(name)
			req := someRequest(name)
			if name == "fal" {
				req = videoRequest() // fal images poll, at the default interval of a second
			}
			if err := run(context.Background(), p, req); err != nil {
				t.Fatalf("%s against its fake: %v", name, err)
			}
		})
	}
}

func TestNotConfigured(t *testing.T) {
	rec := &recorder{}
	reg := providers.FromEnv(func(string) string { return "" }, &http.Client{Transport: rec})
	keys := map[string]string{"openai": "OPENAI_API_KEY", "elevenlabs": "ELEVENLABS_API_KEY", "deepgram": "DEEPGRAM_API_KEY", "fal": "FAL_KEY", "pika": "FAL_KEY",
		"replicate": "REPLICATE_API_TOKEN", "stability": "STABILITY_API_KEY", "runway": "RUNWAYML_API_SECRET", "luma": "LUMAAI_API_KEY"}
	for _, name := range allProviders {
		t.Run(name, func(t *testing.T) {
			p, err := reg.Get(name)
			if err != nil {
				t.Fatal(err)
			}
			err = run(context.Background(), p, someRequest(name))
			wantEqual(t, "code", mediatrail.ErrorCode(err), mediatrail.EUNAVAILABLE)
			wantEqual(t, "message", mediatrail.ErrorMessage(err), "provider "+name+" is not configured on this server ("+keys[name]+" is not set)")
			if p.Capabilities()[0].Async() || name == "fal" || name == "replicate" {
				_, err = p.Status(context.Background(), fakeJobID+"?"+url.Values{"model": {"fal-ai/pika/x"}}.Encode())
				wantEqual(t, "Status code", mediatrail.ErrorCode(err), mediatrail.EUNAVAILABLE)
			}
		})
	}
	wantEqual(t, "requests sent", len(rec.reqs), 0)
}

func TestRegistryGet(t *testing.T) {
	reg := providers.FromEnv(func(string) string { return "" }, nil)
	p, err := reg.Get("  OpenAI ")
	if err != nil || p.Name() != "openai" {
		t.Fatalf("Get(OpenAI) = %v, %v", p, err)
	}
	_, err = reg.Get("midjourney")
	var e *mediatrail.Error
	if !errors.As(err, &e) || e.Code != mediatrail.EINVALID || e.Details["field"] != "provider" {
		t.Fatalf("Get(midjourney) error = %#v, want EINVALID on field provider", err)
	}
	wantEqual(t, "message", e.Message, "provider must be one of "+strings.Join(registered, ", "))

	replacement := providers.NewOpenAI(providers.Config{APIKey: "x"})
	reg.Register(replacement)
	p, _ = reg.Get("openai")
	wantEqual[mediatrail.Provider](t, "replaced", p, replacement)
	wantEqual(t, "names", providers.NewRegistry(replacement).Names(), []string{"openai"})
}

func TestCapabilities(t *testing.T) {
	reg := providers.FromEnv(func(string) string { return "" }, nil)
	var got []string
	for _, name := range reg.Names() {
		p, _ := reg.Get(name)
		for _, c := range p.Capabilities() {
			got = append(got, name+" "+string(c))
		}
	}
	want := []string{
		"deepgram stt", "deepgram tts",
		"elevenlabs tts", "elevenlabs stt",
		"fal image_gen", "fal image_edit", "fal video_gen", "fal video_from_image",
		"local tts", "local stt", "local image_gen", "local image_edit", "local video_gen", "local video_from_image",
		"luma video_gen", "luma video_from_image",
		"openai tts", "openai stt", "openai image_gen", "openai image_edit",
		"pika video_gen", "pika video_from_image",
		"replicate image_gen", "replicate image_edit", "replicate video_gen", "replicate video_from_image",
		"runway video_gen", "runway video_from_image",
		"stability image_gen", "stability image_edit",
	}
	wantEqual(t, "capabilities", got, want)
}
