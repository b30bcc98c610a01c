package providers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// clients builds each keyed provider's client from a Config; checks names
// its cheap authenticated call (Factory.CheckKey).
var clients = map[string]struct {
	spec  spec
	build func(Config) mediatrail.Provider
	check check
}{
	"openai":     {openAI, func(c Config) mediatrail.Provider { return NewOpenAI(c) }, check{path: "/models"}},
	"elevenlabs": {elevenLabs, func(c Config) mediatrail.Provider { return NewElevenLabs(c) }, check{path: "/v1/user"}},
	"deepgram":   {deepgram, func(c Config) mediatrail.Provider { return NewDeepgram(c) }, check{path: "/v1/projects"}},
	// fal's queue has no account route: the status of a request that does
	// not exist is 404 to a key it accepts and 401 to one it refuses.
	"fal":       {falSpec, func(c Config) mediatrail.Provider { return NewFal(c) }, check{path: "/fal-ai/flux/requests/00000000-0000-0000-0000-000000000000/status", notFoundOK: true}},
	"pika":      {pikaSpec, func(c Config) mediatrail.Provider { return NewPika(c) }, check{path: "/fal-ai/flux/requests/00000000-0000-0000-0000-000000000000/status", notFoundOK: true}},
	"replicate": {replicate, func(c Config) mediatrail.Provider { return NewReplicate(c) }, check{path: "/account"}},
	"stability": {stability, func(c Config) mediatrail.Provider { return NewStability(c) }, check{path: "/v1/user/account"}},
	"runway":    {runway, func(c Config) mediatrail.Provider { return NewRunway(c) }, check{path: "/v1/organization"}},
	"luma":      {luma, func(c Config) mediatrail.Provider { return NewLuma(c) }, check{path: "/generations?limit=1"}},
}

// check is a provider's cheapest authenticated GET: a key that works gets a
// 2xx (or, with notFoundOK, a 404).
type check struct {
	path       string
	notFoundOK bool
}

// Factory is the mediatrail.ProviderFactory: the deployment's clients (the
// Registry, from the environment) and clients made per workspace credential.
type Factory struct {
	*Registry
	getenv func(string) string
	// http sends the deployment's own base URLs; public sends a workspace's
	// base_url, through the public-address policy (shared/fetch's dialer).
	http, public *http.Client
}

var _ mediatrail.ProviderFactory = (*Factory)(nil)

// NewFactory returns a factory over reg. getenv holds the deployment's keys
// and base URLs (as for FromEnv): a workspace credential without a base_url
// reaches the provider where the deployment does. public must refuse
// non-public addresses: it carries workspace-chosen base URLs.
func NewFactory(reg *Registry, getenv func(string) string, httpClient, public *http.Client) *Factory {
	return &Factory{Registry: reg, getenv: getenv, http: httpClient, public: public}
}

func (f *Factory) keyed(name string) (string, bool, error) {
	p, err := f.Get(name)
	if err != nil {
		return "", false, err
	}
	_, ok := clients[p.Name()]
	return p.Name(), ok, nil
}

// KeyNeeded: every provider but local takes a key.
func (f *Factory) KeyNeeded(name string) (bool, error) {
	_, ok, err := f.keyed(name)
	return ok, err
}

// PlatformKey reports whether the deployment's environment holds a key for name.
func (f *Factory) PlatformKey(name string) bool {
	n, ok, err := f.keyed(name)
	return err == nil && (!ok || strings.TrimSpace(f.getenv(clients[n].spec.keyEnv)) != "")
}

// WithKey returns a client of name with key, at baseURL through the public
// client when set, else where the deployment's client goes.
func (f *Factory) WithKey(name string, key mediatrail.Secret, baseURL string) (mediatrail.Provider, error) {
	p, err := f.build(name, key, baseURL)
	if err != nil {
		return nil, err
	}
	return p.Provider, nil
}

type built struct {
	mediatrail.Provider
	base  *provider
	check check
}

func (f *Factory) build(name string, key mediatrail.Secret, baseURL string) (built, error) {
	n, ok, err := f.keyed(name)
	if err != nil {
		return built{}, err
	}
	if !ok {
		return built{}, mediatrail.Invalid("provider", "provider %s takes no credential", n)
	}
	c := clients[n]
	cfg := Config{APIKey: key.Reveal(), BaseURL: f.getenv(c.spec.baseEnv), HTTPClient: f.http}
	if baseURL != "" {
		cfg.BaseURL, cfg.HTTPClient = baseURL, f.public
	}
	p := c.build(cfg)
	b, ok := p.(interface{ base() *provider })
	if !ok {
		return built{}, errors.New("providers: client without a base")
	}
	return built{Provider: p, base: b.base(), check: c.check}, nil
}

// CheckKey makes the provider's check call with key. A refusal is the
// provider's *mediatrail.ProviderError (401/403).
func (f *Factory) CheckKey(ctx context.Context, name string, key mediatrail.Secret, baseURL string) error {
	b, err := f.build(name, key, baseURL)
	if err != nil {
		return err
	}
	path, query, _ := strings.Cut(b.check.path, "?")
	c := call{method: http.MethodGet, path: path}
	if query != "" {
		c.query, _ = url.ParseQuery(query)
	}
	_, err = b.base.send(ctx, c, false)
	var pe *mediatrail.ProviderError
	if b.check.notFoundOK && errors.As(err, &pe) && pe.Status == http.StatusNotFound {
		return nil
	}
	return err
}
