package testenv

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// Reply is one API answer, decoded as the PromptRails SDK decodes it: data, the
// paging meta of lists, and the error envelope (api.md).
type Reply struct {
	Data  json.RawMessage `json:"data"`
	Meta  *Meta           `json:"meta"`
	Error *ErrorBody      `json:"error"`

	Status int         `json:"-"`
	Header http.Header `json:"-"`
	Raw    string      `json:"-"`
}

// Meta is the paging block of a list answer.
type Meta struct {
	Total      int    `json:"total"`
	Page       int    `json:"page"`
	Limit      int    `json:"limit"`
	Pages      int    `json:"pages"`
	NextCursor string `json:"next_cursor"`
}

// ErrorBody is the error envelope's content.
type ErrorBody struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Details map[string]any `json:"details"`
}

// Call sends one API request to baseURL+path with X-API-Key key (none when
// empty). body is nil, a string or []byte sent as it is, or a value sent as
// JSON. A body that is not JSON fails the test: every API answer is. Every
// exchange is held to openapi.yaml (CheckContract).
func Call(tb testing.TB, baseURL, method, path, key string, body any) Reply {
	tb.Helper()
	return CallAs(tb, baseURL, method, path, key, "application/json", body)
}

// CallAs is Call with the request's Content-Type (a file sent as its bytes).
func CallAs(tb testing.TB, baseURL, method, path, key, contentType string, body any) Reply {
	tb.Helper()
	var sent []byte
	switch b := body.(type) {
	case nil:
	case string:
		sent = []byte(b)
	case []byte:
		sent = b
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			tb.Fatal(err)
		}
		sent = raw
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(sent)
	}
	req, err := http.NewRequest(method, baseURL+path, rd)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if key != "" {
		req.Header.Set("X-API-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	CheckContract(tb, req, sent, resp.StatusCode, resp.Header, raw)
	var r Reply
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &r); err != nil {
			tb.Fatalf("%s %s: status %d, body is not JSON: %q", method, path, resp.StatusCode, raw)
		}
	}
	r.Status, r.Header, r.Raw = resp.StatusCode, resp.Header, string(raw)
	return r
}

// Into decodes the answer's data into dst.
func (r Reply) Into(tb testing.TB, dst any) {
	tb.Helper()
	if err := json.Unmarshal(r.Data, dst); err != nil {
		tb.Fatalf("decode data %s: %v", r.Data, err)
	}
}

// WantStatus fails the test unless the answer has status.
func (r Reply) WantStatus(tb testing.TB, status int) {
	tb.Helper()
	if r.Status != status {
		tb.Fatalf("status = %d, want %d: %s", r.Status, status, r.Raw)
	}
}

// WantError fails the test unless the answer is the error envelope with
// status and code, a message, and the request id in details and X-Request-Id.
func (r Reply) WantError(tb testing.TB, status int, code string) {
	tb.Helper()
	r.WantStatus(tb, status)
	if r.Error == nil || r.Error.Code != code || r.Error.Message == "" {
		tb.Fatalf("answer %d %s, want code %q with a message", r.Status, r.Raw, code)
	}
	if id, _ := r.Error.Details["request_id"].(string); id == "" || r.Header.Get("X-Request-Id") != id {
		tb.Fatalf("request id: details %v, header %q", r.Error.Details["request_id"], r.Header.Get("X-Request-Id"))
	}
}
