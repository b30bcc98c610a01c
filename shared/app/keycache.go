package app

import (
	"context"
	"sync"
	"time"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// KeyCacheTTLEnv names how long a warm function may answer an API key's
// workspace from memory (a Go duration, at most MaxKeyCacheTTL). Unset or 0,
// the default: every request reads its key from the table, and a revoked key
// is refused from the next request on. Set, a revoked key keeps opening its
// workspace in a warm function for up to that long.
const KeyCacheTTLEnv = "API_KEY_CACHE_TTL"

// MaxKeyCacheTTL bounds KeyCacheTTLEnv: the longest a revocation may take.
const MaxKeyCacheTTL = time.Minute

// maxCachedKeys bounds the hashes one process remembers.
const maxCachedKeys = 1024

// keyCacheTTL reads KeyCacheTTLEnv from getenv.
func keyCacheTTL(getenv func(string) string) (time.Duration, error) {
	v := getenv(KeyCacheTTLEnv)
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 || d > MaxKeyCacheTTL {
		return 0, mediatrail.Invalid(KeyCacheTTLEnv, "%s must be a duration from 0 to %s", KeyCacheTTLEnv, MaxKeyCacheTTL)
	}
	return d, nil
}

// cachedKeys answers a key hash's workspace from memory for ttl after the
// store (a consistent read) found it. Only keys found are remembered: an
// unknown or malformed key goes to the store every time, so a key created
// works at once and no caller can fill the memory with guesses. A key stays
// bound to the workspace the store answered: the cache never widens what a
// key opens, it only delays a revocation (or a rebinding) by up to ttl.
type cachedKeys struct {
	mediatrail.KeyStore
	ttl time.Duration
	now func() time.Time

	mu     sync.Mutex
	byHash map[string]cachedKey
}

type cachedKey struct {
	workspaceID string
	until       time.Time
}

var _ mediatrail.KeyStore = (*cachedKeys)(nil)

func newCachedKeys(keys mediatrail.KeyStore, ttl time.Duration, now func() time.Time) *cachedKeys {
	return &cachedKeys{KeyStore: keys, ttl: ttl, now: now, byHash: map[string]cachedKey{}}
}

// WorkspaceForKeyHash is the store's answer, or the one it gave less than
// ttl ago.
func (c *cachedKeys) WorkspaceForKeyHash(ctx context.Context, keyHash string) (string, error) {
	now := c.now()
	c.mu.Lock()
	k, ok := c.byHash[keyHash]
	c.mu.Unlock()
	if ok && now.Before(k.until) {
		return k.workspaceID, nil
	}
	ws, err := c.KeyStore.WorkspaceForKeyHash(ctx, keyHash)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		delete(c.byHash, keyHash)
		return "", err
	}
	if len(c.byHash) >= maxCachedKeys {
		for h, k := range c.byHash {
			if !now.Before(k.until) {
				delete(c.byHash, h)
			}
		}
		if len(c.byHash) >= maxCachedKeys {
			clear(c.byHash)
		}
	}
	c.byHash[keyHash] = cachedKey{workspaceID: ws, until: now.Add(c.ttl)}
	return ws, nil
}

// PutAPIKey stores the binding and forgets this process's copy of it.
func (c *cachedKeys) PutAPIKey(ctx context.Context, keyHash, workspaceID string) error {
	c.mu.Lock()
	delete(c.byHash, keyHash)
	c.mu.Unlock()
	return c.KeyStore.PutAPIKey(ctx, keyHash, workspaceID)
}
