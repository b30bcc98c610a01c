package dynamo

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

var (
	_ mediatrail.ReconcileStore = (*Store)(nil)
	_ mediatrail.JobInventory   = (*Store)(nil)
	_ mediatrail.RetentionStore = (*Store)(nil)
)

// settingsSK is the sort key of a workspace's settings item (PK WS#{ws}).
const settingsSK = "SETTINGS"

// WorkspaceRetention returns the retention the workspace set; ok is false
// when it has set none (or the workspace reference is invalid).
func (s *Store) WorkspaceRetention(ctx context.Context, workspaceID string) (int, bool, error) {
	if !mediatrail.ValidRef(workspaceID) {
		return 0, false, nil
	}
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:                aws.String(s.table),
		Key:                      map[string]types.AttributeValue{attrPK: str(wsPK(workspaceID)), attrSK: str(settingsSK)},
		ProjectionExpression:     aws.String("#days"),
		ExpressionAttributeNames: map[string]string{"#days": attrRetentionDays},
		ConsistentRead:           aws.Bool(true),
	})
	if err != nil {
		return 0, false, fmt.Errorf("dynamo: get workspace settings: %w", err)
	}
	if _, ok := out.Item[attrRetentionDays]; !ok {
		return 0, false, nil
	}
	r := itemReader{item: out.Item}
	days := int(r.int(attrRetentionDays))
	if r.err != nil {
		return 0, false, fmt.Errorf("dynamo: decode workspace settings: %w", r.err)
	}
	return days, true, nil
}

// SetWorkspaceRetention sets the workspace's retention, keeping any other
// setting of the item. EINVALID for an invalid workspace or retention.
func (s *Store) SetWorkspaceRetention(ctx context.Context, workspaceID string, days int, at time.Time) error {
	if !mediatrail.ValidRef(workspaceID) {
		return mediatrail.Invalid("workspace_id", "workspace_id is not a valid reference")
	}
	if err := mediatrail.ValidateRetentionDays(days); err != nil {
		return err
	}
	_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       map[string]types.AttributeValue{attrPK: str(wsPK(workspaceID)), attrSK: str(settingsSK)},
		UpdateExpression:          aws.String("SET #days = :days, #updated = :at"),
		ExpressionAttributeNames:  map[string]string{"#days": attrRetentionDays, "#updated": attrUpdatedAt},
		ExpressionAttributeValues: map[string]types.AttributeValue{":days": num(int64(days)), ":at": str(formatTime(at))},
	})
	if err != nil {
		return fmt.Errorf("dynamo: set workspace retention: %w", err)
	}
	return nil
}

// ExpireUpload turns a pending asset whose upload window ended before at into
// a tombstone, on condition that it is still pending and its window still
// ended before at, and returns it as it was. Pending assets are not counted,
// so no counter changes. ENOTFOUND if absent or a tombstone; ECONFLICT if it
// is ready, or its window has not ended.
func (s *Store) ExpireUpload(ctx context.Context, workspaceID, id string, at time.Time) (*mediatrail.Asset, error) {
	a, err := s.FindAsset(ctx, workspaceID, id)
	if err != nil {
		return nil, err
	}
	if err := expireError(a, at); err != nil {
		return nil, err
	}
	update := s.statusUpdate(a, mediatrail.StatusDeleted, at)
	update.ConditionExpression = aws.String("#status = :from AND #expires < :at")
	update.ExpressionAttributeNames["#expires"] = attrUploadExpiresAt
	_, err = s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           update.TableName,
		Key:                                 update.Key,
		UpdateExpression:                    update.UpdateExpression,
		ConditionExpression:                 update.ConditionExpression,
		ExpressionAttributeNames:            update.ExpressionAttributeNames,
		ExpressionAttributeValues:           update.ExpressionAttributeValues,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if old, failed := conditionFailed(err, 0); failed {
		if len(old) == 0 {
			return nil, errAssetNotFound()
		}
		now, err := unmarshalAsset(old)
		if err != nil {
			return nil, err
		}
		return nil, expireError(now, at)
	}
	if err != nil {
		return nil, fmt.Errorf("dynamo: expire upload %s: %w", id, err)
	}
	return a, nil
}

