package mediatrail

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// SpanKind groups spans by the media they make: stt and tts are speech.
type SpanKind string

const (
	SpanSpeech SpanKind = "speech"
	SpanImage  SpanKind = "image"
	SpanVideo  SpanKind = "video"
)

// SpanKinds lists every kind, in a stable order.
var SpanKinds = []SpanKind{SpanSpeech, SpanImage, SpanVideo}

// ParseSpanKind returns the kind named s, or EINVALID.
func ParseSpanKind(s string) (SpanKind, error) {
	for _, k := range SpanKinds {
		if string(k) == s {
			return k, nil
		}
	}
	return "", Invalid("kind", "kind must be one of speech, image, video")
}

// SpanKind is the kind of the spans that record the capability.
func (c Capability) SpanKind() SpanKind {
	switch c {
	case CapabilityTTS, CapabilitySTT:
		return SpanSpeech
	case CapabilityVideoGen, CapabilityVideoFromImage:
		return SpanVideo
	}
	return SpanImage
}

// SpanStatus is how a media call ended.
type SpanStatus string

const (
	SpanCompleted SpanStatus = "completed"
	SpanError     SpanStatus = "error"
	// SpanCancelled records a job cancelled before it produced anything.
	SpanCancelled SpanStatus = "cancelled"
)

// SpanLevels are the SDK's span levels. A media span's level follows from its
// status, one to one: completed is info, cancelled warning, error error. So a
// level filter is a status filter.
var spanLevels = map[string]SpanStatus{"info": SpanCompleted, "warning": SpanCancelled, "error": SpanError}

// SpanStatuses lists every status, in a stable order.
var SpanStatuses = []SpanStatus{SpanCompleted, SpanError, SpanCancelled}

// Level is the SDK level of a span of status s.
func (s SpanStatus) Level() string {
	for l, st := range spanLevels {
		if st == s {
			return l
		}
	}
	return ""
}

// ParseSpanStatus returns the status named s, or EINVALID.
func ParseSpanStatus(s string) (SpanStatus, error) {
	for _, st := range SpanStatuses {
		if string(st) == s {
			return st, nil
		}
	}
	return "", Invalid("status", "status must be one of completed, error, cancelled")
}

// ParseSpanLevel returns the status a level stands for, or EINVALID.
func ParseSpanLevel(s string) (SpanStatus, error) {
	if st, ok := spanLevels[s]; ok {
		return st, nil
	}
	return "", Invalid("level", "level must be one of info, warning, error")
}

// SpanFailure is the error a failed call answered: the client-facing code and
// message, never internals.
type SpanFailure struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Cost is the estimated price of one call: Quantity units at UnitPrice each.
// Priced is false when the price table has no price for the provider, model and
// unit; Amount is then 0.
type Cost struct {
	Amount    float64 `json:"amount"`
	Currency  string  `json:"currency"`
	Quantity  float64 `json:"quantity"`
	Unit      string  `json:"unit"`
	UnitPrice float64 `json:"unit_price"`
	Priced    bool    `json:"priced"`
	// Source says where Quantity came from: "provider" (the provider's own
	// usage report), else "request" (characters sent, images asked for) or
	// "media" (the duration or size of what was made).
	Source string `json:"source,omitempty"`
}

