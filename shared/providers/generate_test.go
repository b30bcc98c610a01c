package providers_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"reflect"
	"strings"
	"testing"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/providers/fake"
)

// TestGenerate runs every synchronous (provider, capability) pair against its
// fake and checks the result and the request the provider received.
func TestGenerate(t *testing.T) {
	withModel := func(r mediatrail.MediaRequest, m string) mediatrail.MediaRequest { r.Model = m; return r }
	withConfig := func(r mediatrail.MediaRequest, c map[string]any) mediatrail.MediaRequest { r.Config = c; return r }
	fromURL := func(r mediatrail.MediaRequest, name string) mediatrail.MediaRequest {
		r.Input = &mediatrail.MediaInput{URL: "FAKE/files/" + name}
		return r
	}
	words := []mediatrail.Word{{Text: "Hello", Start: 0.08, End: 0.48}, {Text: "world.", Start: 0.56, End: 1.1}}

	type want struct {
		contentType string
		media       []byte // streamed Body
		urlSuffix   string // or a URL on the fake
		text        string
		words       int
		usage       mediatrail.Usage
		model       string
		width       int
		height      int
		requestID   string // "" means the fake's header id of the first request
	}
	tests := []struct {
		name     string
		provider string
		req      mediatrail.MediaRequest
		plan     *fake.JobPlan
		want     want
		// paths are the method and path of every request the provider sent.
		paths []string
		check func(t *testing.T, first fake.Request)
	}{
		{
			name: "elevenlabs tts", provider: "elevenlabs", req: withConfig(ttsRequest(), map[string]any{"voice_settings": map[string]any{"stability": 0.5}}),
			want:  want{contentType: "audio/mpeg", media: fake.MP3(), usage: mediatrail.Usage{Quantity: 12, Unit: "character"}, model: "eleven_multilingual_v2"},
			paths: []string{"POST /v1/text-to-speech/21m00Tcm4TlvDq8ikWAM"},
			check: func(t *testing.T, r fake.Request) {
				wantEqual(t, "output_format", r.Query.Get("output_format"), "mp3_44100_128")
				wantEqual(t, "body", r.JSON(), map[string]any{"text": "Hello world.", "model_id": "eleven_multilingual_v2", "voice_settings": map[string]any{"stability": 0.5}})
			},
		},
		{
			name: "elevenlabs tts voice and format", provider: "elevenlabs", req: withConfig(ttsRequest(), map[string]any{"voice_id": "JBFqnCBsd6RMkjVDRZzb", "output_format": "pcm_16000"}),
			want:  want{contentType: "audio/wav", media: fake.WAV(), usage: mediatrail.Usage{Quantity: 12, Unit: "character"}, model: "eleven_multilingual_v2"},
			paths: []string{"POST /v1/text-to-speech/JBFqnCBsd6RMkjVDRZzb"},
			check: func(t *testing.T, r fake.Request) {
				wantEqual(t, "output_format", r.Query.Get("output_format"), "pcm_16000")
				wantEqual(t, "body", r.JSON(), map[string]any{"text": "Hello world.", "model_id": "eleven_multilingual_v2"})
			},
		},
		{
			name: "elevenlabs stt file", provider: "elevenlabs", req: sttRequest(),
			want:  want{contentType: "text/plain; charset=utf-8", text: fake.Transcript, words: 2, usage: mediatrail.Usage{Quantity: 1.25, Unit: "second"}, model: "scribe_v1"},
			paths: []string{"POST /v1/speech-to-text"},
			check: func(t *testing.T, r fake.Request) {
				fields, files := r.Form()
				wantEqual(t, "model_id", fields.Get("model_id"), "scribe_v1")
				wantEqual(t, "file", files["file"], fake.File{Name: "hello.wav", ContentType: "audio/wav", Data: fake.WAV()})
			},
		},
		{
			name: "elevenlabs stt url", provider: "elevenlabs", req: fromURL(sttRequest(), "hello.wav"),
			want:  want{contentType: "text/plain; charset=utf-8", text: fake.Transcript, words: 2, usage: mediatrail.Usage{Quantity: 1.25, Unit: "second"}, model: "scribe_v1"},
			paths: []string{"POST /v1/speech-to-text"},
			check: func(t *testing.T, r fake.Request) {
				fields, files := r.Form()
				wantEqual(t, "cloud_storage_url has the URL", strings.HasSuffix(fields.Get("cloud_storage_url"), "/files/hello.wav"), true)
				wantEqual(t, "files", len(files), 0)
			},
		},
		{
			name: "deepgram stt bytes", provider: "deepgram", req: sttRequest(),
			want:  want{contentType: "text/plain; charset=utf-8", text: fake.Transcript, words: 2, usage: mediatrail.Usage{Quantity: 1.25, Unit: "second"}, model: "nova-3"},
			paths: []string{"POST /v1/listen"},
			check: func(t *testing.T, r fake.Request) {
				wantEqual(t, "query", r.Query.Encode(), "model=nova-3&smart_format=true")
				wantEqual(t, "content type", r.Header.Get("Content-Type"), "audio/wav")
				wantEqual(t, "body is the audio", bytes.Equal(r.Body, fake.WAV()), true)
			},
		},
		{
			name: "deepgram stt url, two channels", provider: "deepgram", req: withConfig(fromURL(sttRequest(), "hello.wav"), map[string]any{"multichannel": true}),
			want:  want{contentType: "text/plain; charset=utf-8", text: fake.Transcript + "\n" + fake.Transcript, words: 4, usage: mediatrail.Usage{Quantity: 2.5, Unit: "second"}, model: "nova-3"},
			paths: []string{"POST /v1/listen"},
			check: func(t *testing.T, r fake.Request) {
				wantEqual(t, "multichannel", r.Query.Get("multichannel"), "true")
				wantEqual(t, "url", strings.HasSuffix(r.JSON()["url"].(string), "/files/hello.wav"), true)
			},
		},
		{
			name: "deepgram tts", provider: "deepgram", req: ttsRequest(),
			want:  want{contentType: "audio/mpeg", media: fake.MP3(), usage: mediatrail.Usage{Quantity: 12, Unit: "character"}, model: "aura-2-thalia-en"},
			paths: []string{"POST /v1/speak"},
			check: func(t *testing.T, r fake.Request) {
				wantEqual(t, "model", r.Query.Get("model"), "aura-2-thalia-en")
				wantEqual(t, "body", r.JSON(), map[string]any{"text": "Hello world."})
			},
		},
		{
			name: "deepgram tts wav", provider: "deepgram", req: withConfig(ttsRequest(), map[string]any{"encoding": "linear16", "container": "wav"}),
			want:  want{contentType: "audio/wav", media: fake.WAV(), usage: mediatrail.Usage{Quantity: 12, Unit: "character"}, model: "aura-2-thalia-en"},
			paths: []string{"POST /v1/speak"},
		},
		{
			name: "openai tts", provider: "openai", req: ttsRequest(),
			want:  want{contentType: "audio/mpeg", media: fake.MP3(), usage: mediatrail.Usage{Quantity: 12, Unit: "character"}, model: "tts-1"},
			paths: []string{"POST /v1/audio/speech"},
			check: func(t *testing.T, r fake.Request) {
				wantEqual(t, "body", r.JSON(), map[string]any{"model": "tts-1", "input": "Hello world.", "voice": "alloy"})
			},
		},
		{
			name: "openai stt whisper", provider: "openai", req: sttRequest(),
			want:  want{contentType: "text/plain; charset=utf-8", text: fake.Transcript, words: 2, usage: mediatrail.Usage{Quantity: 1.25, Unit: "second"}, model: "whisper-1"},
			paths: []string{"POST /v1/audio/transcriptions"},
			check: func(t *testing.T, r fake.Request) {
				fields, files := r.Form()
				wantEqual(t, "model", fields.Get("model"), "whisper-1")
				wantEqual(t, "response_format", fields.Get("response_format"), "verbose_json")
				wantEqual(t, "granularities", fields["timestamp_granularities[]"], []string{"word", "segment"})
				wantEqual(t, "file", files["file"].Name, "hello.wav")
			},
		},
		{
			name: "openai stt gpt-4o, input downloaded", provider: "openai", req: withModel(fromURL(sttRequest(), "hello.wav"), "gpt-4o-transcribe"),
			want:  want{contentType: "text/plain; charset=utf-8", text: fake.Transcript, usage: mediatrail.Usage{Quantity: 17, Unit: "token"}, model: "gpt-4o-transcribe"},
			paths: []string{"POST /v1/audio/transcriptions"},
			check: func(t *testing.T, r fake.Request) {
				fields, files := r.Form()
				wantEqual(t, "response_format", fields.Get("response_format"), "json")
				wantEqual(t, "file", files["file"], fake.File{Name: "hello.wav", ContentType: "audio/wav", Data: fake.WAV()})
			},
		},
		{
			name: "openai image_gen dall-e-3", provider: "openai", req: imageRequest(),
			want:  want{contentType: "image/png", urlSuffix: ".png", usage: mediatrail.Usage{Quantity: 1, Unit: "image"}, model: "dall-e-3"},
			paths: []string{"POST /v1/images/generations"},
			check: func(t *testing.T, r fake.Request) {
				wantEqual(t, "body", r.JSON(), map[string]any{"prompt": "a lighthouse at dusk", "model": "dall-e-3"})
			},
		},
		{
			name: "openai image_gen gpt-image-1", provider: "openai", req: withModel(imageRequest(), "gpt-image-1"),
			want:  want{contentType: "image/png", media: fake.PNG(), usage: mediatrail.Usage{Quantity: 1, Unit: "image"}, model: "gpt-image-1", width: 64, height: 48},
			paths: []string{"POST /v1/images/generations"},
		},
		{
			name: "openai image_edit", provider: "openai", req: editRequest(),
			want:  want{contentType: "image/png", media: fake.PNG(), usage: mediatrail.Usage{Quantity: 1, Unit: "image"}, model: "gpt-image-1", width: 64, height: 48},
			paths: []string{"POST /v1/images/edits"},
			check: func(t *testing.T, r fake.Request) {
				fields, files := r.Form()
				wantEqual(t, "fields", fields, map[string][]string{"prompt": {"make it night"}, "model": {"gpt-image-1"}})
				wantEqual(t, "image", files["image"], fake.File{Name: "input.png", ContentType: "image/png", Data: fake.PNG()})
			},
		},
		{
			name: "stability image_gen core", provider: "stability", req: withConfig(imageRequest(), map[string]any{"aspect_ratio": "16:9"}),
			want:  want{contentType: "image/png", media: fake.PNG(), usage: mediatrail.Usage{Quantity: 1, Unit: "image"}, model: "stable-image-core", width: 64, height: 48},
			paths: []string{"POST /v2beta/stable-image/generate/core"},
			check: func(t *testing.T, r fake.Request) {
				fields, _ := r.Form()
				wantEqual(t, "accept", r.Header.Get("Accept"), "image/*")
				wantEqual(t, "fields", fields, map[string][]string{"prompt": {"a lighthouse at dusk"}, "aspect_ratio": {"16:9"}})
			},
		},
		{
			name: "stability image_gen sd3.5", provider: "stability", req: withModel(imageRequest(), "sd3.5-large"),
			want:  want{contentType: "image/png", media: fake.PNG(), usage: mediatrail.Usage{Quantity: 1, Unit: "image"}, model: "sd3.5-large", width: 64, height: 48},
			paths: []string{"POST /v2beta/stable-image/generate/sd3"},
			check: func(t *testing.T, r fake.Request) {
				fields, _ := r.Form()
				wantEqual(t, "model", fields.Get("model"), "sd3.5-large")
			},
		},
		{
			name: "stability image_edit inpaint", provider: "stability", req: editRequest(),
			want:  want{contentType: "image/png", media: fake.PNG(), usage: mediatrail.Usage{Quantity: 1, Unit: "image"}, model: "inpaint", width: 64, height: 48},
			paths: []string{"POST /v2beta/stable-image/edit/inpaint"},
			check: func(t *testing.T, r fake.Request) {
				_, files := r.Form()
				wantEqual(t, "image", files["image"].Data, fake.PNG())
			},
		},
		{
			name: "stability image_edit search-and-replace", provider: "stability", req: withConfig(editRequest(), map[string]any{"search_prompt": "sun"}),
			want:  want{contentType: "image/png", media: fake.PNG(), usage: mediatrail.Usage{Quantity: 1, Unit: "image"}, model: "search-and-replace", width: 64, height: 48},
			paths: []string{"POST /v2beta/stable-image/edit/search-and-replace"},
		},
		{
			name: "fal image_gen", provider: "fal", req: imageRequest(),
			want: want{contentType: "image/png", urlSuffix: ".png", usage: mediatrail.Usage{Quantity: 1, Unit: "image"}, model: "fal-ai/flux/dev", width: 64, height: 48, requestID: fakeJobID},
			paths: []string{
				"POST /fal-ai/flux/dev",
				"GET /fal-ai/flux/requests/" + fakeJobID + "/status",
				"GET /fal-ai/flux/requests/" + fakeJobID + "/status",
				"GET /fal-ai/flux/requests/" + fakeJobID + "/status",
				"GET /fal-ai/flux/requests/" + fakeJobID,
			},
			check: func(t *testing.T, r fake.Request) {
				wantEqual(t, "input", r.JSON(), map[string]any{"prompt": "a lighthouse at dusk"})
			},
		},
		{
			name: "fal image_edit", provider: "fal", req: editRequest(), plan: &fake.JobPlan{},
			want: want{contentType: "image/png", urlSuffix: ".png", usage: mediatrail.Usage{Quantity: 1, Unit: "image"}, model: "fal-ai/flux/dev/image-to-image", width: 64, height: 48, requestID: fakeJobID},
			paths: []string{
				"POST /fal-ai/flux/dev/image-to-image",
				"GET /fal-ai/flux/requests/" + fakeJobID + "/status",
				"GET /fal-ai/flux/requests/" + fakeJobID,
			},
			check: func(t *testing.T, r fake.Request) {
				wantEqual[any](t, "image_url", r.JSON()["image_url"], "data:image/png;base64,"+base64.StdEncoding.EncodeToString(fake.PNG()))
			},
		},
		{
			name: "replicate image_gen waits", provider: "replicate", req: imageRequest(),
			want:  want{contentType: "image/png", urlSuffix: ".png", usage: mediatrail.Usage{Quantity: 1, Unit: "image"}, model: "black-forest-labs/flux-schnell", requestID: fakeJobID},
			paths: []string{"POST /v1/models/black-forest-labs/flux-schnell/predictions"},
			check: func(t *testing.T, r fake.Request) {
				wantEqual(t, "Prefer", r.Header.Get("Prefer"), "wait")
				wantEqual(t, "body", r.JSON(), map[string]any{"input": map[string]any{"prompt": "a lighthouse at dusk"}})
			},
		},
		{
			name: "replicate image_gen outlasting the wait", provider: "replicate", req: imageRequest(), plan: &fake.JobPlan{Running: 1, SlowerThanWait: true},
			want:  want{contentType: "image/png", urlSuffix: ".png", usage: mediatrail.Usage{Quantity: 1, Unit: "image"}, model: "black-forest-labs/flux-schnell", requestID: fakeJobID},
			paths: []string{"POST /v1/models/black-forest-labs/flux-schnell/predictions", "GET /v1/predictions/" + fakeJobID, "GET /v1/predictions/" + fakeJobID},
		},
		{
			name: "replicate image_gen by version", provider: "replicate", req: withModel(imageRequest(), "stability-ai/sdxl:"+strings.Repeat("ab", 32)),
			want:  want{contentType: "image/png", urlSuffix: ".png", usage: mediatrail.Usage{Quantity: 1, Unit: "image"}, model: "replicate/version-" + strings.Repeat("ab", 32), requestID: fakeJobID},
			paths: []string{"POST /v1/predictions"},
			check: func(t *testing.T, r fake.Request) {
				wantEqual[any](t, "version", r.JSON()["version"], strings.Repeat("ab", 32))
			},
		},
		{
			name: "replicate image_edit", provider: "replicate", req: editRequest(),
			want:  want{contentType: "image/png", urlSuffix: ".png", usage: mediatrail.Usage{Quantity: 1, Unit: "image"}, model: "black-forest-labs/flux-kontext-pro", requestID: fakeJobID},
			paths: []string{"POST /v1/models/black-forest-labs/flux-kontext-pro/predictions"},
			check: func(t *testing.T, r fake.Request) {
				input := r.JSON()["input"].(map[string]any)
				wantEqual[any](t, "input_image", input["input_image"], "data:image/png;base64,"+base64.StdEncoding.EncodeToString(fake.PNG()))
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.provider)
			if tt.plan != nil {
				e.fake.PlanJobs(*tt.plan)
			}
			if tt.req.Input != nil && strings.HasPrefix(tt.req.Input.URL, "FAKE") {
				tt.req.Input.URL = strings.Replace(tt.req.Input.URL, "FAKE", e.fake.URL, 1)
			}
			res, err := e.p.Generate(context.Background(), tt.req)
			if err != nil {
				t.Fatalf("Generate: %v", err)
			}
			reqs := e.fake.Requests()
			var paths []string
			for _, r := range reqs {
				paths = append(paths, r.Method+" "+r.Path)
			}
			wantEqual(t, "requests", paths, tt.paths)

			w := tt.want
			if w.requestID == "" {
				w.requestID = tt.provider + "-req-0001"
			}
			got := want{contentType: res.ContentType, text: res.Text, words: len(res.Words), usage: res.Usage, model: res.Model, width: res.Width, height: res.Height, requestID: res.RequestID}
			if w.media != nil {
				got.media = mustRead(t, res.Body)
			}
			if w.urlSuffix != "" {
				if !strings.HasPrefix(res.URL, e.fake.URL+"/files/") || !strings.HasSuffix(res.URL, w.urlSuffix) {
					t.Errorf("URL = %q, want one on the fake ending in %s", res.URL, w.urlSuffix)
				}
				got.urlSuffix = w.urlSuffix
				_, data := mustGet(t, res.URL)
				wantEqual(t, "downloaded media", data, fake.PNG())
			}
			wantEqual(t, "result", got, w)
			if w.words == 2 && !reflect.DeepEqual(res.Words, words) && tt.provider != "elevenlabs" {
				t.Errorf("words = %+v, want %+v", res.Words, words)
			}
			if tt.check != nil {
				tt.check(t, reqs[0])
			}
			for _, r := range reqs {
				for k, v := range r.Header {
					if strings.Contains(strings.Join(v, ","), fake.Key) {
						t.Errorf("header %s carries the key after the fake stripped credentials", k)
					}
				}
			}
		})
	}
}

