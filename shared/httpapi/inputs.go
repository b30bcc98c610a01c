package httpapi

import (
	"bytes"
	"net/url"
	"slices"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// Inputs is what one route reads from a request besides its path: the query
// parameters it knows and whether it takes a JSON body. Anything else is
// refused before the endpoint runs, so a typo (exec_id for execution_id) is a
// 400 naming it, never a list or a delete that silently ignored the filter.
type Inputs struct {
	Query []string
	Body  bool
	// MaxBody bounds the decoded body in bytes; 0 means MaxBodyBytes.
	MaxBody int
}

// Parameter sets shared by several routes.
var (
	pageParams = []string{"page", "limit"}
	// traceFilters are the filters of both trace routes: the older SDK's
	// (trace_id, kind), the newer SDK's (date_from, date_to, status, level,
	// kind, model_name, agent_id, session_id, execution_id) and ours
	// (provider, media_type).
	traceFilters = []string{"execution_id", "trace_id", "kind", "date_from", "date_to",
		"status", "level", "model_name", "agent_id", "session_id", "provider", "media_type"}
	jsonBody = Inputs{Body: true}
)

// routeInputs maps API Gateway route keys ("METHOD /path" as template.yaml
// declares them) to their inputs. A route that is not here takes no query
// parameter and no body: a new route is strict until it declares more.
var routeInputs = map[string]Inputs{
	"GET /api/v1/assets": {Query: append(slices.Clone(pageParams), "cursor", "type", "media_type", "provider",
		"execution_id", "agent_id", "created_after", "created_before", "status")},
	"GET /api/v1/assets/{id}/signed-url":  {Query: []string{"expires_in", "disposition"}},
	"POST /api/v1/assets":                 jsonBody,
	"POST /api/v1/assets/{id}/complete":   jsonBody, // optional: empty after a single PUT
	"POST /api/v1/assets/cleanup":         jsonBody,
	"PUT /api/v1/workspace/retention":     jsonBody,
	"PUT /api/v1/workspace/budget":        jsonBody,
	"GET /api/v1/workspace/budget":        {Query: []string{"execution_id", "agent_id"}},
	"POST /api/v1/media/generate":         jsonBody,
	"POST /api/v1/media/tts":              jsonBody,
	"POST /api/v1/media/stt":              jsonBody,
	"POST /api/v1/media/image_gen":        jsonBody,
	"POST /api/v1/media/image_edit":       jsonBody,
	"POST /api/v1/media/video_gen":        jsonBody,
	"POST /api/v1/media/video_from_image": jsonBody,
	"GET /api/v1/media/jobs":              {Query: append(slices.Clone(pageParams), "cursor", "status")},
	"GET /api/v1/traces":                  {Query: append(slices.Clone(pageParams), append(slices.Clone(traceFilters), "cursor")...)},
	"GET /api/v1/traces/summary":          {Query: traceFilters},
	// The SDK's GetByTraceID sends nothing but the path; a span by id neither.
	"GET /api/v1/traces/{trace_id}":             {},
	"GET /api/v1/traces/spans/{span_id}":        {},
	"GET /api/v1/media-models":                  {Query: append(slices.Clone(pageParams), "provider", "media_type", "is_active")},
	"GET /api/v1/credentials":                   {Query: pageParams},
	"POST /api/v1/credentials":                  jsonBody,
	"PATCH /api/v1/credentials/{id}":            jsonBody,
	"GET /api/v1/media-tools":                   {Query: pageParams},
	"POST /api/v1/media-tools":                  jsonBody,
	"PATCH /api/v1/media-tools/{id}":            jsonBody,
	"PUT /api/v1/agents/{agent_id}/media-tools": jsonBody,
	// A file to identify (raw bytes of any non-JSON type) or a JSON object
	// naming a sha256 or an asset id.
	"POST /api/v1/provenance":        {Body: true, MaxBody: mediatrail.MaxProvenanceFileBytes},
	"PUT /api/v1/workspace/settings": jsonBody,
	// MCP's streamable HTTP transport speaks JSON-RPC in the body (the MCP
	// server validates it); it defines no query parameter.
	"POST /mcp": jsonBody,
}

// InputsOf returns the inputs route key takes.
func InputsOf(routeKey string) Inputs { return routeInputs[routeKey] }

// CheckInputs refuses what the route of ev does not read: unknown query
// parameters (EINVALID naming them, with the allowed ones in details) and a
// body on a route that takes none. An empty body, {} and null count as none.
// The JSON fields of a body are checked where it is decoded (DecodeJSON).
func CheckInputs(ev *events.APIGatewayV2HTTPRequest, query url.Values, body []byte) error {
	in := InputsOf(ev.RouteKey)
	var unknown []string
	for name := range query {
		if !slices.Contains(in.Query, name) {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		allowed := slices.Sorted(slices.Values(in.Query))
		msg := "unknown query parameter " + strings.Join(unknown, ", ")
		if len(allowed) == 0 {
			msg += ": this route takes no query parameters"
		} else {
			msg += "; this route takes " + strings.Join(allowed, ", ")
		}
		e := mediatrail.Invalid(unknown[0], "%s", msg)
		e.Details["unknown"] = unknown
		e.Details["allowed"] = allowed
		return e
	}
	if !in.Body {
		switch string(bytes.TrimSpace(body)) {
		case "", "{}", "null":
		default:
			return mediatrail.Invalid("body", "this route takes no request body")
		}
	}
	return nil
}
