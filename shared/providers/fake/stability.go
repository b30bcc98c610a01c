package fake

import (
	"encoding/base64"
	"net/http"
	"strings"
)

// Stability: Bearer; errors {"id","name","errors":[...]}; 403 content_moderation.
func init() {
	dialects["stability"] = &dialect{
		requestIDHeader: "x-request-id",
		authHeader:      "Authorization",
		authScheme:      "Bearer ",
		errorBody: func(_ http.Header, _ int, code, msg, rid string) any {
			return map[string]any{"id": rid, "name": code, "errors": []string{msg}}
		},
		authError: func(string) (string, string) {
			return "unauthorized", "authorization: invalid or missing API key"
		},
		routes: func(s *Server) {
			s.mux.HandleFunc("POST /v2beta/stable-image/generate/{model}", s.stabilityImage)
			s.mux.HandleFunc("POST /v2beta/stable-image/edit/{operation}", s.stabilityImage)
		},
	}
}

var stabilityRequired = map[string][]string{
	"generate/ultra": {"prompt"}, "generate/core": {"prompt"}, "generate/sd3": {"prompt"},
	"edit/inpaint": {"image", "prompt"}, "edit/search-and-replace": {"image", "prompt", "search_prompt"},
}

// POST /v2beta/stable-image/{generate/MODEL|edit/OPERATION}, multipart. Accept
// image/* answers the PNG with finish-reason and seed headers, Accept
// application/json answers {image, finish_reason, seed}.
func (s *Server) stabilityImage(w http.ResponseWriter, r *http.Request) {
	endpoint := strings.TrimPrefix(r.URL.Path, "/v2beta/stable-image/")
	required, ok := stabilityRequired[endpoint]
	if !ok {
		s.fail(w, http.StatusNotFound, "not_found", "no such endpoint: "+endpoint)
		return
	}
	form, ok := readForm(r)
	if !ok {
		s.fail(w, http.StatusBadRequest, "bad_request", "content-type: must be multipart/form-data")
		return
	}
	for _, field := range required {
		if len(form.Value[field]) == 0 && len(form.File[field]) == 0 {
			s.fail(w, http.StatusBadRequest, "bad_request", field+": cannot be empty")
			return
		}
	}
	w.Header().Set("finish-reason", "SUCCESS")
	w.Header().Set("seed", "3141592653")
	if strings.HasPrefix(r.Header.Get("Accept"), "image/") {
		writeMedia(w, "image/png", PNG())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"image": base64.StdEncoding.EncodeToString(PNG()), "finish_reason": "SUCCESS", "seed": 3141592653})
}
