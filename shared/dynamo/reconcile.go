package dynamo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

var (
	_ mediatrail.ReconcileStore = (*Store)(nil)
	_ mediatrail.JobInventory   = (*Store)(nil)
)

// Reconcile run items (README "Table design"): PK RECONCILE#{run}, with SK
// RUN (the run: options, start, segments, report once finished), SEG#{segment}
// (a segment's checkpoint: next token, done, counters, first findings) and
// MISSING#{ws}#{asset} (a ready record found without its blob, repaired or
// held back by Finish). All expire with the table's TTL.
const (
	reconcilePKPrefix = "RECONCILE#"
	reconcileRunSK    = "RUN"
	reconcileSegSK    = "SEG#"
	reconcileMissSK   = "MISSING#"
	// reconcileKeep is how long run items are kept: long enough to resume
	// or read a run's report, short enough that they never pile up.
	reconcileKeep = 30 * 24 * time.Hour
	// tablePageItems bounds the items one Scan page evaluates, so that one
	// Page invocation (its HEADs and repairs included) stays short.
	tablePageItems = 1000
	// maxTransactItems is TransactWriteItems' limit of items.
	maxTransactItems = 100
)

func reconcileKey(run, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: str(reconcilePKPrefix + run), attrSK: str(sk)}
}

// ReconcileTablePage reads one page of a parallel Scan segment: asset
// records and active jobs. The token is the page's LastEvaluatedKey as JSON.
func (s *Store) ReconcileTablePage(ctx context.Context, segment, total int, token string) ([]*mediatrail.Asset, []*mediatrail.MediaJob, string, error) {
	in := &dynamodb.ScanInput{
		TableName:                aws.String(s.table),
		Segment:                  aws.Int32(int32(segment)),
		TotalSegments:            aws.Int32(int32(total)),
		Limit:                    aws.Int32(tablePageItems),
		FilterExpression:         aws.String("begins_with(#sk, :asset) OR (begins_with(#sk, :job) AND #status IN (:queued, :processing))"),
		ExpressionAttributeNames: map[string]string{"#sk": attrSK, "#status": attrStatus},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":asset": str(assetPrefix), ":job": str(jobPrefix),
			":queued": str(string(mediatrail.JobQueued)), ":processing": str(string(mediatrail.JobProcessing)),
		},
	}
	if token != "" {
		var key map[string]string
		if err := json.Unmarshal([]byte(token), &key); err != nil {
			return nil, nil, "", mediatrail.Invalid("token", "malformed scan token")
		}
		in.ExclusiveStartKey = map[string]types.AttributeValue{}
		for k, v := range key {
			in.ExclusiveStartKey[k] = str(v)
		}
	}
	out, err := s.client.Scan(ctx, in)
	if err != nil {
		return nil, nil, "", fmt.Errorf("dynamo: scan segment %d/%d: %w", segment, total, err)
	}
	var assets []*mediatrail.Asset
	var jobs []*mediatrail.MediaJob
	for _, item := range out.Items {
		sk, _ := item[attrSK].(*types.AttributeValueMemberS)
		if sk != nil && strings.HasPrefix(sk.Value, jobPrefix) {
			j, err := unmarshalJob(item)
			if err != nil {
				return nil, nil, "", err
			}
			jobs = append(jobs, j)
			continue
		}
		a, err := unmarshalAsset(item)
		if err != nil {
			return nil, nil, "", err
		}
		assets = append(assets, a)
	}
	next := ""
	if len(out.LastEvaluatedKey) > 0 {
		key := map[string]string{}
		for k, v := range out.LastEvaluatedKey {
			sv, ok := v.(*types.AttributeValueMemberS)
			if !ok {
				return nil, nil, "", fmt.Errorf("dynamo: scan key attribute %s is not a string", k)
			}
			key[k] = sv.Value
		}
		b, _ := json.Marshal(key)
		next = string(b)
	}
	return assets, jobs, next, nil
}

// putState writes an item holding v as JSON.
func (s *Store) putState(ctx context.Context, run, sk string, v any, cond *string) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	item := reconcileKey(run, sk)
	item[attrState] = str(string(b))
	item[TTLAttribute] = num(time.Now().Add(reconcileKeep).Unix())
	_, err = s.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item, ConditionExpression: cond})
	return err
}

// getState reads an item holding JSON into v; ok is false when it is absent.
func (s *Store) getState(ctx context.Context, run, sk string, v any) (bool, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: reconcileKey(run, sk), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return false, fmt.Errorf("dynamo: read reconcile %s %s: %w", run, sk, err)
	}
	st, ok := out.Item[attrState].(*types.AttributeValueMemberS)
	if !ok {
		return false, nil
	}
	return true, json.Unmarshal([]byte(st.Value), v)
}

// StartReconcileRun stores run unless its id exists, and returns the stored run.
func (s *Store) StartReconcileRun(ctx context.Context, run *mediatrail.ReconcileRun) (*mediatrail.ReconcileRun, error) {
	err := s.putState(ctx, run.ID, reconcileRunSK, run, aws.String("attribute_not_exists("+attrPK+")"))
	var cond *types.ConditionalCheckFailedException
	switch {
	case err == nil:
		return run, nil
	case !errors.As(err, &cond):
		return nil, fmt.Errorf("dynamo: start reconcile run %s: %w", run.ID, err)
	}
	return s.FindReconcileRun(ctx, run.ID)
}

