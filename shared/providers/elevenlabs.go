package providers

import (
	"context"
	"net/http"
	"net/url"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// ElevenLabs speaks (tts) and transcribes (stt).
//
// Config: voice_id (or voice) picks the voice, output_format the audio encoding
// (default mp3_44100_128); everything else goes into the request body as named
// (voice_settings, language_code, seed, diarize, timestamps_granularity, ...).
type ElevenLabs struct{ *provider }

var elevenLabs = spec{
	name: "elevenlabs", keyEnv: "ELEVENLABS_API_KEY", baseEnv: "ELEVENLABS_BASE_URL",
	baseURL: "https://api.elevenlabs.io", authHeader: "xi-api-key",
	caps: []mediatrail.Capability{mediatrail.CapabilityTTS, mediatrail.CapabilitySTT},
}

const (
	elevenLabsTTSModel = "eleven_multilingual_v2"
	elevenLabsSTTModel = "scribe_v1"
	elevenLabsVoice    = "21m00Tcm4TlvDq8ikWAM" // "Rachel", a premade voice every account has
	elevenLabsFormat   = "mp3_44100_128"
)

// NewElevenLabs returns the ElevenLabs client; cfg.APIKey is an xi-api-key.
func NewElevenLabs(cfg Config) *ElevenLabs { return &ElevenLabs{newProvider(elevenLabs, cfg)} }

func (e *ElevenLabs) Generate(ctx context.Context, req mediatrail.MediaRequest) (*mediatrail.MediaResult, error) {
	if err := e.check(req, false); err != nil {
		return nil, err
	}
	if req.Capability == mediatrail.CapabilityTTS {
		return e.speak(ctx, req)
	}
	return e.transcribe(ctx, req)
}

// speak: POST /v1/text-to-speech/{voice_id}; the answer is the audio. Billed
// characters come in the character-cost header.
func (e *ElevenLabs) speak(ctx context.Context, req mediatrail.MediaRequest) (*mediatrail.MediaResult, error) {
	o := optionsOf(req.Config)
	voice := o.text("voice_id", o.text("voice", elevenLabsVoice))
	format := o.text("output_format", elevenLabsFormat)
	m := model(req, elevenLabsTTSModel)
	o["text"], o["model_id"] = req.Prompt, m

	c := jsonCall(http.MethodPost, "/v1/text-to-speech/"+url.PathEscape(voice), o)
	c.query, c.accept = url.Values{"output_format": {format}}, "audio/*"
	res, h, err := e.media(ctx, c, "audio")
	if err != nil {
		return nil, err
	}
	res.Usage = characters(h, "character-cost", req.Prompt)
	res.Model = m
	res.Metadata = map[string]any{"voice_id": voice, "output_format": format}
	return res, nil
}

// transcribe: POST /v1/speech-to-text, multipart with the file or, for a URL
// input, cloud_storage_url. There is no duration field: the last word's end
// stands in for it.
func (e *ElevenLabs) transcribe(ctx context.Context, req mediatrail.MediaRequest) (*mediatrail.MediaResult, error) {
	m := model(req, elevenLabsSTTModel)
	f := newForm()
	f.set("model_id", m)
	if req.Input.URL != "" {
		f.set("cloud_storage_url", req.Input.URL)
	} else {
		in, err := e.inputFile(ctx, req.Input)
		if err != nil {
			return nil, err
		}
		f.file("file", in)
	}
	f.setAll(optionsOf(req.Config))

	var out struct {
		LanguageCode        string  `json:"language_code"`
		LanguageProbability float64 `json:"language_probability"`
		Text                string  `json:"text"`
		Words               []struct {
			Text      string  `json:"text"`
			Start     float64 `json:"start"`
			End       float64 `json:"end"`
			Type      string  `json:"type"` // word, spacing or audio_event
			SpeakerID string  `json:"speaker_id"`
		} `json:"words"`
	}
	a, err := e.json(ctx, f.call(http.MethodPost, "/v1/speech-to-text"), &out)
	if err != nil {
		return nil, err
	}
	res := &mediatrail.MediaResult{
		ContentType: transcriptType, Text: out.Text, RequestID: requestID(a.header), Model: m,
		Metadata: map[string]any{"language_code": out.LanguageCode, "language_probability": out.LanguageProbability},
	}
	for _, w := range out.Words {
		res.DurationSeconds = max(res.DurationSeconds, w.End)
		if w.Type == "word" || w.Type == "" {
			res.Words = append(res.Words, mediatrail.Word{Text: w.Text, Start: w.Start, End: w.End, Speaker: w.SpeakerID})
		}
	}
	res.Usage = mediatrail.Usage{Quantity: res.DurationSeconds, Unit: mediatrail.UnitSecond}
	return res, nil
}