// Span records one call to a provider: what was asked, what came back, how long
// it took and what it cost. A span outlives the asset it produced: deleting the
// asset only sets AssetDeleted.
type Span struct {
	ID          string `json:"id"`
	WorkspaceID string `json:"workspace_id"`
	TraceID     string `json:"trace_id"`
	// ParentID is the caller's span this one runs under, when the caller
	// said (GenerateInput.ParentSpanID).
	ParentID    string `json:"parent_id,omitempty"`
	ExecutionID string `json:"execution_id"`
	AgentID     string `json:"agent_id"`
	// SessionID is the caller's conversation (the SDK's chat session) the
	// call belongs to, when the caller said (GenerateInput.SessionID).
	SessionID string     `json:"session_id,omitempty"`
	Name      string     `json:"name"` // "media.tts", "media.image_gen", ...
	Kind      SpanKind   `json:"kind"`
	MediaType Capability `json:"media_type"`
	Provider  string     `json:"provider"`
	Model     string     `json:"model"`
	Prompt    string     `json:"prompt"`
	// Input names what the call worked on: the input asset, or the caller's
	// input URL without its query string (which may hold credentials).
	InputAssetID string `json:"input_asset_id,omitempty"`
	InputURL     string `json:"input_url,omitempty"`
	// AssetID is the asset made, AssetURL its API resource and OutputURL where
	// its bytes are fetched (through this API: never the provider's URL).
	AssetID      string `json:"asset_id,omitempty"`
	AssetURL     string `json:"asset_url,omitempty"`
	OutputURL    string `json:"output_url,omitempty"`
	ContentType  string `json:"content_type,omitempty"`
	AssetDeleted bool   `json:"asset_deleted"`
	// DurationMs is the call's latency; MediaDurationSeconds the play time of
	// the audio or video made or transcribed, when known.
	DurationMs           int64          `json:"duration_ms"`
	MediaDurationSeconds float64        `json:"media_duration_seconds"`
	Status               SpanStatus     `json:"status"`
	Error                *SpanFailure   `json:"error,omitempty"`
	Cost                 Cost           `json:"cost_detail"`
	ProviderRequestID    string         `json:"provider_request_id,omitempty"`
	Attributes           map[string]any `json:"attributes"`
	StartedAt            time.Time      `json:"started_at"`
	EndedAt              time.Time      `json:"ended_at"`

	// ToolID and CredentialID name the media tool and the workspace
	// credential the call used ("" for none: the deployment's own key).
	ToolID       string `json:"tool_id,omitempty"`
	CredentialID string `json:"credential_id,omitempty"`
}

// spanFieldBytes bounds each free-text field of a truncated span.
const spanFieldBytes = 1 << 10

// Truncated returns a copy of s that any store holds: free-text fields
// (prompt, model, input URL, provider request id, error message) cut to 1 KiB,
// attributes replaced by {"truncated": true}. It is what is written when the
// full span cannot be stored, so that a provider call that ran, and what it
// cost, is always on the books.
func (s *Span) Truncated() *Span {
	t := *s
	for _, f := range []*string{&t.Prompt, &t.Model, &t.InputURL, &t.ProviderRequestID} {
		*f, _ = truncateUTF8(*f, spanFieldBytes)
	}
	if s.Error != nil {
		e := *s.Error
		e.Message, _ = truncateUTF8(e.Message, spanFieldBytes)
		t.Error = &e
	}
	t.Attributes = map[string]any{"truncated": true}
	return &t
}

// MarshalJSON writes times in RFC 3339 UTC, never a null attributes object, and
// the PromptRails SDK's names besides ours: cost (the amount), model_name,
// level (from status), error_type and error_message, created_at (= started_at),
// and unpriced (a completed call the price table had no price for).
func (s Span) MarshalJSON() ([]byte, error) {
	type plain Span
	p := plain(s)
	if p.Attributes == nil {
		p.Attributes = map[string]any{}
	}
	p.StartedAt, p.EndedAt = s.StartedAt.UTC(), s.EndedAt.UTC()
	sdk := struct {
		plain
		Cost         float64   `json:"cost"`
		ModelName    string    `json:"model_name"`
		Level        string    `json:"level"`
		Unpriced     bool      `json:"unpriced"`
		ErrorType    string    `json:"error_type,omitempty"`
		ErrorMessage string    `json:"error_message,omitempty"`
		CreatedAt    time.Time `json:"created_at"`
	}{plain: p, Cost: s.Cost.Amount, ModelName: s.Model, Level: s.Status.Level(), Unpriced: s.Unpriced(), CreatedAt: p.StartedAt}
	if s.Error != nil {
		sdk.ErrorType, sdk.ErrorMessage = s.Error.Code, s.Error.Message
	}
	return json.Marshal(sdk)
}

