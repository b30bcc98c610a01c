package localstack

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
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
// selection, the request event, Lambda and JWT authorizers, CORS, and the
// mapping of the function's response (or failure) to HTTP.
type Gateway struct {
	Routes  []Route
	Invoker Invoker
	// Authorizers are keyed by AuthorizerKey(route.API, route.Authorizer).
	Authorizers map[string]*Authorizer
	// APIs supply the CORS configuration, by logical id.
	APIs map[string]*HTTPAPI
	// AccountID and Region appear in requestContext and route ARNs.
	AccountID, Region string
	Logger            *slog.Logger
	// Now is the clock of requestContext.time (time.Now when nil).
	Now func() time.Time
	// Timeout is the integration timeout (IntegrationTimeout when zero).
	Timeout time.Duration
}

type match struct {
	route  Route
	params map[string]string
	score  int
}

// find picks the route API Gateway would: literal segments beat parameters,
// parameters beat greedy {proxy+}, an exact method beats ANY, and $default
// catches what nothing else matches.
func (g *Gateway) find(method, path string) (match, bool) {
	var found []match
	var fallback *Route
	for i, r := range g.Routes {
		if r.Path == "$default" {
			fallback = &g.Routes[i]
			continue
		}
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
		if fallback != nil {
			return match{route: *fallback}, true
		}
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
	if m.route.Authorizer != "" {
		status, authz := g.authorize(ctx, m.route, ev)
		if status != http.StatusOK {
			writeGatewayError(w, status, http.StatusText(status))
			return
		}
		ev.RequestContext.Authorizer = authz
	}
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

// authorize runs the route's authorizer. It returns 200 and the authorizer
// context to add to the event, or the status API Gateway answers with:
// 401 when the identity is missing or invalid, 403 when access is denied,
// 500 when a Lambda authorizer fails.
func (g *Gateway) authorize(ctx context.Context, route Route, ev events.APIGatewayV2HTTPRequest) (int, *events.APIGatewayV2HTTPRequestContextAuthorizerDescription) {
	a := g.Authorizers[AuthorizerKey(route.API, route.Authorizer)]
	if a == nil {
		g.logger().Error("route names an unknown authorizer", "route", route.RouteKey(), "authorizer", route.Authorizer)
		return http.StatusInternalServerError, nil
	}
	identity, complete := identitySources(a.IdentitySources, ev)
	if a.Function == "" {
		if !complete || len(identity) == 0 {
			return http.StatusUnauthorized, nil
		}
		return authorizeJWT(a, route.Scopes, identity[0], g.now())
	}
	if !complete {
		return http.StatusUnauthorized, nil
	}
	req := events.APIGatewayV2CustomAuthorizerV2Request{
		Version:        "2.0",
		Type:           "REQUEST",
		RouteArn:       "arn:aws:execute-api:" + g.Region + ":" + g.AccountID + ":local/$default/" + ev.RequestContext.HTTP.Method + ev.RawPath,
		IdentitySource: identity, RouteKey: ev.RouteKey, RawPath: ev.RawPath, RawQueryString: ev.RawQueryString,
		Cookies: ev.Cookies, Headers: ev.Headers, QueryStringParameters: ev.QueryStringParameters,
		RequestContext: ev.RequestContext, PathParameters: ev.PathParameters, StageVariables: ev.StageVariables,
	}
	payload, err := json.Marshal(req)
	if err != nil {
		return http.StatusInternalServerError, nil
	}
	out, err := g.Invoker.Invoke(ctx, a.Function, payload)
	if err != nil {
		g.logger().Error("authorizer failed", "function", a.Function, "err", err)
		return http.StatusInternalServerError, nil
	}
	var resp struct {
		IsAuthorized   *bool          `json:"isAuthorized"`
		Context        map[string]any `json:"context"`
		PolicyDocument *struct {
			Statement []struct{ Effect string }
		} `json:"policyDocument"`
	}
	if err := json.Unmarshal(out, &resp); err != nil {
		return http.StatusInternalServerError, nil
	}
	allowed := false
	switch {
	case a.SimpleResponses && resp.IsAuthorized != nil:
		allowed = *resp.IsAuthorized
	case !a.SimpleResponses && resp.PolicyDocument != nil:
		allowed = len(resp.PolicyDocument.Statement) > 0
		for _, s := range resp.PolicyDocument.Statement {
			allowed = allowed && strings.EqualFold(s.Effect, "Allow")
		}
	default:
		g.logger().Error("authorizer returned a malformed response", "function", a.Function)
		return http.StatusInternalServerError, nil
	}
	if !allowed {
		return http.StatusForbidden, nil
	}
	if resp.Context == nil {
		resp.Context = map[string]any{}
	}
	return http.StatusOK, &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{Lambda: resp.Context}
}

func (g *Gateway) now() time.Time {
	if g.Now != nil {
		return g.Now()
	}
	return time.Now()
}

// identitySources evaluates selection expressions against the event; complete
// is false when one of them is absent (API Gateway then answers 401).
func identitySources(sources []string, ev events.APIGatewayV2HTTPRequest) ([]string, bool) {
	var out []string
	for _, s := range sources {
		var v string
		switch {
		case strings.HasPrefix(s, "$request.header."):
			v = ev.Headers[strings.ToLower(strings.TrimPrefix(s, "$request.header."))]
		case strings.HasPrefix(s, "$request.querystring."):
			v = ev.QueryStringParameters[strings.TrimPrefix(s, "$request.querystring.")]
		default:
			continue
		}
		if v == "" {
			return nil, false
		}
		out = append(out, v)
	}
	return out, true
}

// authorizeJWT checks a bearer token's issuer, audience, lifetime and the
// route's scopes and returns its claims as API Gateway passes them. The
// signature is NOT verified: the local stack has no network access to fetch
// the issuer's keys.
func authorizeJWT(a *Authorizer, scopes []string, header string, now time.Time) (int, *events.APIGatewayV2HTTPRequestContextAuthorizerDescription) {
	token := header
	if len(token) > 7 && strings.EqualFold(token[:7], "bearer ") {
		token = strings.TrimSpace(token[7:])
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return http.StatusUnauthorized, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return http.StatusUnauthorized, nil
	}
	var claims map[string]json.RawMessage
	if json.Unmarshal(raw, &claims) != nil {
		return http.StatusUnauthorized, nil
	}
	str := func(k string) string {
		var s string
		_ = json.Unmarshal(claims[k], &s)
		return s
	}
	num := func(k string) (float64, bool) {
		var f float64
		return f, json.Unmarshal(claims[k], &f) == nil
	}
	if a.Issuer != "" && str("iss") != a.Issuer {
		return http.StatusUnauthorized, nil
	}
	if exp, ok := num("exp"); !ok || now.After(time.Unix(int64(exp), 0)) {
		return http.StatusUnauthorized, nil
	}
	if nbf, ok := num("nbf"); ok && now.Before(time.Unix(int64(nbf), 0)) {
		return http.StatusUnauthorized, nil
	}
	if len(a.Audience) > 0 {
		var aud []string
		if s := str("aud"); s != "" {
			aud = []string{s}
		} else {
			_ = json.Unmarshal(claims["aud"], &aud)
		}
		if c := str("client_id"); c != "" {
			aud = append(aud, c)
		}
		if !slices.ContainsFunc(aud, func(s string) bool { return slices.Contains(a.Audience, s) }) {
			return http.StatusUnauthorized, nil
		}
	}
	granted := strings.Fields(str("scope"))
	if len(granted) == 0 {
		_ = json.Unmarshal(claims["scp"], &granted)
	}
	if len(scopes) > 0 && !slices.ContainsFunc(scopes, func(s string) bool { return slices.Contains(granted, s) }) {
		return http.StatusForbidden, nil
	}
	out := map[string]string{}
	for k, v := range claims {
		var s string
		if json.Unmarshal(v, &s) == nil {
			out[k] = s
		} else {
			out[k] = string(bytes.TrimSpace(v))
		}
	}
	return http.StatusOK, &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
		JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: out, Scopes: granted},
	}
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
