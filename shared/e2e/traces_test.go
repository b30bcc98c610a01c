package e2e_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// seededSpan describes a span written straight to the stack's table, as the
// media functions write one (span and usage counters in one transaction):
// sessions, cancelled and unpriced calls cannot all be made through the API.
type seededSpan struct {
	name, trace, exec, agent, session, provider, model string
	media                                              mediatrail.Capability
	status                                             mediatrail.SpanStatus
	cost                                               float64 // priced when > 0
	ago                                                time.Duration
}

func (st *stack) seedSpan(t *testing.T, ws string, s seededSpan) *mediatrail.Span {
	t.Helper()
	start := time.Now().Add(-s.ago).UTC()
	sp := &mediatrail.Span{
		ID: mediatrail.NewIDAt(start), WorkspaceID: ws, TraceID: s.trace, ExecutionID: s.exec, AgentID: s.agent,
		SessionID: s.session, Name: "media." + string(s.media), Kind: s.media.SpanKind(), MediaType: s.media,
		Provider: s.provider, Model: s.model, Status: s.status, DurationMs: 100,
		Cost:       mediatrail.Cost{Amount: s.cost, Currency: "USD", Priced: s.cost > 0},
		Attributes: map[string]any{}, StartedAt: start, EndedAt: start.Add(100 * time.Millisecond),
	}
	if sp.TraceID == "" {
		sp.TraceID = sp.ID
	}
	if s.status == mediatrail.SpanError {
		sp.Error = &mediatrail.SpanFailure{Code: "provider_error", Message: "the provider failed"}
	}
	if err := st.App.Store.RecordFailure(t.Context(), sp, nil); err != nil {
		t.Fatal(err)
	}
	return sp
}

// sdkSummary is the SDK's TraceSummary with our unpriced count.
type sdkSummary struct {
	TotalTraces    int     `json:"total_traces"`
	TotalTokens    int     `json:"total_tokens"`
	TotalCost      float64 `json:"total_cost"`
	AvgDurationMs  float64 `json:"avg_duration_ms"`
	ErrorCount     int     `json:"error_count"`
	UniqueModels   int     `json:"unique_models"`
	UniqueSessions int     `json:"unique_sessions"`
	UnpricedCount  int     `json:"unpriced_count"`
}

