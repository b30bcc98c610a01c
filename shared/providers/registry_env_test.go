package providers_test

import (
	"slices"
	"testing"

	"github.com/mediatrail/mediatrail/shared/providers"
)

// EnvNames names every variable FromEnv reads: a provider's key read through
// getenv must be among them.
func TestEnvNamesCoverFromEnv(t *testing.T) {
	var read []string
	providers.FromEnv(func(k string) string { read = append(read, k); return "" }, nil)
	slices.Sort(read)
	read = slices.Compact(read)
	if got := providers.EnvNames(); !slices.Equal(got, read) {
		t.Fatalf("EnvNames() = %v, FromEnv reads %v", got, read)
	}
}
