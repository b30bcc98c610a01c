package mediatrail

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The budget limits of a workspace, by their field names in the API.
const (
	LimitMonthly       = "monthly_usd"         // calendar month (UTC) of the workspace
	LimitPerExecution  = "per_execution_usd"   // one execution_id, for its lifetime
	LimitPerAgentDaily = "per_agent_daily_usd" // one agent_id, per UTC day
)

// AlertThresholds are the shares of a limit whose crossing is recorded once
// per period as a BudgetAlert.
var AlertThresholds = []int{80, 100}

// Budget is a workspace's spending limits, in the price table's currency. A
// nil limit is no limit.
type Budget struct {
	WorkspaceID      string   `json:"-"`
	MonthlyUSD       *float64 `json:"monthly_usd"`
	PerExecutionUSD  *float64 `json:"per_execution_usd"`
	PerAgentDailyUSD *float64 `json:"per_agent_daily_usd"`
	// AlertWebhookURL receives each new BudgetAlert, signed as job
	// callbacks are (BudgetService.notify); "" for none.
	AlertWebhookURL string    `json:"alert_webhook_url"`
	UpdatedAt       time.Time `json:"updated_at,omitzero"`
}

// limit returns the limit of name, or nil.
func (b *Budget) limit(name string) *float64 {
	switch name {
	case LimitMonthly:
		return b.MonthlyUSD
	case LimitPerExecution:
		return b.PerExecutionUSD
	case LimitPerAgentDaily:
		return b.PerAgentDailyUSD
	}
	return nil
}

// Limited reports whether b has any limit.
func (b *Budget) Limited() bool {
	return b.MonthlyUSD != nil || b.PerExecutionUSD != nil || b.PerAgentDailyUSD != nil
}

// maxBudgetUSD bounds a limit: beyond it the numbers lose cents.
const maxBudgetUSD = 1e12

func (b *Budget) validate() error {
	for _, name := range []string{LimitMonthly, LimitPerExecution, LimitPerAgentDaily} {
		if v := b.limit(name); v != nil && !(*v >= 0 && *v <= maxBudgetUSD) {
			return Invalid(name, "%s must be a number from 0 to %g, or null for no limit", name, float64(maxBudgetUSD))
		}
	}
	if b.AlertWebhookURL != "" {
		return validateHookURL("alert_webhook_url", b.AlertWebhookURL)
	}
	return nil
}

// SpendScope is one spend counter: what a limit applies to in one period.
// Key is unique within the workspace (a month "2026-12", an execution id,
// "agent#day").
type SpendScope struct {
	Limit       string `json:"limit"`
	Period      string `json:"period,omitempty"` // month or day, UTC
	ExecutionID string `json:"execution_id,omitempty"`
	AgentID     string `json:"agent_id,omitempty"`
}

// Key identifies the counter of s within its workspace.
func (s SpendScope) Key() string {
	switch s.Limit {
	case LimitPerExecution:
		return "EXEC#" + s.ExecutionID
	case LimitPerAgentDaily:
		return "AGENT#" + s.AgentID + "#" + s.Period
	}
	return "MONTH#" + s.Period
}

// SpendScopes are the counters a call started at at, in execution and by
// agent (either may be ""), is charged to: the month always, the execution
// and the agent's day when given.
func SpendScopes(at time.Time, executionID, agentID string) []SpendScope {
	at = at.UTC()
	scopes := []SpendScope{{Limit: LimitMonthly, Period: at.Format("2006-01")}}
	if executionID != "" {
		scopes = append(scopes, SpendScope{Limit: LimitPerExecution, ExecutionID: executionID})
	}
	if agentID != "" {
		scopes = append(scopes, SpendScope{Limit: LimitPerAgentDaily, AgentID: agentID, Period: at.Format("2006-01-02")})
	}
	return scopes
}

// Spend is a counter's state: Spent is charged spans (written in the
// transaction that writes each span), Reserved the holds of calls still
// running.
type Spend struct {
	SpendScope
	Spent    float64 `json:"spent_usd"`
	Reserved float64 `json:"reserved_usd"`
}