// Every trace filter the SDK sends (and provider, media_type) narrows both
// the list and the summary, alone and together; none is ignored.
func TestTraceFilters(t *testing.T) {
	t.Parallel()
	st := newStack(t, 10*time.Second)
	keyA, wsA := st.workspace(t)
	keyB, wsB := st.workspace(t)

	// Two calls through the API (openai image and speech), the rest seeded.
	api := map[string]string{}
	for name, m := range map[string]media{"image": supported[6], "speech": supported[2]} {
		api[name] = st.generate(t, keyA, m, "exec-api").SpanID
	}
	seeded := []seededSpan{
		{name: "gen45", trace: "trace-1", exec: "exec-v", agent: "agent-1", session: "sess-1", provider: "runway", model: "gen4.5", media: mediatrail.CapabilityVideoGen, status: mediatrail.SpanCompleted, cost: 0.6, ago: time.Minute},
		{name: "veo", trace: "trace-1", exec: "exec-v", agent: "agent-1", session: "sess-1", provider: "runway", model: "veo3.1", media: mediatrail.CapabilityVideoGen, status: mediatrail.SpanError, ago: 2 * time.Minute},
		{name: "kling", trace: "trace-2", agent: "agent-2", session: "sess-2", provider: "fal", model: "fal-ai/kling-video/new", media: mediatrail.CapabilityVideoFromImage, status: mediatrail.SpanCompleted, ago: 3 * time.Minute},
		{name: "ray", provider: "luma", model: "ray-2", media: mediatrail.CapabilityVideoGen, status: mediatrail.SpanCancelled, ago: 72 * time.Hour},
	}
	byName := map[string]*mediatrail.Span{}
	for _, s := range seeded {
		byName[s.name] = st.seedSpan(t, wsA, s)
	}
	// Workspace B shares trace, agent and session names: never seen by A.
	foreign := st.seedSpan(t, wsB, seededSpan{name: "b", trace: "trace-1", agent: "agent-1", session: "sess-1", provider: "runway", model: "gen4.5",
		media: mediatrail.CapabilityVideoGen, status: mediatrail.SpanCompleted, cost: 1})

	day := func(d time.Duration) string { return time.Now().Add(d).UTC().Format(time.RFC3339) }
	all := []string{"image", "speech", "gen45", "veo", "kling", "ray"}
	for _, c := range []struct {
		query string
		want  []string
	}{
		{"", all},
		{"status=completed", []string{"image", "speech", "gen45", "kling"}},
		{"status=error", []string{"veo"}},
		{"level=warning", []string{"ray"}},
		{"level=error&status=error", []string{"veo"}},
		{"kind=video", []string{"gen45", "veo", "kling", "ray"}},
		{"model_name=veo3.1", []string{"veo"}},
		{"model_name=dall-e-3", []string{"image"}},
		{"agent_id=agent-1", []string{"gen45", "veo"}},
		{"agent_id=agent-1&status=completed", []string{"gen45"}},
		{"session_id=sess-2", []string{"kling"}},
		{"session_id=sess-1&model_name=gen4.5", []string{"gen45"}},
		{"execution_id=exec-v", []string{"gen45", "veo"}},
		{"execution_id=exec-api", []string{"image", "speech"}},
		{"trace_id=trace-1", []string{"gen45", "veo"}},
		{"provider=runway", []string{"gen45", "veo"}},
		{"provider=openai&media_type=tts", []string{"speech"}},
		{"media_type=video_from_image", []string{"kling"}},
		{"media_type=video_gen&status=cancelled", []string{"ray"}},
		{"date_to=" + day(-48*time.Hour), []string{"ray"}},
		{"date_from=" + day(-time.Hour), []string{"image", "speech", "gen45", "veo", "kling"}},
		{"date_from=" + day(-96*time.Hour) + "&date_to=" + day(-48*time.Hour) + "&provider=luma", []string{"ray"}},
		{"agent_id=nobody", nil},
		{"model_name=gen4.5&provider=fal", nil},
	} {
		t.Run(c.query, func(t *testing.T) {
			ids := map[string]string{}
			var want []*mediatrail.Span
			for _, n := range c.want {
				id := api[n]
				if sp := byName[n]; sp != nil {
					id = sp.ID
				}
				ids[id] = n
				if sp := byName[n]; sp != nil {
					want = append(want, sp)
				}
			}
			got, meta := st.spans(t, keyA, c.query+"&limit=100")
			var names []string
			for _, sp := range got {
				if ids[sp.ID] == "" {
					t.Errorf("listed span %s (%s %s %s), not wanted", sp.ID, sp.Provider, sp.Model, sp.Status)
				}
				names = append(names, ids[sp.ID])
			}
			if len(got) != len(c.want) || meta.Total != len(c.want) {
				t.Errorf("listed %v (total %d), want %v", names, meta.Total, c.want)
			}
			var sum sdkSummary
			r := st.do(t, "GET", "/api/v1/traces/summary?"+c.query, keyA, nil)
			wantOK(t, r, http.StatusOK)
			r.Into(t, &sum)
			if sum.TotalTraces != len(c.want) || sum.TotalTokens != 0 {
				t.Errorf("summary total_traces %d, want %d", sum.TotalTraces, len(c.want))
			}
			// The seeded spans' share is known exactly; the API calls add
			// their own (priced, completed, no session).
			var errs, unpriced int
			sessions, models := map[string]bool{}, map[string]bool{}
			for _, sp := range want {
				errs += map[bool]int{true: 1}[sp.Status == mediatrail.SpanError]
				unpriced += map[bool]int{true: 1}[sp.Unpriced()]
				if sp.SessionID != "" {
					sessions[sp.SessionID] = true
				}
			}
			for _, n := range c.want {
				models[n] = true
			}
			if sum.ErrorCount != errs || sum.UnpricedCount != unpriced || sum.UniqueSessions != len(sessions) || sum.UniqueModels != len(models) {
				t.Errorf("summary %+v, want errors %d unpriced %d sessions %d models %d", sum, errs, unpriced, len(sessions), len(models))
			}
		})
	}

	// Values outside a filter's set are refused on both routes.
	for _, q := range []string{"status=done", "level=debug", "media_type=hologram", "kind=text", "agent_id=a%20b", "exec_id=x"} {
		for _, route := range []string{"/api/v1/traces?", "/api/v1/traces/summary?"} {
			wantError(t, st.do(t, "GET", route+q, keyA, nil), http.StatusBadRequest, mediatrail.EINVALID)
		}
	}

	// B sees only its own span under the same names.
	for _, q := range []string{"trace_id=trace-1", "agent_id=agent-1", "session_id=sess-1", "provider=runway"} {
		got, _ := st.spans(t, keyB, q)
		if len(got) != 1 || got[0].ID != foreign.ID {
			t.Errorf("B with %s: %+v", q, got)
		}
	}
}