// SpanFilter selects spans of one workspace: every non-zero field must
// match. Every field is served by a key or an index (see the stores).
type SpanFilter struct {
	ExecutionID string
	TraceID     string
	Kind        SpanKind
	From, To    time.Time // inclusive bounds on StartedAt
	Status      SpanStatus
	// Level is the SDK's name for a status (ParseSpanLevel); List and
	// Summary turn it into Status, EINVALID when both are given and differ.
	Level     string
	Provider  string
	MediaType Capability
	Model     string // the SDK's model_name
	AgentID   string
	SessionID string

	// Paging (listings only): Cursor (from a previous page) or Page (1-based).
	Limit  int
	Page   int
	Cursor string
}

// SpanPage is one page of spans, newest first.
type SpanPage struct {
	Spans      []*Span
	Total      int
	Page       int
	Limit      int
	NextCursor string
}

// SpanTotals add up a set of spans. Unpriced counts the completed calls the
// price table had no price for (their cost is 0, not known).
type SpanTotals struct {
	Count                int     `json:"count"`
	Errors               int     `json:"errors"`
	Unpriced             int     `json:"unpriced"`
	Cost                 float64 `json:"cost"`
	DurationMs           int64   `json:"duration_ms"`
	MediaDurationSeconds float64 `json:"media_duration_seconds"`
}

// Unpriced reports whether s is a completed call without a price.
func (s *Span) Unpriced() bool { return s.Status == SpanCompleted && !s.Cost.Priced }

func (t *SpanTotals) add(s *Span) {
	t.Count++
	if s.Status == SpanError {
		t.Errors++
	}
	if s.Unpriced() {
		t.Unpriced++
	}
	t.Cost += s.Cost.Amount
	t.DurationMs += s.DurationMs
	t.MediaDurationSeconds += s.MediaDurationSeconds
}

// Merge adds o to t.
func (t *SpanTotals) Merge(o SpanTotals) {
	t.Count += o.Count
	t.Errors += o.Errors
	t.Unpriced += o.Unpriced
	t.Cost += o.Cost
	t.DurationMs += o.DurationMs
	t.MediaDurationSeconds += o.MediaDurationSeconds
}

// SpanUsage is the totals of the spans of one combination of provider, media
// type (with its kind), model, status and session within a UsageScope: a
// counter that the store changes in the same transaction that writes each
// span, so that summaries never read spans. Keeping status and session in the
// combination lets counters answer those filters and count distinct sessions
// (and models) exactly: a summary reads one counter per combination in use,
// never one per span.
type SpanUsage struct {
	Provider  string
	MediaType Capability
	Kind      SpanKind
	Model     string
	Status    SpanStatus
	SessionID string
	SpanTotals
}

// UsageOf is what span s adds to the counters of its scopes.
func UsageOf(s *Span) SpanUsage {
	u := SpanUsage{Provider: s.Provider, MediaType: s.MediaType, Kind: s.Kind, Model: s.Model, Status: s.Status, SessionID: s.SessionID}
	u.add(s)
	return u
}

// UsageScope names the counters a summary reads: the whole workspace (the
// zero scope), one execution, or the UTC days FromDay..ToDay (inclusive
// midnights; a zero bound is open).
type UsageScope struct {
	ExecutionID    string
	ByDay          bool
	FromDay, ToDay time.Time
}

// Day is the UTC day t falls in, as its midnight: the day counter of a span
// started at t.
func Day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// round keeps sums of many small prices free of float noise (1e-12 USD).
func (t *SpanTotals) round() {
	t.Cost = roundTo(t.Cost, 12)
	t.MediaDurationSeconds = roundTo(t.MediaDurationSeconds, 6)
}

