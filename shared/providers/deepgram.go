package providers

import (
	"cmp"
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// Deepgram transcribes (stt) and speaks (tts).
//
// Config entries become query parameters as Deepgram names them (smart_format,
// diarize, multichannel, language; encoding, container, sample_rate for speech).
type Deepgram struct{ *provider }

var deepgram = spec{
	name: "deepgram", keyEnv: "DEEPGRAM_API_KEY", baseEnv: "DEEPGRAM_BASE_URL",
	baseURL: "https://api.deepgram.com", authHeader: "Authorization", authScheme: "Token ",
	caps: []mediatrail.Capability{mediatrail.CapabilitySTT, mediatrail.CapabilityTTS},
}

const (
	deepgramSTTModel = "nova-3"
	deepgramTTSModel = "aura-2-thalia-en"
)

// NewDeepgram returns the Deepgram client.
func NewDeepgram(cfg Config) *Deepgram { return &Deepgram{newProvider(deepgram, cfg)} }

func (d *Deepgram) Generate(ctx context.Context, req mediatrail.MediaRequest) (*mediatrail.MediaResult, error) {
	if err := d.check(req, false); err != nil {
		return nil, err
	}
	if req.Capability == mediatrail.CapabilityTTS {
		return d.speak(ctx, req)
	}
	return d.transcribe(ctx, req)
}

// transcribe: POST /v1/listen with the audio as the body, or {"url"} for a URL
// input. Billed seconds are metadata.duration times the channels.
func (d *Deepgram) transcribe(ctx context.Context, req mediatrail.MediaRequest) (*mediatrail.MediaResult, error) {
	m := model(req, deepgramSTTModel)
	o := optionsOf(req.Config)
	if _, ok := o["smart_format"]; !ok {
		o["smart_format"] = true
	}
	var c call
	if req.Input.URL != "" {
		c = jsonCall(http.MethodPost, "/v1/listen", map[string]string{"url": req.Input.URL})
	} else {
		in, err := d.inputFile(ctx, req.Input)
		if err != nil {
			return nil, err
		}
		c = call{method: http.MethodPost, path: "/v1/listen", body: in.data, contentType: in.contentType}
	}
	c.query = o.query(url.Values{"model": {m}})

	var out struct {
		Metadata struct {
			RequestID string  `json:"request_id"`
			Duration  float64 `json:"duration"`
			Channels  int     `json:"channels"`
		} `json:"metadata"`
		Results struct {
			Channels []struct {
				Alternatives []struct {
					Transcript string  `json:"transcript"`
					Confidence float64 `json:"confidence"`
					Words      []struct {
						Word           string  `json:"word"`
						PunctuatedWord string  `json:"punctuated_word"`
						Start          float64 `json:"start"`
						End            float64 `json:"end"`
						Speaker        *int    `json:"speaker"`
					} `json:"words"`
				} `json:"alternatives"`
			} `json:"channels"`
		} `json:"results"`
	}
	a, err := d.json(ctx, c, &out)
	if err != nil {
		return nil, err
	}
	res := &mediatrail.MediaResult{
		ContentType: transcriptType, DurationSeconds: out.Metadata.Duration,
		RequestID: cmp.Or(requestID(a.header), out.Metadata.RequestID), Model: m,
		Metadata: map[string]any{"channels": out.Metadata.Channels},
	}
	var texts []string
	for _, ch := range out.Results.Channels {
		if len(ch.Alternatives) == 0 {
			continue
		}
		alt := ch.Alternatives[0]
		texts = append(texts, alt.Transcript)
		for _, w := range alt.Words {
			word := mediatrail.Word{Text: cmp.Or(w.PunctuatedWord, w.Word), Start: w.Start, End: w.End}
			if w.Speaker != nil {
				word.Speaker = strconv.Itoa(*w.Speaker)
			}
			res.Words = append(res.Words, word)
		}
		res.Metadata["confidence"] = alt.Confidence
	}
	res.Text = strings.Join(texts, "\n")
	res.Usage = mediatrail.Usage{Quantity: out.Metadata.Duration * float64(max(1, out.Metadata.Channels)), Unit: mediatrail.UnitSecond}
	return res, nil
}

// speak: POST /v1/speak {"text"}; the answer is the audio, with the billed
// characters in dg-char-count and the model in dg-model-name.
func (d *Deepgram) speak(ctx context.Context, req mediatrail.MediaRequest) (*mediatrail.MediaResult, error) {
	m := model(req, deepgramTTSModel)
	c := jsonCall(http.MethodPost, "/v1/speak", map[string]string{"text": req.Prompt})
	c.query, c.accept = optionsOf(req.Config).query(url.Values{"model": {m}}), "audio/*"
	res, h, err := d.media(ctx, c, "audio")
	if err != nil {
		return nil, err
	}
	res.Usage = characters(h, "dg-char-count", req.Prompt)
	res.Model = cmp.Or(h.Get("dg-model-name"), m)
	return res, nil
}