// GET /api/v1/traces/{trace_id} answers the trace's spans, oldest first, as
// the bare list the SDK's GetByTraceID decodes; GET
// /api/v1/traces/spans/{span_id} one span. Another workspace's are 404.
func TestTraceAndSpanByID(t *testing.T) {
	t.Parallel()
	st := newStack(t, 10*time.Second)
	keyA, wsA := st.workspace(t)
	keyB, _ := st.workspace(t)
	older := st.seedSpan(t, wsA, seededSpan{trace: "trace-x", provider: "runway", model: "gen4.5", media: mediatrail.CapabilityVideoGen, status: mediatrail.SpanError, ago: time.Minute})
	newer := st.seedSpan(t, wsA, seededSpan{trace: "trace-x", session: "s-1", provider: "fal", model: "fal-ai/unpriced", media: mediatrail.CapabilityImageGen, status: mediatrail.SpanCompleted})
	st.seedSpan(t, wsA, seededSpan{trace: "trace-y", provider: "luma", model: "ray-2", media: mediatrail.CapabilityVideoGen, status: mediatrail.SpanCompleted, cost: 0.71})

	r := st.do(t, "GET", "/api/v1/traces/trace-x", keyA, nil)
	wantOK(t, r, http.StatusOK)
	var env struct {
		Data []map[string]any `json:"data"`
		Meta json.RawMessage  `json:"meta"`
	}
	if err := json.Unmarshal([]byte(r.Raw), &env); err != nil {
		t.Fatal(err)
	}
	if env.Meta != nil {
		t.Errorf("meta %s: the SDK decodes a bare list only without meta", env.Meta)
	}
	var ids []any
	for _, sp := range env.Data {
		ids = append(ids, sp["id"])
	}
	if !slices.Equal(ids, []any{older.ID, newer.ID}) {
		t.Errorf("trace spans %v, want %s then %s", ids, older.ID, newer.ID)
	}

	r = st.do(t, "GET", "/api/v1/traces/spans/"+newer.ID, keyA, nil)
	wantOK(t, r, http.StatusOK)
	var sp map[string]any
	r.Into(t, &sp)
	for k, want := range map[string]any{"id": newer.ID, "trace_id": "trace-x", "session_id": "s-1", "level": "info", "unpriced": true, "status": "completed"} {
		if sp[k] != want {
			t.Errorf("span %s = %v, want %v", k, sp[k], want)
		}
	}

	for _, path := range []string{"/api/v1/traces/trace-x", "/api/v1/traces/spans/" + newer.ID} {
		wantError(t, st.do(t, "GET", path, keyB, nil), http.StatusNotFound, mediatrail.ENOTFOUND)
	}
	for _, path := range []string{"/api/v1/traces/no-such-trace", "/api/v1/traces/spans/not-an-id", "/api/v1/traces/spans/" + mediatrail.NewID()} {
		wantError(t, st.do(t, "GET", path, keyA, nil), http.StatusNotFound, mediatrail.ENOTFOUND)
	}
	wantError(t, st.do(t, "GET", "/api/v1/traces/trace-x?page=2", keyA, nil), http.StatusBadRequest, mediatrail.EINVALID)
}
