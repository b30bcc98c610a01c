package localstack_test

import (
	"bytes"
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

	"github.com/mediatrail/mediatrail/shared/localstack"
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

// 24 simultaneous requests succeed through pools of 2 RIE processes per
// function (one RIE serves one request at a time).
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
