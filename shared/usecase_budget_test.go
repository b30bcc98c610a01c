package mediatrail_test

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// TestSpendScopes: a call counts against the month, its execution and its
// agent's day, each under its own key.
func TestSpendScopes(t *testing.T) {
	at := time.Date(2026, 12, 31, 23, 30, 0, 0, time.FixedZone("X", -2*3600)) // 2027-01-01 in UTC
	for _, tc := range []struct {
		execution, agent string
		keys             []string
	}{
		{"", "", []string{"MONTH#2027-01"}},
		{"exec-1", "", []string{"MONTH#2027-01", "EXEC#exec-1"}},
		{"exec-1", "agent-1", []string{"MONTH#2027-01", "EXEC#exec-1", "AGENT#agent-1#2027-01-01"}},
	} {
		var keys []string
		for _, s := range mediatrail.SpendScopes(at, tc.execution, tc.agent) {
			keys = append(keys, s.Key())
		}
		if strings.Join(keys, " ") != strings.Join(tc.keys, " ") {
			t.Errorf("%q %q: %v, want %v", tc.execution, tc.agent, keys, tc.keys)
		}
	}
}

// TestBudgetLimitsValidated: each limit is a number from 0 to 10^12 or
// null, refused on its name before anything is stored (the service has no
// store here: touching it would panic).
func TestBudgetLimitsValidated(t *testing.T) {
	s := &mediatrail.BudgetService{}
	for _, tc := range []struct {
		in    mediatrail.SetBudgetInput
		field string
	}{
		{mediatrail.SetBudgetInput{MonthlyUSD: ptr(-1.0)}, mediatrail.LimitMonthly},
		{mediatrail.SetBudgetInput{PerExecutionUSD: ptr(math.NaN())}, mediatrail.LimitPerExecution},
		{mediatrail.SetBudgetInput{PerAgentDailyUSD: ptr(2e12)}, mediatrail.LimitPerAgentDaily},
	} {
		if _, err := s.Set(context.Background(), "ws-a", tc.in); fieldOf(err) != tc.field {
			t.Errorf("%+v: %v, want field %s", tc.in, err, tc.field)
		}
	}
	if _, err := s.Get(context.Background(), "ws-a", "a b", ""); fieldOf(err) != "execution_id" {
		t.Errorf("Get with a malformed execution id: %v", err)
	}
	if (&mediatrail.Budget{}).Limited() || !(&mediatrail.Budget{MonthlyUSD: ptr(0.0)}).Limited() {
		t.Error("Limited")
	}
}

// keyTable is a KeyStore in a map of hashes.
type keyTable map[string]string

func (k keyTable) WorkspaceForKeyHash(_ context.Context, h string) (string, error) {
	if ws, ok := k[h]; ok {
		return ws, nil
	}
	return "", mediatrail.Errorf(mediatrail.EUNAUTHENTICATED, "invalid API key")
}
func (k keyTable) PutAPIKey(_ context.Context, h, ws string) error { k[h] = ws; return nil }

// TestAuthenticate: a key opens its workspace, by its hash only; a missing,
// oversized or unknown key is EUNAUTHENTICATED.
func TestAuthenticate(t *testing.T) {
	key := mediatrail.NewAPIKey()
	if !strings.HasPrefix(key, "mt_") || len(key) != 51 || key == mediatrail.NewAPIKey() {
		t.Fatalf("key %q", key)
	}
	keys := keyTable{}
	_ = keys.PutAPIKey(context.Background(), mediatrail.HashAPIKey(key), "ws-a")
	for _, tc := range []struct {
		key, ws string
	}{{" " + key + " ", "ws-a"}, {"", ""}, {strings.Repeat("k", 257), ""}, {key + "x", ""}} {
		ws, err := mediatrail.Authenticate(context.Background(), keys, tc.key)
		if ws != tc.ws || (ws == "") != (mediatrail.ErrorCode(err) == mediatrail.EUNAUTHENTICATED) {
			t.Errorf("%.10q: %q, %v", tc.key, ws, err)
		}
	}
}
