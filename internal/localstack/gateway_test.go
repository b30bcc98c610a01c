package localstack_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/mediatrail/mediatrail/internal/localstack"
)

// routeEcho answers with the route key and path parameters it was invoked for.
func routeEcho(name string) lambda.Handler {
	return lambda.NewHandler(func(ev events.APIGatewayV2HTTPRequest) (map[string]any, error) {
		return map[string]any{"statusCode": 200, "body": name + " " + ev.RouteKey + " " + ev.PathParameters["id"] + ev.PathParameters["rest"]}, nil
	})
}

// echoes serves each route's function with routeEcho.
func echoes(routes []localstack.Route) localstack.InProcess {
	inv := localstack.InProcess{}
	for _, r := range routes {
		inv[r.Function] = routeEcho(r.Function)
	}
	return inv
}

func TestGatewayPicksTheRouteAPIGatewayWould(t *testing.T) {
	routes := []localstack.Route{
		{Method: "GET", Path: "/items/{id}", Function: "Param"},
		{Method: "GET", Path: "/items/new", Function: "Literal"},
		{Method: "ANY", Path: "/items/{id}", Function: "AnyParam"},
		{Method: "ANY", Path: "/files/{rest+}", Function: "Greedy"},
		{Method: "GET", Path: "/files/readme", Function: "Readme"},
		{Method: "ANY", Path: "$default", Function: "Default"},
	}
	inv := echoes(routes)
	g := &localstack.Gateway{Routes: routes, Invoker: inv}
	cases := []struct{ method, path, want string }{
		{"GET", "/items/new", "Literal GET /items/new "},
		{"GET", "/items/42", "Param GET /items/{id} 42"},
		{"DELETE", "/items/42", "AnyParam ANY /items/{id} 42"},
		{"GET", "/items/a%2Fb", "Param GET /items/{id} a/b"},
		{"GET", "/files/readme", "Readme GET /files/readme "},
		{"PUT", "/files/a/b/c", "Greedy ANY /files/{rest+} a/b/c"},
		{"GET", "/elsewhere", "Default $default "},
		{"GET", "/items/42/more", "Default $default "},
	}
	for _, tc := range cases {
		w := httptest.NewRecorder()
		g.ServeHTTP(w, httptest.NewRequest(tc.method, tc.path, nil))
		if w.Code != 200 || w.Body.String() != tc.want {
			t.Errorf("%s %s: %d %q, want %q", tc.method, tc.path, w.Code, w.Body.String(), tc.want)
		}
	}
}

func TestGatewayMapsResponses(t *testing.T) {
	block := make(chan struct{})
	t.Cleanup(func() { close(block) })
	inv := localstack.InProcess{
		"Plain":     lambda.NewHandler(func() (map[string]any, error) { return map[string]any{"hello": "world"}, nil }),
		"String":    lambda.NewHandler(func() (string, error) { return "hi", nil }),
		"BadStatus": lambda.NewHandler(func() (map[string]any, error) { return map[string]any{"statusCode": 99}, nil }),
		"Panics":    lambda.NewHandler(func() (string, error) { panic("boom") }),
		"Slow": lambda.NewHandler(func(ctx context.Context) (string, error) {
			select {
			case <-block:
			case <-ctx.Done():
			}
			return "late", nil
		}),
	}
	var routes []localstack.Route
	for name := range inv {
		routes = append(routes, localstack.Route{Method: "GET", Path: "/" + strings.ToLower(name), Function: name})
	}
	g := &localstack.Gateway{Routes: routes, Invoker: inv, Timeout: 100 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)}
	cases := []struct {
		path        string
		status      int
		body, ctype string
	}{
		// A result without statusCode is the body of a 200 JSON response.
		{"/plain", 200, `{"hello":"world"}`, "application/json"},
		{"/string", 200, `"hi"`, "application/json"},
		{"/badstatus", 500, `{"message":"Internal Server Error"}`, "application/json"},
		{"/panics", 500, `{"message":"Internal Server Error"}`, "application/json"},
		{"/slow", 503, `{"message":"Service Unavailable"}`, "application/json"},
		{"/nothing", 404, `{"message":"Not Found"}`, "application/json"},
	}
	for _, tc := range cases {
		w := httptest.NewRecorder()
		g.ServeHTTP(w, httptest.NewRequest("GET", tc.path, nil))
		if w.Code != tc.status || strings.TrimSpace(w.Body.String()) != tc.body || w.Header().Get("Content-Type") != tc.ctype {
			t.Errorf("%s: %d %q %q, want %d %q %q", tc.path, w.Code, w.Body.String(), w.Header().Get("Content-Type"), tc.status, tc.body, tc.ctype)
		}
	}
}

