package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// client speaks the HTTP API of openapi.yaml: the X-API-Key header, the
// {"data", "meta"} envelope and the error envelope.
type client struct {
	base string // scheme://host, without /api/v1
	key  string
	http *http.Client
}

// apiError is an error envelope: the API's stable code and its message.
type apiError struct {
	Status    int
	Code      string
	Message   string
	RequestID string
}

func (e *apiError) Error() string {
	msg := fmt.Sprintf("%s: %s", e.Code, e.Message)
	if e.RequestID != "" {
		msg += " (request " + e.RequestID + ")"
	}
	return msg
}

// meta is the paging block of a list answer.
type meta struct {
	Total      int    `json:"total"`
	Page       int    `json:"page"`
	Limit      int    `json:"limit"`
	Pages      int    `json:"pages"`
	NextCursor string `json:"next_cursor"`
}

// call sends in (nil for no body) as JSON to path under the API and decodes
// the answer's data into out (nil to ignore it). It returns the list meta,
// if any. A non-2xx answer is an *apiError.
func (c *client) call(ctx context.Context, method, path string, query url.Values, in, out any) (*meta, error) {
	var body io.Reader
	if in != nil {
		raw, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(raw)
	}
	u := strings.TrimRight(c.base, "/") + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-API-Key", c.key)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	var env struct {
		Data  json.RawMessage `json:"data"`
		Meta  *meta           `json:"meta"`
		Error *struct {
			Code    string         `json:"code"`
			Message string         `json:"message"`
			Details map[string]any `json:"details"`
		} `json:"error"`
	}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &env); err != nil {
			return nil, fmt.Errorf("%s %s: HTTP %d, not an API answer (is %s the mediatrail API?)", method, path, resp.StatusCode, c.base)
		}
	}
	if resp.StatusCode >= 300 {
		e := &apiError{Status: resp.StatusCode, Code: "http_" + fmt.Sprint(resp.StatusCode), Message: http.StatusText(resp.StatusCode)}
		if env.Error != nil {
			e.Code, e.Message = env.Error.Code, env.Error.Message
			e.RequestID, _ = env.Error.Details["request_id"].(string)
		}
		return nil, e
	}
	if out != nil && len(env.Data) > 0 {
		if err := json.Unmarshal(env.Data, out); err != nil {
			return nil, fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return env.Meta, nil
}

// pages GETs path with q page after page, following next_cursor while all,
// handing each page to each as it arrives; it answers the last page's meta.
func pages[T any](ctx context.Context, api *client, path string, q url.Values, all bool, each func([]T) error) (*meta, error) {
	for {
		var page []T
		m, err := api.call(ctx, "GET", path, q, nil, &page)
		if err != nil {
			return nil, err
		}
		if err := each(page); err != nil {
			return nil, err
		}
		if !all || m == nil || m.NextCursor == "" {
			return m, nil
		}
		q.Set("cursor", m.NextCursor)
	}
}
