package localstack_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/mediatrail/mediatrail/internal/localstack"
)

// fixtureRequest turns an API Gateway fixture of events/ into the HTTP request
// a client would send for it.
func fixtureRequest(t *testing.T, base string, ev events.APIGatewayV2HTTPRequest) *http.Request {
	t.Helper()
	body := []byte(ev.Body)
	if ev.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(ev.Body); err != nil {
			t.Fatal(err)
		}
	}
	u := base + ev.RawPath
	if ev.RawQueryString != "" {
		u += "?" + ev.RawQueryString
	}
	req, err := http.NewRequest(ev.RequestContext.HTTP.Method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range ev.Headers {
		if k != "host" && k != "content-length" {
			req.Header.Set(k, v)
		}
	}
	return req
}

func apiFixture(t *testing.T, name string) (events.APIGatewayV2HTTPRequest, bool) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot(), "events", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.APIGatewayV2HTTPRequest
	if json.Unmarshal(raw, &ev) != nil || ev.Version != "2.0" {
		return ev, false
	}
	return ev, true
}

// Every route of template.yaml answers HTTP sent through the emulated gateway
// from its bootstrap under aws-lambda-rie, with the same status as the
// in-process handler, an envelope and a request id; the route's own function
// served it.
func TestEveryRouteThroughRIE(t *testing.T) {
	t.Parallel()
	obs := &observer{}
	rie := startStack(t, localstack.Options{Runtime: localstack.RuntimeRIE, Emulators: testEmulators(t), APIKeys: apiKeys, Observe: obs.record})
	inproc := startStack(t, localstack.Options{Runtime: localstack.RuntimeInProcess, Emulators: testEmulators(t), APIKeys: apiKeys,
		Table: rie.Table, Bucket: rie.Bucket})
	for _, r := range rie.Template.Routes {
		t.Run(r.RouteKey(), func(t *testing.T) {
			// The console's two routes share its one fixture and answer HTML.
			api := !strings.HasPrefix(r.Path, "/console")
			ev, ok := routeFixture(t, rie.Template.Functions[r.Function].Name, r)
			if !ok || (api && ev.RouteKey != r.RouteKey()) {
				t.Fatalf("no API fixture for %s", r.RouteKey())
			}
			got := send(t, fixtureRequest(t, rie.URL, ev))
			want := send(t, fixtureRequest(t, inproc.URL, ev))
			if got.status != want.status || got.status >= 500 {
				t.Fatalf("status through RIE %d, in-process %d: %s", got.status, want.status, got.body)
			}
			// The contract document is served as it is; every other API answer is an envelope.
			var envelope map[string]json.RawMessage
			switch {
			case r.Path == "/mcp":
				if !mcpAnswer(r.Method, got) {
					t.Fatalf("not an MCP answer: %d %s", got.status, got.body)
				}
			case api && len(got.body) > 0 && r.Function != "ApiSpecFunction" && (json.Unmarshal(got.body, &envelope) != nil || (envelope["data"] == nil && envelope["error"] == nil)):
				t.Fatalf("body is not an API envelope: %s", got.body)
			}
			if got.header.Get("X-Request-Id") == "" {
				t.Errorf("no X-Request-Id")
			}
			obs.waitFor(t, time.Second, func(inv localstack.Invocation) bool {
				return inv.Function == r.Function && inv.Source == "api" && inv.Err == nil
			})
		})
	}
	if resp := send(t, mustRequest(t, "GET", rie.URL+"/api/v1/no-such-route", nil)); resp.status != http.StatusNotFound ||
		string(bytes.TrimSpace(resp.body)) != `{"message":"Not Found"}` {
		t.Errorf("unknown route: %d %s", resp.status, resp.body)
	}
}

// routeFixture is the fixture of route r of function name:
// events/<name>-<method>.json when the function has one for r's method (the
// other routes of a function that serves several), else events/<name>.json.
func routeFixture(t *testing.T, name string, r localstack.Route) (events.APIGatewayV2HTTPRequest, bool) {
	t.Helper()
	if ev, ok := apiFixture(t, name); !ok || ev.RouteKey == r.RouteKey() {
		return ev, ok
	}
	other := name + "-" + strings.ToLower(r.Method)
	if _, err := os.Stat(filepath.Join(repoRoot(), "events", other+".json")); err != nil {
		return apiFixture(t, name)
	}
	return apiFixture(t, other)
}

