package providers

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// RetryPolicy is the one retry policy of every provider client. An attempt that
// fails temporarily (mediatrail.ProviderError.Temporary: 429, 408, 5xx, timeouts,
// broken connections) is tried again, up to MaxAttempts in all, after the
// provider's retry hint or else an exponential backoff with full jitter. Requests
// are built as bytes, so every attempt resends the same body.
//
// Zero fields take DefaultRetryPolicy's values. Now, Sleep and Rand exist so that
// tests run without waiting.
type RetryPolicy struct {
	MaxAttempts int           // attempts in all, including the first
	BaseDelay   time.Duration // backoff ceiling before the second attempt; doubles after each
	MaxDelay    time.Duration // cap on the backoff ceiling and on any provider hint

	Now   func() time.Time                                 // reads HTTP-date Retry-After hints
	Sleep func(ctx context.Context, d time.Duration) error // waits d or until ctx ends
	Rand  func(n int64) int64                              // uniform in [0, n)
}

// DefaultRetryPolicy: 4 attempts, 500 ms base delay, 30 s cap.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{
		MaxAttempts: 4,
		BaseDelay:   500 * time.Millisecond,
		MaxDelay:    30 * time.Second,
		Now:         time.Now,
		Sleep:       sleep,
		Rand:        rand.Int64N,
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	d := DefaultRetryPolicy()
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = d.MaxAttempts
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = d.BaseDelay
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = d.MaxDelay
	}
	if p.Now == nil {
		p.Now = d.Now
	}
	if p.Sleep == nil {
		p.Sleep = d.Sleep
	}
	if p.Rand == nil {
		p.Rand = d.Rand
	}
	return p
}

// Backoff is the wait after failed attempt number attempt (0 for the first): uniform
// in [0, min(MaxDelay, BaseDelay·2^attempt)]. Full jitter spreads the retries of
// many clients that failed together.
func (p RetryPolicy) Backoff(attempt int) time.Duration {
	p = p.withDefaults()
	ceiling := p.MaxDelay
	if attempt < 32 {
		ceiling = min(p.MaxDelay, p.BaseDelay<<attempt)
	}
	if ceiling <= 0 { // the shift overflowed
		ceiling = p.MaxDelay
	}
	return time.Duration(p.Rand(int64(ceiling) + 1))
}

// Delay is the wait after failed attempt number attempt that ended in err: the
// provider's retry hint (capped at MaxDelay) when it gave one, else Backoff.
func (p RetryPolicy) Delay(attempt int, err error) time.Duration {
	p = p.withDefaults()
	var pe *mediatrail.ProviderError
	if errors.As(err, &pe) && pe.RetryAfter > 0 {
		return min(pe.RetryAfter, p.MaxDelay)
	}
	return p.Backoff(attempt)
}

// Do runs op until it succeeds, fails for good, runs out of attempts or ctx ends,
// and returns op's last error. Only errors holding a temporary
// *mediatrail.ProviderError are retried.
func (p RetryPolicy) Do(ctx context.Context, op func(ctx context.Context) error) error {
	p = p.withDefaults()
	for attempt := 0; ; attempt++ {
		err := op(ctx)
		var pe *mediatrail.ProviderError
		if err == nil || attempt+1 >= p.MaxAttempts || ctx.Err() != nil || !errors.As(err, &pe) || !pe.Temporary() {
			return err
		}
		if p.Sleep(ctx, p.Delay(attempt, err)) != nil {
			return err
		}
	}
}

// ParseRetryAfter reads a response's retry hint: retry-after-ms (milliseconds,
// sent by OpenAI- and Stainless-style APIs), else Retry-After as seconds or as an
// HTTP date relative to now. A date in the past means "now" (0, true).
func ParseRetryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	if v := strings.TrimSpace(h.Get("Retry-After-Ms")); v != "" {
		if d, ok := hintDuration(v, time.Millisecond); ok {
			return d, true
		}
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if d, ok := hintDuration(v, time.Second); ok {
		return d, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, t.Sub(now)), true
	}
	return 0, false
}

// hintDuration reads a non-negative number of units. Hints past the range of
// a Duration (1e300, +Inf) saturate: converting them would wrap to a negative
// wait, and callers cap hints at their MaxDelay anyway.
func hintDuration(v string, unit time.Duration) (time.Duration, bool) {
	f, err := strconv.ParseFloat(v, 64)
	switch {
	case err != nil && !errors.Is(err, strconv.ErrRange), math.IsNaN(f), f < 0:
		return 0, false
	case f*float64(unit) >= math.MaxInt64: // float64(MaxInt64) is 2^63, one past the range
		return math.MaxInt64, true
	}
	return time.Duration(f * float64(unit)), true
}
