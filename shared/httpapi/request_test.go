package httpapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/httpapi"
)

// TestStatusFor pins the one code→status map to api.md: every code the
// domain defines has its status, and an unknown code is a 500.
func TestStatusFor(t *testing.T) {
	for code, want := range map[string]int{
		mediatrail.EINVALID:           400,
		mediatrail.EUNAUTHENTICATED:   401,
		mediatrail.EQUOTA:             402,
		mediatrail.EFORBIDDEN:         403,
		mediatrail.ENOTFOUND:          404,
		mediatrail.ECONFLICT:          409,
		mediatrail.ETOOLARGE:          413,
		mediatrail.EUNPROCESSABLE:     422,
		mediatrail.ERATELIMITED:       429,
		mediatrail.EINTERNAL:          500,
		mediatrail.EPROVIDER:          502,
		mediatrail.EUNAVAILABLE:       503,
		mediatrail.ETIMEOUT:           504,
		mediatrail.ECREDENTIALMISSING: 422,
		mediatrail.ETOOLNOTATTACHED:   403,
		mediatrail.EPROVIDERAUTH:      424,
		"no_such_code":                500,
		"":                            500,
	} {
		if got := httpapi.StatusFor(code); got != want {
			t.Errorf("StatusFor(%q) = %d, want %d", code, got, want)
		}
	}
}

// twoWorkspaces knows one key per workspace.
type twoWorkspaces struct{ mediatrail.KeyStore }

func (twoWorkspaces) WorkspaceForKeyHash(_ context.Context, h string) (string, error) {
	switch h {
	case mediatrail.HashAPIKey("key-a"):
		return "ws-a", nil
	case mediatrail.HashAPIKey("key-b"):
		return "ws-b", nil
	}
	return "", mediatrail.Errorf(mediatrail.EUNAUTHENTICATED, "invalid API key")
}

type envelope struct {
	Data  json.RawMessage `json:"data"`
	Error *struct {
		Code    string         `json:"code"`
		Message string         `json:"message"`
		Details map[string]any `json:"details"`
	} `json:"error"`
}

