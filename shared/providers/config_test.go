package providers

import (
	"os"
	"regexp"
	"slices"
	"testing"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/providers/local"
)

// Every client names the config keys of every capability it runs, and the
// local provider too: each is a mediatrail.ConfigKeyed.
func TestConfigKeysEveryCapability(t *testing.T) {
	r := FromEnv(func(string) string { return "" }, nil)
	for _, name := range r.Names() {
		p, err := r.Get(name)
		if err != nil {
			t.Fatal(err)
		}
		k, ok := p.(mediatrail.ConfigKeyed)
		if !ok {
			t.Errorf("provider %s names no config keys", name)
			continue
		}
		for _, c := range p.Capabilities() {
			keys := k.ConfigKeys(c)
			if len(keys) == 0 {
				t.Errorf("provider %s takes no config for %s", name, c)
			}
			if len(slices.Compact(slices.Sorted(slices.Values(keys)))) != len(keys) {
				t.Errorf("provider %s lists a key twice for %s: %v", name, c, keys)
			}
		}
		for _, c := range mediatrail.Capabilities {
			if !slices.Contains(p.Capabilities(), c) && len(k.ConfigKeys(c)) > 0 {
				t.Errorf("provider %s lists config for %s, which it does not run", name, c)
			}
		}
	}
	var _ mediatrail.ConfigKeyed = local.New(local.Config{})
}

// The table holds every key a client reads out of the config itself
// (options.text/number/take and presence checks), found in its source: a
// key the client reads can never be refused as unknown.
func TestConfigKeysCoverWhatClientsRead(t *testing.T) {
	read := regexp.MustCompile(`(?:\b(?:o|opts|body|input)\.(?:text|number|take)\("([^"]+)"|\b(?:o|opts|body|input)\["([^"]+)"\](?:; !?ok|\.\())`)
	for file, names := range map[string][]string{
		"openai.go": {"openai"}, "elevenlabs.go": {"elevenlabs"}, "deepgram.go": {"deepgram"}, "stability.go": {"stability"},
		"fal.go": {"fal", "pika"}, "replicate.go": {"replicate"}, "runway.go": {"runway"}, "luma.go": {"luma"},
	} {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range read.FindAllStringSubmatch(string(src), -1) {
			key := m[1] + m[2]
			for _, name := range names {
				found := false
				for _, keys := range configKeys[name] {
					found = found || slices.Contains(keys, key)
				}
				if !found {
					t.Errorf("%s reads config.%s, which provider %s does not list", file, key, name)
				}
			}
		}
	}
}
