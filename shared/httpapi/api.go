package httpapi

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/obs"
)

// MaxBodyBytes bounds JSON request bodies; larger ones are ETOOLARGE.
const MaxBodyBytes = 1 << 20

// Request is an authenticated API request.
type Request struct {
	Event       *events.APIGatewayV2HTTPRequest
	WorkspaceID string
	RequestID   string
	body        []byte
	query       url.Values
}

// Endpoint serves one route for an authenticated workspace.
type Endpoint func(ctx context.Context, r *Request) (Result, error)

// LambdaHandler is the shape lambda.Start accepts for API Gateway HTTP API routes.
type LambdaHandler func(ctx context.Context, e events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// API turns endpoints into Lambda handlers.
type API struct {
	Keys   mediatrail.KeyStore
	Logger *slog.Logger
}

// Handler wraps e with request ids, authentication, body limits, panic recovery
// and the envelopes (in Observed's frame). The Lambda itself never fails:
// every outcome is an HTTP answer.
func (api *API) Handler(e Endpoint) LambdaHandler {
	return Observed(api.logger(), errorResponse, func(ctx context.Context, ev *events.APIGatewayV2HTTPRequest, requestID string) (events.APIGatewayV2HTTPResponse, error) {
		result, err := api.serve(ctx, ev, requestID, e)
		if err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		return successResponse(result, requestID), nil
	})
}

// Observed is the frame of every HTTP route's Lambda handler, the API's and
// the MCP server's: a request id (API Gateway's, else a new one), panic
// recovery, and one log line per request (obs.MsgRequest: request id, route,
// method, path, workspace, status, latency, error code and the error's root
// cause, and what the services annotated, such as the provider of a media
// call). serve answers the request; an error it returns (or a panic) is
// answered by fail, the route's error shape. The Lambda itself never fails.
func Observed(logger *slog.Logger, fail func(err error, requestID string) events.APIGatewayV2HTTPResponse,
	serve func(ctx context.Context, ev *events.APIGatewayV2HTTPRequest, requestID string) (events.APIGatewayV2HTTPResponse, error)) LambdaHandler {
	return func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (resp events.APIGatewayV2HTTPResponse, _ error) {
		requestID := cmp.Or(ev.RequestContext.RequestID, mediatrail.NewID())
		ctx, line := obs.Begin(ctx, logger, obs.MsgRequest, slog.String(obs.KeyRequestID, requestID),
			slog.String(obs.KeyRoute, ev.RouteKey), slog.String(obs.KeyMethod, ev.RequestContext.HTTP.Method),
			slog.String(obs.KeyPath, ev.RawPath))
		var err error
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
				resp = fail(errors.New("panic"), requestID)
			}
			o := obs.Outcome{Status: resp.StatusCode, Err: err}
			if err != nil {
				o.ErrorCode = mediatrail.ErrorCode(err)
			}
			line.End(ctx, o)
		}()
		if resp, err = serve(ctx, &ev, requestID); err != nil {
			resp = fail(err, requestID)
		}
		return resp, nil
	}
}

// Admit is the first step of every route, the API's and the MCP server's:
// it authenticates before it reads anything of the request, so a caller
// without a valid key learns nothing from the body or query limits (401,
// never 413 or 400); then it names the workspace on the request's log line
// and answers the body, within the API's limits.
func Admit(ctx context.Context, keys mediatrail.KeyStore, ev *events.APIGatewayV2HTTPRequest) (workspaceID string, body []byte, err error) {
	ws, err := mediatrail.Authenticate(ctx, keys, RequestKey(func(name string) string { return Header(ev, name) }))
	if err != nil {
		return "", nil, err
	}
	obs.Annotate(ctx, slog.String(obs.KeyWorkspace, ws))
	if body, err = RequestBody(ev); err != nil {
		return "", nil, err
	}
	return ws, body, nil
}

// serve admits the request (Admit), checks its query and inputs and calls e.
func (api *API) serve(ctx context.Context, ev *events.APIGatewayV2HTTPRequest, requestID string, e Endpoint) (Result, error) {
	ws, body, err := Admit(ctx, api.Keys, ev)
	if err != nil {
		return Result{}, err
	}
	query, err := requestQuery(ev)
	if err != nil {
		return Result{}, err
	}
	if err := CheckInputs(ev, query, body); err != nil {
		return Result{}, err
	}
	return e(ctx, &Request{Event: ev, WorkspaceID: ws, RequestID: requestID, body: body, query: query})
}