// TestHandlerEnvelopes: what the wrapper answers around an endpoint, for
// every kind of outcome; the endpoint sees the workspace of the key only.
func TestHandlerEnvelopes(t *testing.T) {
	echoWorkspace := func(_ context.Context, r *httpapi.Request) (httpapi.Result, error) {
		return httpapi.OK(map[string]string{"workspace_id": r.WorkspaceID}), nil
	}
	fail := func(err error) httpapi.Endpoint {
		return func(context.Context, *httpapi.Request) (httpapi.Result, error) { return httpapi.Result{}, err }
	}
	key := func(k string) map[string]string { return map[string]string{"X-Api-Key": k} }
	for _, tc := range []struct {
		name     string
		ev       events.APIGatewayV2HTTPRequest
		endpoint httpapi.Endpoint
		status   int
		code     string // "" for success
		data     string // success body's data
		message  string // error message, when it matters
		header   [2]string
	}{
		{"workspace a", events.APIGatewayV2HTTPRequest{Headers: key("key-a")}, echoWorkspace, 200, "", `{"workspace_id":"ws-a"}`, "", [2]string{}},
		{"workspace b", events.APIGatewayV2HTTPRequest{Headers: map[string]string{"authorization": "Bearer key-b"}}, echoWorkspace, 200, "", `{"workspace_id":"ws-b"}`, "", [2]string{}},
		{"no key", events.APIGatewayV2HTTPRequest{}, echoWorkspace, 401, mediatrail.EUNAUTHENTICATED, "", "", [2]string{}},
		{"unknown key", events.APIGatewayV2HTTPRequest{Headers: key("key-c")}, echoWorkspace, 401, mediatrail.EUNAUTHENTICATED, "", "", [2]string{}},
		{"auth before body limits", events.APIGatewayV2HTTPRequest{Body: strings.Repeat("x", httpapi.MaxBodyBytes+1)}, echoWorkspace, 401, mediatrail.EUNAUTHENTICATED, "", "", [2]string{}},
		{"body too large", events.APIGatewayV2HTTPRequest{Headers: key("key-a"), Body: strings.Repeat("x", httpapi.MaxBodyBytes+1)}, echoWorkspace, 413, mediatrail.ETOOLARGE, "", "", [2]string{}},
		{"bad base64", events.APIGatewayV2HTTPRequest{Headers: key("key-a"), Body: "!!", IsBase64Encoded: true}, echoWorkspace, 400, mediatrail.EINVALID, "", "", [2]string{}},
		{"bad query", events.APIGatewayV2HTTPRequest{Headers: key("key-a"), RawQueryString: "a=%zz"}, echoWorkspace, 400, mediatrail.EINVALID, "", "query string is malformed", [2]string{}},
		{"app error keeps message and Retry-After", events.APIGatewayV2HTTPRequest{Headers: key("key-a")},
			fail(mediatrail.Conflict("idempotency_key", "still in progress").RetryAfter(2).Wrap(errors.New("ddb: secret-table"))),
			409, mediatrail.ECONFLICT, "", "still in progress", [2]string{"Retry-After", "2"}},
		{"internal error leaks nothing", events.APIGatewayV2HTTPRequest{Headers: key("key-a")},
			fail(fmt.Errorf("dynamodb: table secret-table: %w", errors.New("boom"))), 500, mediatrail.EINTERNAL, "", "internal error", [2]string{}},
		{"panic is a generic 500", events.APIGatewayV2HTTPRequest{Headers: key("key-a")},
			func(context.Context, *httpapi.Request) (httpapi.Result, error) { panic("secret-table") }, 500, mediatrail.EINTERNAL, "", "internal error", [2]string{}},
		{"no content", events.APIGatewayV2HTTPRequest{Headers: key("key-a")},
			func(context.Context, *httpapi.Request) (httpapi.Result, error) { return httpapi.NoContent(), nil }, 204, "", "", "", [2]string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			api := &httpapi.API{Keys: twoWorkspaces{}, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
			tc.ev.RequestContext.RequestID = "req-1"
			resp, err := api.Handler(tc.endpoint)(context.Background(), tc.ev)
			if err != nil {
				t.Fatalf("handler failed: %v", err)
			}
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, resp.Body)
			}
			if got := resp.Headers["X-Request-Id"]; got != "req-1" {
				t.Errorf("X-Request-Id %q", got)
			}
			if tc.header[0] != "" && resp.Headers[tc.header[0]] != tc.header[1] {
				t.Errorf("%s = %q, want %q", tc.header[0], resp.Headers[tc.header[0]], tc.header[1])
			}
			if strings.Contains(resp.Body, "secret-table") {
				t.Errorf("body leaks internals: %s", resp.Body)
			}
			if tc.status == http.StatusNoContent {
				if resp.Body != "" {
					t.Errorf("204 with body %q", resp.Body)
				}
				return
			}
			var env envelope
			if err := json.Unmarshal([]byte(resp.Body), &env); err != nil {
				t.Fatalf("body is not JSON: %s", resp.Body)
			}
			if tc.code == "" {
				if string(env.Data) != tc.data {
					t.Errorf("data %s, want %s", env.Data, tc.data)
				}
				return
			}
			if env.Error == nil || env.Error.Code != tc.code {
				t.Fatalf("error envelope %s, want code %s", resp.Body, tc.code)
			}
			if tc.message != "" && env.Error.Message != tc.message {
				t.Errorf("message %q, want %q", env.Error.Message, tc.message)
			}
			if env.Error.Details["request_id"] != "req-1" {
				t.Errorf("details.request_id %v", env.Error.Details["request_id"])
			}
			// Internal failures are logged with their cause (the operator's
			// only trace of it, since the body hides it).
			if tc.status == 500 && !strings.Contains(logs.String(), "secret-table") {
				t.Errorf("cause not logged for status %d: %s", tc.status, logs.String())
			}
		})
	}
}

