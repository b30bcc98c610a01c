package providers

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gabriel-vasile/mimetype"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// OpenAI speaks (tts), transcribes (stt), draws (image_gen) and edits images
// (image_edit).
//
// Config entries go into the request as OpenAI names them (voice, speed,
// instructions, response_format, language, size, quality, background, ...).
type OpenAI struct{ *provider }

var openAI = spec{
	name: "openai", keyEnv: "OPENAI_API_KEY", baseEnv: "OPENAI_BASE_URL",
	baseURL: "https://api.openai.com/v1", authHeader: "Authorization", authScheme: "Bearer ",
	caps: []mediatrail.Capability{mediatrail.CapabilityTTS, mediatrail.CapabilitySTT, mediatrail.CapabilityImageGen, mediatrail.CapabilityImageEdit},
}

const (
	openAITTSModel       = "tts-1"
	openAIVoice          = "alloy"
	openAISTTModel       = "whisper-1"
	openAIImageModel     = "dall-e-3"
	openAIEditModel      = "gpt-image-1" // dall-e-3 does not edit
	openAIMaxSpeechChars = 4096
)

// NewOpenAI returns the OpenAI client.
func NewOpenAI(cfg Config) *OpenAI { return &OpenAI{newProvider(openAI, cfg)} }

func (o *OpenAI) Generate(ctx context.Context, req mediatrail.MediaRequest) (*mediatrail.MediaResult, error) {
	if err := o.check(req, false); err != nil {
		return nil, err
	}
	switch req.Capability {
	case mediatrail.CapabilityTTS:
		return o.speak(ctx, req)
	case mediatrail.CapabilitySTT:
		return o.transcribe(ctx, req)
	case mediatrail.CapabilityImageGen:
		m := model(req, openAIImageModel)
		body := optionsOf(req.Config)
		body["prompt"], body["model"] = req.Prompt, m
		return o.image(ctx, jsonCall(http.MethodPost, "/images/generations", body), m)
	}
	m := model(req, openAIEditModel)
	in, err := o.inputFile(ctx, req.Input)
	if err != nil {
		return nil, err
	}
	f := newForm()
	f.file("image", in)
	f.set("prompt", req.Prompt)
	f.set("model", m)
	f.setAll(optionsOf(req.Config))
	return o.image(ctx, f.call(http.MethodPost, "/images/edits"), m)
}

// speak: POST /audio/speech; the answer is the audio. OpenAI reports no usage:
// the characters sent are what it bills.
func (o *OpenAI) speak(ctx context.Context, req mediatrail.MediaRequest) (*mediatrail.MediaResult, error) {
	if utf8.RuneCountInString(req.Prompt) > openAIMaxSpeechChars {
		return nil, mediatrail.Invalid("prompt", "provider openai speaks at most %d characters per request", openAIMaxSpeechChars)
	}
	m := model(req, openAITTSModel)
	body := optionsOf(req.Config)
	if _, ok := body["voice"]; !ok {
		body["voice"] = openAIVoice
	}
	body["model"], body["input"] = m, req.Prompt
	c := jsonCall(http.MethodPost, "/audio/speech", body)
	c.accept = "audio/*"
	res, _, err := o.media(ctx, c, "audio")
	if err != nil {
		return nil, err
	}
	res.Model = m
	res.Usage = characters(nil, "", req.Prompt)
	res.Metadata = map[string]any{"voice": body["voice"]}
	return res, nil
}

