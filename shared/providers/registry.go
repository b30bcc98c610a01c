package providers

import (
	"maps"
	"net/http"
	"slices"
	"strings"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/providers/local"
)

// Compile-time checks that every client is a mediatrail.Provider.
var (
	_ mediatrail.Provider = (*ElevenLabs)(nil)
	_ mediatrail.Provider = (*Deepgram)(nil)
	_ mediatrail.Provider = (*OpenAI)(nil)
	_ mediatrail.Provider = (*Stability)(nil)
	_ mediatrail.Provider = (*Fal)(nil)
	_ mediatrail.Provider = (*Replicate)(nil)
	_ mediatrail.Provider = (*Runway)(nil)
	_ mediatrail.Provider = (*Luma)(nil)
)

// Registry finds providers by name. Build it once at start-up: Register is not
// safe to call while other goroutines use Get.
type Registry struct {
	byName map[string]mediatrail.Provider
}

// NewRegistry returns a registry holding ps.
func NewRegistry(ps ...mediatrail.Provider) *Registry {
	r := &Registry{byName: map[string]mediatrail.Provider{}}
	for _, p := range ps {
		r.Register(p)
	}
	return r
}

// Register adds p under p.Name(), replacing any provider of that name.
func (r *Registry) Register(p mediatrail.Provider) { r.byName[p.Name()] = p }

// Get returns the provider called name (case and surrounding space ignored).
// EINVALID (field provider) when there is none.
func (r *Registry) Get(name string) (mediatrail.Provider, error) {
	if p, ok := r.byName[strings.ToLower(strings.TrimSpace(name))]; ok {
		return p, nil
	}
	return nil, mediatrail.Invalid("provider", "provider must be one of %s", strings.Join(r.Names(), ", "))
}

// Names lists the registered providers in alphabetical order.
func (r *Registry) Names() []string { return slices.Sorted(maps.Keys(r.byName)) }

// FromEnv registers every provider, configured from the environment: each
// reads its key and, optionally, a base URL replacing the documented one.
//
//	openai      OPENAI_API_KEY        OPENAI_BASE_URL      https://api.openai.com/v1
//	elevenlabs  ELEVENLABS_API_KEY    ELEVENLABS_BASE_URL  https://api.elevenlabs.io
//	deepgram    DEEPGRAM_API_KEY      DEEPGRAM_BASE_URL    https://api.deepgram.com
//	fal, pika   FAL_KEY               FAL_BASE_URL         https://queue.fal.run
//	replicate   REPLICATE_API_TOKEN   REPLICATE_BASE_URL   https://api.replicate.com/v1
//	stability   STABILITY_API_KEY     STABILITY_BASE_URL   https://api.stability.ai
//	runway      RUNWAYML_API_SECRET   RUNWAY_BASE_URL      https://api.dev.runwayml.com
//	luma        LUMAAI_API_KEY        LUMA_BASE_URL        https://api.lumalabs.ai/dream-machine/v1
//
// A provider without a key is registered all the same and answers EUNAVAILABLE
// naming the missing variable. httpClient nil means DefaultHTTPClient.
//
// The provider "local" (package local) needs no key and reads nothing from the
// environment: it makes media with tools found on PATH.
func FromEnv(getenv func(string) string, httpClient *http.Client) *Registry {
	r := NewRegistry(local.New(local.Config{}))
	for _, c := range clients {
		r.Register(c.build(Config{APIKey: getenv(c.spec.keyEnv), BaseURL: getenv(c.spec.baseEnv), HTTPClient: httpClient}))
	}
	return r
}

// envSpecs are the providers configured from the environment.
var envSpecs = []spec{openAI, elevenLabs, deepgram, falSpec, pikaSpec, replicate, stability, runway, luma}

// EnvNames lists the environment variables FromEnv reads (keys and base URLs),
// sorted and without repeats: what a local stack passes through to functions.
func EnvNames() []string {
	var names []string
	for _, s := range envSpecs {
		names = append(names, s.keyEnv, s.baseEnv)
	}
	slices.Sort(names)
	return slices.Compact(names)
}
