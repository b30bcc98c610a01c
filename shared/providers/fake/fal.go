package fake

import (
	"cmp"
	"net/http"
	"strings"
)

// fal: Authorization: Key KEY; the queue API; errors {"detail"} with an
// error_type (and X-Fal-Error-Type) for infrastructure failures, 422
// {"detail":[{loc,msg,type}]} for validation.
func init() {
	dialects["fal"] = &dialect{
		requestIDHeader: "x-fal-request-id",
		authHeader:      "Authorization",
		authScheme:      "Key ",
		errorBody:       falError,
		authError: func(string) (string, string) {
			return "", "Unauthorized: invalid key"
		},
		routes: func(s *Server) { s.mux.HandleFunc("/", s.falQueue) },
	}
}

func falError(h http.Header, status int, code, msg, _ string) any {
	if status == http.StatusUnprocessableEntity {
		return map[string]any{"detail": []any{map[string]any{"loc": []any{"body", "prompt"}, "msg": msg, "type": cmp.Or(code, "value_error")}}}
	}
	if code == "" {
		return map[string]any{"detail": msg}
	}
	h.Set("X-Fal-Error-Type", code)
	return map[string]any{"detail": msg, "error_type": code}
}

// falApp is a model's app id: the first two path segments (three after a
// namespace). Status, result and cancel live under it, without the subpath.
func falApp(segments []string) string {
	n := 2
	if segments[0] == "workflows" || segments[0] == "comfy" {
		n = 3
	}
	return strings.Join(segments[:min(n, len(segments))], "/")
}

// falQueue routes the queue API:
//
//	POST /{model...}                     submit
//	GET  /{app}/requests/{id}/status     status (counts a poll)
//	GET  /{app}/requests/{id}            result
//	PUT  /{app}/requests/{id}/cancel     cancel
//
// A status, result or cancel URL that keeps the model's subpath answers 404, as
// on fal.
func (s *Server) falQueue(w http.ResponseWriter, r *http.Request) {
	segments := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	i := strings.Index(r.URL.Path, "/requests/")
	if r.Method == http.MethodPost && i < 0 && len(segments) >= 2 {
		s.falSubmit(w, r, strings.Join(segments, "/"))
		return
	}
	if i < 0 {
		s.fail(w, http.StatusNotFound, "", "Not Found")
		return
	}
	app := strings.Trim(r.URL.Path[:i], "/")
	id, action, _ := strings.Cut(r.URL.Path[i+len("/requests/"):], "/")
	j, st, ok := s.peek(id)
	if !ok || falApp(strings.Split(j.model, "/")) != app {
		s.fail(w, http.StatusNotFound, "", "Request not found")
		return
	}
	switch {
	case r.Method == http.MethodGet && action == "status":
		j, st, _ = s.poll(id)
		s.falStatus(w, r, j, st)
	case r.Method == http.MethodGet && action == "":
		s.falResult(w, j, st)
	case r.Method == http.MethodPut && action == "cancel":
		if !s.cancel(j) {
			writeJSON(w, http.StatusBadRequest, map[string]any{"status": "ALREADY_COMPLETED"})
			return
		}
		writeJSON(w, http.StatusAccepted, map[string]any{"status": "CANCELLATION_REQUESTED"})
	default:
		s.fail(w, http.StatusMethodNotAllowed, "", "Method Not Allowed")
	}
}

// falSubmit: a JSON input with a prompt, and image_url for image-to-* models.
func (s *Server) falSubmit(w http.ResponseWriter, r *http.Request, model string) {
	input, ok := readJSON(r)
	required := []string{"prompt"}
	if strings.Contains(model, "image-to-") {
		required = append(required, "image_url")
	}
	for _, field := range required {
		if !ok || str(input[field]) == "" {
			writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"detail": []any{map[string]any{"loc": []any{"body", field}, "msg": "field required", "type": "value_error.missing"}}})
			return
		}
	}
	j := s.newJob(model, input)
	writeJSON(w, http.StatusOK, s.falQueued(j, "IN_QUEUE"))
}

func (s *Server) falQueued(j *job, status string) map[string]any {
	base := s.URL + "/" + falApp(strings.Split(j.model, "/")) + "/requests/" + j.id
	return map[string]any{
		"status": status, "request_id": j.id, "response_url": base, "status_url": base + "/status",
		"cancel_url": base + "/cancel", "queue_position": 0,
	}
}

// falStatus: 202 while queued or running, 200 once COMPLETED. There is no
// FAILED: a failed job is COMPLETED and its result says why.
func (s *Server) falStatus(w http.ResponseWriter, r *http.Request, j *job, st stage) {
	logs := r.URL.Query().Get("logs") == "1" || r.URL.Query().Get("logs") == "true"
	switch st {
	case queued:
		writeJSON(w, http.StatusAccepted, s.falQueued(j, "IN_QUEUE"))
	case running:
		out := s.falQueued(j, "IN_PROGRESS")
		delete(out, "queue_position")
		if logs {
			out["logs"] = []any{map[string]any{"message": "step 10/28", "level": "INFO", "source": "user", "timestamp": j.created.Format("2006-01-02T15:04:05.000000")}}
		}
		writeJSON(w, http.StatusAccepted, out)
	default:
		out := s.falQueued(j, "COMPLETED")
		delete(out, "queue_position")
		out["metrics"] = map[string]any{"inference_time": 1.5}
		if logs {
			out["logs"] = []any{}
		}
		writeJSON(w, http.StatusOK, out)
	}
}

// falResult: the output, or the failure a COMPLETED status hides.
func (s *Server) falResult(w http.ResponseWriter, j *job, st stage) {
	switch st {
	case queued, running:
		writeJSON(w, http.StatusBadRequest, map[string]any{"detail": "Request is still in progress"})
	case cancelled:
		writeJSON(w, http.StatusBadRequest, map[string]any{"detail": "Request was cancelled"})
	case failed:
		status := http.StatusUnprocessableEntity
		if j.plan.FailureCode != "" {
			status = http.StatusInternalServerError
		}
		writeJSON(w, status, falError(w.Header(), status, j.plan.FailureCode, j.plan.Failure, ""))
	case succeeded:
		if j.video() {
			writeJSON(w, http.StatusOK, map[string]any{"video": map[string]any{
				"url": s.output(j), "content_type": "video/mp4", "file_name": j.id + ".mp4", "file_size": j.plan.video().Size(),
			}})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"images":            []any{map[string]any{"url": s.output(j), "width": 64, "height": 48, "content_type": "image/png"}},
			"seed":              42,
			"prompt":            j.input["prompt"],
			"has_nsfw_concepts": []bool{false},
			"timings":           map[string]any{"inference": 1.2},
		})
	}
}
