package mediatrail_test

import (
	"testing"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

func TestEstimateCall(t *testing.T) {
	prices := mediatrail.DefaultPrices()
	tests := []struct {
		name     string
		provider string
		c        mediatrail.Capability
		in       mediatrail.GenerateInput
		want     float64
		priced   bool
	}{
		{"tts by characters", "openai", mediatrail.CapabilityTTS, mediatrail.GenerateInput{Model: "tts-1", Prompt: "héllo"}, 5 * 0.000015, true},
		{"images asked for", "openai", mediatrail.CapabilityImageGen, mediatrail.GenerateInput{Model: "dall-e-3", Config: map[string]any{"n": 3.0}}, 0.12, true},
		{"quality selects the price", "openai", mediatrail.CapabilityImageGen, mediatrail.GenerateInput{Model: "gpt-image-1", Config: map[string]any{"quality": "high"}}, 0.167, true},
		{"video seconds", "runway", mediatrail.CapabilityVideoGen, mediatrail.GenerateInput{Model: "gen4_turbo", Config: map[string]any{"duration": "10s"}}, 0.5, true},
		{"unpriced counts 0", "openai", mediatrail.CapabilityImageGen, mediatrail.GenerateInput{Model: "no-such-model"}, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := prices.EstimateCall(tc.provider, tc.c, tc.in)
			if d := got.Amount - tc.want; d > 1e-12 || d < -1e-12 || got.Priced != tc.priced {
				t.Errorf("got %v (priced %v), want %v (priced %v)", got.Amount, got.Priced, tc.want, tc.priced)
			}
		})
	}
}