// fakeJobID is the id of a fake's first job.
const fakeJobID = "00000000-0000-4000-8000-000000000001"

// wantEqual fails the test when got and want differ (reflect.DeepEqual).
func wantEqual[T any](tb testing.TB, what string, got, want T) {
	tb.Helper()
	if !reflect.DeepEqual(got, want) {
		tb.Errorf("%s = %#v, want %#v", what, got, want)
	}
}

// TestWrongKey: a refused key is EPROVIDER (our configuration), and the key
// never shows in the error even where the provider quotes it (OpenAI).
func TestWrongKey(t *testing.T) {
	tests := []struct {
		provider string
		req      mediatrail.MediaRequest
	}{
		{"elevenlabs", ttsRequest()},
		{"deepgram", ttsRequest()},
		{"openai", ttsRequest()},
		{"stability", imageRequest()},
		{"fal", imageRequest()},
		{"replicate", imageRequest()},
	}
	for _, tt := range tests {
		t.Run(tt.provider, func(t *testing.T) {
			e := newEnv(t, tt.provider, withKey("wrong-key-1234567890"))
			_, err := e.p.Generate(context.Background(), tt.req)
			pe := providerError(t, err)
			wantEqual(t, "status", pe.Status, http.StatusUnauthorized)
			wantEqual(t, "code", mediatrail.ErrorCode(err), mediatrail.EPROVIDER)
			assertNoKey(t, err, "wrong-key-1234567890")
		})
	}
}
