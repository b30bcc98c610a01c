package fake

import (
	"net/http"
	"strings"
	"time"
)

// Replicate: Bearer; errors are problem details {type,title,status,detail};
// its 429 is {"detail":"Request was throttled..."} with Retry-After.
func init() {
	dialects["replicate"] = &dialect{
		basePath:        "/v1",
		requestIDHeader: "x-request-id",
		authHeader:      "Authorization",
		authScheme:      "Bearer ",
		errorBody: func(_ http.Header, status int, code, msg, _ string) any {
			if status == http.StatusTooManyRequests {
				return map[string]any{"detail": "Request was throttled. " + msg}
			}
			return map[string]any{"type": "https://replicate.com/docs/errors/" + code, "title": code, "status": status, "detail": msg}
		},
		authError: func(string) (string, string) {
			return "Unauthenticated", "You did not pass a valid authentication token"
		},
		routes: func(s *Server) {
			s.mux.HandleFunc("POST /v1/models/{owner}/{name}/predictions", s.replicateCreate)
			s.mux.HandleFunc("POST /v1/predictions", s.replicateCreate)
			s.mux.HandleFunc("GET /v1/predictions/{id}", s.replicateGet)
			s.mux.HandleFunc("POST /v1/predictions/{id}/cancel", s.replicateCancel)
		},
	}
}

// replicateCreate: {input} for a model, {version, input} on /predictions; 201.
// "Prefer: wait" runs the job to its end before answering, unless the plan is
// SlowerThanWait.
func (s *Server) replicateCreate(w http.ResponseWriter, r *http.Request) {
	body, ok := readJSON(r)
	model := r.PathValue("owner") + "/" + r.PathValue("name")
	if r.PathValue("owner") == "" {
		model = "replicate/version-" + str(body["version"])
		if str(body["version"]) == "" {
			s.fail(w, http.StatusUnprocessableEntity, "Invalid version or not permitted", "version is required")
			return
		}
	}
	input, _ := body["input"].(map[string]any)
	if !ok || len(input) == 0 {
		s.fail(w, http.StatusUnprocessableEntity, "Input validation failed", "- input: prompt is required")
		return
	}
	j := s.newJob(model, input)
	st := queued
	if strings.HasPrefix(r.Header.Get("Prefer"), "wait") && !j.plan.SlowerThanWait {
		st = s.finish(j)
	}
	writeJSON(w, http.StatusCreated, s.prediction(j, st))
}

// replicateGet counts a poll.
func (s *Server) replicateGet(w http.ResponseWriter, r *http.Request) {
	j, st, ok := s.poll(r.PathValue("id"))
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]any{"detail": "Not found."})
		return
	}
	writeJSON(w, http.StatusOK, s.prediction(j, st))
}

// replicateCancel: a finished prediction is answered unchanged.
func (s *Server) replicateCancel(w http.ResponseWriter, r *http.Request) {
	j, _, ok := s.peek(r.PathValue("id"))
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]any{"detail": "Not found."})
		return
	}
	s.cancel(j)
	_, st, _ := s.peek(j.id)
	writeJSON(w, http.StatusOK, s.prediction(j, st))
}

// prediction renders a job as a Prediction. Video models output one URL, the
// others a list.
func (s *Server) prediction(j *job, st stage) map[string]any {
	base := s.BaseURL + "/predictions/" + j.id
	p := map[string]any{
		"id": j.id, "model": j.model, "version": "5599ed30703defd1d160a25a63321b4dec97101d98b4674bcc56e41f62f35637",
		"input": j.input, "logs": "", "output": nil, "error": nil, "data_removed": false,
		"created_at": j.created.Format(time.RFC3339Nano),
		"urls":       map[string]string{"get": base, "cancel": base + "/cancel", "stream": s.URL + "/stream/" + j.id, "web": "https://replicate.com/p/" + j.id},
	}
	switch st {
	case queued:
		p["status"] = "starting"
	case running:
		p["status"], p["logs"] = "processing", "Using seed: 42\n 50%|█████     | 2/4"
	case succeeded:
		p["status"] = "succeeded"
		if j.video() {
			p["output"] = s.output(j)
		} else {
			p["output"] = []string{s.output(j)}
		}
		p["metrics"] = map[string]any{"predict_time": 2.5, "total_time": 3.1}
	case failed:
		p["status"], p["error"] = "failed", j.plan.Failure
	case cancelled:
		p["status"] = "canceled"
	}
	return p
}
