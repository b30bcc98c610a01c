package providers_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/fetch"
	"github.com/mediatrail/mediatrail/shared/providers"
	"github.com/mediatrail/mediatrail/shared/providers/fake"
)

// baseEnv is each provider's base URL variable (FromEnv).
var baseEnv = map[string]string{
	"openai": "OPENAI_BASE_URL", "elevenlabs": "ELEVENLABS_BASE_URL", "deepgram": "DEEPGRAM_BASE_URL", "fal": "FAL_BASE_URL",
	"pika": "FAL_BASE_URL", "replicate": "REPLICATE_BASE_URL", "stability": "STABILITY_BASE_URL", "runway": "RUNWAY_BASE_URL",
	"luma": "LUMA_BASE_URL",
}

// factoryFor wires a factory to the provider's fake, with no platform key.
func factoryFor(t *testing.T, provider string) (*providers.Factory, *fake.Server) {
	t.Helper()
	s := fake.New(fakeFor(provider))
	t.Cleanup(s.Close)
	env := map[string]string{baseEnv[provider]: s.BaseURL}
	getenv := func(k string) string { return env[k] }
	client := &http.Client{Timeout: 5 * time.Second}
	public := fetch.NewHTTPClient(fetch.Options{Timeout: 5 * time.Second})
	return providers.NewFactory(providers.FromEnv(getenv, client), getenv, client, public), s
}

// A workspace key reaches the provider on media calls and checks; the
// check tells an accepted key from a refused one for every provider.
func TestFactoryClientsUseTheWorkspaceKey(t *testing.T) {
	for _, name := range allProviders {
		t.Run(name, func(t *testing.T) {
			f, s := factoryFor(t, name)
			good, bad := mediatrail.NewSecret("ws-key-"+name+"-0001"), mediatrail.NewSecret("ws-key-"+name+"-revoked")
			s.AcceptKeys(good.Reveal())
			if f.PlatformKey(name) {
				t.Error("platform key reported without one in the environment")
			}
			if err := f.CheckKey(t.Context(), name, good, ""); err != nil {
				t.Errorf("check of an accepted key: %v", err)
			}
			var pe *mediatrail.ProviderError
			if err := f.CheckKey(t.Context(), name, bad, ""); !errors.As(err, &pe) || pe.Status != http.StatusUnauthorized {
				t.Errorf("check of a refused key: %v, want the provider's 401", err)
			}
			p, err := f.WithKey(name, good, "")
			if err != nil {
				t.Fatal(err)
			}
			before := len(s.Requests())
			if err := run(t.Context(), p, someRequest(name)); err != nil {
				t.Fatalf("media call with the workspace key: %v", err)
			}
			reqs := s.Requests()
			if len(reqs) == before || reqs[before].Key != good.Reveal() {
				t.Errorf("the provider did not get the workspace key")
			}
		})
	}
}

// A workspace base_url goes through the public-address policy: a loopback
// address is never dialled.
func TestFactoryBaseURLIsPublicOnly(t *testing.T) {
	f, s := factoryFor(t, "openai")
	key := mediatrail.NewSecret("ws-key-openai-0002")
	s.AcceptKeys(key.Reveal())
	p, err := f.WithKey("openai", key, s.BaseURL)
	if err != nil {
		t.Fatal(err)
	}
	if err := run(t.Context(), p, someRequest("openai")); err == nil {
		t.Fatal("a base_url on 127.0.0.1 was reached")
	}
	if err := f.CheckKey(t.Context(), "openai", key, s.BaseURL); err == nil {
		t.Fatal("a check reached a base_url on 127.0.0.1")
	}
	if n := len(s.Requests()); n != 0 {
		t.Errorf("the fake got %d requests", n)
	}
	if _, err := f.WithKey("local", key, ""); mediatrail.ErrorCode(err) != mediatrail.EINVALID {
		t.Errorf("local with a key: %v", err)
	}
	if needs, err := f.KeyNeeded("local"); err != nil || needs {
		t.Errorf("local needs a key: %v %v", needs, err)
	}
}
