package dynamo

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

var _ mediatrail.MediaStore = (*Store)(nil)

// Idempotency record attributes.
const (
	attrRequestHash = "request_hash"
	attrState       = "state"
	attrToken       = "token"
	attrClaimedAt   = "claimed_at"
	attrLeaseUntil  = "lease_until"
	attrExpiresAt   = "expires_at"
	attrResponse    = "response"
)

func idempotencyKey(ws, key string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: str(wsPK(ws)), attrSK: str("IDEM#" + key)}
}

// ClaimIdempotencyKey puts the pending claim on condition that the key is free:
// no record, an expired one (TTL deletes lazily), or a pending one whose lease
// has run out (its request crashed). Otherwise it returns the record as it is.
func (s *Store) ClaimIdempotencyKey(ctx context.Context, c *mediatrail.IdempotencyRecord) (*mediatrail.IdempotencyRecord, error) {
	if !mediatrail.ValidRef(c.WorkspaceID) || c.Key == "" {
		return nil, mediatrail.Invalid("idempotency_key", "idempotency_key is not valid")
	}
	item := idempotencyKey(c.WorkspaceID, c.Key)
	for name, v := range map[string]string{
		attrWorkspaceID: c.WorkspaceID, attrRequestHash: c.RequestHash, attrState: string(c.State), attrToken: c.Token,
		attrClaimedAt: formatTime(c.ClaimedAt), attrLeaseUntil: formatTime(c.LeaseUntil), attrExpiresAt: formatTime(c.ExpiresAt),
	} {
		item[name] = str(v)
	}
	item[TTLAttribute] = num(c.ExpiresAt.Unix())
	now := str(formatTime(c.ClaimedAt))
	_, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           aws.String(s.table),
		Item:                item,
		ConditionExpression: aws.String("attribute_not_exists(#pk) OR #expires < :now OR (#state = :pending AND #lease < :now)"),
		ExpressionAttributeNames: map[string]string{
			"#pk": attrPK, "#expires": attrExpiresAt, "#state": attrState, "#lease": attrLeaseUntil,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":now": now, ":pending": str(string(mediatrail.IdempotencyPending)),
		},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if old, failed := conditionFailed(err, 0); failed {
		return unmarshalClaim(old)
	}
	if err != nil {
		return nil, fmt.Errorf("dynamo: claim idempotency key: %w", err)
	}
	return nil, nil
}

// FindIdempotencyKey reads the key's record consistently; nil if none.
func (s *Store) FindIdempotencyKey(ctx context.Context, workspaceID, key string) (*mediatrail.IdempotencyRecord, error) {
	if !mediatrail.ValidRef(workspaceID) || key == "" {
		return nil, nil
	}
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: idempotencyKey(workspaceID, key), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("dynamo: read idempotency key: %w", err)
	}
	if len(out.Item) == 0 {
		return nil, nil
	}
	return unmarshalClaim(out.Item)
}

func unmarshalClaim(item map[string]types.AttributeValue) (*mediatrail.IdempotencyRecord, error) {
	r := itemReader{item: item}
	c := &mediatrail.IdempotencyRecord{
		WorkspaceID: r.str(attrWorkspaceID), RequestHash: r.str(attrRequestHash),
		State: mediatrail.IdempotencyState(r.str(attrState)), Token: r.str(attrToken),
		ClaimedAt: r.time(attrClaimedAt), LeaseUntil: r.time(attrLeaseUntil), ExpiresAt: r.time(attrExpiresAt),
	}
	if resp := r.str(attrResponse); resp != "" && r.err == nil {
		c.Response = &mediatrail.GenerateOutput{}
		if err := json.Unmarshal([]byte(resp), c.Response); err != nil {
			r.err = fmt.Errorf("response: %w", err)
		}
	}
	if r.err != nil {
		return nil, fmt.Errorf("dynamo: decode idempotency record: %w", r.err)
	}
	return c, nil
}

// claimCondition holds when the claim is still pending and held by token.
func claimCondition(c *mediatrail.IdempotencyRecord) (string, map[string]string, map[string]types.AttributeValue) {
	return "#state = :pending AND #token = :token",
		map[string]string{"#state": attrState, "#token": attrToken},
		map[string]types.AttributeValue{":pending": str(string(mediatrail.IdempotencyPending)), ":token": str(c.Token)}
}

