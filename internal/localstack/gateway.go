package localstack

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// Limits of API Gateway HTTP APIs.
const (
	// MaxPayloadBytes is the request payload limit.
	MaxPayloadBytes = 10 << 20
	// IntegrationTimeout is the longest API Gateway waits for a function.
	IntegrationTimeout = 30 * time.Second
)

// Gateway emulates an API Gateway HTTP API with payload format 2.0: route
// selection, the request event, CORS, and the mapping of the function's
// response (or failure) to HTTP. Authorizers are not emulated: the template
// uses none (the functions authenticate API keys themselves), and
// LoadTemplate refuses one that declares them.
type Gateway struct {
	Routes  []Route
	Invoker Invoker
	// APIs supply the CORS configuration, by logical id.
	APIs map[string]*HTTPAPI
	// AccountID and Region appear in requestContext and route ARNs.
	AccountID, Region string
	Logger            *slog.Logger
	// Now is the clock of requestContext.time (time.Now when nil).
	Now func() time.Time
	// Timeout is the integration timeout (IntegrationTimeout when zero).
	Timeout time.Duration

	once   sync.Once
	routes *routes
}

type match struct {
	route  Route
	params map[string]string
}

// routes is the gateway's routing table: a ServeMux of the routes' patterns
// (see muxPattern) and the $default route, if any.
type routes struct {
	mux      *http.ServeMux
	fallback *Route
	err      error // a pattern the ServeMux refused
}

// muxPattern is route r's ServeMux pattern: "METHOD /path" ("/path" for
// ANY), a greedy {name+} as {name...}, and a path ending in "/" anchored
// with {$} (a ServeMux pattern ending in "/" would match every path below it).
func muxPattern(r Route) string {
	path := strings.ReplaceAll(r.Path, "+}", "...}")
	if strings.HasSuffix(path, "/") {
		path += "{$}"
	}
	if r.Method == "ANY" {
		return path
	}
	return r.Method + " " + path
}

// routeHandler records the route the ServeMux chose, with its parameters,
// into the capture it serves.
type routeHandler struct {
	route  Route
	params []string // the names of the pattern's wildcards
}

func (h routeHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c, ok := w.(*capture)
	if !ok {
		return
	}
	m := match{route: h.route, params: map[string]string{}}
	for _, name := range h.params {
		// The mux saw the escaped path (see find): decode once more.
		v := r.PathValue(name)
		if d, err := url.PathUnescape(v); err == nil {
			v = d
		}
		m.params[name] = v
	}
	c.found = &m
}

// capture is the ResponseWriter route selection runs on: only a
// routeHandler fills it; the ServeMux's own answers (404, 405, redirects to
// a cleaned path) leave it empty.
type capture struct {
	found *match
	h     http.Header
}

func (c *capture) Header() http.Header {
	if c.h == nil {
		c.h = http.Header{}
	}
	return c.h
}
func (c *capture) Write(b []byte) (int, error) { return len(b), nil }
func (c *capture) WriteHeader(int)             {}

// table builds the routing table once.
func (g *Gateway) table() *routes {
	g.once.Do(func() {
		t := &routes{mux: http.NewServeMux()}
		for i, r := range g.Routes {
			if r.Path == "$default" {
				t.fallback = &g.Routes[i]
				continue
			}
			var params []string
			for _, seg := range strings.Split(r.Path, "/") {
				if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
					params = append(params, strings.TrimSuffix(strings.Trim(seg, "{}"), "+"))
				}
			}
			if err := handle(t.mux, muxPattern(r), routeHandler{route: r, params: params}); err != nil {
				t.err = fmt.Errorf("route %s: %w", r.RouteKey(), err)
				break
			}
		}
		g.routes = t
	})
	return g.routes
}

// handle is mux.Handle, answering the panic of a pattern it refuses
// (malformed, or in conflict with another) as an error.
func handle(mux *http.ServeMux, pattern string, h http.Handler) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%v", p)
		}
	}()
	mux.Handle(pattern, h)
	return nil
}

