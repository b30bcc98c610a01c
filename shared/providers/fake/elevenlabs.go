package fake

import (
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ElevenLabs: xi-api-key; errors {"detail":{"status","message"}}, 422
// {"detail":[{loc,msg,type}]}.
func init() {
	dialects["elevenlabs"] = &dialect{
		requestIDHeader: "request-id",
		authHeader:      "xi-api-key",
		errorBody: func(_ http.Header, status int, code, msg, _ string) any {
			if status == http.StatusUnprocessableEntity {
				return map[string]any{"detail": []any{map[string]any{"loc": []any{"body", code}, "msg": msg, "type": "value_error"}}}
			}
			return map[string]any{"detail": map[string]any{"status": code, "message": msg}}
		},
		authError: func(string) (string, string) { return "invalid_api_key", "Invalid API key" },
		routes: func(s *Server) {
			s.mux.HandleFunc("POST /v1/text-to-speech/{voice_id}", s.elevenLabsSpeech)
			s.mux.HandleFunc("POST /v1/speech-to-text", s.elevenLabsTranscription)
		},
	}
}

// POST /v1/text-to-speech/{voice_id}?output_format=...: the audio, billed
// characters in character-cost.
func (s *Server) elevenLabsSpeech(w http.ResponseWriter, r *http.Request) {
	body, ok := readJSON(r)
	text := str(body["text"])
	if !ok || text == "" {
		s.fail(w, http.StatusUnprocessableEntity, "text", "Field required")
		return
	}
	w.Header().Set("character-cost", strconv.Itoa(utf8.RuneCountInString(text)))
	if format := r.URL.Query().Get("output_format"); format == "" || strings.HasPrefix(format, "mp3_") {
		writeMedia(w, "audio/mpeg", MP3())
		return
	}
	writeMedia(w, "audio/wav", WAV())
}

// POST /v1/speech-to-text, multipart: model_id and exactly one of file and
// cloud_storage_url.
func (s *Server) elevenLabsTranscription(w http.ResponseWriter, r *http.Request) {
	form, ok := readForm(r)
	if !ok || len(form.Value["model_id"]) == 0 {
		s.fail(w, http.StatusUnprocessableEntity, "model_id", "Field required")
		return
	}
	if (len(form.File["file"]) == 1) == (len(form.Value["cloud_storage_url"]) == 1) {
		s.fail(w, http.StatusBadRequest, "invalid_parameters", "Exactly one of file or cloud_storage_url must be provided")
		return
	}
	var out []map[string]any
	for i, wd := range words {
		if i > 0 {
			out = append(out, map[string]any{"text": " ", "start": words[i-1].end, "end": wd.start, "type": "spacing", "speaker_id": "speaker_0", "logprob": 0})
		}
		out = append(out, map[string]any{"text": wd.punctuated, "start": wd.start, "end": wd.end, "type": "word", "speaker_id": "speaker_0", "logprob": -0.01})
	}
	out = append(out, map[string]any{"text": "(silence)", "start": 1.1, "end": TranscriptSeconds, "type": "audio_event", "speaker_id": "speaker_0", "logprob": 0})
	writeJSON(w, http.StatusOK, map[string]any{"language_code": "eng", "language_probability": 0.98, "text": Transcript, "words": out})
}
