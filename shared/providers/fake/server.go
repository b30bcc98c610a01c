// Package fake serves the APIs of the media providers on 127.0.0.1, as
// providers.md describes them: the real paths, bodies, headers, error shapes
// and job state walks. It calls nothing outside the machine.
//
// Tests script faults for the next requests (Fail), plan how jobs end
// (PlanJobs) and read back what the fake received (Requests). The media a fake
// answers is deterministic (PNG, MP3, WAV, MP4), and the URLs it hands out point
// back at the fake (/files/{name}).
package fake

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Key is the API key every fake accepts. It is distinctive so that tests can
// assert it never shows up in an error.
const Key = "sk-fake-7f3a9c2e41b8-never-print-me"

// Server is one provider's fake API.
type Server struct {
	Provider string
	URL      string // root of the server: http://127.0.0.1:PORT
	BaseURL  string // the base URL a client of this provider is configured with

	srv *httptest.Server
	api *dialect
	mux *http.ServeMux

	mu       sync.Mutex
	keys     []string // accepted API keys (AcceptKeys)
	faults   []Fault
	requests []Request
	plan     JobPlan
	prompts  map[string]JobPlan // plans of jobs by prompt (PlanPrompt)
	jobs     map[string]*job
	seq      int
}

// dialect is what differs between providers: where the API lives, how it
// authenticates, how it says no, and its routes.
type dialect struct {
	basePath        string
	requestIDHeader string
	authHeader      string
	authScheme      string
	// errorBody is the provider's documented error shape; it may set headers.
	errorBody func(h http.Header, status int, code, msg, requestID string) any
	// authError is the code and message of its 401; presented is the key it got.
	authError func(presented string) (code, msg string)
	// retryAfterMS: its 429s carry retry-after-ms besides Retry-After.
	retryAfterMS bool
	routes       func(s *Server)
}

var dialects = map[string]*dialect{}

// Providers lists the providers New knows.
func Providers() []string {
	names := make([]string, 0, len(dialects))
	for n := range dialects {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// New starts the fake of provider (one of Providers) on 127.0.0.1. Close it when done.
func New(provider string) *Server {
	d, ok := dialects[provider]
	if !ok {
		panic("fake: unknown provider " + provider)
	}
	s := &Server{Provider: provider, api: d, mux: http.NewServeMux(), plan: DefaultPlan, jobs: map[string]*job{}, keys: []string{Key}}
	d.routes(s)
	if p, ok := accountPaths[provider]; ok {
		s.mux.HandleFunc("GET "+p, s.account)
	}
	s.srv = httptest.NewUnstartedServer(s)
	// httptest would fall back to [::1]; the fakes promise IPv4 loopback only.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic("fake: " + err.Error())
	}
	s.srv.Listener.Close()
	s.srv.Listener = l
	s.srv.Start()
	s.URL = s.srv.URL
	s.BaseURL = s.URL + d.basePath
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// Fault replaces or spoils the fake's answer to one request.
type Fault struct {
	Status    int           // answer this status (200 when only Body is set) instead of the normal answer
	Header    http.Header   // headers to add, e.g. Retry-After
	Body      []byte        // the body of that answer
	Malformed bool          // answer 200 with a JSON body cut in the middle
	Truncate  bool          // answer normally, but send only half of the declared Content-Length
	Delay     time.Duration // wait this long first, or until the client gives up
}

// Fail queues f for the next n API requests (/files downloads are never spoiled).
func (s *Server) Fail(n int, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults = append(s.faults, f)
	}
}

// Error is a fault answering status with the provider's documented error shape.
func (s *Server) Error(status int, code, message string) Fault {
	h := http.Header{}
	body, _ := json.Marshal(s.api.errorBody(h, status, code, message, "req-fault"))
	h.Set("Content-Type", "application/json")
	return Fault{Status: status, Header: h, Body: body}
}

// RateLimit is a 429 fault telling the client to come back after d, as the
// provider says it: Retry-After in whole seconds, and retry-after-ms where the
// provider sends it.
func (s *Server) RateLimit(d time.Duration) Fault {
	f := s.Error(http.StatusTooManyRequests, "rate_limit_exceeded", "Too many requests")
	f.Header.Set("Retry-After", strconv.Itoa(int(d.Round(time.Second)/time.Second)))
	if s.api.retryAfterMS {
		f.Header.Set("Retry-After-Ms", strconv.FormatInt(d.Milliseconds(), 10))
	}
	return f
}

// accountPaths are the cheap authenticated GETs a credential check makes,
// written from providers.md, not from the clients, so that a client calling
// the wrong route fails against its fake; fal has
// none: a check asks the status of an unknown request (404 to a good key).
var accountPaths = map[string]string{
	"openai": "/v1/models", "elevenlabs": "/v1/user", "deepgram": "/v1/projects", "replicate": "/v1/account",
	"stability": "/v1/user/account", "runway": "/v1/organization", "luma": "/dream-machine/v1/generations",
}

// account answers a check: the key was accepted.
func (s *Server) account(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": []any{}})
}

// AcceptKeys makes the fake accept these API keys besides Key (several
// workspaces, each with its own key); Request.Key says which one came.
func (s *Server) AcceptKeys(keys ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = append(s.keys, keys...)
}

// Request is one request the fake received, its credentials removed from
// Header; Key is the API key it presented.
type Request struct {
	Key    string
	Method string
	Path   string
	Query  url.Values
	Header http.Header
	Body   []byte
}

// JSON decodes the body as a JSON object; nil when it is not one.
func (r Request) JSON() map[string]any {
	var m map[string]any
	if json.Unmarshal(r.Body, &m) != nil {
		return nil
	}
	return m
}

// File is a file part of a multipart body.
type File struct {
	Name        string
	ContentType string
	Data        []byte
}

// Form decodes a multipart/form-data body: its fields and its files by field name.
func (r Request) Form() (url.Values, map[string]File) {
	fields, files := url.Values{}, map[string]File{}
	_, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return fields, files
	}
	mr := multipart.NewReader(bytes.NewReader(r.Body), params["boundary"])
	for {
		p, err := mr.NextPart()
		if err != nil {
			return fields, files
		}
		data, _ := io.ReadAll(p)
		if p.FileName() != "" {
			files[p.FormName()] = File{Name: p.FileName(), ContentType: p.Header.Get("Content-Type"), Data: data}
		} else {
			fields.Add(p.FormName(), string(data))
		}
	}
}

