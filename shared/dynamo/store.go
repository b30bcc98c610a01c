package dynamo

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// API is the part of *dynamodb.Client the store uses.
type API interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	// Scan serves reconciliation only (EachAssetRecord, EachActiveJob); requests never scan.
	Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

var _ API = (*dynamodb.Client)(nil)

// Store keeps assets, their counters and API keys in one DynamoDB table (see the
// package documentation for the layout).
type Store struct {
	client API
	table  string

	keyMu  sync.Mutex
	curKey []byte // the cursor key (cursor.go), once read
}

var (
	_ mediatrail.AssetStore = (*Store)(nil)
	_ mediatrail.KeyStore   = (*Store)(nil)
)

// New returns a store over table, which must have the layout of TableSchema.
func New(client API, table string) *Store {
	return &Store{client: client, table: table}
}

func errAssetNotFound() error { return mediatrail.Errorf(mediatrail.ENOTFOUND, "asset not found") }

// CreateAsset stores a new asset. ECONFLICT if the id exists. A ready asset is
// counted in the same transaction. EINVALID unless the workspace is a valid
// reference, the id a KSUID and the status pending or ready.
func (s *Store) CreateAsset(ctx context.Context, a *mediatrail.Asset) error {
	switch {
	case a == nil:
		return mediatrail.Errorf(mediatrail.EINVALID, "asset is required")
	case !mediatrail.ValidRef(a.WorkspaceID):
		return mediatrail.Invalid("workspace_id", "workspace_id is not a valid reference")
	case !mediatrail.ValidID(a.ID):
		return mediatrail.Invalid("id", "id must be a KSUID")
	case a.Status != mediatrail.StatusPending && a.Status != mediatrail.StatusReady:
		return mediatrail.Invalid("status", "a new asset must be pending or ready")
	}
	item, err := marshalAsset(a)
	if err != nil {
		return err
	}
	put := s.newItem(item)
	if a.Status == mediatrail.StatusReady {
		err = s.transact(ctx, append([]types.TransactWriteItem{{Put: put}}, s.counterUpdates(a, +1)...))
	} else {
		_, err = s.client.PutItem(ctx, &dynamodb.PutItemInput{
			TableName:                put.TableName,
			Item:                     put.Item,
			ConditionExpression:      put.ConditionExpression,
			ExpressionAttributeNames: put.ExpressionAttributeNames,
		})
	}
	if _, failed := conditionFailed(err, 0); failed {
		return mediatrail.Errorf(mediatrail.ECONFLICT, "asset %s already exists", a.ID)
	}
	if err != nil {
		return fmt.Errorf("dynamo: create asset %s: %w", a.ID, err)
	}
	return nil
}

// FindAsset returns an asset in any status, read consistently. ENOTFOUND if
// there is none, including for ids that are not KSUIDs.
func (s *Store) FindAsset(ctx context.Context, workspaceID, id string) (*mediatrail.Asset, error) {
	if !mediatrail.ValidRef(workspaceID) || !mediatrail.ValidID(id) {
		return nil, errAssetNotFound()
	}
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            assetKey(workspaceID, id),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("dynamo: get asset %s: %w", id, err)
	}
	if len(out.Item) == 0 {
		return nil, errAssetNotFound()
	}
	return unmarshalAsset(out.Item)
}

