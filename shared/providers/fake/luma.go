package fake

import (
	"maps"
	"net/http"
	"time"
)

// Luma: Bearer; errors {"detail": "..."}.
func init() {
	dialects["luma"] = &dialect{
		basePath:        "/dream-machine/v1",
		requestIDHeader: "x-request-id",
		authHeader:      "Authorization",
		authScheme:      "Bearer ",
		errorBody: func(_ http.Header, _ int, _, msg, _ string) any {
			return map[string]any{"detail": msg}
		},
		authError: func(string) (string, string) { return "", "Invalid API key" },
		routes: func(s *Server) {
			s.mux.HandleFunc("POST /dream-machine/v1/generations/video", s.lumaCreate)
			s.mux.HandleFunc("POST /dream-machine/v1/generations", s.lumaCreate)
			s.mux.HandleFunc("GET /dream-machine/v1/generations/{id}", s.lumaGet)
		},
	}
}

// lumaCreate: {model, prompt, keyframes.frame0 (image-to-video), ...}; 201 Generation.
func (s *Server) lumaCreate(w http.ResponseWriter, r *http.Request) {
	body, ok := readJSON(r)
	keyframes, _ := body["keyframes"].(map[string]any)
	frame0, _ := keyframes["frame0"].(map[string]any)
	switch {
	case !ok:
		s.fail(w, http.StatusBadRequest, "", "Invalid request body")
		return
	case str(body["prompt"]) == "" && frame0 == nil:
		s.fail(w, http.StatusBadRequest, "", "prompt is required")
		return
	case frame0 != nil && (str(frame0["type"]) != "image" || str(frame0["url"]) == ""):
		s.fail(w, http.StatusBadRequest, "", "keyframes.frame0 must be {\"type\": \"image\", \"url\": \"...\"}")
		return
	}
	request := map[string]any{"model": "ray-2", "resolution": "720p", "duration": "5s", "aspect_ratio": "16:9"}
	maps.Copy(request, body)
	j := s.newJob("luma-video-"+str(request["model"]), request)
	writeJSON(w, http.StatusCreated, s.generation(j, queued))
}

// lumaGet counts a poll.
func (s *Server) lumaGet(w http.ResponseWriter, r *http.Request) {
	j, st, ok := s.poll(r.PathValue("id"))
	if !ok {
		s.fail(w, http.StatusNotFound, "", "Generation not found")
		return
	}
	writeJSON(w, http.StatusOK, s.generation(j, st))
}

func (s *Server) generation(j *job, st stage) map[string]any {
	g := map[string]any{
		"id": j.id, "generation_type": "video", "failure_reason": nil, "assets": nil,
		"created_at": j.created.Format(time.RFC3339Nano), "model": j.input["model"], "request": j.input,
	}
	switch st {
	case queued:
		g["state"] = "queued"
	case running:
		g["state"] = "dreaming"
	case succeeded:
		g["state"], g["assets"] = "completed", map[string]any{"video": s.output(j), "image": s.FileURL(j.id + ".jpg")}
	default:
		g["state"], g["failure_reason"] = "failed", j.plan.Failure
	}
	return g
}