// Requests returns the API requests received so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// FileURL is where the fake serves one of its media files: name ends in .png,
// .jpg (the same PNG), .mp3, .wav or .mp4.
func (s *Server) FileURL(name string) string { return s.URL + "/files/" + name }

// secretHeaders never reach Requests.
var secretHeaders = []string{"Authorization", "Xi-Api-Key"}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	if strings.HasPrefix(r.URL.Path, "/files/") {
		s.serveFile(w, r)
		return
	}
	h := r.Header.Clone()
	for _, k := range secretHeaders {
		h.Del(k)
	}
	s.mu.Lock()
	s.seq++
	rid := fmt.Sprintf("%s-req-%04d", s.Provider, s.seq)
	presented := strings.TrimPrefix(r.Header.Get(s.api.authHeader), s.api.authScheme)
	accepted := slices.Contains(s.keys, presented)
	s.requests = append(s.requests, Request{Key: presented, Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: h, Body: body})
	var f Fault
	if len(s.faults) > 0 {
		f, s.faults = s.faults[0], s.faults[1:]
	}
	s.mu.Unlock()

	w.Header().Set(s.api.requestIDHeader, rid)
	if f.Delay > 0 {
		select {
		case <-time.After(f.Delay):
		case <-r.Context().Done():
			return
		}
	}
	switch {
	case f.Malformed:
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id": "`+rid+`", "status": `)
		return
	case f.Status != 0 || f.Body != nil:
		for k, v := range f.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(cmp.Or(f.Status, http.StatusOK))
		_, _ = w.Write(f.Body)
		return
	}
	if !accepted {
		code, msg := s.api.authError(presented)
		s.fail(w, http.StatusUnauthorized, code, msg)
		return
	}
	if !f.Truncate {
		s.mux.ServeHTTP(w, r)
		return
	}
	rec := httptest.NewRecorder()
	s.mux.ServeHTTP(rec, r)
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	full := rec.Body.Bytes()
	w.Header().Set("Content-Length", strconv.Itoa(max(1, len(full))))
	w.WriteHeader(rec.Code)
	_, _ = w.Write(full[:len(full)/2])
}

// requestID is the id the middleware gave the request being answered.
func (s *Server) requestID(w http.ResponseWriter) string {
	return w.Header().Get(s.api.requestIDHeader)
}

// fail writes the provider's documented error shape.
func (s *Server) fail(w http.ResponseWriter, status int, code, msg string) {
	body := s.api.errorBody(w.Header(), status, code, msg, s.requestID(w))
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeMedia(w http.ResponseWriter, contentType string, data []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	_, _ = w.Write(data)
}

// readJSON decodes a request's JSON object body; ok is false when it is not one.
func readJSON(r *http.Request) (map[string]any, bool) {
	var m map[string]any
	err := json.NewDecoder(r.Body).Decode(&m)
	return m, err == nil && m != nil
}

// readForm parses a multipart request; ok is false when it is not one.
func readForm(r *http.Request) (*multipart.Form, bool) {
	if err := r.ParseMultipartForm(64 << 20); err != nil {
		return nil, false
	}
	return r.MultipartForm, true
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func (s *Server) serveFile(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/files/")
	switch {
	case strings.HasSuffix(name, ".png"), strings.HasSuffix(name, ".jpg"):
		writeMedia(w, "image/png", PNG())
	case strings.HasSuffix(name, ".mp3"):
		writeMedia(w, "audio/mpeg", MP3())
	case strings.HasSuffix(name, ".wav"):
		writeMedia(w, "audio/wav", WAV())
	case strings.HasSuffix(name, ".mp4"):
		// A job's video, with ranges, generated as it is read.
		s.mu.Lock()
		v := DefaultVideo
		if j, ok := s.jobs[strings.TrimSuffix(name, ".mp4")]; ok {
			v = j.plan.video()
		}
		s.mu.Unlock()
		w.Header().Set("Content-Type", "video/mp4")
		http.ServeContent(w, r, name, time.Time{}, v.Reader())
	default:
		http.NotFound(w, r)
	}
}

// readBody returns the request body and leaves it readable again.
func readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(b))
	return b, err
}