func roundTo(v float64, digits int) float64 {
	p := math.Pow10(digits)
	return math.Round(v*p) / p
}

// SpanSummary is the totals of the spans matching a filter, overall, by
// provider and by media type, with the distinct models and sessions seen.
type SpanSummary struct {
	SpanTotals
	Currency    string                `json:"currency"`
	ByProvider  map[string]SpanTotals `json:"by_provider"`
	ByMediaType map[string]SpanTotals `json:"by_media_type"`
	Alerts      []BudgetAlert         `json:"alerts"` // TraceService.budgetAlerts
	models      map[string]bool
	sessions    map[string]bool
}

// NewSpanSummary returns an empty summary in currency.
func NewSpanSummary(currency string) *SpanSummary {
	return &SpanSummary{Currency: currency, ByProvider: map[string]SpanTotals{}, ByMediaType: map[string]SpanTotals{},
		Alerts: []BudgetAlert{}, models: map[string]bool{}, sessions: map[string]bool{}}
}

// Add counts s in the summary.
func (m *SpanSummary) Add(s *Span) { m.AddUsage(UsageOf(s)) }

// AddUsage counts the spans of a counter in the summary.
func (m *SpanSummary) AddUsage(u SpanUsage) {
	m.SpanTotals.Merge(u.SpanTotals)
	for _, g := range []struct {
		group map[string]SpanTotals
		key   string
	}{{m.ByProvider, u.Provider}, {m.ByMediaType, string(u.MediaType)}} {
		t := g.group[g.key]
		t.Merge(u.SpanTotals)
		g.group[g.key] = t
	}
	if u.Model != "" {
		m.models[u.Provider+"/"+u.Model] = true
	}
	if u.SessionID != "" {
		m.sessions[u.SessionID] = true
	}
}

func roundedTotals(group map[string]SpanTotals) map[string]SpanTotals {
	out := make(map[string]SpanTotals, len(group))
	for k, t := range group {
		t.round()
		out[k] = t
	}
	return out
}

// MarshalJSON rounds the sums and adds the SDK's names (total_traces, total_cost,
// error_count, avg_duration_ms, unique_models, unique_sessions, total_tokens:
// media calls report no tokens, so 0) and unpriced_count.
func (m SpanSummary) MarshalJSON() ([]byte, error) {
	m.SpanTotals.round()
	m.ByProvider, m.ByMediaType = roundedTotals(m.ByProvider), roundedTotals(m.ByMediaType)
	avg := 0.0
	if m.Count > 0 {
		avg = roundTo(float64(m.DurationMs)/float64(m.Count), 3)
	}
	type plain SpanSummary
	return json.Marshal(struct {
		plain
		TotalTraces    int     `json:"total_traces"`
		TotalCost      float64 `json:"total_cost"`
		ErrorCount     int     `json:"error_count"`
		AvgDurationMs  float64 `json:"avg_duration_ms"`
		UniqueModels   int     `json:"unique_models"`
		UniqueSessions int     `json:"unique_sessions"`
		UnpricedCount  int     `json:"unpriced_count"`
		TotalTokens    int     `json:"total_tokens"`
	}{plain(m), m.Count, m.Cost, m.Errors, avg, len(m.models), len(m.sessions), m.Unpriced, 0})
}

// TraceService holds the trace use cases: listing, reading and summing the
// spans of the caller's workspace.
type TraceService struct {
	Spans    SpanStore
	Currency string // of the summary; the price table's currency
	// Alerts are the budget alerts a summary shows; nil shows none.
	Alerts BudgetAlertLister
}

// MaxTraceSpans bounds the spans Trace returns: the newest ones of a larger
// trace; all are listed with ?trace_id= on the paged list.
const MaxTraceSpans = 1000

// MaxSummaryWalk bounds the spans a summary reads where no counter answers (a
// trace, an agent, an execution within dates, the partial days of a date
// range): beyond it the summary is EINVALID, asking for a narrower filter,
// rather than a request that reads without end.
const MaxSummaryWalk = 50_000

