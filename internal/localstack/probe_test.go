package localstack_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/mediatrail/mediatrail/internal/localstack"
	"github.com/mediatrail/mediatrail/shared/testenv"
)

// probeStack runs testdata/template.yaml under aws-lambda-rie, with its own
// versitygw wired to the stack's S3 events and fast state machine timers.
func probeStack(t *testing.T) (*localstack.Stack, *observer) {
	t.Helper()
	return sharedStackFor(t, "testdata", localstack.Options{
		Template:      testdataTemplate(),
		Runtime:       localstack.RuntimeRIE,
		DynamoDBURL:   testenv.Endpoint(t, testenv.EnvDynamoDB),
		SkipWaits:     true,
		S3RetryDelays: []time.Duration{10 * time.Millisecond},
	})
}

// echo is what testdata/functions/probe answers.
type echo struct {
	Event    events.APIGatewayV2HTTPRequest `json:"event"`
	Env      map[string]string              `json:"env"`
	Function string                         `json:"function"`
	Met      int                            `json:"met"`
}

// The gateway gives functions the payload 2.0 event API Gateway would and
// maps their answers (and failures) to HTTP, with bootstraps under RIE.
func TestGatewayThroughRIE(t *testing.T) {
	s, _ := probeStack(t)
	cases := []struct {
		name        string
		method, url string
		header      map[string]string
		body        []byte
		status      int
		check       func(t *testing.T, resp response, ev *echo)
	}{
		{name: "event shape", method: "GET", url: "/probe/a%20b?x=1&x=2&y=z",
			header: map[string]string{"X-Custom": "A", "Cookie": "c1=v1; c2=v2"}, status: 200,
			check: func(t *testing.T, resp response, e *echo) {
				ev := e.Event
				if ev.Version != "2.0" || ev.RouteKey != "GET /probe/{id}" || ev.RawPath != "/probe/a%20b" || ev.RawQueryString != "x=1&x=2&y=z" {
					t.Errorf("version %q routeKey %q rawPath %q rawQueryString %q", ev.Version, ev.RouteKey, ev.RawPath, ev.RawQueryString)
				}
				if ev.PathParameters["id"] != "a b" || ev.QueryStringParameters["x"] != "1,2" || ev.QueryStringParameters["y"] != "z" {
					t.Errorf("pathParameters %v queryStringParameters %v", ev.PathParameters, ev.QueryStringParameters)
				}
				if ev.Headers["x-custom"] != "A" || ev.Headers["X-Custom"] != "" || ev.Headers["cookie"] != "" || !slices.Equal(ev.Cookies, []string{"c1=v1", "c2=v2"}) {
					t.Errorf("headers %v cookies %v", ev.Headers, ev.Cookies)
				}
				rc := ev.RequestContext
				if rc.RouteKey != ev.RouteKey || rc.HTTP.Method != "GET" || rc.HTTP.Path != "/probe/a b" || rc.RequestID == "" ||
					rc.Stage != "$default" || rc.AccountID != localstack.AccountID || rc.TimeEpoch == 0 || rc.HTTP.SourceIP != "127.0.0.1" {
					t.Errorf("requestContext %+v", rc)
				}
				if ev.Body != "" || ev.IsBase64Encoded || ev.RequestContext.Authorizer != nil {
					t.Errorf("body %q base64 %v authorizer %+v", ev.Body, ev.IsBase64Encoded, ev.RequestContext.Authorizer)
				}
				if resp.header.Get("X-Probe") != "yes" || len(resp.header.Values("Set-Cookie")) != 2 {
					t.Errorf("response headers %v", resp.header)
				}
			}},
		{name: "environment from template, Globals merged", method: "GET", url: "/probe/env", status: 200,
			check: func(t *testing.T, _ response, e *echo) {
				want := map[string]string{
					"GREETING": "hello", "STAGE": "function", "BUCKET": s.Bucket, "BUCKET_ARN": "arn:aws:s3:::" + s.Bucket,
					"WHERE": localstack.Region + "/" + localstack.AccountID, "AWS_LAMBDA_FUNCTION_NAME": "ProbeFunction", "AWS_REGION": localstack.Region,
				}
				for k, v := range want {
					if e.Env[k] != v {
						t.Errorf("%s = %q, want %q", k, e.Env[k], v)
					}
				}
				if !strings.HasSuffix(e.Function, ":function:ProbeFunction") {
					t.Errorf("invoked function ARN %q", e.Function)
				}
			}},
		{name: "text body passes as is", method: "POST", url: "/probe", header: map[string]string{"Content-Type": "application/json"},
			body: []byte(`{"a":1}`), status: 200,
			check: func(t *testing.T, _ response, e *echo) {
				if e.Event.Body != `{"a":1}` || e.Event.IsBase64Encoded || e.Event.RouteKey != "POST /probe" {
					t.Errorf("body %q base64 %v", e.Event.Body, e.Event.IsBase64Encoded)
				}
			}},
		{name: "binary body is base64", method: "POST", url: "/probe", header: map[string]string{"Content-Type": "image/png"},
			body: []byte{0x89, 'P', 'N', 'G', 0, 0xff}, status: 200,
			check: func(t *testing.T, _ response, e *echo) {
				got, _ := base64.StdEncoding.DecodeString(e.Event.Body)
				if !e.Event.IsBase64Encoded || !bytes.Equal(got, []byte{0x89, 'P', 'N', 'G', 0, 0xff}) {
					t.Errorf("body %q base64 %v", e.Event.Body, e.Event.IsBase64Encoded)
				}
			}},
		{name: "status code from the function", method: "GET", url: "/probe/x?status=418", status: 418},
		{name: "base64 response is decoded", method: "GET", url: "/probe/x?binary=1", status: 200,
			check: func(t *testing.T, resp response, _ *echo) {
				if !bytes.Equal(resp.body, []byte{0, 1, 2, 255}) || resp.header.Get("Content-Type") != "application/octet-stream" {
					t.Errorf("body %v type %q", resp.body, resp.header.Get("Content-Type"))
				}
			}},
		{name: "function error is a 500", method: "GET", url: "/probe/x?fail=1", status: 500,
			check: func(t *testing.T, resp response, _ *echo) {
				if string(bytes.TrimSpace(resp.body)) != `{"message":"Internal Server Error"}` {
					t.Errorf("body %s", resp.body)
				}
			}},
		{name: "greedy path", method: "DELETE", url: "/files/a/b%2Fc/d.txt", status: 200,
			check: func(t *testing.T, _ response, e *echo) {
				if e.Event.RouteKey != "ANY /files/{proxy+}" || e.Event.PathParameters["proxy"] != "a/b/c/d.txt" {
					t.Errorf("routeKey %q pathParameters %v", e.Event.RouteKey, e.Event.PathParameters)
				}
			}},
		{name: "unknown route", method: "GET", url: "/nothing", status: 404},
		{name: "method without a route", method: "PUT", url: "/probe", status: 404},
		{name: "cors preflight", method: "OPTIONS", url: "/probe",
			header: map[string]string{"Origin": "https://app.example", "Access-Control-Request-Method": "POST"}, status: 204,
			check: func(t *testing.T, resp response, _ *echo) {
				h := resp.header
				if h.Get("Access-Control-Allow-Origin") != "https://app.example" || h.Get("Access-Control-Allow-Methods") != "GET,POST" || h.Get("Access-Control-Max-Age") != "600" {
					t.Errorf("preflight headers %v", h)
				}
			}},
		{name: "cors foreign origin", method: "GET", url: "/probe/x", header: map[string]string{"Origin": "https://evil.example"}, status: 200,
			check: func(t *testing.T, resp response, _ *echo) {
				if v := resp.header.Get("Access-Control-Allow-Origin"); v != "" {
					t.Errorf("Access-Control-Allow-Origin = %q for a foreign origin", v)
				}
			}},
		{name: "cors allowed origin", method: "GET", url: "/probe/x", header: map[string]string{"Origin": "https://app.example"}, status: 200,
			check: func(t *testing.T, resp response, _ *echo) {
				if v := resp.header.Get("Access-Control-Allow-Origin"); v != "https://app.example" {
					t.Errorf("Access-Control-Allow-Origin = %q", v)
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := mustRequest(t, tc.method, s.URL+tc.url, bytes.NewReader(tc.body))
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			resp := send(t, req)
			if resp.status != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.status, tc.status, resp.body)
			}
			if tc.check == nil {
				return
			}
			var e echo
			if strings.HasPrefix(resp.header.Get("Content-Type"), "application/json") && resp.status < 300 {
				if err := json.Unmarshal(resp.body, &e); err != nil {
					t.Fatalf("echo: %v: %s", err, resp.body)
				}
			}
			tc.check(t, resp, &e)
		})
	}
}

// 24 simultaneous requests, each keeping its RIE process busy 50 ms, all
// succeed through the function's bounded pool (more than it holds: some
// wait for a process). TestRIEPoolGrowsOnDemand and TestRIEPoolBound show
// how many run at once.
func TestConcurrentSlowRequestsThroughRIEPool(t *testing.T) {
	s, _ := probeStack(t)
	const n = 24
	results := make(chan int, n)
	start := make(chan struct{})
	for range n {
		go func() {
			req, _ := http.NewRequest("GET", s.URL+"/probe/slow?sleep=50", nil)
			<-start
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				results <- 0
				return
			}
			resp.Body.Close()
			results <- resp.StatusCode
		}()
	}
	close(start)
	for range n {
		if code := <-results; code != http.StatusOK {
			t.Errorf("status %d", code)
		}
	}
}
