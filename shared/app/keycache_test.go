package app

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/httpapi"
)

// keyTable is a KeyStore in memory that counts its reads.
type keyTable struct {
	mu    sync.Mutex
	keys  map[string]string
	reads int
}

func (k *keyTable) WorkspaceForKeyHash(_ context.Context, h string) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.reads++
	if ws, ok := k.keys[h]; ok {
		return ws, nil
	}
	return "", mediatrail.Errorf(mediatrail.EUNAUTHENTICATED, "invalid API key")
}

func (k *keyTable) PutAPIKey(_ context.Context, h, ws string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.keys[h] = ws
	return nil
}

func (k *keyTable) revoke(h string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.keys, h)
}

// The cache answers a found key from memory for its TTL, then reads it again:
// a revoked key is refused at the latest TTL after its revocation. Unknown
// keys are read every time, so a new key works at once.
func TestCachedKeys(t *testing.T) {
	ctx := context.Background()
	clock := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	table := &keyTable{keys: map[string]string{"h-a": "ws-a"}}
	c := newCachedKeys(table, 5*time.Second, func() time.Time { return clock })
	want := func(step, h, ws, code string, reads int) {
		t.Helper()
		got, err := c.WorkspaceForKeyHash(ctx, h)
		if got != ws || mediatrail.ErrorCode(err) != code || table.reads != reads {
			t.Fatalf("%s: %q, %v after %d reads; want %q, code %q after %d", step, got, err, table.reads, ws, code, reads)
		}
	}
	want("first use reads", "h-a", "ws-a", "", 1)
	want("within the TTL from memory", "h-a", "ws-a", "", 1)
	want("unknown key", "h-b", "", mediatrail.EUNAUTHENTICATED, 2)
	want("unknown key again: read again", "h-b", "", mediatrail.EUNAUTHENTICATED, 3)
	if err := c.PutAPIKey(ctx, "h-b", "ws-b"); err != nil {
		t.Fatal(err)
	}
	want("a new key works at once", "h-b", "ws-b", "", 4)

	table.revoke("h-a")
	clock = clock.Add(4 * time.Second)
	want("revoked, within the TTL of its read", "h-a", "ws-a", "", 4)
	clock = clock.Add(time.Second)
	want("revoked, TTL over", "h-a", "", mediatrail.EUNAUTHENTICATED, 5)
	want("revoked stays refused", "h-a", "", mediatrail.EUNAUTHENTICATED, 6)
}

// Without API_KEY_CACHE_TTL every request reads its key (a revoked key is
// refused from the next request on); the TTL is bounded.
func TestKeyCacheTTL(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  time.Duration
		ok    bool
	}{
		{"", 0, true}, {"0", 0, true}, {"5s", 5 * time.Second, true}, {"1m", time.Minute, true},
		{"61s", 0, false}, {"-1s", 0, false}, {"5", 0, false},
	} {
		got, err := keyCacheTTL(func(k string) string { return map[string]string{KeyCacheTTLEnv: tc.value}[k] })
		if got != tc.want || (err == nil) != tc.ok {
			t.Errorf("%s=%q: %v, %v; want %v, ok %v", KeyCacheTTLEnv, tc.value, got, err, tc.want, tc.ok)
		}
	}
	// Route's handlers read the key at every request unless the TTL is set.
	for _, ttl := range []time.Duration{0, time.Minute} {
		table := &keyTable{keys: map[string]string{mediatrail.HashAPIKey("k-a"): "ws-a"}}
		e := &Env{Logger: slog.New(slog.DiscardHandler), KeyCacheTTL: ttl}
		h := e.Route(table, func(context.Context, *httpapi.Request) (httpapi.Result, error) { return httpapi.NoContent(), nil })
		ev := events.APIGatewayV2HTTPRequest{Headers: map[string]string{"x-api-key": "k-a"}}
		for range 3 {
			if resp, err := h(context.Background(), ev); err != nil || resp.StatusCode != 204 {
				t.Fatalf("TTL %s: %d, %v", ttl, resp.StatusCode, err)
			}
		}
		if want := map[time.Duration]int{0: 3, time.Minute: 1}[ttl]; table.reads != want {
			t.Errorf("TTL %s: %d key reads for 3 requests, want %d", ttl, table.reads, want)
		}
	}
}

// Concurrent requests of one warm process share the cache safely.
func TestCachedKeysConcurrent(t *testing.T) {
	table := &keyTable{keys: map[string]string{"h-a": "ws-a"}}
	c := newCachedKeys(table, time.Minute, time.Now)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				if ws, err := c.WorkspaceForKeyHash(context.Background(), "h-a"); ws != "ws-a" || err != nil {
					t.Errorf("%q, %v", ws, err)
				}
			}
		})
	}
	wg.Wait()
}
