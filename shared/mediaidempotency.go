package mediatrail

import (
	"context"
	"encoding/json"
	"io"
)

// claim takes the request's idempotency key, or answers the request that holds it.
func (s *MediaService) claim(ctx context.Context, ws string, c Capability, in GenerateInput) (*IdempotencyRecord, *GenerateOutput, error) {
	claim, held, err := s.recorder().claim(ctx, ws, c, in)
	if err != nil || held == nil {
		return claim, nil, err
	}
	out, err := s.replay(ctx, ws, *held)
	return nil, out, err
}

// claim takes the request's idempotency key (the pending claim is
// returned), or returns the stored answer of the completed request that
// holds it, for the caller to replay. ECONFLICT for the key with a
// different request, or while its request is still running.
func (r callRecorder) claim(ctx context.Context, ws string, c Capability, in GenerateInput) (claim *IdempotencyRecord, held *GenerateOutput, err error) {
	now := r.now()
	rec := &IdempotencyRecord{
		WorkspaceID: ws, Key: in.IdempotencyKey, RequestHash: requestHash(c, in), State: IdempotencyPending,
		Token: NewID(), ClaimedAt: now, LeaseUntil: now.Add(r.lease), ExpiresAt: now.Add(IdempotencyTTL),
	}
	found, err := r.store.ClaimIdempotencyKey(ctx, rec)
	switch {
	case err != nil:
		return nil, nil, err
	case found == nil:
		return rec, nil, nil
	case found.RequestHash != rec.RequestHash:
		return nil, nil, Conflict("idempotency_key", "idempotency_key was already used with a different request")
	case found.State != IdempotencyCompleted || found.Response == nil:
		return nil, nil, Conflict("idempotency_key", "a request with this idempotency_key is still in progress; retry when it has finished").RetryAfter(1)
	}
	return nil, found.Response, nil
}

// replay answers a stored response again, with a fresh signed URL while the
// asset exists (none once it was deleted).
// answered is the replay of a call its idempotency key already answered,
// when the budget refused the call again (refused: the reservation's error):
// a retry of a call made before the limit was reached gets its answer, not a
// 402. nil otherwise: no key, another error, no completed answer for this
// very request, or one that cannot be replayed.
func (s *MediaService) answered(ctx context.Context, ws string, c Capability, in GenerateInput, refused error) *GenerateOutput {
	if in.IdempotencyKey == "" || ErrorCode(refused) != EBUDGET {
		return nil
	}
	rec, err := s.Store.FindIdempotencyKey(ctx, ws, in.IdempotencyKey)
	if err != nil || rec == nil || rec.State != IdempotencyCompleted || rec.Response == nil ||
		rec.RequestHash != requestHash(c, in) || !s.now().Before(rec.ExpiresAt) {
		return nil
	}
	out, err := s.replay(ctx, ws, *rec.Response)
	if err != nil {
		return nil
	}
	return out
}

func (s *MediaService) replay(ctx context.Context, ws string, out GenerateOutput) (*GenerateOutput, error) {
	if out.JobID != "" && s.Jobs != nil {
		return s.Jobs.Replay(ctx, ws, out)
	}
	out.Replayed = true
	a, err := s.Assets.FindAsset(ctx, ws, out.AssetID)
	if IsNotFound(err) || err == nil && a.Status != StatusReady {
		out.TextInAsset = false
		return &out, nil
	} else if err != nil {
		return nil, err
	}
	if out.TextInAsset {
		if out.TextOutput, err = s.transcriptText(ctx, a); err != nil {
			return nil, err
		}
		out.TextInAsset = false
	}
	if out.AssetURL, err = signedURL(ctx, s.Blobs, a); err != nil {
		return nil, err
	}
	return &out, nil
}

// transcriptText reads the text of a stored transcript back.
func (s *MediaService) transcriptText(ctx context.Context, a *Asset) (string, error) {
	r, err := s.Blobs.Open(ctx, a.StorageKey)
	if err != nil {
		return "", err
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		return "", err
	}
	var doc struct {
		Text string `json:"text"`
	}
	if json.Unmarshal(data, &doc) != nil {
		return string(data), nil // a subtitle file is its own text
	}
	return doc.Text, nil
}
