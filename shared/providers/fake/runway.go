package fake

import (
	"net/http"
	"time"
)

// Runway: Bearer plus X-Runway-Version; errors {"error": "..."}; its 429s say
// retry-after-ms as well as Retry-After.
func init() {
	dialects["runway"] = &dialect{
		requestIDHeader: "x-request-id",
		authHeader:      "Authorization",
		authScheme:      "Bearer ",
		errorBody: func(_ http.Header, _ int, _, msg, _ string) any {
			return map[string]any{"error": msg}
		},
		authError: func(string) (string, string) {
			return "", "Incorrect API key provided, or the key has been disabled."
		},
		retryAfterMS: true,
		routes: func(s *Server) {
			s.mux.HandleFunc("POST /v1/image_to_video", s.runwayCreate)
			s.mux.HandleFunc("POST /v1/text_to_video", s.runwayCreate)
			s.mux.HandleFunc("GET /v1/tasks/{id}", s.runwayTask)
			s.mux.HandleFunc("DELETE /v1/tasks/{id}", s.runwayCancel)
		},
	}
}

// RunwayVersion is the API version the fake requires in X-Runway-Version.
const RunwayVersion = "2024-11-06"

// runwayTextModels are the models text_to_video accepts.
var runwayTextModels = map[string]bool{"gen4.5": true, "veo3.1": true}

func (s *Server) runwayVersion(w http.ResponseWriter, r *http.Request) bool {
	if r.Header.Get("X-Runway-Version") != RunwayVersion {
		s.fail(w, http.StatusBadRequest, "", "The X-Runway-Version header is missing or invalid. Use "+RunwayVersion+".")
		return false
	}
	return true
}

// runwayCreate: camelCase {model, promptImage | promptText, ratio, duration}; 200 {id}.
func (s *Server) runwayCreate(w http.ResponseWriter, r *http.Request) {
	if !s.runwayVersion(w, r) {
		return
	}
	body, ok := readJSON(r)
	model := str(body["model"])
	field := "promptImage"
	if r.URL.Path == "/v1/text_to_video" {
		field = "promptText"
		if !runwayTextModels[model] {
			s.fail(w, http.StatusBadRequest, "", "Validation of body failed: model must be one of gen4.5, veo3.1")
			return
		}
	}
	if !ok || model == "" || str(body[field]) == "" || str(body["ratio"]) == "" {
		s.fail(w, http.StatusBadRequest, "", "Validation of body failed: model, "+field+" and ratio are required")
		return
	}
	j := s.newJob("runway-video-"+model, body)
	writeJSON(w, http.StatusOK, map[string]any{"id": j.id})
}

// runwayTask counts a poll. Queued polls alternate PENDING and THROTTLED.
func (s *Server) runwayTask(w http.ResponseWriter, r *http.Request) {
	if !s.runwayVersion(w, r) {
		return
	}
	j, st, ok := s.poll(r.PathValue("id"))
	if !ok {
		s.fail(w, http.StatusNotFound, "", "Task not found")
		return
	}
	task := map[string]any{"id": j.id, "createdAt": j.created.Format(time.RFC3339Nano)}
	switch st {
	case queued:
		task["status"] = "PENDING"
		if j.polls%2 == 0 {
			task["status"] = "THROTTLED"
		}
	case running:
		task["status"], task["progress"] = "RUNNING", 0.5
	case succeeded:
		task["status"], task["output"] = "SUCCEEDED", []string{s.output(j)}
	case failed:
		task["status"], task["failure"], task["failureCode"] = "FAILED", j.plan.Failure, j.plan.FailureCode
	case cancelled:
		task["status"] = "CANCELLED"
	}
	writeJSON(w, http.StatusOK, task)
}

// runwayCancel cancels a running task, or deletes a finished one; 204.
func (s *Server) runwayCancel(w http.ResponseWriter, r *http.Request) {
	if !s.runwayVersion(w, r) {
		return
	}
	j, _, ok := s.peek(r.PathValue("id"))
	if !ok {
		s.fail(w, http.StatusNotFound, "", "Task not found")
		return
	}
	s.cancel(j)
	w.WriteHeader(http.StatusNoContent)
}
