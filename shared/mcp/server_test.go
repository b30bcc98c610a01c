package mcp_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/mcp"
)

// keys is an in-memory KeyStore.
type keys map[string]string

func (k keys) WorkspaceForKeyHash(_ context.Context, hash string) (string, error) {
	if ws, ok := k[hash]; ok {
		return ws, nil
	}
	return "", mediatrail.Errorf(mediatrail.EUNAUTHENTICATED, "invalid API key")
}

func (k keys) PutAPIKey(_ context.Context, hash, ws string) error { k[hash] = ws; return nil }

const listTools = `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}`

func event(method string, headers map[string]string, body string) events.APIGatewayV2HTTPRequest {
	h := map[string]string{"content-type": "application/json", "accept": "application/json, text/event-stream"}
	for k, v := range headers {
		h[k] = v
	}
	return events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: method + " /mcp", RawPath: "/mcp", Headers: h, Body: body,
		RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "req-1", DomainName: "api.example",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: "/mcp"}},
	}
}

// The HTTP layer of /mcp: authentication, body limits and methods answer
// before any tool runs, with the request id, and never a 5xx.
func TestHandlerRefusals(t *testing.T) {
	s := &mcp.Server{Keys: keys{mediatrail.HashAPIKey("good"): "ws-1"}}
	h := s.Handler()
	huge := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"tts","arguments":{"prompt":"` + strings.Repeat("a", 1<<20) + `"}}}`
	cases := []struct {
		name    string
		ev      events.APIGatewayV2HTTPRequest
		status  int
		rpcCode string // data.code of a JSON-RPC error body; "" for none
	}{
		{"no key", event("POST", nil, listTools), http.StatusUnauthorized, mediatrail.EUNAUTHENTICATED},
		{"unknown key", event("POST", map[string]string{"x-api-key": "bad"}, listTools), http.StatusUnauthorized, mediatrail.EUNAUTHENTICATED},
		{"basic auth", event("POST", map[string]string{"authorization": "Basic good"}, listTools), http.StatusUnauthorized, mediatrail.EUNAUTHENTICATED},
		{"body over 1 MiB", event("POST", map[string]string{"x-api-key": "good"}, huge), http.StatusRequestEntityTooLarge, mediatrail.ETOOLARGE},
		// The key is checked before the body is read.
		{"no key, body over 1 MiB", event("POST", nil, huge), http.StatusUnauthorized, mediatrail.EUNAUTHENTICATED},
		{"no key, bad base64", func() events.APIGatewayV2HTTPRequest {
			ev := event("POST", nil, "%%%")
			ev.IsBase64Encoded = true
			return ev
		}(), http.StatusUnauthorized, mediatrail.EUNAUTHENTICATED},
		{"bad base64", func() events.APIGatewayV2HTTPRequest {
			ev := event("POST", map[string]string{"x-api-key": "good"}, "%%%")
			ev.IsBase64Encoded = true
			return ev
		}(), http.StatusBadRequest, mediatrail.EINVALID},
		{"GET", event("GET", map[string]string{"authorization": "Bearer good"}, ""), http.StatusMethodNotAllowed, ""},
		{"DELETE", event("DELETE", map[string]string{"authorization": "Bearer good"}, ""), http.StatusMethodNotAllowed, ""},
		{"not JSON-RPC", event("POST", map[string]string{"x-api-key": "good"}, "hello"), http.StatusBadRequest, ""},
		{"wrong content type", event("POST", map[string]string{"x-api-key": "good", "content-type": "text/plain"}, listTools),
			http.StatusUnsupportedMediaType, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := h(context.Background(), tc.ev)
			if err != nil || resp.StatusCode != tc.status || resp.Headers["X-Request-Id"] != "req-1" {
				t.Fatalf("status %d, request id %q, err %v: %s", resp.StatusCode, resp.Headers["X-Request-Id"], err, resp.Body)
			}
			if tc.rpcCode == "" {
				return
			}
			var body struct {
				JSONRPC string `json:"jsonrpc"`
				Error   struct {
					Code    int
					Message string
					Data    struct{ Code, RequestID string } `json:"data"`
				}
			}
			if err := json.Unmarshal([]byte(resp.Body), &body); err != nil || body.JSONRPC != "2.0" || body.Error.Data.Code != tc.rpcCode ||
				body.Error.Message == "" || body.Error.Code != -32600 {
				t.Errorf("body %s", resp.Body)
			}
		})
	}
}

// tools/list over a Bearer key, through the adapter, as a base64 body too.
func TestHandlerListsTools(t *testing.T) {
	h := (&mcp.Server{Keys: keys{mediatrail.HashAPIKey("good"): "ws-1"}}).Handler()
	plain := event("POST", map[string]string{"authorization": "Bearer good"}, listTools)
	encoded := plain
	encoded.Body, encoded.IsBase64Encoded = base64.StdEncoding.EncodeToString([]byte(listTools)), true
	for _, ev := range []events.APIGatewayV2HTTPRequest{plain, encoded} {
		resp, err := h(context.Background(), ev)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d, err %v: %s", resp.StatusCode, err, resp.Body)
		}
		// The answer is one server-sent event carrying the JSON-RPC result.
		_, data, ok := strings.Cut(resp.Body, "data: ")
		var msg struct {
			Result struct {
				Tools []struct{ Name string } `json:"tools"`
			} `json:"result"`
		}
		if !ok || json.Unmarshal([]byte(strings.TrimSpace(data)), &msg) != nil || len(msg.Result.Tools) != len(mcp.Builtins()) {
			t.Fatalf("body %s", resp.Body)
		}
	}
}
