package fake

import (
	"cmp"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// OpenAI: Bearer; errors {"error":{"message","type","param","code"}}. Like the
// real API, its 401 quotes the key it refused.
func init() {
	dialects["openai"] = &dialect{
		basePath:        "/v1",
		requestIDHeader: "x-request-id",
		authHeader:      "Authorization",
		authScheme:      "Bearer ",
		errorBody: func(_ http.Header, status int, code, msg, _ string) any {
			typ := "invalid_request_error"
			switch {
			case status == http.StatusTooManyRequests:
				typ = "requests"
			case status >= 500:
				typ = "server_error"
			}
			return map[string]any{"error": map[string]any{"message": msg, "type": typ, "param": nil, "code": code}}
		},
		authError: func(presented string) (string, string) {
			return "invalid_api_key", "Incorrect API key provided: " + presented + ". You can find your API key at https://platform.openai.com/account/api-keys."
		},
		routes: func(s *Server) {
			s.mux.HandleFunc("POST /v1/audio/speech", s.openAISpeech)
			s.mux.HandleFunc("POST /v1/audio/transcriptions", s.openAITranscription)
			s.mux.HandleFunc("POST /v1/images/generations", s.openAIImages)
			s.mux.HandleFunc("POST /v1/images/edits", s.openAIImages)
		},
	}
}

// POST /v1/audio/speech {model, input, voice, response_format}.
func (s *Server) openAISpeech(w http.ResponseWriter, r *http.Request) {
	body, ok := readJSON(r)
	for _, field := range []string{"model", "input", "voice"} {
		if !ok || str(body[field]) == "" {
			s.fail(w, http.StatusBadRequest, "", fmt.Sprintf("Missing required parameter: '%s'.", field))
			return
		}
	}
	if len(str(body["input"])) > 4096 {
		s.fail(w, http.StatusBadRequest, "string_above_max_length", "'input' is too long")
		return
	}
	if str(body["response_format"]) == "wav" {
		writeMedia(w, "audio/wav", WAV())
		return
	}
	writeMedia(w, "audio/mpeg", MP3())
}

// POST /v1/audio/transcriptions, multipart file and model. whisper-1 reports
// duration usage, the gpt-4o models token usage.
func (s *Server) openAITranscription(w http.ResponseWriter, r *http.Request) {
	form, ok := readForm(r)
	if !ok || len(form.File["file"]) == 0 || len(form.Value["model"]) == 0 {
		s.fail(w, http.StatusBadRequest, "", "Missing required parameters: 'file' and 'model'.")
		return
	}
	usage := map[string]any{"type": "duration", "seconds": TranscriptSeconds}
	if strings.HasPrefix(form.Value["model"][0], "gpt-4o") {
		usage = map[string]any{"type": "tokens", "input_tokens": 14, "output_tokens": 3, "total_tokens": 17}
	}
	switch format := first(form.Value["response_format"]); format {
	case "", "json":
		writeJSON(w, http.StatusOK, map[string]any{"text": Transcript, "usage": usage})
	case "text":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte(Transcript + "\n"))
	case "verbose_json":
		var ws []map[string]any
		for _, wd := range words {
			ws = append(ws, map[string]any{"word": wd.punctuated, "start": wd.start, "end": wd.end})
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"task": "transcribe", "language": "english", "duration": TranscriptSeconds, "text": Transcript, "words": ws,
			"segments": []any{map[string]any{"id": 0, "seek": 0, "start": 0.0, "end": TranscriptSeconds, "text": " " + Transcript, "tokens": []int{50364, 2425}, "temperature": 0.0, "avg_logprob": -0.2, "compression_ratio": 0.8, "no_speech_prob": 0.01}},
			"usage":    usage,
		})
	default:
		s.fail(w, http.StatusBadRequest, "", "response_format '"+format+"' is not supported by this fake")
	}
}

// POST /v1/images/generations (JSON) and /v1/images/edits (multipart image or
// image[], prompt). DALL-E answers URLs unless asked for b64_json; gpt-image
// models always answer base64 and report token usage.
func (s *Server) openAIImages(w http.ResponseWriter, r *http.Request) {
	get := func(string) string { return "" }
	if strings.HasSuffix(r.URL.Path, "/edits") {
		form, ok := readForm(r)
		if !ok || len(form.File["image"])+len(form.File["image[]"]) == 0 {
			s.fail(w, http.StatusBadRequest, "", "Missing required parameter: 'image'.")
			return
		}
		get = func(k string) string { return first(form.Value[k]) }
	} else if body, ok := readJSON(r); ok {
		get = func(k string) string { return str(body[k]) }
	}
	if get("prompt") == "" {
		s.fail(w, http.StatusBadRequest, "", "Missing required parameter: 'prompt'.")
		return
	}
	model := cmp.Or(get("model"), "dall-e-2")
	size := cmp.Or(get("size"), "1024x1024")
	image := map[string]any{}
	out := map[string]any{"created": time.Now().Unix(), "data": []any{image}}
	if strings.HasPrefix(model, "gpt-image") {
		image["b64_json"] = base64.StdEncoding.EncodeToString(PNG())
		out["size"], out["quality"], out["output_format"] = size, cmp.Or(get("quality"), "medium"), "png"
		out["usage"] = map[string]any{"input_tokens": 50, "output_tokens": 1056, "total_tokens": 1106, "input_tokens_details": map[string]any{"text_tokens": 50, "image_tokens": 0}}
	} else if get("response_format") == "b64_json" {
		image["b64_json"] = base64.StdEncoding.EncodeToString(PNG())
	} else {
		image["url"] = s.FileURL(s.requestID(w) + ".png")
	}
	if model == "dall-e-3" {
		image["revised_prompt"] = "A detailed rendering of " + get("prompt")
	}
	writeJSON(w, http.StatusOK, out)
}

func first(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}