// MarkAssetReady moves a pending asset to ready with its verified size and
// checksum, counting it in the same transaction. ENOTFOUND if absent or deleted;
// ECONFLICT if it is not pending (already ready). With share, the same
// transaction points the asset at the shared blob and adds it to the share
// record (shareItems); ErrShareLost when that fails.
func (s *Store) MarkAssetReady(ctx context.Context, workspaceID, id string, size int64, sha256 string, at time.Time, share *mediatrail.BlobShare) (*mediatrail.Asset, error) {
	a, err := s.FindAsset(ctx, workspaceID, id)
	if err != nil {
		return nil, err
	}
	if err := readyTransitionError(a.Status); err != nil {
		return nil, err
	}
	update := s.statusUpdate(a, mediatrail.StatusReady, at)
	update.UpdateExpression = aws.String("SET #status = :to, #updated = :at, #size = :size, #sha = :sha")
	update.ExpressionAttributeNames["#size"] = attrFileSize
	update.ExpressionAttributeNames["#sha"] = attrSHA256
	update.ExpressionAttributeValues[":size"] = num(size)
	update.ExpressionAttributeValues[":sha"] = str(sha256)
	items := []types.TransactWriteItem{{Update: update}}
	if share != nil {
		update.UpdateExpression = aws.String(*update.UpdateExpression + ", #key = :key, #dedup = :true")
		update.ExpressionAttributeNames["#key"] = attrStorageKey
		update.ExpressionAttributeNames["#dedup"] = attrDedup
		update.ExpressionAttributeValues[":key"] = str(share.Key)
		update.ExpressionAttributeValues[":true"] = &types.AttributeValueMemberBOOL{Value: true}
		items = append(items, s.shareItems(share, id)...)
	}
	err = s.transact(ctx, append(items, s.counterUpdates(a, +1)...))
	if share != nil && shareLost(err, 1) {
		return nil, mediatrail.ErrShareLost
	}
	if old, failed := conditionFailed(err, 0); failed {
		if len(old) == 0 {
			return nil, errAssetNotFound()
		}
		return nil, readyTransitionError(mediatrail.AssetStatus((&itemReader{item: old}).str(attrStatus)))
	}
	if err != nil {
		return nil, fmt.Errorf("dynamo: mark asset %s ready: %w", id, err)
	}
	a.Status = mediatrail.StatusReady
	a.FileSize = size
	a.SHA256 = sha256
	a.UpdatedAt = at
	if share != nil {
		a.StorageKey, a.Deduplicated = share.Key, true
	}
	return a, nil
}

// readyTransitionError says why an asset in status st cannot become ready; nil
// for pending.
func readyTransitionError(st mediatrail.AssetStatus) error {
	switch st {
	case mediatrail.StatusPending:
		return nil
	case mediatrail.StatusDeleted:
		return errAssetNotFound()
	default:
		return mediatrail.Errorf(mediatrail.ECONFLICT, "asset is %s, not pending", st)
	}
}

// markDeletedAttempts bounds the re-reads when the status changes between the
// read and the conditional write.
const markDeletedAttempts = 3

// MarkAssetDeleted turns a pending or ready asset into a tombstone (status
// deleted), uncounting a ready one in the same transaction, and returns it as it
// was. ENOTFOUND if absent or already a tombstone. The tombstone keeps its index
// keys, so listings with status deleted find it.
func (s *Store) MarkAssetDeleted(ctx context.Context, workspaceID, id string, at time.Time) (*mediatrail.Asset, error) {
	for range markDeletedAttempts {
		a, err := s.FindAsset(ctx, workspaceID, id)
		if err != nil {
			return nil, err
		}
		if a.Status != mediatrail.StatusPending && a.Status != mediatrail.StatusReady {
			return nil, errAssetNotFound()
		}
		items := []types.TransactWriteItem{{Update: s.statusUpdate(a, mediatrail.StatusDeleted, at)}}
		if a.Status == mediatrail.StatusReady {
			items = append(items, s.counterUpdates(a, -1)...)
		}
		err = s.transact(ctx, items)
		if old, failed := conditionFailed(err, 0); failed {
			if len(old) == 0 {
				return nil, errAssetNotFound()
			}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("dynamo: mark asset %s deleted: %w", id, err)
		}
		return a, nil
	}
	return nil, mediatrail.Errorf(mediatrail.ECONFLICT, "asset changed while being deleted; try again")
}

