package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Routes, as the report names them. put is the presigned PUT to storage.
const (
	routeList      = "list"
	routeGet       = "get"
	routeSignedURL = "signed-url"
	routeRegister  = "register"
	routePut       = "put"
	routeComplete  = "complete"
	routeDelete    = "delete"
	routeNoop      = "noop"
)

// routes in report order.
var routes = []string{routeList, routeGet, routeSignedURL, routeRegister, routePut, routeComplete, routeDelete, routeNoop}

// mix is the share, in percent, of each route a client picks when no upload
// waits for its next step. Gets, signed URLs and deletes need an acknowledged
// asset and register instead while there is none.
var mix = []struct {
	route   string
	percent int
}{
	{routeNoop, 10}, {routeList, 15}, {routeGet, 20}, {routeSignedURL, 20}, {routeRegister, 25}, {routeDelete, 10},
}

// workspace is one of the workspaces the load runs in, with its key.
type workspace struct{ ID, Key string }

// uploadState is where an upload's register, PUT, complete, delete stands.
type uploadState int

const (
	registering  uploadState = iota
	uploading                // registered: its PUT is due
	completing               // PUT answered 200: its complete is due
	acknowledged             // complete answered 2xx: it must never be lost
	deleting                 // acknowledged, its delete sent
	deleted                  // delete answered 2xx
	abandoned                // a step failed before complete acknowledged it
	uncertain                // its delete failed: it may or may not exist
)

// upload is one file the load registers, uploads, completes and maybe deletes.
type upload struct {
	ws      *workspace
	name    string
	body    []byte
	sha256  string
	id      string
	putURL  string
	headers map[string]string
	state   uploadState
	reads   int // gets and signed-urls in flight: a delete waits for none
}

// workload is the dynamic vegeta targeter of `make load` and the bookkeeping
// of its results: every register is followed by its PUT and its complete
// (queued when the previous step's answer arrives), and gets, signed URLs
// and deletes pick acknowledged assets. Safe for concurrent use.
type workload struct {
	api, noopURL string
	spaces       []*workspace

	mu       sync.Mutex
	rnd      *rand.Rand
	drawn    int // routes picked from the mix so far
	seq      int
	due      []*upload // uploads whose next step (PUT or complete) is due
	byName   map[string]*upload
	byID     map[string]*upload
	byPutURL map[string]*upload
	live     []*upload // acknowledged, not being deleted
}

func newWorkload(api, noopURL string, spaces []*workspace, seed uint64) *workload {
	return &workload{
		api: strings.TrimSuffix(api, "/"), noopURL: noopURL, spaces: spaces,
		rnd:    rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		byName: map[string]*upload{}, byID: map[string]*upload{}, byPutURL: map[string]*upload{},
	}
}

// pick is the next route of the mix: each route once, in the mix's order,
// then at random by share, so that even a short first phase measures every
// route (the no-op's latency is the baseline of the report).
func (w *workload) pick() string {
	defer func() { w.drawn++ }()
	if w.drawn < len(mix) {
		return mix[w.drawn].route
	}
	p := w.rnd.IntN(100)
	for _, m := range mix {
		if p < m.percent {
			return m.route
		}
		p -= m.percent
	}
	return routeRegister
}

// Targeter hands vegeta the next request.
func (w *workload) Targeter() vegeta.Targeter {
	return func(t *vegeta.Target) error {
		w.mu.Lock()
		defer w.mu.Unlock()
		*t = vegeta.Target{Header: http.Header{}}
		if n := len(w.due); n > 0 {
			u := w.due[0]
			w.due = w.due[1:]
			w.nextStep(t, u)
			return nil
		}
		route := w.pick()
		ws := w.spaces[w.rnd.IntN(len(w.spaces))]
		switch route {
		case routeNoop:
			t.Method, t.URL = http.MethodGet, w.noopURL
			return nil
		case routeList:
			w.call(t, ws, http.MethodGet, "/api/v1/assets?limit=20", nil)
			return nil
		case routeGet, routeSignedURL:
			if len(w.live) > 0 {
				u := w.live[w.rnd.IntN(len(w.live))]
				u.reads++
				path := "/api/v1/assets/" + u.id
				if route == routeSignedURL {
					path += "/signed-url"
				}
				w.call(t, u.ws, http.MethodGet, path, nil)
				return nil
			}
		case routeDelete:
			if i, ok := w.deletable(); ok {
				u := w.live[i]
				w.live = append(w.live[:i], w.live[i+1:]...)
				u.state = deleting
				w.call(t, u.ws, http.MethodDelete, "/api/v1/assets/"+u.id, nil)
				return nil
			}
		}
		w.register(t, ws)
		return nil
	}
}

// deletable picks a live asset no read is in flight for, so that no get
// answers 404 because of the load's own delete.
func (w *workload) deletable() (int, bool) {
	if len(w.live) == 0 {
		return 0, false
	}
	start := w.rnd.IntN(len(w.live))
	for k := range w.live {
		if i := (start + k) % len(w.live); w.live[i].reads == 0 {
			return i, true
		}
	}
	return 0, false
}