// expireError says why a cannot be expired at `at`; nil when it can.
func expireError(a *mediatrail.Asset, at time.Time) error {
	switch {
	case a.Status == mediatrail.StatusDeleted:
		return errAssetNotFound()
	case a.Status != mediatrail.StatusPending:
		return mediatrail.Errorf(mediatrail.ECONFLICT, "asset is %s, not pending", a.Status)
	case !a.UploadExpiresAt.Before(at):
		return mediatrail.Errorf(mediatrail.ECONFLICT, "the upload window of asset %s is still open", a.ID)
	}
	return nil
}

// EachAssetRecord calls visit for every asset record of the table with a
// paginated Scan (a filter keeps ASSET# items): it reads the whole table, so
// it serves reconciliation only, never a request.
func (s *Store) EachAssetRecord(ctx context.Context, visit func(*mediatrail.Asset) error) error {
	in := &dynamodb.ScanInput{
		TableName:                 aws.String(s.table),
		FilterExpression:          aws.String("begins_with(#sk, :asset)"),
		ExpressionAttributeNames:  map[string]string{"#sk": attrSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":asset": str(assetPrefix)},
	}
	return s.scanEach(ctx, "assets", in, func(item map[string]types.AttributeValue) error {
		a, err := unmarshalAsset(item)
		if err != nil {
			return err
		}
		return visit(a)
	})
}

// maxBatchGet is BatchGetItem's limit of keys per request.
const maxBatchGet = 100

// FindAssets reads the records of refs consistently with BatchGetItem (100
// keys a request, unprocessed keys resubmitted); absent ones and invalid refs
// are missing from the map.
func (s *Store) FindAssets(ctx context.Context, refs []mediatrail.AssetRef) (map[mediatrail.AssetRef]*mediatrail.Asset, error) {
	found := map[mediatrail.AssetRef]*mediatrail.Asset{}
	seen := map[mediatrail.AssetRef]bool{}
	var keys []map[string]types.AttributeValue
	for _, r := range refs {
		if seen[r] || !mediatrail.ValidRef(r.WorkspaceID) || !mediatrail.ValidID(r.ID) {
			continue
		}
		seen[r] = true
		keys = append(keys, assetKey(r.WorkspaceID, r.ID))
	}
	for len(keys) > 0 {
		n := min(len(keys), maxBatchGet)
		pending := keys[:n]
		keys = keys[n:]
		err := unprocessed.do(ctx, func() (bool, error) {
			out, err := s.client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{
				RequestItems: map[string]types.KeysAndAttributes{s.table: {Keys: pending, ConsistentRead: aws.Bool(true)}},
			})
			if err != nil {
				return false, fmt.Errorf("dynamo: batch get assets: %w", err)
			}
			for _, item := range out.Responses[s.table] {
				a, err := unmarshalAsset(item)
				if err != nil {
					return false, err
				}
				found[mediatrail.AssetRef{WorkspaceID: a.WorkspaceID, ID: a.ID}] = a
			}
			pending = out.UnprocessedKeys[s.table].Keys
			return len(pending) > 0, nil
		})
		if err != nil {
			return nil, err
		}
	}
	return found, nil
}

// EachActiveJob calls visit for every queued or processing job of the table
// with a paginated Scan (a filter keeps active JOB# items): it reads the
// whole table, so it serves reconciliation only, never a request.
func (s *Store) EachActiveJob(ctx context.Context, visit func(*mediatrail.MediaJob) error) error {
	in := &dynamodb.ScanInput{
		TableName:                aws.String(s.table),
		FilterExpression:         aws.String("begins_with(#sk, :job) AND #status IN (:queued, :processing)"),
		ExpressionAttributeNames: map[string]string{"#sk": attrSK, "#status": attrStatus},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":job": str(jobPrefix), ":queued": str(string(mediatrail.JobQueued)), ":processing": str(string(mediatrail.JobProcessing)),
		},
	}
	return s.scanEach(ctx, "jobs", in, func(item map[string]types.AttributeValue) error {
		j, err := unmarshalJob(item)
		if err != nil {
			return err
		}
		return visit(j)
	})
}
