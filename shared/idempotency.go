package mediatrail

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"
)

// IdempotencyTTL is how long a completed request is remembered under its key.
const IdempotencyTTL = 24 * time.Hour

// MaxIdempotencyKeyBytes bounds idempotency keys (UUIDs and ULIDs fit easily).
const MaxIdempotencyKeyBytes = 255

// IdempotencyState is where the request holding a key is.
type IdempotencyState string

const (
	IdempotencyPending   IdempotencyState = "pending"   // in flight
	IdempotencyCompleted IdempotencyState = "completed" // Response is the answer to replay
)

// IdempotencyRecord holds an idempotency key of one workspace: the request that
// claimed it (by hash), and once it completed, its response.
//
// A failed request releases its key: failures are not charged, so retrying them
// with the same key is safe and runs the request again.
type IdempotencyRecord struct {
	WorkspaceID string
	Key         string
	RequestHash string // hex SHA-256 of the canonical request
	State       IdempotencyState
	// Token identifies the claimant; only it may complete or release the claim.
	Token     string
	ClaimedAt time.Time
	// LeaseUntil is when a pending claim whose request crashed may be taken over.
	LeaseUntil time.Time
	// ExpiresAt is when the key is forgotten (DynamoDB TTL removes it later).
	ExpiresAt time.Time
	Response  *GenerateOutput
}

// validateIdempotencyKey accepts 1-255 printable ASCII characters.
func validateIdempotencyKey(k string) error {
	if len(k) > MaxIdempotencyKeyBytes {
		return Invalid("idempotency_key", "idempotency_key must be at most %d characters", MaxIdempotencyKeyBytes)
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return Invalid("idempotency_key", "idempotency_key must be printable ASCII without spaces")
		}
	}
	return nil
}

// requestHash identifies what a request asks for, so that a key reused with a
// different request is told apart from a retry. Config maps are marshalled with
// sorted keys, so equal requests hash equally whatever their field order.
func requestHash(c Capability, in GenerateInput) string {
	b, _ := json.Marshal(struct {
		Capability   Capability     `json:"c"`
		Provider     string         `json:"p"`
		Model        string         `json:"m"`
		Prompt       string         `json:"pr"`
		InputURL     string         `json:"iu"`
		InputAssetID string         `json:"ia"`
		Config       map[string]any `json:"cf"`
		ExecutionID  string         `json:"e"`
		AgentID      string         `json:"a"`
		TraceID      string         `json:"t"`
		Retention    *int           `json:"r,omitempty"` // omitted when unset: older hashes stay valid
		Callback     string         `json:"cb,omitempty"`
		Tool         string         `json:"tl,omitempty"`
	}{c, in.Provider, in.Model, in.Prompt, in.InputURL, in.InputAssetID, in.Config, in.ExecutionID, in.AgentID, in.TraceID, in.RetentionDays, in.CallbackURL, in.ToolID})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// completedWith is the claim completed with resp, the answer to replay; nil
// without a claim.
func (c *IdempotencyRecord) completedWith(resp *GenerateOutput) *IdempotencyRecord {
	if c == nil {
		return nil
	}
	done := *c
	done.State, done.Response = IdempotencyCompleted, resp
	return &done
}
