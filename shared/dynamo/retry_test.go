package dynamo

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestBackoff: how many times op runs and what do returns, per outcome.
func TestBackoff(t *testing.T) {
	boom := errors.New("boom")
	for _, tc := range []struct {
		name     string
		attempts int
		againFor int // op asks to go again on its first againFor calls
		err      error
		cancel   bool
		calls    int
		want     error
	}{
		{"done at once", 3, 0, nil, false, 1, nil},
		{"done on the third call", 0, 2, nil, false, 3, nil},
		{"attempts exhausted returns the last error", 3, 10, boom, false, 3, boom},
		{"a final error is not retried", 3, 0, boom, false, 1, boom},
		{"cancelled while waiting, no error", 0, 10, nil, true, 1, context.Canceled},
		{"cancelled while waiting keeps op's error", 0, 10, boom, true, 1, boom},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			calls := 0
			b := backoff{first: time.Microsecond, max: 4 * time.Microsecond, attempts: tc.attempts}
			if tc.cancel {
				b.first, b.max = time.Hour, time.Hour // only the cancellation can end the wait
			}
			err := b.do(ctx, func() (bool, error) {
				calls++
				if tc.cancel {
					cancel()
				}
				return calls <= tc.againFor, tc.err
			})
			if calls != tc.calls || !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Errorf("calls %d, err %v; want %d, %v", calls, err, tc.calls, tc.want)
			}
		})
	}
}
