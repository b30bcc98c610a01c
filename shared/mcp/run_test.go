package mcp

import (
	"net/http"
	"strings"
	"testing"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

const (
	traceA  = "4bf92f3577b34da6a3ce929d0e0e4736"
	parentA = "00f067aa0ba902b7"
	traceB  = "0af7651916cd43dd8448eb211c80319c"
	parentB = "b7ad6b7169203331"
)

func TestParseTraceparent(t *testing.T) {
	cases := []struct {
		in            string
		trace, parent string
		ok            bool
	}{
		{"00-" + traceA + "-" + parentA + "-01", traceA, parentA, true},
		{" 00-" + traceA + "-" + parentA + "-00 ", traceA, parentA, true},
		{"01-" + traceA + "-" + parentA + "-01-future", traceA, parentA, true},
		{"00-" + traceA + "-" + parentA + "-01-extra", "", "", false},
		{"ff-" + traceA + "-" + parentA + "-01", "", "", false},
		{"00-00000000000000000000000000000000-" + parentA + "-01", "", "", false},
		{"00-" + traceA + "-0000000000000000-01", "", "", false},
		{"00-4BF92F3577B34DA6A3CE929D0E0E4736-" + parentA + "-01", "", "", false},
		{"00-" + traceA + "-" + parentA, "", "", false},
		{"", "", "", false},
	}
	for _, tc := range cases {
		trace, parent, ok := parseTraceparent(tc.in)
		if trace != tc.trace || parent != tc.parent || ok != tc.ok {
			t.Errorf("parseTraceparent(%q) = %q, %q, %v; want %q, %q, %v", tc.in, trace, parent, ok, tc.trace, tc.parent, tc.ok)
		}
	}
}

func TestRunFromHeadersAndMeta(t *testing.T) {
	h := http.Header{}
	h.Set("X-Agent-Id", "agent-h")
	h.Set("X-Execution-Id", "exec-h")
	h.Set("X-Session-Id", "chat-h")
	h.Set("Traceparent", "00-"+traceA+"-"+parentA+"-01")
	base := runFromHeaders(h)
	if want := (Run{AgentID: "agent-h", ExecutionID: "exec-h", SessionID: "chat-h", TraceID: traceA, ParentSpanID: parentA}); base != want {
		t.Fatalf("runFromHeaders = %+v, want %+v", base, want)
	}
	cases := []struct {
		name string
		meta map[string]any
		want Run
	}{
		{"no meta", nil, base},
		{"execution, agent and session", map[string]any{"execution_id": "exec-m", "agent_id": "agent-m", "session_id": "chat-m"},
			Run{AgentID: "agent-m", ExecutionID: "exec-m", SessionID: "chat-m", TraceID: traceA, ParentSpanID: parentA}},
		{"traceparent", map[string]any{"traceparent": "00-" + traceB + "-" + parentB + "-01"},
			Run{AgentID: "agent-h", ExecutionID: "exec-h", SessionID: "chat-h", TraceID: traceB, ParentSpanID: parentB}},
		{"trace id wins over traceparent", map[string]any{"trace_id": "run-7", "traceparent": "00-" + traceB + "-" + parentB + "-01"},
			Run{AgentID: "agent-h", ExecutionID: "exec-h", SessionID: "chat-h", TraceID: "run-7", ParentSpanID: parentB}},
		{"invalid traceparent is ignored", map[string]any{"traceparent": "garbage"}, base},
		{"non-strings are ignored", map[string]any{"execution_id": 7, "agent_id": nil}, base},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := base.with(tc.meta); got != tc.want {
				t.Errorf("with(%v) = %+v, want %+v", tc.meta, got, tc.want)
			}
		})
	}
}

// Whatever the header, an accepted traceparent yields W3C ids, which are
// valid references for spans.
func FuzzParseTraceparent(f *testing.F) {
	f.Add("00-" + traceA + "-" + parentA + "-01")
	f.Add("01-" + traceB + "-" + parentB + "-00-x")
	f.Add("")
	f.Fuzz(func(t *testing.T, v string) {
		trace, parent, ok := parseTraceparent(v)
		if !ok {
			if trace != "" || parent != "" {
				t.Fatalf("refused %q but answered %q, %q", v, trace, parent)
			}
			return
		}
		if !mediatrail.ValidRef(trace) || !mediatrail.ValidRef(parent) || len(trace) != 32 || len(parent) != 16 || !strings.Contains(v, trace+"-"+parent) {
			t.Fatalf("%q gave %q, %q", v, trace, parent)
		}
	})
}