// BudgetHold reserves the estimated cost of one call (ID: its span id) on
// the limited counters it would be charged to, until Release, or until
// ExpiresAt, after which a later refusal releases it (a crashed call must not
// hold budget forever).
type BudgetHold struct {
	WorkspaceID string
	ID          string
	Amount      float64
	// Scopes are the limited counters, each with Room: the most the counter
	// may hold before this hold for it to be admitted (limit - Amount).
	Scopes    []HeldScope
	ExpiresAt time.Time
}

// HeldScope is a counter a hold reserves on.
type HeldScope struct {
	SpendScope
	Room float64
}

// BudgetRefusal is a store's answer to a hold that would pass a limit: the
// counter and its state.
type BudgetRefusal struct {
	Spend Spend
}

func (r *BudgetRefusal) Error() string { return "budget: " + r.Spend.Limit + " would be exceeded" }

// BudgetAlert records that spend crossed Threshold percent of a limit in a
// period: once per limit, scope and threshold. It is shown by GET
// /api/v1/workspace/budget, by /api/v1/traces/summary and the console, and
// posted to the budget's alert_webhook_url.
type BudgetAlert struct {
	WorkspaceID string `json:"-"`
	SpendScope
	Threshold int     `json:"threshold"` // percent of the limit: one of AlertThresholds
	LimitUSD  float64 `json:"limit_usd"`
	// SpentUSD is what the counter had been charged when the crossing was
	// seen.
	SpentUSD float64   `json:"spent_usd"`
	At       time.Time `json:"crossed_at"`
}

// BudgetStore keeps budgets, spend counters, holds and alerts. Spent is
// added by the span writes themselves (SpanStore); the store never scans
// spans.
type BudgetStore interface {
	// FindBudget returns the workspace's budget; one with no limits if unset.
	FindBudget(ctx context.Context, workspaceID string) (*Budget, error)
	PutBudget(ctx context.Context, b *Budget) error
	// SpendOf reads the counters of scopes (zero for absent ones), in order.
	SpendOf(ctx context.Context, workspaceID string, scopes []SpendScope) ([]Spend, error)
	// Hold records h and adds its amount to each scope's counter, all or
	// nothing, on condition that each counter holds at most its Room: a
	// *BudgetRefusal otherwise.
	Hold(ctx context.Context, h *BudgetHold) error
	// Release removes hold id and its amounts; false if it was not held (an
	// unknown or already released hold: releasing is idempotent).
	Release(ctx context.Context, workspaceID, id string) (bool, error)
	// ReleaseExpired releases the workspace's holds that expired before now.
	ReleaseExpired(ctx context.Context, workspaceID string, now time.Time) (int, error)
	// RecordAlert stores a; false if that alert was already recorded.
	RecordAlert(ctx context.Context, a *BudgetAlert) (bool, error)
	BudgetAlertLister
}

// BudgetAlertLister reads recorded budget alerts.
type BudgetAlertLister interface {
	// ListAlerts returns the workspace's alerts of from's month and later,
	// newest month first.
	ListAlerts(ctx context.Context, workspaceID string, from time.Time) ([]BudgetAlert, error)
}

// BudgetService enforces workspace budgets: it checks and holds a call's
// estimated cost before the call, releases the hold when the call ends (the
// span charges the real cost), and records threshold alerts.
type BudgetService struct {
	Store  BudgetStore
	Now    func() time.Time
	Logger *slog.Logger
	// CallbackSecret signs alert webhooks as job callbacks are signed
	// (CALLBACK_SIGNING_SECRET); without it alert_webhook_url is refused.
	CallbackSecret string
	// Callbacks delivers alert webhooks, under callback_url's address
	// policy; nil delivers none.
	Callbacks CallbackSender
}

func (s *BudgetService) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *BudgetService) logger() *slog.Logger { return cmp.Or(s.Logger, slog.Default()) }

// BudgetView is what GET /api/v1/workspace/budget answers: the limits and
// the spend of the month, and of the execution and agent asked about.
type BudgetView struct {
	*Budget
	Currency string        `json:"currency"`
	Spend    []SpendReport `json:"spend"`
	Alerts   []BudgetAlert `json:"alerts"`
}

// SpendReport is one counter with its limit and what is left (nil without a
// limit).
type SpendReport struct {
	Spend
	LimitUSD     *float64 `json:"limit_usd"`
	RemainingUSD *float64 `json:"remaining_usd"`
}

