package mediatrail

import (
	"context"
	"time"
	"unicode/utf8"
)

func (s *MediaService) prices() *PriceTable { return pricesOr(s.Prices) }

// pricesOr is p, else DefaultPrices: the prices of MediaService and
// JobService (its Media's).
func pricesOr(p *PriceTable) *PriceTable {
	if p != nil {
		return p
	}
	return DefaultPrices()
}

// reserve is the one budget check of media calls and job submissions: it
// holds the call's estimated cost (Budget.Reserve) for as long as the call
// may run, or refuses the call with EBUDGET.
func (s *MediaService) reserve(ctx context.Context, ws string, p Provider, c Capability, in GenerateInput) error {
	if s.Budget == nil {
		return nil
	}
	holding := s.timeout() + leaseMargin
	if c.Async() {
		holding = DefaultJobDeadline + leaseMargin
		if s.Jobs != nil && s.Jobs.Config.Deadline > 0 {
			holding = s.Jobs.Config.Deadline + leaseMargin
		}
	}
	return s.Budget.Reserve(ctx, ws, BudgetCall{ID: in.spanID, ExecutionID: in.ExecutionID, AgentID: in.AgentID,
		Estimate: s.prices().EstimateCall(p.Name(), c, in), Holding: holding})
}

// settle releases the budget hold of call id, started at at, once its span
// is written (no budget: b nil).
func settle(ctx context.Context, b *BudgetService, ws, id string, at time.Time, in GenerateInput) {
	if b != nil {
		b.Settle(ctx, ws, id, at, in.ExecutionID, in.AgentID)
	}
}

// billable gathers what pricing needs: the provider's usage, the attributes
// that select a price (from the result, else the request's config), and what
// the request and the media imply.
func (m *mediaCall) billable(req MediaRequest, res *MediaResult, md map[string]any, width, height int, seconds float64) Billable {
	b := Billable{
		Provider: m.provider.Name(), Model: m.span.Model, Usage: res.Usage, Attributes: map[string]string{},
		Seconds: seconds, Images: 1,
	}
	for _, k := range []string{"quality", "size", "resolution"} {
		if v, ok := md[k].(string); ok && v != "" {
			b.Attributes[k] = v
		} else if v, ok := req.Config[k].(string); ok {
			b.Attributes[k] = v
		}
	}
	if m.capability == CapabilityTTS {
		b.Characters = utf8.RuneCountInString(req.Prompt)
	}
	if res.Usage.Unit == UnitImage && res.Usage.Quantity > 0 {
		b.Images = int(res.Usage.Quantity)
	}
	if mp, ok := md["megapixels"].(float64); ok && mp > 0 {
		b.Megapixels = mp
	} else {
		b.Megapixels = float64(b.Images*width*height) / 1e6
	}
	return b
}
