package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/httpapi"
	"github.com/mediatrail/mediatrail/shared/obs"
)

// Every request writes one line with its outcome; the root cause of a 500 is
// in the line and never in the answer; the key never is in either.
func TestRequestLog(t *testing.T) {
	const key = fuzzKey
	for _, tc := range []struct {
		name      string
		headers   map[string]string
		endpoint  httpapi.Endpoint
		status    int
		level     string
		workspace string
		code      string
		cause     string
	}{
		{"success", map[string]string{"x-api-key": key}, func(context.Context, *httpapi.Request) (httpapi.Result, error) {
			return httpapi.OK("x"), nil
		}, 200, "INFO", "ws-fuzz", "", ""},
		{"unauthenticated", map[string]string{"x-api-key": "wrong"}, nil, 401, "WARN", "", "unauthenticated", ""},
		{"client error", map[string]string{"authorization": "Bearer " + key}, func(context.Context, *httpapi.Request) (httpapi.Result, error) {
			return httpapi.Result{}, mediatrail.Invalid("limit", "limit must be 1 to 100")
		}, 400, "WARN", "ws-fuzz", "validation_error", ""},
		{"internal error", map[string]string{"x-api-key": key}, func(context.Context, *httpapi.Request) (httpapi.Result, error) {
			return httpapi.Result{}, errors.New("dynamo: ProvisionedThroughputExceeded on table t")
		}, 500, "ERROR", "ws-fuzz", "internal", "ProvisionedThroughputExceeded"},
		{"panic", map[string]string{"x-api-key": key}, func(context.Context, *httpapi.Request) (httpapi.Result, error) {
			panic("nil map write")
		}, 500, "ERROR", "ws-fuzz", "internal", "nil map write"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			api := &httpapi.API{Keys: keys{}, Logger: obs.NewLogger(&logs)}
			ev := events.APIGatewayV2HTTPRequest{RouteKey: "GET /api/v1/assets", RawPath: "/api/v1/assets", Headers: tc.headers}
			ev.RequestContext.RequestID = "rid-1"
			ev.RequestContext.HTTP.Method = "GET"
			resp, err := api.Handler(tc.endpoint)(context.Background(), ev)
			if err != nil || resp.StatusCode != tc.status {
				t.Fatalf("answer %d, %v; want %d", resp.StatusCode, err, tc.status)
			}
			if tc.cause != "" && strings.Contains(resp.Body, tc.cause) {
				t.Errorf("answer holds the cause: %s", resp.Body)
			}
			out := logs.String()
			if strings.Contains(out, key) {
				t.Errorf("log holds the key: %s", out)
			}
			var l map[string]any
			if n := strings.Count(out, "\n"); n != 1 {
				t.Fatalf("%d log lines, want 1: %s", n, out)
			}
			if err := json.Unmarshal([]byte(out), &l); err != nil {
				t.Fatal(err)
			}
			want := map[string]any{"msg": "request", "level": tc.level, "request_id": "rid-1", "route": "GET /api/v1/assets",
				"method": "GET", "path": "/api/v1/assets", "status": float64(tc.status)}
			if tc.workspace != "" {
				want["workspace"] = tc.workspace
			}
			if tc.code != "" {
				want["error_code"] = tc.code
			}
			for k, v := range want {
				if l[k] != v {
					t.Errorf("%s = %v, want %v", k, l[k], v)
				}
			}
			if tc.workspace == "" && l["workspace"] != nil {
				t.Errorf("workspace %v for an unauthenticated request", l["workspace"])
			}
			if errStr, _ := l["err"].(string); !strings.Contains(errStr, tc.cause) {
				t.Errorf("err = %q, want the cause %q", errStr, tc.cause)
			}
		})
	}
}