// transcribe: POST /audio/transcriptions, multipart. whisper-1 is asked for
// verbose_json with word and segment times unless Config picks a format; the
// newer models answer json with a usage object.
func (o *OpenAI) transcribe(ctx context.Context, req mediatrail.MediaRequest) (*mediatrail.MediaResult, error) {
	m := model(req, openAISTTModel)
	in, err := o.inputFile(ctx, req.Input)
	if err != nil {
		return nil, err
	}
	opts := optionsOf(req.Config)
	format := opts.text("response_format", "")
	if format == "" {
		format = "json"
		if m == openAISTTModel {
			format = "verbose_json"
			if _, ok := opts["timestamp_granularities[]"]; !ok {
				opts["timestamp_granularities[]"] = []any{"word", "segment"}
			}
		}
	}
	f := newForm()
	f.file("file", in)
	f.set("model", m)
	f.set("response_format", format)
	f.setAll(opts)
	a, err := o.send(ctx, f.call(http.MethodPost, "/audio/transcriptions"), false)
	if err != nil {
		return nil, err
	}
	res := &mediatrail.MediaResult{ContentType: transcriptType, RequestID: requestID(a.header), Model: m}
	switch format {
	case "text":
		res.Text = string(a.data)
		return res, nil
	case "srt":
		res.Text, res.ContentType = string(a.data), "application/x-subrip"
		return res, nil
	case "vtt":
		res.Text, res.ContentType = string(a.data), "text/vtt"
		return res, nil
	}
	var out struct {
		Text     string  `json:"text"`
		Language string  `json:"language"`
		Duration float64 `json:"duration"`
		Words    []struct {
			Word  string  `json:"word"`
			Start float64 `json:"start"`
			End   float64 `json:"end"`
		} `json:"words"`
		Segments []mediatrail.Segment `json:"segments"`
		Usage    struct {
			Type        string  `json:"type"`
			Seconds     float64 `json:"seconds"`
			TotalTokens float64 `json:"total_tokens"`
		} `json:"usage"`
	}
	if err := json.Unmarshal(a.data, &out); err != nil {
		return nil, o.malformed(a, err)
	}
	res.Text, res.DurationSeconds, res.Segments = out.Text, out.Duration, out.Segments
	for _, w := range out.Words {
		res.Words = append(res.Words, mediatrail.Word{Text: w.Word, Start: w.Start, End: w.End})
	}
	switch {
	case out.Usage.Type == "tokens":
		res.Usage = mediatrail.Usage{Quantity: out.Usage.TotalTokens, Unit: mediatrail.UnitToken}
	case out.Usage.Type == "duration":
		res.Usage = mediatrail.Usage{Quantity: out.Usage.Seconds, Unit: mediatrail.UnitSecond}
		res.DurationSeconds = max(res.DurationSeconds, out.Usage.Seconds)
	case out.Duration > 0:
		res.Usage = mediatrail.Usage{Quantity: out.Duration, Unit: mediatrail.UnitSecond}
	}
	if out.Language != "" {
		res.Metadata = map[string]any{"language": out.Language}
	}
	return res, nil
}

// image reads the answer of /images/generations and /images/edits: the first
// image as base64 (decoded into Body) or as a URL (DALL-E, valid for an hour).
// Usage counts every image made; token usage goes into Metadata.
func (o *OpenAI) image(ctx context.Context, c call, m string) (*mediatrail.MediaResult, error) {
	var out struct {
		Data []struct {
			B64JSON       string `json:"b64_json"`
			URL           string `json:"url"`
			RevisedPrompt string `json:"revised_prompt"`
		} `json:"data"`
		Size         string         `json:"size"`
		Quality      string         `json:"quality"`
		OutputFormat string         `json:"output_format"`
		Usage        map[string]any `json:"usage"`
	}
	a, err := o.json(ctx, c, &out)
	if err != nil {
		return nil, err
	}
	if len(out.Data) == 0 || out.Data[0].B64JSON == "" && out.Data[0].URL == "" {
		return nil, o.malformed(a, errors.New("no image in the answer"))
	}
	first := out.Data[0]
	res := &mediatrail.MediaResult{
		RequestID: requestID(a.header), Model: m,
		Usage:    mediatrail.Usage{Quantity: float64(len(out.Data)), Unit: mediatrail.UnitImage},
		Metadata: map[string]any{},
	}
	if first.B64JSON != "" {
		data, err := base64.StdEncoding.DecodeString(first.B64JSON)
		if err != nil {
			return nil, o.malformed(a, fmt.Errorf("b64_json: %w", err))
		}
		res.Body, res.ContentType = io.NopCloser(bytes.NewReader(data)), mimetype.Detect(data).String()
		res.Width, res.Height = imageSize(data)
	} else {
		res.URL, res.ContentType = first.URL, "image/"+cmp.Or(out.OutputFormat, "png")
	}
	if res.Width == 0 {
		res.Width, res.Height = parseSize(out.Size)
	}
	for k, v := range map[string]any{"revised_prompt": first.RevisedPrompt, "size": out.Size, "quality": out.Quality, "output_format": out.OutputFormat} {
		if v != "" {
			res.Metadata[k] = v
		}
	}
	if out.Usage != nil {
		res.Metadata["usage"] = out.Usage
	}
	return res, nil
}

// parseSize reads "1024x1536"; 0, 0 for anything else ("auto").
func parseSize(s string) (int, int) {
	w, h, ok := strings.Cut(s, "x")
	wi, err1 := strconv.Atoi(w)
	hi, err2 := strconv.Atoi(h)
	if !ok || err1 != nil || err2 != nil {
		return 0, 0
	}
	return wi, hi
}