// RecordMedia writes the asset (ready, counted), its span (with its usage
// counters) and, with done, the completed claim in one TransactWriteItems: either the call is on the books
// and its key answers it from now on, or nothing changed.
func (s *Store) RecordMedia(ctx context.Context, a *mediatrail.Asset, sp *mediatrail.Span, done *mediatrail.IdempotencyRecord, share *mediatrail.BlobShare) error {
	if a.Status != mediatrail.StatusReady || !mediatrail.ValidID(a.ID) || !mediatrail.ValidRef(a.WorkspaceID) {
		return mediatrail.Invalid("asset", "a media asset must be a ready asset with a KSUID")
	}
	assetItem, err := marshalAsset(a)
	if err != nil {
		return err
	}
	spanItem, err := marshalSpan(sp)
	if err != nil {
		return err
	}
	items := []types.TransactWriteItem{{Put: s.newItem(assetItem)}, {Put: s.newItem(spanItem)}}
	claim := -1
	if done != nil {
		complete, err := s.completeClaim(done)
		if err != nil {
			return err
		}
		claim = len(items)
		items = append(items, complete)
	}
	shared := len(items)
	if share != nil {
		items = append(items, s.shareItems(share, a.ID)...)
	}
	items = append(items, s.counterUpdates(a, +1)...)
	items = append(items, s.usageUpdates(sp)...)
	items = append(items, s.spendUpdates(sp)...)
	err = s.transact(ctx, items)
	if share != nil && shareLost(err, shared) {
		return mediatrail.ErrShareLost
	}
	if claim >= 0 {
		if _, failed := conditionFailed(err, claim); failed {
			return mediatrail.Errorf(mediatrail.ECONFLICT, "the idempotency_key was taken over by another request")
		}
	}
	for i := range 2 {
		if _, failed := conditionFailed(err, i); failed {
			return mediatrail.Errorf(mediatrail.ECONFLICT, "asset %s or span %s already exists", a.ID, sp.ID)
		}
	}
	if err != nil {
		return fmt.Errorf("dynamo: record media asset %s: %w", a.ID, err)
	}
	return nil
}

// completeClaim is the transaction item that moves done's pending claim to
// completed with done.Response, on condition that done.Token still holds it.
func (s *Store) completeClaim(done *mediatrail.IdempotencyRecord) (types.TransactWriteItem, error) {
	resp, err := json.Marshal(done.Response)
	if err != nil {
		return types.TransactWriteItem{}, fmt.Errorf("dynamo: encode response: %w", err)
	}
	cond, names, values := claimCondition(done)
	names["#resp"] = attrResponse
	names["#lease"] = attrLeaseUntil
	values[":completed"] = str(string(mediatrail.IdempotencyCompleted))
	values[":resp"] = str(string(resp))
	return types.TransactWriteItem{Update: &types.Update{
		TableName:                 aws.String(s.table),
		Key:                       idempotencyKey(done.WorkspaceID, done.Key),
		UpdateExpression:          aws.String("SET #state = :completed, #resp = :resp REMOVE #lease"),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	}}, nil
}

// RecordFailure writes the span of a failed call with its usage counters and
// releases claim in one transaction. A claim no longer held (its lease ran out
// and another request took it) is left to its new holder; the span is written
// (and counted) all the same.
func (s *Store) RecordFailure(ctx context.Context, sp *mediatrail.Span, claim *mediatrail.IdempotencyRecord) error {
	item, err := marshalSpan(sp)
	if err != nil {
		return err
	}
	items := append([]types.TransactWriteItem{{Put: s.newItem(item)}}, s.usageUpdates(sp)...)
	items = append(items, s.spendUpdates(sp)...)
	claimAt := len(items)
	if claim != nil {
		cond, names, values := claimCondition(claim)
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{
			TableName:                 aws.String(s.table),
			Key:                       idempotencyKey(claim.WorkspaceID, claim.Key),
			ConditionExpression:       aws.String(cond),
			ExpressionAttributeNames:  names,
			ExpressionAttributeValues: values,
		}})
	}
	err = s.transact(ctx, items)
	if _, failed := conditionFailed(err, claimAt); claim != nil && failed {
		err = s.transact(ctx, items[:claimAt])
	}
	if err != nil {
		return fmt.Errorf("dynamo: record failed span %s: %w", sp.ID, err)
	}
	return nil
}
