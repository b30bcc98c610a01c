package localstack

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// MaxPayloadBytes is API Gateway's request payload limit.
const MaxPayloadBytes = 10 << 20

// Invoker runs a function by logical id with a JSON event, as the Lambda
// service does, returning the JSON response.
type Invoker interface {
	Invoke(ctx context.Context, logicalID string, payload []byte) ([]byte, error)
}

// InProcess invokes handlers in this process through aws-lambda-go's handler
// adapter, so events and responses are marshalled exactly as in Lambda.
type InProcess map[string]lambda.Handler

// Invoke implements Invoker.
func (p InProcess) Invoke(ctx context.Context, logicalID string, payload []byte) ([]byte, error) {
	h, ok := p[logicalID]
	if !ok {
		return nil, fmt.Errorf("function %s is not deployed locally", logicalID)
	}
	return h.Invoke(ctx, payload)
}

// Gateway emulates an API Gateway HTTP API with payload format 2.0.
type Gateway struct {
	Routes  []Route
	Invoker Invoker
	Logger  *slog.Logger
	// Now is the clock of requestContext.time (time.Now when nil).
	Now func() time.Time
}

type match struct {
	route  Route
	params map[string]string
	score  int
}

// find picks the route API Gateway would: literal segments beat parameters,
// parameters beat greedy {proxy+}, an exact method beats ANY.
func (g *Gateway) find(method, path string) (match, bool) {
	var found []match
	for _, r := range g.Routes {
		if r.Method != method && r.Method != "ANY" {
			continue
		}
		if params, score, ok := matchPath(r.Path, path); ok {
			if r.Method == method {
				score++
			}
			found = append(found, match{route: r, params: params, score: score})
		}
	}
	if len(found) == 0 {
		return match{}, false
	}
	sort.SliceStable(found, func(i, j int) bool { return found[i].score > found[j].score })
	return found[0], true
}

func matchPath(pattern, path string) (map[string]string, int, bool) {
	ps := strings.Split(strings.Trim(pattern, "/"), "/")
	xs := strings.Split(strings.Trim(path, "/"), "/")
	params := map[string]string{}
	score := 0
	for i, p := range ps {
		if strings.HasPrefix(p, "{") && strings.HasSuffix(p, "+}") {
			if i >= len(xs) {
				return nil, 0, false
			}
			rest, err := url.PathUnescape(strings.Join(xs[i:], "/"))
			if err != nil {
				return nil, 0, false
			}
			params[strings.TrimSuffix(strings.TrimPrefix(p, "{"), "+}")] = rest
			return params, score, true
		}
		if i >= len(xs) || xs[i] == "" {
			return nil, 0, false
		}
		if strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}") {
			v, err := url.PathUnescape(xs[i])
			if err != nil {
				return nil, 0, false
			}
			params[strings.Trim(p, "{}")] = v
			score += 2
			continue
		}
		if p != xs[i] {
			return nil, 0, false
		}
		score += 4
	}
	if len(ps) != len(xs) {
		return nil, 0, false
	}
	return params, score, true
}

func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Match on the escaped path so an encoded "/" stays inside one segment.
	m, ok := g.find(r.Method, r.URL.EscapedPath())
	if !ok {
		writeGatewayError(w, http.StatusNotFound, "Not Found")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxPayloadBytes+1))
	if err != nil {
		writeGatewayError(w, http.StatusBadRequest, "Bad Request")
		return
	}
	if len(body) > MaxPayloadBytes {
		writeGatewayError(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
		return
	}
	ev := g.event(r, m, body)
	payload, err := json.Marshal(ev)
	if err != nil {
		writeGatewayError(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	out, err := g.Invoker.Invoke(r.Context(), m.route.Function, payload)
	if err != nil {
		g.logger().Error("function failed", "function", m.route.Function, "route", m.route.RouteKey(), "err", err)
		writeGatewayError(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode == 0 {
		g.logger().Error("function returned a malformed response", "function", m.route.Function)
		writeGatewayError(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	writeResponse(w, resp)
}

func (g *Gateway) logger() *slog.Logger {
	if g.Logger != nil {
		return g.Logger
	}
	return slog.Default()
}

// event builds the payload 2.0 event API Gateway would send.
func (g *Gateway) event(r *http.Request, m match, body []byte) events.APIGatewayV2HTTPRequest {
	now := time.Now()
	if g.Now != nil {
		now = g.Now()
	}
	headers := map[string]string{}
	for k, vs := range r.Header {
		if strings.EqualFold(k, "Cookie") {
			continue
		}
		headers[strings.ToLower(k)] = strings.Join(vs, ",")
	}
	if r.Host != "" {
		headers["host"] = r.Host
	}
	var query map[string]string
	if q := r.URL.Query(); len(q) > 0 {
		query = map[string]string{}
		for k, vs := range q {
			query[k] = strings.Join(vs, ",")
		}
	}
	var cookies []string
	for _, c := range r.Cookies() {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	sourceIP, _, _ := net.SplitHostPort(r.RemoteAddr)
	ev := events.APIGatewayV2HTTPRequest{
		Version:               "2.0",
		RouteKey:              m.route.RouteKey(),
		RawPath:               r.URL.EscapedPath(),
		RawQueryString:        r.URL.RawQuery,
		Cookies:               cookies,
		Headers:               headers,
		QueryStringParameters: query,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			AccountID:  "000000000000",
			APIID:      "local",
			DomainName: r.Host,
			RequestID:  mediatrail.NewID(),
			RouteKey:   m.route.RouteKey(),
			Stage:      "$default",
			Time:       now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:  now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method: r.Method, Path: r.URL.Path, Protocol: r.Proto, SourceIP: sourceIP, UserAgent: r.UserAgent(),
			},
		},
	}
	if len(m.params) > 0 {
		ev.PathParameters = m.params
	}
	if len(body) > 0 {
		if isText(r.Header.Get("Content-Type"), body) {
			ev.Body = string(body)
		} else {
			ev.Body = base64.StdEncoding.EncodeToString(body)
			ev.IsBase64Encoded = true
		}
	}
	return ev
}

// isText mirrors API Gateway: textual media types pass as strings, anything
// else is base64-encoded.
func isText(contentType string, body []byte) bool {
	mt, _, _ := mime.ParseMediaType(contentType)
	textual := strings.HasPrefix(mt, "text/") || mt == "application/json" || strings.HasSuffix(mt, "+json") ||
		mt == "application/xml" || mt == "application/x-www-form-urlencoded" || mt == "application/javascript" || mt == ""
	return textual && utf8.Valid(body)
}

func writeResponse(w http.ResponseWriter, resp events.APIGatewayV2HTTPResponse) {
	for k, v := range resp.Headers {
		w.Header().Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	for _, c := range resp.Cookies {
		w.Header().Add("Set-Cookie", c)
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		if b, err := base64.StdEncoding.DecodeString(resp.Body); err == nil {
			body = b
		}
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(body)
}

func writeGatewayError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, `{"message":%q}`, msg)
}
