package mediatrail

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// HashAPIKey is how keys are stored and looked up: the hex SHA-256 of the raw key.
// Keys are long random strings, so an unsalted fast hash is enough.
func HashAPIKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// NewAPIKey mints a random key with a recognisable prefix.
func NewAPIKey() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return "mt_" + hex.EncodeToString(b)
}

// Authenticate resolves a raw key to its workspace. EUNAUTHENTICATED when the key
// is missing, malformed or unknown.
func Authenticate(ctx context.Context, keys KeyStore, key string) (string, error) {
	key = strings.TrimSpace(key)
	if key == "" {
		return "", Errorf(EUNAUTHENTICATED, "missing API key: send X-API-Key or Authorization: Bearer")
	}
	if len(key) > 256 {
		return "", Errorf(EUNAUTHENTICATED, "invalid API key")
	}
	return keys.WorkspaceForKeyHash(ctx, HashAPIKey(key))
}

// ParseAPIKeys reads "key1=ws1,key2=ws2" (the API_KEYS format) into key→workspace.
func ParseAPIKeys(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, pair := range strings.Split(s, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		k, ws, ok := strings.Cut(pair, "=")
		k, ws = strings.TrimSpace(k), strings.TrimSpace(ws)
		if !ok || k == "" || !ValidRef(ws) {
			return nil, Invalid("API_KEYS", "API_KEYS must look like key1=workspace1,key2=workspace2")
		}
		out[k] = ws
	}
	return out, nil
}

// StoredAPIKey is a key as the table holds it and an operator lists it: the
// key's SHA-256 (HashAPIKey; the key itself is never stored, so it cannot be
// shown again) and the workspace it opens.
type StoredAPIKey struct {
	Hash        string `json:"hash"`
	WorkspaceID string `json:"workspace_id"`
}