// List returns a page of the workspace's spans, newest first.
func (s *TraceService) List(ctx context.Context, workspaceID string, f SpanFilter) (*SpanPage, error) {
	if err := f.normalize(); err != nil {
		return nil, err
	}
	if f.Limit == 0 {
		f.Limit = DefaultLimit
	}
	if f.Page == 0 && f.Cursor == "" {
		f.Page = 1
	}
	return s.Spans.ListSpans(ctx, workspaceID, f)
}

// Span returns the span id of the workspace; ENOTFOUND if there is none (in
// this workspace).
func (s *TraceService) Span(ctx context.Context, workspaceID, id string) (*Span, error) {
	if !ValidID(id) {
		return nil, Errorf(ENOTFOUND, "span not found")
	}
	return s.Spans.GetSpan(ctx, workspaceID, id)
}

// Trace returns the spans of trace traceID, oldest first: the newest
// MaxTraceSpans of a larger trace. ENOTFOUND if the workspace has none.
func (s *TraceService) Trace(ctx context.Context, workspaceID, traceID string) ([]*Span, error) {
	if !ValidRef(traceID) {
		return nil, Errorf(ENOTFOUND, "trace not found")
	}
	var spans []*Span
	enough := errors.New("enough spans")
	err := s.Spans.EachSpan(ctx, workspaceID, SpanFilter{TraceID: traceID}, func(sp *Span) error {
		if spans = append(spans, sp); len(spans) == MaxTraceSpans {
			return enough
		}
		return nil
	})
	if err != nil && !errors.Is(err, enough) {
		return nil, err
	}
	if len(spans) == 0 {
		return nil, Errorf(ENOTFOUND, "trace not found")
	}
	slices.Reverse(spans) // EachSpan walks newest first
	return spans, nil
}

