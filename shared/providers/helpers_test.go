package providers_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/providers"
	"github.com/mediatrail/mediatrail/shared/providers/fake"
)

// constructors build every client by provider name.
var constructors = map[string]func(providers.Config) mediatrail.Provider{
	"elevenlabs": func(c providers.Config) mediatrail.Provider { return providers.NewElevenLabs(c) },
	"deepgram":   func(c providers.Config) mediatrail.Provider { return providers.NewDeepgram(c) },
	"openai":     func(c providers.Config) mediatrail.Provider { return providers.NewOpenAI(c) },
	"stability":  func(c providers.Config) mediatrail.Provider { return providers.NewStability(c) },
	"fal":        func(c providers.Config) mediatrail.Provider { return providers.NewFal(c) },
	"pika":       func(c providers.Config) mediatrail.Provider { return providers.NewPika(c) },
	"replicate":  func(c providers.Config) mediatrail.Provider { return providers.NewReplicate(c) },
	"runway":     func(c providers.Config) mediatrail.Provider { return providers.NewRunway(c) },
	"luma":       func(c providers.Config) mediatrail.Provider { return providers.NewLuma(c) },
}

// fakeFor is the fake serving a provider: Pika is served by fal.
func fakeFor(provider string) string {
	if provider == "pika" {
		return "fal"
	}
	return provider
}

// clock records the waits of the retry policy and polling instead of waiting.
type clock struct {
	mu     sync.Mutex
	sleeps []time.Duration
}

func (c *clock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	return ctx.Err()
}

// Sleeps returns the recorded waits, leaving out the polling waits (pollEvery).
func (c *clock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []time.Duration
	for _, d := range c.sleeps {
		if d != pollEvery {
			out = append(out, d)
		}
	}
	return out
}

// pollEvery is the tests' poll interval, distinct from any retry wait they assert.
const pollEvery = 7 * time.Millisecond

// env is one provider client wired to its fake.
type env struct {
	p     mediatrail.Provider
	fake  *fake.Server
	clock *clock
}

type option func(*providers.Config)

func withTimeout(d time.Duration) option {
	return func(c *providers.Config) { c.HTTPClient = &http.Client{Timeout: d} }
}

func withKey(k string) option { return func(c *providers.Config) { c.APIKey = k } }

// newEnv starts the provider's fake and a client for it whose retries and polls
// do not wait.
func newEnv(t *testing.T, provider string, opts ...option) env {
	t.Helper()
	s := fake.New(fakeFor(provider))
	t.Cleanup(s.Close)
	clk := &clock{}
	cfg := providers.Config{
		APIKey:       fake.Key,
		BaseURL:      s.BaseURL,
		HTTPClient:   &http.Client{Timeout: 5 * time.Second},
		Retry:        providers.RetryPolicy{Sleep: clk.Sleep, Rand: func(n int64) int64 { return n / 2 }},
		PollInterval: pollEvery,
		Inputs:       fakeInputs{},
	}
	for _, o := range opts {
		o(&cfg)
	}
	return env{p: constructors[provider](cfg), fake: s, clock: clk}
}

// fakeInputs fetches input URLs from the fakes on this machine (the
// deployment's downloader would refuse their loopback address).
type fakeInputs struct{}

func (fakeInputs) Download(ctx context.Context, rawURL string) (*mediatrail.Download, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, mediatrail.Invalid("input_url", "input_url must be an http or https URL")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, mediatrail.Invalid("input_url", "input_url could not be fetched")
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, mediatrail.Invalid("input_url", "input_url answered status %d", resp.StatusCode)
	}
	return &mediatrail.Download{Body: resp.Body, ContentType: resp.Header.Get("Content-Type"), Size: resp.ContentLength}, nil
}

// mustRead reads and closes a result body.
func mustRead(tb testing.TB, r io.ReadCloser) []byte {
	tb.Helper()
	if r == nil {
		tb.Fatal("result has no Body")
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		tb.Fatalf("read body: %v", err)
	}
	return b
}

// mustGet downloads a URL the fake handed out.
func mustGet(tb testing.TB, url string) (string, []byte) {
	tb.Helper()
	resp, err := http.Get(url)
	if err != nil {
		tb.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("GET %s: status %d", url, resp.StatusCode)
	}
	return resp.Header.Get("Content-Type"), b
}

// providerError returns the ProviderError in err, failing the test without one.
func providerError(tb testing.TB, err error) *mediatrail.ProviderError {
	tb.Helper()
	var pe *mediatrail.ProviderError
	if !errors.As(err, &pe) {
		tb.Fatalf("error %v (%T) holds no *mediatrail.ProviderError", err, err)
	}
	return pe
}

// assertNoKey fails when the fake's key shows anywhere in err.
func assertNoKey(tb testing.TB, err error, keys ...string) {
	tb.Helper()
	keys = append(keys, fake.Key)
	for _, k := range keys {
		if strings.Contains(err.Error(), k) || strings.Contains(mediatrail.ErrorMessage(err), k) {
			tb.Fatalf("error shows the API key: %v", err)
		}
	}
}

// The requests used where any request of a capability will do.
func ttsRequest() mediatrail.MediaRequest {
	return mediatrail.MediaRequest{Capability: mediatrail.CapabilityTTS, Prompt: "Hello world."}
}

func sttRequest() mediatrail.MediaRequest {
	return mediatrail.MediaRequest{Capability: mediatrail.CapabilitySTT, Input: &mediatrail.MediaInput{Data: fake.WAV(), ContentType: "audio/wav", FileName: "hello.wav"}}
}

func imageRequest() mediatrail.MediaRequest {
	return mediatrail.MediaRequest{Capability: mediatrail.CapabilityImageGen, Prompt: "a lighthouse at dusk"}
}

func editRequest() mediatrail.MediaRequest {
	return mediatrail.MediaRequest{Capability: mediatrail.CapabilityImageEdit, Prompt: "make it night", Input: &mediatrail.MediaInput{Data: fake.PNG()}}
}

func videoRequest() mediatrail.MediaRequest {
	return mediatrail.MediaRequest{Capability: mediatrail.CapabilityVideoGen, Prompt: "waves at sunset"}
}

func animateRequest(imageURL string) mediatrail.MediaRequest {
	return mediatrail.MediaRequest{Capability: mediatrail.CapabilityVideoFromImage, Prompt: "slow zoom", Input: &mediatrail.MediaInput{URL: imageURL}}
}

// walk polls a job to its end and returns the states seen, the submit's first.
func walk(tb testing.TB, p mediatrail.Provider, job mediatrail.Job) ([]mediatrail.JobState, mediatrail.Job) {
	tb.Helper()
	states := []mediatrail.JobState{job.State}
	for i := 0; !job.State.Done(); i++ {
		if i > 20 {
			tb.Fatalf("job %s never finished: %v", job.ProviderJobID, states)
		}
		var err error
		if job, err = p.Status(context.Background(), job.ProviderJobID); err != nil {
			tb.Fatalf("Status: %v", err)
		}
		states = append(states, job.State)
	}
	return states, job
}