// find picks the route API Gateway would, through the ServeMux's
// precedence: literal segments beat parameters, parameters beat greedy
// {proxy+} (which needs at least one character), an exact method beats
// ANY, and $default catches what nothing else matches. A path that matches
// only with another method is not found (API Gateway answers 404, never
// 405), and HEAD is not GET.
func (g *Gateway) find(r *http.Request) (match, bool, error) {
	t := g.table()
	if t.err != nil {
		return match{}, false, t.err
	}
	// The ServeMux routes the decoded path and answers one that is not
	// clean with a redirect: an escaped "/" at a segment's edge ("%2F" as an
	// id) would decode to "//" and match nothing. API Gateway routes the
	// path as sent, so the mux is given the escaped path as if it were the
	// decoded one, and routeHandler decodes the values.
	escaped := *r.URL
	escaped.Path, escaped.RawPath = r.URL.EscapedPath(), ""
	routed := *r
	routed.URL = &escaped
	c := &capture{}
	t.mux.ServeHTTP(c, &routed)
	m := c.found
	if m != nil && r.Method == http.MethodHead && m.route.Method == http.MethodGet {
		m = nil
	}
	if m != nil && strings.HasSuffix(m.route.Path, "+}") && m.params[greedyName(m.route.Path)] == "" {
		m = nil
	}
	switch {
	case m != nil:
		return *m, true, nil
	case t.fallback != nil:
		return match{route: *t.fallback}, true, nil
	}
	return match{}, false, nil
}

// greedyName is the name of path's trailing {name+} parameter.
func greedyName(path string) string {
	i := strings.LastIndex(path, "{")
	return strings.TrimSuffix(path[i+1:], "+}")
}