// SetBudgetInput is the body of PUT /api/v1/workspace/budget. Absent or
// null limits are no limits; an absent alert_webhook_url is none.
type SetBudgetInput struct {
	MonthlyUSD       *float64 `json:"monthly_usd"`
	PerExecutionUSD  *float64 `json:"per_execution_usd"`
	PerAgentDailyUSD *float64 `json:"per_agent_daily_usd"`
	AlertWebhookURL  *string  `json:"alert_webhook_url"`
}

// Set replaces the workspace's limits and alert webhook. EINVALID for a
// negative or absurd limit, and for a webhook URL that is not an http(s)
// URL without credentials or that this server could not sign (no
// CALLBACK_SIGNING_SECRET: an unsigned alert would be worthless to its
// receiver).
func (s *BudgetService) Set(ctx context.Context, ws string, in SetBudgetInput) (*BudgetView, error) {
	b := &Budget{WorkspaceID: ws, MonthlyUSD: in.MonthlyUSD, PerExecutionUSD: in.PerExecutionUSD,
		PerAgentDailyUSD: in.PerAgentDailyUSD, UpdatedAt: s.now()}
	if in.AlertWebhookURL != nil {
		b.AlertWebhookURL = *in.AlertWebhookURL
	}
	if err := b.validate(); err != nil {
		return nil, err
	}
	if b.AlertWebhookURL != "" && s.CallbackSecret == "" {
		return nil, Invalid("alert_webhook_url", "alert webhooks are not configured on this server (CALLBACK_SIGNING_SECRET is not set)")
	}
	if err := s.Store.PutBudget(ctx, b); err != nil {
		return nil, err
	}
	return s.Get(ctx, ws, "", "")
}

// Get answers the limits, the month's spend and, when named, the spend of
// execution executionID and of agent agentID today, with this month's alerts.
func (s *BudgetService) Get(ctx context.Context, ws, executionID, agentID string) (*BudgetView, error) {
	for _, f := range []struct{ name, v string }{{"execution_id", executionID}, {"agent_id", agentID}} {
		if err := validateRefField(f.name, f.v, false); err != nil {
			return nil, err
		}
	}
	b, err := s.Store.FindBudget(ctx, ws)
	if err != nil {
		return nil, err
	}
	now := s.now()
	spend, err := s.Store.SpendOf(ctx, ws, SpendScopes(now, executionID, agentID))
	if err != nil {
		return nil, err
	}
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	alerts, err := s.Store.ListAlerts(ctx, ws, month)
	if err != nil {
		return nil, err
	}
	v := &BudgetView{Budget: b, Currency: DefaultPrices().Currency, Spend: make([]SpendReport, len(spend)), Alerts: alerts}
	for i, sp := range spend {
		v.Spend[i] = SpendReport{Spend: sp, LimitUSD: b.limit(sp.Limit)}
		if l := v.Spend[i].LimitUSD; l != nil {
			left := max(roundTo(*l-sp.Spent-sp.Reserved, 12), 0)
			v.Spend[i].RemainingUSD = &left
		}
	}
	return v, nil
}

// BudgetCall is what Reserve needs of a call.
type BudgetCall struct {
	ID          string // the call's span id: the hold's id
	ExecutionID string
	AgentID     string
	Estimate    Cost
	// Holding bounds how long the call may run: its hold expires after it.
	Holding time.Duration
}

