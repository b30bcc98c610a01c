package mediatrail

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// pricesJSON is the price table: data, not code, so that prices change without
// touching the logic (prices.json says how entries match).
//
//go:embed prices.json
var pricesJSON []byte

// Price is one entry of the price table.
type Price struct {
	Provider string            `json:"provider"`
	Model    string            `json:"model"` // exact, "prefix*", or a parent path
	Unit     string            `json:"unit"`  // one of the Unit* constants
	Price    float64           `json:"price"` // per unit, in the table's currency
	When     map[string]string `json:"when"`  // attributes that must all match
}

// PriceTable estimates what calls cost.
type PriceTable struct {
	Currency string  `json:"currency"`
	Prices   []Price `json:"prices"`
}

var priceUnits = []string{UnitCharacter, UnitSecond, UnitImage, UnitMegapixel, UnitVideo, UnitVideoSecond, UnitToken}

// ParsePrices reads a price table, refusing unknown units and negative prices.
// A price of 0 is a free model (the local provider): priced, at no cost.
func ParsePrices(data []byte) (*PriceTable, error) {
	var t PriceTable
	if err := json.Unmarshal(data, &t); err != nil {
		return nil, fmt.Errorf("price table: %w", err)
	}
	if t.Currency == "" {
		return nil, fmt.Errorf("price table: no currency")
	}
	for i, p := range t.Prices {
		if p.Provider == "" || p.Model == "" || !slices.Contains(priceUnits, p.Unit) || !(p.Price >= 0) {
			return nil, fmt.Errorf("price table: entry %d (%s %s) needs a provider, a model, a known unit and a price of 0 or more", i, p.Provider, p.Model)
		}
	}
	return &t, nil
}

// DefaultPrices is the embedded price table, parsed once.
var DefaultPrices = sync.OnceValue(func() *PriceTable {
	t, err := ParsePrices(pricesJSON)
	if err != nil {
		panic(err) // the embedded file is checked by tests
	}
	return t
})

// Billable is what a call produced, as far as pricing cares.
type Billable struct {
	Provider, Model string
	// Usage is the provider's own report, preferred whenever its unit is the
	// one the price is in.
	Usage Usage
	// Attributes select among a model's prices (quality, size, resolution).
	Attributes map[string]string
	// What the request and the result imply, for providers that report nothing.
	Characters int     // of the prompt spoken
	Images     int     // made
	Megapixels float64 // in all images made
	Seconds    float64 // of audio or video made or transcribed
}

// Estimate prices b with the most specific matching entry. Without one the
// cost is unpriced (Amount 0, Priced false) and carries the provider's usage.
func (t *PriceTable) Estimate(b Billable) Cost {
	var best *Price
	for i := range t.Prices {
		p := &t.Prices[i]
		if p.Provider != b.Provider || !modelMatches(p.Model, b.Model) || !attributesMatch(p.When, b.Attributes) {
			continue
		}
		if best == nil || len(p.When) > len(best.When) {
			best = p
		}
	}
	if best == nil {
		return Cost{Currency: t.Currency, Quantity: b.Usage.Quantity, Unit: b.Usage.Unit, Source: "provider"}
	}
	q, source := b.quantity(best.Unit)
	return Cost{
		Amount: roundTo(q*best.Price, 12), Currency: t.Currency, Quantity: q, Unit: best.Unit,
		UnitPrice: best.Price, Priced: true, Source: source,
	}
}

func modelMatches(pattern, model string) bool {
	if prefix, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(model, prefix)
	}
	return model == pattern || strings.HasPrefix(model, pattern+"/")
}

func attributesMatch(when, attrs map[string]string) bool {
	for k, v := range when {
		if !strings.EqualFold(attrs[k], v) {
			return false
		}
	}
	return true
}

// quantity is how many units of unit b used, and where that number came from.
func (b Billable) quantity(unit string) (float64, string) {
	if b.Usage.Unit == unit && b.Usage.Quantity > 0 {
		return b.Usage.Quantity, "provider"
	}
	switch unit {
	case UnitCharacter:
		return float64(b.Characters), "request"
	case UnitImage:
		return float64(max(b.Images, 1)), "request"
	case UnitVideo:
		return 1, "request"
	case UnitMegapixel:
		return b.Megapixels, "media"
	case UnitSecond, UnitVideoSecond:
		return b.Seconds, "media"
	}
	return 0, "media"
}