func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m, ok, err := g.find(r)
	if err != nil {
		g.logger().Error("routing table", "err", err)
		writeGatewayError(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	if !ok || (r.Method == http.MethodOptions && m.route.Method != http.MethodOptions) {
		if cors := g.cors(m.route.API); cors != nil && r.Method == http.MethodOptions &&
			r.Header.Get("Origin") != "" && r.Header.Get("Access-Control-Request-Method") != "" {
			cors.preflight(w, r)
			return
		}
	}
	if !ok {
		writeGatewayError(w, http.StatusNotFound, "Not Found")
		return
	}
	if cors := g.cors(m.route.API); cors != nil {
		cors.decorate(w.Header(), r.Header.Get("Origin"))
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
	timeout := g.Timeout
	if timeout == 0 {
		timeout = IntegrationTimeout
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	payload, err := json.Marshal(ev)
	if err != nil {
		writeGatewayError(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	out, err := g.Invoker.Invoke(ctx, m.route.Function, payload)
	switch {
	case errors.Is(err, context.DeadlineExceeded) || ctx.Err() == context.DeadlineExceeded:
		writeGatewayError(w, http.StatusServiceUnavailable, "Service Unavailable")
		return
	case err != nil:
		g.logger().Error("function failed", "function", m.route.Function, "route", m.route.RouteKey(), "err", err)
		writeGatewayError(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	resp, ok := responseOf(out)
	if !ok {
		g.logger().Error("function returned a malformed response", "function", m.route.Function)
		writeGatewayError(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	writeResponse(w, resp)
}

// responseOf interprets a function's result as payload format 2.0 does: an
// object with statusCode is a response; any other JSON value is the body of
// a 200 application/json response.
func responseOf(out []byte) (events.APIGatewayV2HTTPResponse, bool) {
	var probe map[string]json.RawMessage
	if json.Unmarshal(out, &probe) == nil {
		if _, has := probe["statusCode"]; has {
			var resp events.APIGatewayV2HTTPResponse
			if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode < 100 || resp.StatusCode > 599 {
				return resp, false
			}
			return resp, true
		}
	}
	if !json.Valid(out) {
		return events.APIGatewayV2HTTPResponse{}, false
	}
	return events.APIGatewayV2HTTPResponse{
		StatusCode: http.StatusOK,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       string(out),
	}, true
}

func (g *Gateway) logger() *slog.Logger {
	if g.Logger != nil {
		return g.Logger
	}
	return slog.Default()
}

func (g *Gateway) cors(api string) *CORS {
	if a := g.APIs[api]; a != nil && a.CORS != nil {
		return a.CORS
	}
	var only *CORS
	for _, a := range g.APIs {
		if a.CORS != nil {
			if only != nil {
				return nil
			}
			only = a.CORS
		}
	}
	return only
}

// event builds the payload 2.0 event API Gateway would send.
func (g *Gateway) event(r *http.Request, m match, body []byte) events.APIGatewayV2HTTPRequest {
	now := time.Now()
	if g.Now != nil {
		now = g.Now()
	}
	sourceIP, _, _ := net.SplitHostPort(r.RemoteAddr)
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
	if r.ContentLength > 0 {
		headers["content-length"] = strconv.FormatInt(r.ContentLength, 10)
	}
	// API Gateway appends the client to X-Forwarded-For and adds the rest.
	if prior := headers["x-forwarded-for"]; prior != "" {
		headers["x-forwarded-for"] = prior + ", " + sourceIP
	} else {
		headers["x-forwarded-for"] = sourceIP
	}
	_, port, _ := net.SplitHostPort(r.Host)
	if port == "" {
		port = "80"
	}
	headers["x-forwarded-port"] = port
	headers["x-forwarded-proto"] = "http"
	headers["x-amzn-trace-id"] = "Root=1-" + strconv.FormatInt(now.Unix(), 16) + "-" + strings.ReplaceAll(newRequestID(), "-", "")[:24]
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
	domain := r.Host
	prefix, _, _ := strings.Cut(domain, ".")
	if h, _, err := net.SplitHostPort(domain); err == nil {
		prefix, _, _ = strings.Cut(h, ".")
	}
	ev := events.APIGatewayV2HTTPRequest{
		Version:               "2.0",
		RouteKey:              m.route.RouteKey(),
		RawPath:               r.URL.EscapedPath(),
		RawQueryString:        r.URL.RawQuery,
		Cookies:               cookies,
		Headers:               headers,
		QueryStringParameters: query,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			AccountID:    g.AccountID,
			APIID:        "local",
			DomainName:   domain,
			DomainPrefix: prefix,
			RequestID:    mediatrail.NewID(),
			RouteKey:     m.route.RouteKey(),
			Stage:        "$default",
			Time:         now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:    now.UnixMilli(),
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
		mt == "application/xml" || strings.HasSuffix(mt, "+xml") || mt == "application/x-www-form-urlencoded" ||
		mt == "application/javascript" || mt == ""
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
	_ = json.NewEncoder(w).Encode(map[string]string{"message": msg})
}

// preflight answers a CORS preflight request as API Gateway does for an API
// with a CorsConfiguration.
func (c *CORS) preflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	if c.decorate(h, r.Header.Get("Origin")) {
		if len(c.AllowMethods) > 0 {
			h.Set("Access-Control-Allow-Methods", strings.Join(c.AllowMethods, ","))
		}
		if len(c.AllowHeaders) > 0 {
			h.Set("Access-Control-Allow-Headers", strings.Join(c.AllowHeaders, ","))
		}
		if c.MaxAge > 0 {
			h.Set("Access-Control-Max-Age", strconv.Itoa(c.MaxAge))
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// decorate sets the CORS response headers for origin; it reports whether the
// origin is allowed.
func (c *CORS) decorate(h http.Header, origin string) bool {
	if origin == "" || !slices.ContainsFunc(c.AllowOrigins, func(o string) bool { return o == "*" || strings.EqualFold(o, origin) }) {
		return false
	}
	allow := origin
	if slices.Contains(c.AllowOrigins, "*") && !c.AllowCredentials {
		allow = "*"
	}
	h.Set("Access-Control-Allow-Origin", allow)
	if c.AllowCredentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	if len(c.ExposeHeaders) > 0 {
		h.Set("Access-Control-Expose-Headers", strings.Join(c.ExposeHeaders, ","))
	}
	return true
}
