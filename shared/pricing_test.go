package mediatrail_test

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

func TestDefaultPricesParse(t *testing.T) {
	p := mediatrail.DefaultPrices()
	if p.Currency != "USD" || len(p.Prices) == 0 {
		t.Fatalf("prices = %+v", p)
	}
}

func TestParsePricesRefusesBadEntries(t *testing.T) {
	for name, data := range map[string]string{
		"not json":       `{`,
		"no currency":    `{"prices": []}`,
		"unknown unit":   `{"currency":"USD","prices":[{"provider":"p","model":"m","unit":"frame","price":1}]}`,
		"negative price": `{"currency":"USD","prices":[{"provider":"p","model":"m","unit":"image","price":-1}]}`,
		"missing model":  `{"currency":"USD","prices":[{"provider":"p","unit":"image","price":1}]}`,
	} {
		if _, err := mediatrail.ParsePrices([]byte(data)); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}

func TestEstimate(t *testing.T) {
	usage := func(q float64, unit string) mediatrail.Usage { return mediatrail.Usage{Quantity: q, Unit: unit} }
	for _, tc := range []struct {
		name   string
		b      mediatrail.Billable
		amount float64
		unit   string
		source string
		priced bool
	}{
		{"elevenlabs tts bills reported characters", mediatrail.Billable{Provider: "elevenlabs", Model: "eleven_multilingual_v2", Usage: usage(100, "character"), Characters: 90}, 0.018, "character", "provider", true},
		{"openai tts bills characters sent", mediatrail.Billable{Provider: "openai", Model: "tts-1", Characters: 1000}, 0.015, "character", "request", true},
		{"tts-1-hd", mediatrail.Billable{Provider: "openai", Model: "tts-1-hd", Characters: 1000}, 0.03, "character", "request", true},
		{"whisper seconds", mediatrail.Billable{Provider: "openai", Model: "whisper-1", Usage: usage(60, "second")}, 0.006, "second", "provider", true},
		{"scribe seconds from media", mediatrail.Billable{Provider: "elevenlabs", Model: "scribe_v1", Seconds: 100}, 0.00611, "second", "media", true},
		{"deepgram nova-3 channel seconds", mediatrail.Billable{Provider: "deepgram", Model: "nova-3", Usage: usage(20, "second")}, 0.0014334, "second", "provider", true},
		{"deepgram aura-2 by prefix", mediatrail.Billable{Provider: "deepgram", Model: "aura-2-thalia-en", Usage: usage(100, "character")}, 0.003, "character", "provider", true},
		{"dall-e-3 default", mediatrail.Billable{Provider: "openai", Model: "dall-e-3", Usage: usage(1, "image")}, 0.04, "image", "provider", true},
		{"dall-e-3 hd square", mediatrail.Billable{Provider: "openai", Model: "dall-e-3", Attributes: map[string]string{"quality": "hd", "size": "1024x1024"}}, 0.08, "image", "request", true},
		{"dall-e-3 hd tall", mediatrail.Billable{Provider: "openai", Model: "dall-e-3", Attributes: map[string]string{"quality": "HD", "size": "1024x1792"}}, 0.12, "image", "request", true},
		{"gpt-image-1 high, two images", mediatrail.Billable{Provider: "openai", Model: "gpt-image-1", Usage: usage(2, "image"), Attributes: map[string]string{"quality": "high"}}, 0.334, "image", "provider", true},
		{"gpt-image-1 auto quality", mediatrail.Billable{Provider: "openai", Model: "gpt-image-1", Attributes: map[string]string{"quality": "auto"}}, 0.042, "image", "request", true},
		{"fal flux/dev by megapixel", mediatrail.Billable{Provider: "fal", Model: "fal-ai/flux/dev", Usage: usage(1, "image"), Megapixels: 1.048576}, 0.0262144, "megapixel", "media", true},
		{"fal flux/dev sub-path", mediatrail.Billable{Provider: "fal", Model: "fal-ai/flux/dev/image-to-image", Megapixels: 2}, 0.05, "megapixel", "media", true},
		{"fal flux/dev-like name is not flux/dev", mediatrail.Billable{Provider: "fal", Model: "fal-ai/flux/devious"}, 0, "", "provider", false},
		{"replicate flux-schnell", mediatrail.Billable{Provider: "replicate", Model: "black-forest-labs/flux-schnell", Usage: usage(1, "image")}, 0.003, "image", "provider", true},
		{"stability core", mediatrail.Billable{Provider: "stability", Model: "stable-image-core", Usage: usage(1, "image")}, 0.03, "image", "provider", true},
		{"stability search-and-replace", mediatrail.Billable{Provider: "stability", Model: "search-and-replace"}, 0.04, "image", "request", true},
		{"pika 1080p", mediatrail.Billable{Provider: "pika", Model: "fal-ai/pika/v2.2/text-to-video", Attributes: map[string]string{"resolution": "1080p"}}, 0.45, "video", "request", true},
		{"runway seconds", mediatrail.Billable{Provider: "runway", Model: "gen4_turbo", Seconds: 10}, 0.5, "video_second", "media", true},
		{"unknown model is unpriced", mediatrail.Billable{Provider: "openai", Model: "gpt-4o-transcribe", Usage: usage(17, "token")}, 0, "token", "provider", false},
		{"a provider's prices are its own", mediatrail.Billable{Provider: "replicate", Model: "dall-e-3"}, 0, "", "provider", false},
		{"local tts is free but priced", mediatrail.Billable{Provider: "local", Model: "espeak-ng", Characters: 40}, 0, "character", "request", true},
		{"local stt is free but priced", mediatrail.Billable{Provider: "local", Model: "pocketsphinx", Usage: usage(3.5, "second")}, 0, "second", "provider", true},
		{"local image_gen is free but priced", mediatrail.Billable{Provider: "local", Model: "procedural-v1", Usage: usage(1, "image")}, 0, "image", "provider", true},
		{"local image_edit is free but priced", mediatrail.Billable{Provider: "local", Model: "imageops", Usage: usage(1, "image")}, 0, "image", "provider", true},
	} {
		got := mediatrail.DefaultPrices().Estimate(tc.b)
		if math.Abs(got.Amount-tc.amount) > 1e-12 || got.Unit != tc.unit || got.Priced != tc.priced || got.Source != tc.source || got.Currency != "USD" {
			t.Errorf("%s: got %+v, want amount %v unit %q source %q priced %v", tc.name, got, tc.amount, tc.unit, tc.source, tc.priced)
		}
	}
}

// Every model the README names has a price row: a call to it is never
// unpriced (counted at 0). Each name must still be in the README, so the
// list follows it.
func TestModelsNamedInREADMEArePriced(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ provider, named, model string }{
		{"runway", "gen4.5", "gen4.5"},
		{"runway", "veo3.1", "veo3.1"},
		{"runway", "gen4_turbo", "gen4_turbo"},
		{"replicate", "minimax/video-01", "minimax/video-01"},
		{"fal", "fal-ai/kling-video/", "fal-ai/kling-video/v2.1/standard/text-to-video"},
		{"fal", "fal-ai/kling-video/", "fal-ai/kling-video/v2.1/master/image-to-video"},
		{"fal", "fal-ai/pika/v2.2/", "fal-ai/pika/v2.2/text-to-video"},
		{"luma", "ray-2", "ray-2"},
	} {
		t.Run(c.provider+"/"+c.model, func(t *testing.T) {
			if !strings.Contains(string(readme), c.named) {
				t.Fatalf("README no longer names %s: update this list", c.named)
			}
			cost := mediatrail.DefaultPrices().Estimate(mediatrail.Billable{Provider: c.provider, Model: c.model, Seconds: 5, Images: 1})
			if !cost.Priced || cost.Amount <= 0 {
				t.Errorf("%s %s: %+v, want a price", c.provider, c.model, cost)
			}
		})
	}
	// A specific prefix wins over the general one listed after it.
	master := mediatrail.DefaultPrices().Estimate(mediatrail.Billable{Provider: "fal", Model: "fal-ai/kling-video/v2.1/master/image-to-video", Seconds: 5})
	if master.UnitPrice != 0.28 {
		t.Errorf("kling master unit price %v, want 0.28", master.UnitPrice)
	}
}