// Summary adds up the spans matching f (paging fields are ignored) from the
// usage counters (see summaryPlan), reading spans only where no counter
// answers, at most MaxSummaryWalk of them.
func (s *TraceService) Summary(ctx context.Context, workspaceID string, f SpanFilter) (*SpanSummary, error) {
	if err := f.normalize(); err != nil {
		return nil, err
	}
	sum := NewSpanSummary(s.Currency)
	scope, walks := summaryPlan(f)
	if scope != nil {
		usage, err := s.Spans.SpanUsage(ctx, workspaceID, *scope)
		if err != nil {
			return nil, err
		}
		for _, u := range usage {
			if f.matchesUsage(u) {
				sum.AddUsage(u)
			}
		}
	}
	walked := 0
	for _, w := range walks {
		err := s.Spans.EachSpan(ctx, workspaceID, w, func(sp *Span) error {
			if walked++; walked > MaxSummaryWalk {
				return Invalid("date_from", "more than %d spans match without a counter to sum them; narrow the filter with date_from and date_to", MaxSummaryWalk)
			}
			sum.Add(sp)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	alerts, err := s.budgetAlerts(ctx, workspaceID, f)
	if err != nil {
		return nil, err
	}
	sum.Alerts = alerts
	return sum, nil
}

// matchesUsage reports whether the spans of counter u match f's filters on
// the combination a counter is kept for (the scope answers the rest).
func (f SpanFilter) matchesUsage(u SpanUsage) bool {
	for _, c := range []struct{ want, got string }{
		{string(f.Kind), string(u.Kind)}, {f.Provider, u.Provider}, {string(f.MediaType), string(u.MediaType)},
		{f.Model, u.Model}, {string(f.Status), string(u.Status)}, {f.SessionID, u.SessionID},
	} {
		if c.want != "" && c.want != c.got {
			return false
		}
	}
	return true
}

// summaryPlan splits a summary of f into the counters to read (nil: none) and
// the span filters to walk. Counters exist per provider × media type × model
// × status × session for the workspace, each execution and each UTC day, so
// they answer kind, provider, media type, model and status (level) alone or
// together, with an execution or with dates for the whole days inside them
// (and count distinct sessions); the hours before the first whole day and
// after the last are walked, at most a day of spans each. A trace, an agent
// or a session, or an execution within dates, is walked instead: one index
// partition holds its spans (never the workspace's), fewer than the counters
// of every session would be, with the other filters as a FilterExpression.
func summaryPlan(f SpanFilter) (*UsageScope, []SpanFilter) {
	switch {
	case f.TraceID != "" || f.AgentID != "" || f.SessionID != "" || (f.ExecutionID != "" && (!f.From.IsZero() || !f.To.IsZero())):
		return nil, []SpanFilter{f}
	case f.ExecutionID != "":
		return &UsageScope{ExecutionID: f.ExecutionID}, nil
	case f.From.IsZero() && f.To.IsZero():
		return &UsageScope{}, nil
	}
	// Whole days: from the first midnight at or after From to the last
	// midnight at or before the instant after To (To is inclusive).
	scope := &UsageScope{ByDay: true}
	var first, end time.Time // [first, end) is covered by whole days
	if !f.From.IsZero() {
		if first = Day(f.From); first.Before(f.From) {
			first = first.AddDate(0, 0, 1)
		}
		scope.FromDay = first
	}
	if !f.To.IsZero() {
		end = Day(f.To.Add(time.Nanosecond))
		scope.ToDay = end.AddDate(0, 0, -1)
	}
	if !first.IsZero() && !end.IsZero() && !first.Before(end) {
		return nil, []SpanFilter{f} // inside one day, or across one midnight
	}
	var walks []SpanFilter
	if !first.IsZero() && f.From.Before(first) {
		w := f
		w.To = first.Add(-time.Nanosecond)
		walks = append(walks, w)
	}
	if !end.IsZero() && !f.To.Before(end) {
		w := f
		w.From = end
		walks = append(walks, w)
	}
	return scope, walks
}

// maxModelBytes bounds a model_name filter (models are free text).
const maxModelBytes = 256

// normalize validates f and turns Level into Status.
func (f *SpanFilter) normalize() error {
	for _, ref := range []struct{ name, v string }{
		{"execution_id", f.ExecutionID}, {"trace_id", f.TraceID}, {"agent_id", f.AgentID},
		{"session_id", f.SessionID}, {"provider", f.Provider},
	} {
		if err := validateRefField(ref.name, ref.v, false); err != nil {
			return err
		}
	}
	if f.Kind != "" {
		if _, err := ParseSpanKind(string(f.Kind)); err != nil {
			return err
		}
	}
	if f.MediaType != "" {
		c, err := ParseCapability(string(f.MediaType))
		if err != nil {
			return Invalid("media_type", "media_type must be one of tts, stt, image_gen, image_edit, video_gen, video_from_image")
		}
		f.MediaType = c
	}
	if f.Status != "" {
		if _, err := ParseSpanStatus(string(f.Status)); err != nil {
			return err
		}
	}
	if f.Level != "" {
		st, err := ParseSpanLevel(f.Level)
		if err != nil {
			return err
		}
		if f.Status != "" && f.Status != st {
			return Invalid("level", "level %s is status %s, which contradicts status %s", f.Level, st, f.Status)
		}
		f.Status, f.Level = st, ""
	}
	if len(f.Model) > maxModelBytes || !utf8.ValidString(f.Model) || strings.ContainsFunc(f.Model, unicode.IsControl) {
		return Invalid("model_name", "model_name must be at most %d bytes of text", maxModelBytes)
	}
	if !f.From.IsZero() && !f.To.IsZero() && f.To.Before(f.From) {
		return Invalid("date_to", "date_to must not be earlier than date_from")
	}
	if f.Limit < 0 || f.Limit > MaxLimit {
		return Invalid("limit", "limit must be between 1 and %d", MaxLimit)
	}
	return nil
}