// TestRequestParsing: the body and query readers endpoints use.
func TestRequestParsing(t *testing.T) {
	type in struct {
		Name string `json:"name"`
		Size int    `json:"size"`
	}
	for _, tc := range []struct {
		name  string
		ev    events.APIGatewayV2HTTPRequest
		field string // details.field of the EINVALID, "" for success
		want  in
		query map[string]string
	}{
		{"object", events.APIGatewayV2HTTPRequest{Body: `{"name":"a","size":3}`}, "", in{"a", 3}, nil},
		{"base64 object", events.APIGatewayV2HTTPRequest{Body: base64.StdEncoding.EncodeToString([]byte(`{"name":"b"}`)), IsBase64Encoded: true}, "", in{Name: "b"}, nil},
		{"empty", events.APIGatewayV2HTTPRequest{Body: "  "}, "body", in{}, nil},
		{"malformed", events.APIGatewayV2HTTPRequest{Body: `{"name":`}, "body", in{}, nil},
		{"two objects", events.APIGatewayV2HTTPRequest{Body: `{} {}`}, "body", in{}, nil},
		{"wrong type names the field", events.APIGatewayV2HTTPRequest{Body: `{"size":"big"}`}, "size", in{}, nil},
		{"raw query", events.APIGatewayV2HTTPRequest{Body: `{}`, RawQueryString: "limit=%205%20&type=image"}, "", in{}, map[string]string{"limit": "5", "type": "image", "page": ""}},
		{"same value twice", events.APIGatewayV2HTTPRequest{Body: `{}`, RawQueryString: "limit=5&limit=5"}, "", in{}, map[string]string{"limit": "5"}},
		{"different values", events.APIGatewayV2HTTPRequest{Body: `{}`, RawQueryString: "limit=5&limit=6"}, "limit", in{}, map[string]string{"limit": ""}},
		{"parameters map", events.APIGatewayV2HTTPRequest{Body: `{}`, QueryStringParameters: map[string]string{"cursor": "c1"}}, "", in{}, map[string]string{"cursor": "c1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.ev.Headers = map[string]string{"x-api-key": "key-a"}
			// A route that reads the part under test: registration takes a
			// body, the asset list takes limit, type and cursor.
			tc.ev.RouteKey = "POST /api/v1/assets"
			if tc.ev.RawQueryString != "" || tc.ev.QueryStringParameters != nil {
				tc.ev.RouteKey = "GET /api/v1/assets"
			}
			var got in
			var gotErr error
			query := map[string]string{}
			endpoint := func(_ context.Context, r *httpapi.Request) (httpapi.Result, error) {
				if gotErr = r.DecodeJSON(&got); gotErr != nil {
					return httpapi.Result{}, gotErr
				}
				for name := range tc.query {
					v, err := r.Query(name)
					if err != nil {
						gotErr = err
						return httpapi.Result{}, err
					}
					query[name] = v
				}
				return httpapi.NoContent(), nil
			}
			api := &httpapi.API{Keys: twoWorkspaces{}}
			if _, err := api.Handler(endpoint)(context.Background(), tc.ev); err != nil {
				t.Fatal(err)
			}
			if tc.field != "" {
				var e *mediatrail.Error
				if !errors.As(gotErr, &e) || e.Code != mediatrail.EINVALID || e.Details["field"] != tc.field {
					t.Fatalf("error %v, want EINVALID on %s", gotErr, tc.field)
				}
				return
			}
			if gotErr != nil {
				t.Fatalf("error %v", gotErr)
			}
			if got != tc.want {
				t.Errorf("decoded %+v, want %+v", got, tc.want)
			}
			for name, want := range tc.query {
				if query[name] != want {
					t.Errorf("query %s = %q, want %q", name, query[name], want)
				}
			}
		})
	}
}