// Reserve holds the call's estimated cost against every limit it falls
// under, or refuses it with EBUDGET naming the limit and what is left. A
// workspace without limits holds nothing. An expired hold that stands in
// the way is released and the hold tried once more.
func (s *BudgetService) Reserve(ctx context.Context, ws string, c BudgetCall) error {
	b, err := s.Store.FindBudget(ctx, ws)
	if err != nil || !b.Limited() {
		return err
	}
	now := s.now()
	amount := roundTo(c.Estimate.Amount, 12)
	h := &BudgetHold{WorkspaceID: ws, ID: c.ID, Amount: amount, ExpiresAt: now.Add(c.Holding)}
	for _, sc := range SpendScopes(now, c.ExecutionID, c.AgentID) {
		l := b.limit(sc.Limit)
		if l == nil {
			continue
		}
		if amount > *l {
			// No hold could ever admit it; the counter is read only so
			// that the refusal says what is left.
			spend, err := s.Store.SpendOf(ctx, ws, []SpendScope{sc})
			if err != nil {
				return err
			}
			return budgetExceeded(sc, *l, spend[0], amount)
		}
		h.Scopes = append(h.Scopes, HeldScope{SpendScope: sc, Room: roundTo(*l-amount, 12)})
	}
	if len(h.Scopes) == 0 {
		return nil
	}
	for attempt := 0; ; attempt++ {
		err = s.Store.Hold(ctx, h)
		refusal, refused := err.(*BudgetRefusal)
		if !refused {
			return err
		}
		if attempt == 0 {
			if n, rerr := s.Store.ReleaseExpired(ctx, ws, now); rerr != nil {
				s.logger().Warn("release expired budget holds", "workspace", ws, "err", rerr)
			} else if n > 0 {
				s.logger().Info("released expired budget holds", "workspace", ws, "holds", n)
				continue
			}
		}
		return budgetExceeded(refusal.Spend.SpendScope, *b.limit(refusal.Spend.Limit), refusal.Spend, amount)
	}
}

func budgetExceeded(sc SpendScope, limit float64, sp Spend, estimate float64) *Error {
	left := max(roundTo(limit-sp.Spent-sp.Reserved, 12), 0)
	what := "this month's budget"
	switch sc.Limit {
	case LimitPerExecution:
		what = "the budget of execution " + sc.ExecutionID
	case LimitPerAgentDaily:
		what = "the daily budget of agent " + sc.AgentID
	}
	return &Error{Code: EBUDGET,
		Message: fmt.Sprintf("%s (%s %s) would be exceeded: this call is estimated at %s, %s is left",
			what, sc.Limit, usd(limit), usd(estimate), usd(left)),
		Details: map[string]any{
			"limit": sc.Limit, "limit_usd": limit, "remaining_usd": left, "estimated_usd": estimate,
			"spent_usd": sp.Spent, "reserved_usd": sp.Reserved, "scope": sc,
		}}
}

func usd(v float64) string { return "$" + strconv.FormatFloat(v, 'f', -1, 64) }

// Settle ends the hold of call id (its span is written, charged or not) and
// records the alerts its charge may have crossed. It runs even when the
// caller has gone and only logs failures: a hold left behind expires.
func (s *BudgetService) Settle(ctx context.Context, ws, id string, at time.Time, executionID, agentID string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
	defer cancel()
	if _, err := s.Store.Release(ctx, ws, id); err != nil {
		s.logger().Warn("release budget hold; it will expire", "workspace", ws, "hold", id, "err", err)
	}
	if err := s.checkAlerts(ctx, ws, at, executionID, agentID); err != nil {
		s.logger().Warn("check budget alerts", "workspace", ws, "err", err)
	}
}

// checkAlerts records, once each, the thresholds the counters of a call
// have crossed.
func (s *BudgetService) checkAlerts(ctx context.Context, ws string, at time.Time, executionID, agentID string) error {
	b, err := s.Store.FindBudget(ctx, ws)
	if err != nil || !b.Limited() {
		return err
	}
	spend, err := s.Store.SpendOf(ctx, ws, SpendScopes(at, executionID, agentID))
	if err != nil {
		return err
	}
	for _, sp := range spend {
		l := b.limit(sp.Limit)
		if l == nil || *l <= 0 {
			continue
		}
		for _, pct := range AlertThresholds {
			if sp.Spent < *l*float64(pct)/100 {
				break
			}
			a := &BudgetAlert{WorkspaceID: ws, SpendScope: sp.SpendScope, Threshold: pct, LimitUSD: *l, SpentUSD: sp.Spent, At: s.now()}
			recorded, err := s.Store.RecordAlert(ctx, a)
			if err != nil {
				return err
			}
			if recorded && b.AlertWebhookURL != "" {
				s.notify(ctx, b.AlertWebhookURL, a)
			}
		}
	}
	return nil
}