func (api *API) logger() *slog.Logger {
	if api.Logger != nil {
		return api.Logger
	}
	return slog.Default()
}

// Header returns a request header by case-insensitive name. HTTP API lower-cases
// header names; other sources may not.
func Header(ev *events.APIGatewayV2HTTPRequest, name string) string {
	if v, ok := ev.Headers[name]; ok {
		return v
	}
	for k, v := range ev.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// RequestKey returns the API key a request carries: X-API-Key, else the token
// of "Authorization: Bearer <key>" (what MCP clients and OAuth-style SDKs
// send); "" when neither is there. header looks a header up by name, so the
// HTTP API and the MCP server resolve keys the same way.
func RequestKey(header func(name string) string) string {
	if k := strings.TrimSpace(header("x-api-key")); k != "" {
		return k
	}
	scheme, token, ok := strings.Cut(strings.TrimSpace(header("authorization")), " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// RequestBody is the event's body, decoded: invalid base64 is EINVALID and
// more than the route's limit (Inputs.MaxBody, else MaxBodyBytes) ETOOLARGE,
// for every route's function alike. The limit is checked on the encoded size
// first, so an oversized body is refused before it is decoded.
func RequestBody(ev *events.APIGatewayV2HTTPRequest) ([]byte, error) {
	limit := cmp.Or(InputsOf(ev.RouteKey).MaxBody, MaxBodyBytes)
	tooLarge := mediatrail.TooLarge("", "request body must be at most %s", byteSize(limit))
	raw := []byte(ev.Body)
	if ev.IsBase64Encoded {
		if base64.StdEncoding.DecodedLen(len(ev.Body)) > limit+2 {
			return nil, tooLarge
		}
		var err error
		if raw, err = base64.StdEncoding.DecodeString(ev.Body); err != nil {
			return nil, mediatrail.Invalid("body", "request body is not valid base64")
		}
	}
	if len(raw) > limit {
		return nil, tooLarge
	}
	return raw, nil
}

// byteSize says n in MiB when it is a whole number of them, else in bytes.
func byteSize(n int) string {
	if n%(1<<20) == 0 {
		return strconv.Itoa(n>>20) + " MiB"
	}
	return strconv.Itoa(n) + " bytes"
}

func requestQuery(ev *events.APIGatewayV2HTTPRequest) (url.Values, error) {
	if ev.RawQueryString != "" {
		q, err := url.ParseQuery(ev.RawQueryString)
		if err != nil {
			return nil, mediatrail.Invalid("query", "query string is malformed")
		}
		return q, nil
	}
	q := url.Values{}
	for k, v := range ev.QueryStringParameters {
		q.Set(k, v)
	}
	return q, nil
}

// PathParam returns a path parameter ("" when absent).
func (r *Request) PathParam(name string) string { return r.Event.PathParameters[name] }

// Query returns the first value of a query parameter; a parameter given twice
// with different values is EINVALID.
func (r *Request) Query(name string) (string, error) {
	vs := r.query[name]
	for _, v := range vs[min(1, len(vs)):] {
		if v != vs[0] {
			return "", mediatrail.Invalid(name, "%s must be given once", name)
		}
	}
	if len(vs) == 0 {
		return "", nil
	}
	return strings.TrimSpace(vs[0]), nil
}

// DecodeJSON decodes the body as one JSON object into v. An empty, malformed or
// trailing-garbage body is EINVALID, and so is a field v does not have (named
// in the message): a misspelt field is never silently dropped.
func (r *Request) DecodeJSON(v any) error {
	if len(bytes.TrimSpace(r.body)) == 0 {
		return mediatrail.Invalid("body", "request body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return mediatrail.Invalid(typeErr.Field, "%s has the wrong type", typeErr.Field)
		}
		if name, ok := unknownField(err); ok {
			return mediatrail.Invalid(name, "unknown field %q in the request body", name)
		}
		return mediatrail.Invalid("body", "request body must be a valid JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return mediatrail.Invalid("body", "request body must hold exactly one JSON object")
	}
	return nil
}

// unknownField reads the field name out of encoding/json's error for
// DisallowUnknownFields (`json: unknown field "name"`), which has no type of
// its own. The name is cut to keep an echoed message short.
func unknownField(err error) (string, bool) {
	name, ok := strings.CutPrefix(err.Error(), `json: unknown field "`)
	if !ok {
		return "", false
	}
	name = strings.TrimSuffix(name, `"`)
	if len(name) > 64 {
		name = name[:64]
	}
	return name, true
}