// TestAssetFilterOf: the list query's validation and defaults (api.md).
func TestAssetFilterOf(t *testing.T) {
	day := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		query string
		field string // EINVALID's field; "" for success
		check func(mediatrail.AssetFilter) bool
	}{
		{"", "", func(f mediatrail.AssetFilter) bool {
			return f.Limit == mediatrail.DefaultLimit && f.Page == 1 && f.Type == "" && f.Status == ""
		}},
		{"limit=100&page=3", "", func(f mediatrail.AssetFilter) bool { return f.Limit == 100 && f.Page == 3 }},
		{"limit=0", "limit", nil},
		{"limit=101", "limit", nil},
		{"limit=ten", "limit", nil},
		{"page=0", "page", nil},
		{"type=image", "", func(f mediatrail.AssetFilter) bool { return f.Type == mediatrail.AssetType("image") }},
		{"media_type=audio", "", func(f mediatrail.AssetFilter) bool { return f.Type == mediatrail.AssetType("audio") }},
		{"type=image&media_type=image", "", func(f mediatrail.AssetFilter) bool { return f.Type == mediatrail.AssetType("image") }},
		{"type=image&media_type=audio", "type", nil},
		{"type=gif", "type", nil},
		{"provider=openai&execution_id=ex-1&agent_id=ag_1", "", func(f mediatrail.AssetFilter) bool {
			return f.Provider == "openai" && f.ExecutionID == "ex-1" && f.AgentID == "ag_1"
		}},
		{"agent_id=a%20b", "agent_id", nil},
		{"created_after=2026-01-02", "", func(f mediatrail.AssetFilter) bool { return f.CreatedAfter.Equal(day) }},
		{"created_before=2026-01-02T01:00:00%2B01:00", "", func(f mediatrail.AssetFilter) bool { return f.CreatedBefore.Equal(day) }},
		{"created_after=yesterday", "created_after", nil},
		{"created_after=0001-01-01", "created_after", nil},
		{"created_after=2026-01-02&created_before=2026-01-02", "created_before", nil},
		{"status=pending", "", func(f mediatrail.AssetFilter) bool { return f.Status == mediatrail.StatusPending }},
		{"status=deleted", "status", nil},
		{"cursor=" + strings.Repeat("c", 1025), "cursor", nil},
	} {
		t.Run(tc.query, func(t *testing.T) {
			q, err := url.ParseQuery(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			f, err := httpapi.AssetFilterOf(q)
			wantField(t, err, tc.field)
			if tc.field == "" && !tc.check(f) {
				t.Errorf("filter %+v", f)
			}
		})
	}
}

// TestSpanFilterOf: the trace routes' filters; a bare date_to covers its day.
func TestSpanFilterOf(t *testing.T) {
	for _, tc := range []struct {
		query string
		field string
		check func(mediatrail.SpanFilter) bool
	}{
		{"", "", func(f mediatrail.SpanFilter) bool { return f == (mediatrail.SpanFilter{}) }},
		{"execution_id=ex-1&trace_id=tr-1&kind=image", "", func(f mediatrail.SpanFilter) bool {
			return f.ExecutionID == "ex-1" && f.TraceID == "tr-1" && f.Kind == mediatrail.SpanKind("image")
		}},
		{"kind=text", "kind", nil},
		{"trace_id=%00", "trace_id", nil},
		{"date_to=2026-01-02", "", func(f mediatrail.SpanFilter) bool {
			return f.To.Equal(time.Date(2026, 1, 2, 23, 59, 59, 999999999, time.UTC))
		}},
		{"date_to=2026-01-02T10:00:00Z", "", func(f mediatrail.SpanFilter) bool {
			return f.To.Equal(time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC))
		}},
		{"date_from=2026-13-01", "date_from", nil},
	} {
		t.Run(tc.query, func(t *testing.T) {
			q, err := url.ParseQuery(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			f, err := httpapi.SpanFilterOf(q)
			wantField(t, err, tc.field)
			if tc.field == "" && !tc.check(f) {
				t.Errorf("filter %+v", f)
			}
		})
	}
}

func TestNewMeta(t *testing.T) {
	for _, tc := range []struct{ total, limit, pages int }{{0, 20, 0}, {1, 20, 1}, {20, 20, 1}, {21, 20, 2}, {5, 0, 0}} {
		m := httpapi.NewMeta(tc.total, 1, tc.limit, "")
		if m.Pages != tc.pages || m.TotalPages != tc.pages {
			t.Errorf("NewMeta(total %d, limit %d) pages %d/%d, want %d", tc.total, tc.limit, m.Pages, m.TotalPages, tc.pages)
		}
	}
}

// wantField fails unless err is nil (field "") or an EINVALID naming field.
func wantField(t *testing.T, err error, field string) {
	t.Helper()
	if field == "" {
		if err != nil {
			t.Fatalf("error %v", err)
		}
		return
	}
	var e *mediatrail.Error
	if !errors.As(err, &e) || e.Code != mediatrail.EINVALID || e.Details["field"] != field {
		t.Fatalf("error %v, want EINVALID on %s", err, field)
	}
}