func TestGatewayRejectsOversizedPayloads(t *testing.T) {
	g := &localstack.Gateway{Routes: []localstack.Route{{Method: "POST", Path: "/in", Function: "F"}},
		Invoker: localstack.InProcess{"F": routeEcho("F")}}
	w := httptest.NewRecorder()
	g.ServeHTTP(w, httptest.NewRequest("POST", "/in", strings.NewReader(strings.Repeat("x", localstack.MaxPayloadBytes+1))))
	if w.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("status %d", w.Code)
	}
}

func TestInProcessReportsFunctionErrorsAsLambdaDoes(t *testing.T) {
	inv := localstack.InProcess{
		"Err":   lambda.NewHandler(func() error { return &json.SyntaxError{} }),
		"Panic": lambda.NewHandler(func() error { panic("oh no") }),
	}
	for id, wantType := range map[string]string{"Err": "SyntaxError", "Panic": "string"} {
		_, err := inv.Invoke(context.Background(), id, []byte(`{}`))
		fe, ok := err.(*localstack.FunctionError)
		if !ok || fe.Type != wantType || !json.Valid(fe.Payload) {
			t.Errorf("%s: %#v", id, err)
		}
	}
}

// TestGatewayAnswers404AsAPIGatewayDoes: a path that exists only under
// another method is 404, never the ServeMux's 405; HEAD is not GET; a
// greedy parameter needs a value; without $default nothing else matches;
// routes the ServeMux cannot hold together fail the request, not the process.
func TestGatewayAnswers404AsAPIGatewayDoes(t *testing.T) {
	routes := []localstack.Route{
		{Method: "GET", Path: "/", Function: "Root"},
		{Method: "GET", Path: "/items/{id}", Function: "Param"},
		{Method: "ANY", Path: "/files/{rest+}", Function: "Greedy"},
	}
	inv := echoes(routes)
	g := &localstack.Gateway{Routes: routes, Invoker: inv}
	for _, tc := range []struct {
		method, path string
		status       int
		want         string
	}{
		{"GET", "/", 200, "Root GET / "},
		{"GET", "/items/1", 200, "Param GET /items/{id} 1"},
		{"POST", "/items/1", 404, `{"message":"Not Found"}`},
		{"HEAD", "/items/1", 404, ""},
		{"GET", "/files/", 404, `{"message":"Not Found"}`},
		{"GET", "/files/a", 200, "Greedy ANY /files/{rest+} a"},
		{"GET", "/other", 404, `{"message":"Not Found"}`},
		{"GET", "/items/1/../2", 404, `{"message":"Not Found"}`},
	} {
		w := httptest.NewRecorder()
		g.ServeHTTP(w, httptest.NewRequest(tc.method, tc.path, nil))
		if w.Code != tc.status || tc.method != "HEAD" && strings.TrimSpace(w.Body.String()) != strings.TrimSpace(tc.want) {
			t.Errorf("%s %s: %d %q, want %d %q", tc.method, tc.path, w.Code, w.Body.String(), tc.status, tc.want)
		}
	}
	clash := &localstack.Gateway{Logger: slog.New(slog.DiscardHandler), Invoker: inv, Routes: []localstack.Route{
		{Method: "GET", Path: "/a/{x}", Function: "Param"}, {Method: "ANY", Path: "/a/b", Function: "Param"},
	}}
	w := httptest.NewRecorder()
	clash.ServeHTTP(w, httptest.NewRequest("GET", "/a/b", nil))
	if w.Code != http.StatusInternalServerError {
		t.Errorf("conflicting routes: %d", w.Code)
	}
}