// mcpAnswer reports whether resp is how the stateless MCP server answers:
// a JSON-RPC message (as JSON or a server-sent event) to a POST, 405 with
// Allow: POST to anything else.
func mcpAnswer(method string, resp response) bool {
	if method != http.MethodPost {
		return resp.status == http.StatusMethodNotAllowed && resp.header.Get("Allow") == "POST"
	}
	body := resp.body
	if _, data, ok := bytes.Cut(body, []byte("data: ")); ok {
		body = data
	}
	var msg struct {
		JSONRPC string `json:"jsonrpc"`
	}
	return json.Unmarshal(bytes.TrimSpace(body), &msg) == nil && msg.JSONRPC == "2.0"
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func mustRequest(t testing.TB, method, url string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func send(t testing.TB, req *http.Request) response {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, b}
}

// 24 simultaneous requests succeed through bounded pools of RIE processes
// per function (one RIE serves one request at a time).
func TestConcurrentRequestsThroughRIEPool(t *testing.T) {
	e := newAPIWith(t, localstack.RuntimeRIE)
	a := e.upload(t, keyA, "concurrent.txt", "text/plain", []byte("many readers"))
	const n = 24
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			path := "/api/v1/assets"
			if i%2 == 1 {
				path += "/" + a.ID
			}
			req, _ := http.NewRequest("GET", e.URL+path, nil)
			req.Header.Set("X-API-Key", keyA)
			<-start
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), a.ID) {
				errs <- fmt.Errorf("GET %s: %d %s", path, resp.StatusCode, b)
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// probeRIE runs testdata's probe function alone under aws-lambda-rie with
// pools of size processes (0: the default).
func probeRIE(t *testing.T, size int, idle time.Duration) *localstack.RIE {
	t.Helper()
	rie := &localstack.RIE{
		Binary: localstack.Tools{Root: repoRoot()}.RIE(),
		Functions: map[string]localstack.RIEFunction{"ProbeFunction": {
			Bootstrap: filepath.Join(bootstraps(t, testdataTemplate()), "probe", "bootstrap"),
			Env:       map[string]string{"PATH": os.Getenv("PATH"), "AWS_LAMBDA_FUNCTION_NAME": "probe"},
			Timeout:   30 * time.Second,
		}},
		PoolSize:    size,
		IdleTimeout: idle,
	}
	t.Cleanup(func() { _ = rie.Close() })
	return rie
}

// meetAll invokes the probe n times at once, each waiting at a rendezvous
// in one directory for of invocations at most wait, and returns the most
// invocations each saw there at once.
func meetAll(t *testing.T, rie *localstack.RIE, n, of int, wait time.Duration) []int {
	t.Helper()
	ev, err := json.Marshal(events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "GET /probe/{id}", RawPath: "/probe/meet",
		QueryStringParameters: map[string]string{"meet": t.TempDir(), "of": fmt.Sprint(of), "wait": fmt.Sprint(wait.Milliseconds())},
		RequestContext:        events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET", Path: "/probe/meet"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	met := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			out, err := rie.Invoke(context.Background(), "ProbeFunction", ev)
			if err != nil {
				t.Errorf("invocation %d: %v", i, err)
				return
			}
			var resp events.APIGatewayV2HTTPResponse
			var e echo
			if err := json.Unmarshal(out, &resp); err != nil || json.Unmarshal([]byte(resp.Body), &e) != nil {
				t.Errorf("invocation %d answered %s", i, out)
				return
			}
			met[i] = e.Met
		})
	}
	wg.Wait()
	return met
}

// A function's pool grows on demand, as Lambda's concurrency does: by
// default DefaultPoolSize invocations of one function run at once (each saw
// all the others at the rendezvous), each in a process of its own; processes
// left idle are stopped.
func TestRIEPoolGrowsOnDemand(t *testing.T) {
	rie := probeRIE(t, 0, 100*time.Millisecond)
	const n = localstack.DefaultPoolSize
	for i, met := range meetAll(t, rie, n, n, 20*time.Second) {
		if met != n {
			t.Errorf("invocation %d met %d invocations at once, want all %d", i, met, n)
		}
	}
	if running, busy := rie.Processes("ProbeFunction"); running > n || busy != 0 {
		t.Errorf("after the burst: %d processes, %d busy; want at most %d, none busy", running, busy, n)
	}
	deadline := time.Now().Add(30 * time.Second)
	for running, _ := rie.Processes("ProbeFunction"); running > 0; running, _ = rie.Processes("ProbeFunction") {
		if time.Now().After(deadline) {
			t.Fatalf("%d idle processes still running 30 s after the burst, want them stopped", running)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The pool never holds more processes than its bound: invocations beyond it
// wait for a process instead of running at once.
func TestRIEPoolBound(t *testing.T) {
	const size, n = 2, 4
	rie := probeRIE(t, size, time.Minute)
	for i, met := range meetAll(t, rie, n, n, 300*time.Millisecond) {
		if met > size || met < 1 {
			t.Errorf("invocation %d met %d invocations at once, want 1 to %d", i, met, size)
		}
	}
	if running, _ := rie.Processes("ProbeFunction"); running != size {
		t.Errorf("processes = %d, want %d", running, size)
	}
}

func TestPoolSizeFromEnv(t *testing.T) {
	tests := []struct {
		value   string
		want    int
		wantErr bool
	}{
		{"", localstack.DefaultPoolSize, false},
		{"16", 16, false},
		{" 1 ", 1, false},
		{"0", 0, true},
		{"-3", 0, true},
		{"many", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			got, err := localstack.PoolSizeFromEnv(func(k string) string {
				if k != localstack.PoolSizeEnv {
					t.Errorf("read %s, want %s", k, localstack.PoolSizeEnv)
				}
				return tt.value
			})
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Errorf("PoolSizeFromEnv(%q) = %d, %v; want %d, error %v", tt.value, got, err, tt.want, tt.wantErr)
			}
		})
	}
}
