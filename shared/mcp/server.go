package mcp

import (
	"cmp"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/httpapi"
)

// Server is the MCP server of the media tools. One Server serves every
// request of a process; each request gets an SDK server of its own, made for
// its caller (workspace and run), so nothing is kept between requests.
type Server struct {
	Keys   mediatrail.KeyStore
	Media  *mediatrail.MediaService
	Jobs   *mediatrail.JobService
	Assets *mediatrail.AssetService
	Traces *mediatrail.TraceService
	Logger *slog.Logger

	// Tools lists the tools one caller sees; nil means Builtins. This is the
	// seam for an agent's attached tools: a Tools that finds the agent's
	// (Caller.Run.AgentID) answers them, each a MediaTool named after it with
	// its defaults, and Builtins otherwise.
	Tools func(ctx context.Context, c Caller) ([]Tool, error)

	once    sync.Once
	streams http.Handler // the SDK's Streamable HTTP handler
	adapter *httpadapter.HandlerAdapterV2
}

// Caller is who calls: the workspace of the key and the run of the request.
type Caller struct {
	WorkspaceID string
	Run         Run
	RequestID   string
}

// serverKey carries the request's SDK server from ServeHTTP to the SDK's
// getServer callback.
type serverKey struct{}

// requestIDKey carries the API Gateway request id into ServeHTTP.
type requestIDKey struct{}

// workspaceKey carries the workspace Handler authenticated, so that
// ServeHTTP does not resolve the key a second time.
type workspaceKey struct{}

func (s *Server) logger() *slog.Logger { return cmp.Or(s.Logger, slog.Default()) }

func (s *Server) init() {
	s.once.Do(func() {
		h := sdk.NewStreamableHTTPHandler(func(r *http.Request) *sdk.Server {
			srv, _ := r.Context().Value(serverKey{}).(*sdk.Server)
			return srv
		}, &sdk.StreamableHTTPOptions{
			// Any warm Lambda answers any request: no sessions. Answers are
			// event streams, so that progress notifications travel with the
			// result (API Gateway delivers the stream when the call ends).
			Stateless:           true,
			MaxRequestBodyBytes: httpapi.MaxBodyBytes,
			Logger:              s.logger(),
		})
		s.streams = h
		s.adapter = httpadapter.NewV2(s)
	})
}

// ServeHTTP authenticates the caller and serves the MCP request with the
// caller's tools. A missing or unknown key is 401 with a JSON-RPC error body.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.init()
	requestID, _ := r.Context().Value(requestIDKey{}).(string)
	requestID = cmp.Or(requestID, mediatrail.NewID())
	w.Header().Set("X-Request-Id", requestID)
	ws, authenticated := r.Context().Value(workspaceKey{}).(string)
	if !authenticated {
		var err error
		if ws, err = mediatrail.Authenticate(r.Context(), s.Keys, httpapi.RequestKey(r.Header.Get)); err != nil {
			s.writeError(w, err, requestID)
			return
		}
	}
	c := Caller{WorkspaceID: ws, Run: runFromHeaders(r.Header), RequestID: requestID}
	tools, err := s.toolsFor(r.Context(), c)
	if err != nil {
		s.writeError(w, err, requestID)
		return
	}
	srv := sdk.NewServer(&sdk.Implementation{Name: "mediatrail", Title: "mediatrail media tools", Version: "1"}, &sdk.ServerOptions{
		Logger:       s.logger(),
		Instructions: instructions,
	})
	for _, t := range tools {
		srv.AddTool(t.Spec, t.handler(s, c))
	}
	s.streams.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), serverKey{}, srv)))
}

func (s *Server) toolsFor(ctx context.Context, c Caller) ([]Tool, error) {
	if s.Tools != nil {
		return s.Tools(ctx, c)
	}
	return Builtins(), nil
}

// instructions tell the model how the tools fit together.
const instructions = "Media tools: every output is an asset (id, type, content type, size, metadata) with a short-lived signed URL. " +
	"tts, stt, image_gen and image_edit answer at once; video_gen and video_from_image answer a job_id: call get_job " +
	"(wait_seconds up to 20) until its status is completed, failed or cancelled. Use provider \"local\" for free offline media."

// Handler adapts API Gateway HTTP API (payload 2.0) events to ServeHTTP
// through aws-lambda-go-api-proxy, in the frame of every route
// (httpapi.Observed: request id, one log line, panic recovery). The Lambda
// itself never fails: every outcome, a malformed event or a panic included,
// is an HTTP answer.
func (s *Server) Handler() httpapi.LambdaHandler {
	s.init()
	return httpapi.Observed(s.logger(), errorResponse, func(ctx context.Context, ev *events.APIGatewayV2HTTPRequest, requestID string) (events.APIGatewayV2HTTPResponse, error) {
		// The key first, as on every route (httpapi.Admit): an
		// unauthenticated request is 401 whatever its body. Then what the
		// adapter cannot turn into a request, and bodies over the API's
		// limit, are client errors.
		ws, _, err := httpapi.Admit(ctx, s.Keys, ev)
		if err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		ctx = context.WithValue(context.WithValue(ctx, requestIDKey{}, requestID), workspaceKey{}, ws)
		return s.adapter.ProxyWithContext(ctx, *ev)
	})
}

// rpcError is a JSON-RPC error answer: the MCP shape of a refusal that comes
// before any MCP message is read (authentication, body limits). data holds
// the HTTP API's stable code and the request id.
type rpcError struct {
	JSONRPC string `json:"jsonrpc"`
	ID      any    `json:"id"`
	Error   struct {
		Code    int            `json:"code"`
		Message string         `json:"message"`
		Data    map[string]any `json:"data"`
	} `json:"error"`
}

func rpcErrorOf(err error, requestID string) (int, []byte) {
	code := mediatrail.ErrorCode(err)
	status := httpapi.StatusFor(code)
	var e rpcError
	e.JSONRPC = "2.0"
	e.Error.Code = -32600 // invalid request
	if status >= 500 {
		e.Error.Code = -32603 // internal error
	}
	e.Error.Message = mediatrail.ErrorMessage(err)
	e.Error.Data = map[string]any{"code": code, "request_id": requestID}
	b, _ := json.Marshal(e)
	return status, b
}

// bearerChallenge is the WWW-Authenticate of a 401: MCP clients send the key
// as a Bearer token.
const bearerChallenge = `Bearer realm="mediatrail"`

func (s *Server) writeError(w http.ResponseWriter, err error, requestID string) {
	if mediatrail.ErrorCode(err) == mediatrail.EINTERNAL {
		s.logger().Error("mcp request failed", "request_id", requestID, "err", err)
	}
	status, body := rpcErrorOf(err, requestID)
	w.Header().Set("Content-Type", "application/json")
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", bearerChallenge)
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func errorResponse(err error, requestID string) events.APIGatewayV2HTTPResponse {
	status, body := rpcErrorOf(err, requestID)
	resp := events.APIGatewayV2HTTPResponse{StatusCode: status, Body: string(body),
		Headers: map[string]string{"Content-Type": "application/json", "X-Request-Id": requestID}}
	if status == http.StatusUnauthorized {
		resp.Headers["WWW-Authenticate"] = bearerChallenge
	}
	return resp
}
