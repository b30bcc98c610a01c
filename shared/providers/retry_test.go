package providers_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/providers"
)

func TestBackoffBounds(t *testing.T) {
	p := providers.RetryPolicy{BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second}
	ceilings := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond, time.Second, time.Second}
	for attempt, ceiling := range ceilings {
		for range 200 {
			if d := p.Backoff(attempt); d < 0 || d > ceiling {
				t.Fatalf("Backoff(%d) = %v, want within [0, %v]", attempt, d, ceiling)
			}
		}
	}
	if d := p.Backoff(500); d < 0 || d > time.Second {
		t.Errorf("Backoff(500) = %v, want within [0, 1s] (no overflow)", d)
	}

	// Full jitter: the extremes of the random draw are the extremes of the wait.
	low := providers.RetryPolicy{BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second, Rand: func(int64) int64 { return 0 }}
	high := providers.RetryPolicy{BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second, Rand: func(n int64) int64 { return n - 1 }}
	for attempt, ceiling := range ceilings {
		wantEqual(t, "lowest wait", low.Backoff(attempt), time.Duration(0))
		wantEqual(t, "highest wait", high.Backoff(attempt), ceiling)
	}

	// The draws spread: over many, both halves of the range are used.
	var below, above int
	for range 1000 {
		if p.Backoff(3) < 400*time.Millisecond {
			below++
		} else {
			above++
		}
	}
	if below < 300 || above < 300 {
		t.Errorf("1000 draws: %d in the lower half, %d in the upper, want both near 500", below, above)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name   string
		header http.Header
		want   time.Duration
		ok     bool
	}{
		{"none", http.Header{}, 0, false},
		{"seconds", http.Header{"Retry-After": {"7"}}, 7 * time.Second, true},
		{"fractional seconds", http.Header{"Retry-After": {"1.5"}}, 1500 * time.Millisecond, true},
		{"zero", http.Header{"Retry-After": {"0"}}, 0, true},
		{"http date", http.Header{"Retry-After": {now.Add(90 * time.Second).Format(http.TimeFormat)}}, 90 * time.Second, true},
		{"http date in the past", http.Header{"Retry-After": {now.Add(-time.Hour).Format(http.TimeFormat)}}, 0, true},
		{"milliseconds", http.Header{"Retry-After-Ms": {"1500"}}, 1500 * time.Millisecond, true},
		{"milliseconds win", http.Header{"Retry-After-Ms": {"250"}, "Retry-After": {"9"}}, 250 * time.Millisecond, true},
		{"bad milliseconds fall back", http.Header{"Retry-After-Ms": {"soon"}, "Retry-After": {"3"}}, 3 * time.Second, true},
		{"garbage", http.Header{"Retry-After": {"tomorrow"}}, 0, false},
		{"negative", http.Header{"Retry-After": {"-5"}}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := providers.ParseRetryAfter(tt.header, now)
			wantEqual(t, "delay", got, tt.want)
			wantEqual(t, "ok", ok, tt.ok)
		})
	}
}

func TestDelay(t *testing.T) {
	p := providers.RetryPolicy{BaseDelay: time.Second, MaxDelay: 30 * time.Second, Rand: func(n int64) int64 { return n - 1 }}
	tests := []struct {
		name string
		err  error
		want time.Duration
	}{
		{"hint", &mediatrail.ProviderError{Status: 429, RetryAfter: 4 * time.Second}, 4 * time.Second},
		{"hint capped", &mediatrail.ProviderError{Status: 429, RetryAfter: 10 * time.Minute}, 30 * time.Second},
		{"no hint: backoff", &mediatrail.ProviderError{Status: 503}, 4 * time.Second},
		{"wrapped hint", errors.Join(errors.New("x"), &mediatrail.ProviderError{Status: 429, RetryAfter: time.Second}), time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantEqual(t, "delay after attempt 2", p.Delay(2, tt.err), tt.want)
		})
	}
}

func TestDo(t *testing.T) {
	temporary := &mediatrail.ProviderError{Provider: "x", Status: 503}
	tests := []struct {
		name         string
		errs         []error // what each attempt returns; past the end, nil
		maxAttempts  int
		wantAttempts int
		wantErr      error
	}{
		{"success", nil, 4, 1, nil},
		{"temporary then success", []error{temporary, temporary}, 4, 3, nil},
		{"max attempts", []error{temporary, temporary, temporary, temporary, temporary}, 4, 4, temporary},
		{"one attempt", []error{temporary}, 1, 1, temporary},
		{"permanent", []error{&mediatrail.ProviderError{Status: 400}}, 4, 1, nil},
		{"quota 429", []error{&mediatrail.ProviderError{Status: 429, Code: "insufficient_quota"}}, 4, 1, nil},
		{"malformed", []error{&mediatrail.ProviderError{Status: 200, Code: mediatrail.ProviderMalformed}}, 4, 1, nil},
		{"timeout", []error{&mediatrail.ProviderError{Code: mediatrail.ProviderTimeout}}, 4, 2, nil},
		{"connection", []error{&mediatrail.ProviderError{Code: mediatrail.ProviderUnreachable}}, 4, 2, nil},
		{"408", []error{&mediatrail.ProviderError{Status: 408}}, 4, 2, nil},
		{"other errors", []error{errors.New("boom")}, 4, 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := &clock{}
			p := providers.RetryPolicy{MaxAttempts: tt.maxAttempts, Sleep: clk.Sleep}
			attempts := 0
			err := p.Do(context.Background(), func(context.Context) error {
				attempts++
				if attempts <= len(tt.errs) {
					return tt.errs[attempts-1]
				}
				return nil
			})
			wantEqual(t, "attempts", attempts, tt.wantAttempts)
			wantEqual(t, "waits", len(clk.Sleeps()), attempts-1)
			want := tt.wantErr
			if want == nil && tt.wantAttempts <= len(tt.errs) {
				want = tt.errs[tt.wantAttempts-1]
			}
			wantEqual(t, "error", err, want)
		})
	}

	t.Run("context ends during the wait", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		attempts := 0
		p := providers.RetryPolicy{Sleep: func(ctx context.Context, _ time.Duration) error { cancel(); return ctx.Err() }}
		err := p.Do(ctx, func(context.Context) error { attempts++; return temporary })
		wantEqual(t, "attempts", attempts, 1)
		wantEqual[error](t, "error", err, temporary)
	})

	t.Run("real sleep honours the context", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		start := time.Now()
		p := providers.RetryPolicy{BaseDelay: time.Hour, MaxDelay: time.Hour}
		err := p.Do(ctx, func(context.Context) error { return temporary })
		wantEqual[error](t, "error", err, temporary)
		if time.Since(start) > 5*time.Second {
			t.Errorf("Do waited %v past its context", time.Since(start))
		}
	})
}