// budgetAlerts are the alerts a summary of f shows: those crossed within
// its dates (without date_from, since the start of this month, so that the
// month's alerts are always in view), and of its execution when it names
// one, newest first. A trace or a span kind does not narrow them: alerts are events of
// the workspace's counters, not of spans.
func (s *TraceService) budgetAlerts(ctx context.Context, ws string, f SpanFilter) ([]BudgetAlert, error) {
	alerts := []BudgetAlert{}
	if s.Alerts == nil {
		return alerts, nil
	}
	from := f.From
	if from.IsZero() {
		now := time.Now().UTC()
		from = time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	all, err := s.Alerts.ListAlerts(ctx, ws, from)
	if err != nil {
		return nil, err
	}
	for _, a := range all {
		if a.At.Before(from) || (!f.To.IsZero() && a.At.After(f.To)) || (f.ExecutionID != "" && a.ExecutionID != f.ExecutionID) {
			continue
		}
		alerts = append(alerts, a)
	}
	slices.SortStableFunc(alerts, func(a, b BudgetAlert) int { return b.At.Compare(a.At) })
	return alerts, nil
}

// BudgetAlertEvent is the event of an alert webhook (X-Mediatrail-Event).
const BudgetAlertEvent = "budget.alert"

// BudgetAlertBody is what an alert webhook delivers.
type BudgetAlertBody struct {
	Event       string       `json:"event"` // BudgetAlertEvent
	WorkspaceID string       `json:"workspace_id"`
	Data        *BudgetAlert `json:"data"`
}

// notify posts a newly recorded alert to url, signed as job callbacks are
// (postCallback). Delivery is one attempt, bounded by the caller's
// deadline: the alert itself is recorded and shown whatever happens here,
// and a failure is only logged.
func (s *BudgetService) notify(ctx context.Context, url string, a *BudgetAlert) {
	if s.Callbacks == nil || s.CallbackSecret == "" {
		s.logger().Warn("budget alert webhook not sent: callbacks are not configured", "workspace", a.WorkspaceID)
		return
	}
	body, err := json.Marshal(BudgetAlertBody{Event: BudgetAlertEvent, WorkspaceID: a.WorkspaceID, Data: a})
	if err == nil {
		var status int
		status, err = postCallback(ctx, s.Callbacks, s.CallbackSecret, url, BudgetAlertEvent, body, nil)
		if err == nil && (status < 200 || status > 299) {
			err = fmt.Errorf("the webhook answered HTTP %d", status)
		}
	}
	if err != nil {
		s.logger().Warn("budget alert webhook failed", "workspace", a.WorkspaceID, "limit", a.Limit, "threshold", a.Threshold, "err", err)
	}
}

// EstimateCall prices a call before it runs, from what the request says:
// the characters of a speech, the images asked for (config n), the seconds
// of a video (config duration); what only the result tells (the length of
// audio to transcribe) counts as 0. An unpriced model estimates 0.
func (t *PriceTable) EstimateCall(provider string, c Capability, in GenerateInput) Cost {
	b := Billable{Provider: provider, Model: in.Model, Attributes: map[string]string{}, Images: 1}
	for _, k := range []string{"quality", "size", "resolution"} {
		if v, ok := in.Config[k].(string); ok {
			b.Attributes[k] = v
		}
	}
	if c == CapabilityTTS {
		b.Characters = utf8.RuneCountInString(in.Prompt)
	}
	if n, ok := configNumber(in.Config, "n"); ok && n >= 1 {
		b.Images = int(n)
	}
	for _, k := range []string{"duration", "duration_seconds"} {
		if v, ok := configNumber(in.Config, k); ok && v > 0 {
			b.Seconds = v
			break
		}
	}
	if w, h, ok := strings.Cut(b.Attributes["size"], "x"); ok {
		wi, err1 := strconv.Atoi(w)
		hi, err2 := strconv.Atoi(h)
		if err1 == nil && err2 == nil {
			b.Megapixels = float64(b.Images*wi*hi) / 1e6
		}
	}
	return t.Estimate(b)
}

// configNumber reads a numeric option given as a number or a numeric string
// ("5s" counts as 5).
func configNumber(config map[string]any, key string) (float64, bool) {
	switch v := config[key].(type) {
	case float64:
		return v, !math.IsNaN(v) && !math.IsInf(v, 0)
	case int:
		return float64(v), true
	case string:
		f, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), "s"), 64)
		return f, err == nil && !math.IsNaN(f) && !math.IsInf(f, 0)
	}
	return 0, false
}