func (w *workload) register(t *vegeta.Target, ws *workspace) {
	w.seq++
	body := make([]byte, 1024+w.rnd.IntN(7*1024))
	for i := range body {
		body[i] = byte(w.rnd.Uint32())
	}
	sum := sha256.Sum256(body)
	u := &upload{ws: ws, name: fmt.Sprintf("load-%06d.bin", w.seq), body: body, sha256: hex.EncodeToString(sum[:])}
	w.byName[u.name] = u
	req, _ := json.Marshal(map[string]any{
		"file_name": u.name, "content_type": "application/octet-stream", "size": len(body), "sha256": u.sha256,
	})
	w.call(t, ws, http.MethodPost, "/api/v1/assets", req)
}

// nextStep is an upload's PUT or complete.
func (w *workload) nextStep(t *vegeta.Target, u *upload) {
	if u.state == uploading {
		t.Method, t.URL, t.Body = http.MethodPut, u.putURL, u.body
		for k, v := range u.headers {
			t.Header.Set(k, v)
		}
		return
	}
	w.call(t, u.ws, http.MethodPost, "/api/v1/assets/"+u.id+"/complete", nil)
}

func (w *workload) call(t *vegeta.Target, ws *workspace, method, path string, body []byte) {
	t.Method, t.URL, t.Body = method, w.api+path, body
	t.Header.Set("X-API-Key", ws.Key)
	if body != nil {
		t.Header.Set("Content-Type", "application/json")
	}
}

// route names the route of a result, and the asset id in its path.
func (w *workload) route(r *vegeta.Result) (route, id string) {
	if r.URL == w.noopURL {
		return routeNoop, ""
	}
	if r.Method == http.MethodPut {
		return routePut, ""
	}
	u, err := url.Parse(r.URL)
	if err != nil {
		return "", ""
	}
	rest, _ := strings.CutPrefix(u.Path, "/api/v1/assets")
	id, sub, _ := strings.Cut(strings.TrimPrefix(rest, "/"), "/")
	switch {
	case id == "" && r.Method == http.MethodPost:
		return routeRegister, ""
	case id == "":
		return routeList, ""
	case sub == "signed-url":
		return routeSignedURL, id
	case sub == "complete":
		return routeComplete, id
	case r.Method == http.MethodDelete:
		return routeDelete, id
	}
	return routeGet, id
}

// record moves the upload a result belongs to on, and returns its route.
func (w *workload) record(r *vegeta.Result) string {
	route, id := w.route(r)
	ok := r.Error == "" && r.Code >= 200 && r.Code < 300
	w.mu.Lock()
	defer w.mu.Unlock()
	switch route {
	case routeRegister:
		var reg struct {
			Data struct {
				Asset struct {
					ID       string `json:"id"`
					FileName string `json:"file_name"`
				} `json:"asset"`
				Upload *struct {
					URL     string            `json:"url"`
					Headers map[string]string `json:"headers"`
				} `json:"upload"`
			} `json:"data"`
		}
		if !ok || json.Unmarshal(r.Body, &reg) != nil || reg.Data.Upload == nil {
			return route // its upload never started: nothing to follow
		}
		u := w.byName[reg.Data.Asset.FileName]
		if u == nil {
			return route
		}
		delete(w.byName, u.name)
		u.id, u.putURL, u.headers, u.state = reg.Data.Asset.ID, reg.Data.Upload.URL, reg.Data.Upload.Headers, uploading
		w.byID[u.id] = u
		w.byPutURL[u.putURL] = u
		w.due = append(w.due, u)
	case routePut:
		u := w.byPutURL[r.URL]
		if u == nil {
			return route
		}
		delete(w.byPutURL, r.URL)
		u.body = nil
		if !ok {
			u.state = abandoned
			return route
		}
		u.state = completing
		w.due = append(w.due, u)
	case routeComplete:
		if u := w.byID[id]; u != nil {
			if ok {
				u.state = acknowledged
				w.live = append(w.live, u)
			} else {
				u.state = abandoned
			}
		}
	case routeGet, routeSignedURL:
		if u := w.byID[id]; u != nil {
			u.reads--
		}
	case routeDelete:
		if u := w.byID[id]; u != nil {
			if ok {
				u.state = deleted
			} else {
				u.state = uncertain
			}
		}
	}
	return route
}

// liveAsset is an acknowledged asset not being deleted, if there is one.
func (w *workload) liveAsset() (ws, id string, ok bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.live) == 0 {
		return "", "", false
	}
	u := w.live[w.rnd.IntN(len(w.live))]
	return u.ws.ID, u.id, true
}

// uploads returns every upload that got an id, by state.
func (w *workload) uploads() map[uploadState][]*upload {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := map[uploadState][]*upload{}
	for _, u := range w.byID {
		out[u.state] = append(out[u.state], u)
	}
	return out
}