// FindReconcileRun reads a run; ENOTFOUND if there is none.
func (s *Store) FindReconcileRun(ctx context.Context, id string) (*mediatrail.ReconcileRun, error) {
	var run mediatrail.ReconcileRun
	ok, err := s.getState(ctx, id, reconcileRunSK, &run)
	switch {
	case err != nil:
		return nil, err
	case !ok:
		return nil, mediatrail.Errorf(mediatrail.ENOTFOUND, "reconcile run %s not found", id)
	}
	return &run, nil
}

// FinishReconcileRun stores a run's report in its run item.
func (s *Store) FinishReconcileRun(ctx context.Context, runID string, rep *mediatrail.ReconcileReport) error {
	run, err := s.FindReconcileRun(ctx, runID)
	if err != nil {
		return err
	}
	run.Report = rep
	if err := s.putState(ctx, runID, reconcileRunSK, run, nil); err != nil {
		return fmt.Errorf("dynamo: finish reconcile run %s: %w", runID, err)
	}
	return nil
}

// ReconcileCheckpoint reads a segment's checkpoint, a zero one if none.
func (s *Store) ReconcileCheckpoint(ctx context.Context, runID, segment string) (*mediatrail.ReconcileCheckpoint, error) {
	cp := &mediatrail.ReconcileCheckpoint{RunID: runID, Segment: segment}
	if _, err := s.getState(ctx, runID, reconcileSegSK+segment, cp); err != nil {
		return nil, err
	}
	return cp, nil
}

// SaveReconcileCheckpoint writes the page's missing-blob candidates, then
// the checkpoint.
func (s *Store) SaveReconcileCheckpoint(ctx context.Context, cp *mediatrail.ReconcileCheckpoint, missing []*mediatrail.Asset) error {
	expires := num(time.Now().Add(reconcileKeep).Unix())
	var puts []types.TransactWriteItem
	for _, a := range missing {
		item := reconcileKey(cp.RunID, reconcileMissSK+a.WorkspaceID+"#"+a.ID)
		item[attrWorkspaceID], item[attrID], item[attrStorageKey], item[TTLAttribute] = str(a.WorkspaceID), str(a.ID), str(a.StorageKey), expires
		puts = append(puts, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(s.table), Item: item}})
	}
	for chunk := range slices.Chunk(puts, maxTransactItems) {
		if _, err := s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: chunk}); err != nil {
			return fmt.Errorf("dynamo: save missing-blob candidates of %s: %w", cp.RunID, err)
		}
	}
	if err := s.putState(ctx, cp.RunID, reconcileSegSK+cp.Segment, cp, nil); err != nil {
		return fmt.Errorf("dynamo: save checkpoint %s %s: %w", cp.RunID, cp.Segment, err)
	}
	return nil
}

// queryRun calls visit for every item of a run whose sort key starts with prefix.
func (s *Store) queryRun(ctx context.Context, runID, prefix string, visit func(map[string]types.AttributeValue) error) error {
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("#pk = :pk AND begins_with(#sk, :prefix)"),
		ExpressionAttributeNames:  map[string]string{"#pk": attrPK, "#sk": attrSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(reconcilePKPrefix + runID), ":prefix": str(prefix)},
		ConsistentRead:            aws.Bool(true),
	}
	p := dynamodb.NewQueryPaginator(s.client, in)
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("dynamo: query reconcile run %s: %w", runID, err)
		}
		for _, item := range out.Items {
			if err := visit(item); err != nil {
				return err
			}
		}
	}
	return nil
}

// ReconcileCheckpoints reads every segment checkpoint of a run.
func (s *Store) ReconcileCheckpoints(ctx context.Context, runID string) ([]*mediatrail.ReconcileCheckpoint, error) {
	var cps []*mediatrail.ReconcileCheckpoint
	err := s.queryRun(ctx, runID, reconcileSegSK, func(item map[string]types.AttributeValue) error {
		st, _ := item[attrState].(*types.AttributeValueMemberS)
		if st == nil {
			return nil
		}
		var cp mediatrail.ReconcileCheckpoint
		if err := json.Unmarshal([]byte(st.Value), &cp); err != nil {
			return err
		}
		cps = append(cps, &cp)
		return nil
	})
	return cps, err
}

// EachMissingBlobCandidate calls visit for every candidate of a run.
func (s *Store) EachMissingBlobCandidate(ctx context.Context, runID string, visit func(*mediatrail.Asset) error) error {
	return s.queryRun(ctx, runID, reconcileMissSK, func(item map[string]types.AttributeValue) error {
		var a mediatrail.Asset
		for attr, dst := range map[string]*string{attrWorkspaceID: &a.WorkspaceID, attrID: &a.ID, attrStorageKey: &a.StorageKey} {
			if v, ok := item[attr].(*types.AttributeValueMemberS); ok {
				*dst = v.Value
			}
		}
		return visit(&a)
	})
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