// PurgeAsset removes a tombstone or pending record for good. Removing a record
// that is already gone (or an id that is not a KSUID) is not an error; a ready
// one is ECONFLICT.
func (s *Store) PurgeAsset(ctx context.Context, workspaceID, id string) error {
	if !mediatrail.ValidRef(workspaceID) || !mediatrail.ValidID(id) {
		return nil
	}
	_, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                aws.String(s.table),
		Key:                      assetKey(workspaceID, id),
		ConditionExpression:      aws.String("attribute_not_exists(#pk) OR #status <> :ready"),
		ExpressionAttributeNames: map[string]string{"#pk": attrPK, "#status": attrStatus},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":ready": str(string(mediatrail.StatusReady)),
		},
	})
	if _, failed := conditionFailed(err, 0); failed {
		return mediatrail.Errorf(mediatrail.ECONFLICT, "asset is ready; mark it deleted before purging")
	}
	if err != nil {
		return fmt.Errorf("dynamo: purge asset %s: %w", id, err)
	}
	return nil
}

// newItem puts item on condition that no item has its key.
func (s *Store) newItem(item map[string]types.AttributeValue) *types.Put {
	return &types.Put{
		TableName:                aws.String(s.table),
		Item:                     item,
		ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#pk": attrPK},
	}
}

// statusUpdate moves a from its current status to `to`, on condition that the
// status is still the one read, and returns the old item if the condition fails.
func (s *Store) statusUpdate(a *mediatrail.Asset, to mediatrail.AssetStatus, at time.Time) *types.Update {
	return &types.Update{
		TableName:           aws.String(s.table),
		Key:                 assetKey(a.WorkspaceID, a.ID),
		UpdateExpression:    aws.String("SET #status = :to, #updated = :at"),
		ConditionExpression: aws.String("#status = :from"),
		ExpressionAttributeNames: map[string]string{
			"#status":  attrStatus,
			"#updated": attrUpdatedAt,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":to":   str(string(to)),
			":from": str(string(a.Status)),
			":at":   str(formatTime(at)),
		},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
}

// counterUpdates adds delta to every counter a belongs to.
func (s *Store) counterUpdates(a *mediatrail.Asset, delta int64) []types.TransactWriteItem {
	var items []types.TransactWriteItem
	for _, sk := range counterSKs(a) {
		items = append(items, types.TransactWriteItem{Update: s.counterUpdate(a.WorkspaceID, sk, delta)})
	}
	return items
}

// counterUpdate adds delta to the asset counter sk of workspace ws.
func (s *Store) counterUpdate(ws, sk string, delta int64) *types.Update {
	return &types.Update{
		TableName:                 aws.String(s.table),
		Key:                       map[string]types.AttributeValue{attrPK: str(wsPK(ws)), attrSK: str(sk)},
		UpdateExpression:          aws.String("ADD #n :delta"),
		ExpressionAttributeNames:  map[string]string{"#n": attrCount},
		ExpressionAttributeValues: map[string]types.AttributeValue{":delta": num(delta)},
	}
}

// transactAttempts bounds retries of transactions cancelled only because another
// transaction was touching one of their items (typically a hot counter) or
// because of throttling, which the SDK does not retry inside a cancellation.
const transactAttempts = 6

func (s *Store) transact(ctx context.Context, items []types.TransactWriteItem) error {
	return backoff{first: 5 * time.Millisecond, max: time.Second, attempts: transactAttempts}.do(ctx, func() (bool, error) {
		_, err := s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		return err != nil && transient(err), err
	})
}

// transient reports whether err is a cancellation caused only by concurrent
// transactions or throttling, which a retry may get through.
func transient(err error) bool {
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		return false
	}
	retry := false
	for _, r := range tce.CancellationReasons {
		switch aws.ToString(r.Code) {
		case "TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded":
			retry = true
		case "", "None":
		default:
			return false
		}
	}
	return retry
}

// conditionFailed reports whether err is the failed condition of a single-item
// write or of transaction item i, with the item as it was (empty if absent).
func conditionFailed(err error, i int) (map[string]types.AttributeValue, bool) {
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return ccf.Item, true
	}
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) && i < len(tce.CancellationReasons) {
		r := tce.CancellationReasons[i]
		if aws.ToString(r.Code) == "ConditionalCheckFailed" {
			return r.Item, true
		}
	}
	return nil, false
}
