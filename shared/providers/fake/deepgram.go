package fake

import (
	"crypto/sha256"
	"encoding/hex"
	"mime"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"
)

// Deepgram: Authorization: Token KEY; errors {"err_code","err_msg","request_id"}.
func init() {
	dialects["deepgram"] = &dialect{
		requestIDHeader: "dg-request-id",
		authHeader:      "Authorization",
		authScheme:      "Token ",
		errorBody: func(_ http.Header, _ int, code, msg, rid string) any {
			return map[string]any{"err_code": code, "err_msg": msg, "request_id": rid}
		},
		authError: func(string) (string, string) {
			return "INVALID_AUTH", "Invalid credentials."
		},
		routes: func(s *Server) {
			s.mux.HandleFunc("POST /v1/listen", s.deepgramListen)
			s.mux.HandleFunc("POST /v1/speak", s.deepgramSpeak)
		},
	}
}

// POST /v1/listen?model=...: raw audio, or JSON {"url"}. multichannel=true
// hears two channels.
func (s *Server) deepgramListen(w http.ResponseWriter, r *http.Request) {
	audio, _ := readBody(r)
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "application/json" {
		body, ok := readJSON(r)
		if !ok || str(body["url"]) == "" {
			s.fail(w, http.StatusBadRequest, "Bad Request", "Invalid JSON body: expected {\"url\": \"...\"}")
			return
		}
	} else if len(audio) == 0 {
		s.fail(w, http.StatusBadRequest, "Bad Request", "Bad Request: failed to process audio: corrupt or unsupported data")
		return
	}
	channels := 1
	if r.URL.Query().Get("multichannel") == "true" {
		channels = 2
	}
	model := r.URL.Query().Get("model")
	var dgWords []map[string]any
	for _, wd := range words {
		dgWords = append(dgWords, map[string]any{"word": wd.text, "start": wd.start, "end": wd.end, "confidence": 0.99, "punctuated_word": wd.punctuated})
	}
	var results []any
	for range channels {
		results = append(results, map[string]any{"alternatives": []any{map[string]any{"transcript": Transcript, "confidence": 0.99, "words": dgWords}}})
	}
	sum := sha256.Sum256(audio)
	modelID := "1abfe86b-e047-4eed-858a-35e5625b41ee"
	writeJSON(w, http.StatusOK, map[string]any{
		"metadata": map[string]any{
			"transaction_key": "deprecated", "request_id": s.requestID(w), "sha256": hex.EncodeToString(sum[:]),
			"created": time.Now().UTC().Format(time.RFC3339), "duration": TranscriptSeconds, "channels": channels,
			"models": []string{modelID}, "model_info": map[string]any{modelID: map[string]any{"name": model, "version": "2024-01-01", "arch": "nova-3"}},
		},
		"results": map[string]any{"channels": results},
	})
}

// POST /v1/speak?model=...: {"text"}; MP3 unless a WAV container or linear16
// encoding is asked for.
func (s *Server) deepgramSpeak(w http.ResponseWriter, r *http.Request) {
	body, ok := readJSON(r)
	text := str(body["text"])
	if !ok || text == "" {
		s.fail(w, http.StatusBadRequest, "Bad Request", "Text is required")
		return
	}
	q := r.URL.Query()
	w.Header().Set("dg-model-name", q.Get("model"))
	w.Header().Set("dg-char-count", strconv.Itoa(utf8.RuneCountInString(text)))
	if q.Get("container") == "wav" || q.Get("encoding") == "linear16" {
		writeMedia(w, "audio/wav", WAV())
		return
	}
	writeMedia(w, "audio/mpeg", MP3())
}
