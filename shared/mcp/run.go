package mcp

import (
	"cmp"
	"net/http"
	"regexp"
	"strings"
)

// Run is the caller's run that a call joins: its assets and spans carry these
// ids. Headers give the request's run, a call's _meta overrides them field by
// field.
type Run struct {
	AgentID     string
	ExecutionID string
	TraceID     string
	// ParentSpanID is the caller's span (traceparent's parent id).
	ParentSpanID string
	// SessionID is the caller's conversation (the SDK's chat session).
	SessionID string
}

// traceparentPattern is a W3C Trace Context traceparent of any version but
// the forbidden ff: version, trace id, parent id, flags, lower-case hex.
var traceparentPattern = regexp.MustCompile(`^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}(-.*)?$`)

// parseTraceparent returns the trace and parent span ids of a traceparent.
// An invalid one (all-zero ids, version ff, a future version's header cut
// short) gives ok false: W3C Trace Context says to ignore it, so the call
// starts a trace of its own rather than failing.
func parseTraceparent(v string) (traceID, parentID string, ok bool) {
	m := traceparentPattern.FindStringSubmatch(strings.TrimSpace(v))
	if m == nil || m[1] == "ff" || (m[1] == "00" && m[4] != "") ||
		strings.Trim(m[2], "0") == "" || strings.Trim(m[3], "0") == "" {
		return "", "", false
	}
	return m[2], m[3], true
}

// runFromHeaders reads X-Agent-Id, X-Execution-Id, X-Session-Id and
// traceparent.
func runFromHeaders(h http.Header) Run {
	r := Run{AgentID: strings.TrimSpace(h.Get("X-Agent-Id")), ExecutionID: strings.TrimSpace(h.Get("X-Execution-Id")),
		SessionID: strings.TrimSpace(h.Get("X-Session-Id"))}
	r.TraceID, r.ParentSpanID, _ = parseTraceparent(h.Get("Traceparent"))
	return r
}

// with returns r overridden by a call's _meta: agent_id, execution_id,
// session_id, trace_id and traceparent (the OpenTelemetry convention for MCP). An
// explicit trace_id wins over traceparent's. Values that are not strings are
// ignored; malformed ids are refused later, by the media call's validation.
func (r Run) with(meta map[string]any) Run {
	str := func(k string) string {
		s, _ := meta[k].(string)
		return strings.TrimSpace(s)
	}
	out := Run{AgentID: cmp.Or(str("agent_id"), r.AgentID), ExecutionID: cmp.Or(str("execution_id"), r.ExecutionID),
		SessionID: cmp.Or(str("session_id"), r.SessionID)}
	out.TraceID, out.ParentSpanID = r.TraceID, r.ParentSpanID
	if trace, parent, ok := parseTraceparent(str("traceparent")); ok {
		out.TraceID, out.ParentSpanID = trace, parent
	}
	out.TraceID = cmp.Or(str("trace_id"), out.TraceID)
	return out
}
