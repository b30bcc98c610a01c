package dynamo

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

var _ mediatrail.JobStore = (*Store)(nil)

const (
	jobPrefix   = "JOB#"
	attrVersion = "version"
)

func jobKey(ws, id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: str(wsPK(ws)), attrSK: str(jobPrefix + id)}
}

func errJobNotFound() error { return mediatrail.Errorf(mediatrail.ENOTFOUND, "job not found") }

// marshalJob stores every MediaJob field under its JSON name, as spans are.
func marshalJob(j *mediatrail.MediaJob) (map[string]types.AttributeValue, error) {
	if !mediatrail.ValidRef(j.WorkspaceID) || !mediatrail.ValidID(j.ID) {
		return nil, mediatrail.Invalid("job", "a job needs a valid workspace and a KSUID")
	}
	item, err := attributevalue.MarshalMapWithOptions(j, spanCodec)
	if err != nil {
		return nil, fmt.Errorf("dynamo: marshal job %s: %w", j.ID, err)
	}
	item[attrPK], item[attrSK] = str(wsPK(j.WorkspaceID)), str(jobPrefix+j.ID)
	return item, nil
}

func unmarshalJob(item map[string]types.AttributeValue) (*mediatrail.MediaJob, error) {
	j := &mediatrail.MediaJob{}
	if err := attributevalue.UnmarshalMapWithOptions(item, j, func(o *attributevalue.DecoderOptions) { o.TagKey = "json" }); err != nil {
		return nil, fmt.Errorf("dynamo: decode job: %w", err)
	}
	return j, nil
}

// CreateJob puts the job on condition that its key is free and, with done,
// completes the claim in the same transaction.
func (s *Store) CreateJob(ctx context.Context, j *mediatrail.MediaJob, done *mediatrail.IdempotencyRecord) error {
	item, err := marshalJob(j)
	if err != nil {
		return err
	}
	items := []types.TransactWriteItem{{Put: s.newItem(item)}}
	if done != nil {
		complete, err := s.completeClaim(done)
		if err != nil {
			return err
		}
		items = append(items, complete)
	}
	err = s.transact(ctx, items)
	if _, failed := conditionFailed(err, 1); failed {
		return mediatrail.Errorf(mediatrail.ECONFLICT, "the idempotency_key was taken over by another request")
	}
	if _, failed := conditionFailed(err, 0); failed {
		return mediatrail.Errorf(mediatrail.ECONFLICT, "job %s already exists", j.ID)
	}
	if err != nil {
		return fmt.Errorf("dynamo: create job %s: %w", j.ID, err)
	}
	return nil
}

// FindJob reads a job consistently. ENOTFOUND if absent, including for ids
// that are not KSUIDs.
func (s *Store) FindJob(ctx context.Context, workspaceID, id string) (*mediatrail.MediaJob, error) {
	if !mediatrail.ValidRef(workspaceID) || !mediatrail.ValidID(id) {
		return nil, errJobNotFound()
	}
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: jobKey(workspaceID, id), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("dynamo: get job %s: %w", id, err)
	}
	if len(out.Item) == 0 {
		return nil, errJobNotFound()
	}
	return unmarshalJob(out.Item)
}

// activeAt is the condition of every write to a job: it is still queued or
// processing, at the version the writer read.
func activeAt(version int) (string, map[string]string, map[string]types.AttributeValue) {
	return "#version = :version AND #status IN (:queued, :processing)",
		map[string]string{"#version": attrVersion, "#status": attrStatus},
		map[string]types.AttributeValue{
			":version": num(int64(version)), ":queued": str(string(mediatrail.JobQueued)), ":processing": str(string(mediatrail.JobProcessing)),
		}
}

// nextVersion is the put of j at its next version, on condition activeAt its
// current one.
func (s *Store) nextVersion(j *mediatrail.MediaJob) (*types.Put, error) {
	next := *j
	next.Version++
	item, err := marshalJob(&next)
	if err != nil {
		return nil, err
	}
	cond, names, values := activeAt(j.Version)
	return &types.Put{
		TableName: aws.String(s.table), Item: item, ConditionExpression: aws.String(cond),
		ExpressionAttributeNames: names, ExpressionAttributeValues: values,
	}, nil
}

func errJobMoved(id string) error {
	return mediatrail.Errorf(mediatrail.ECONFLICT, "job %s changed or ended meanwhile", id)
}

// UpdateJob replaces an active job at version j.Version with j at the next
// version.
func (s *Store) UpdateJob(ctx context.Context, j *mediatrail.MediaJob) error {
	if j.Status.Done() {
		return mediatrail.Invalid("status", "UpdateJob keeps a job active; FinishJob ends it")
	}
	put, err := s.nextVersion(j)
	if err != nil {
		return err
	}
	_, err = s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: put.TableName, Item: put.Item, ConditionExpression: put.ConditionExpression,
		ExpressionAttributeNames: put.ExpressionAttributeNames, ExpressionAttributeValues: put.ExpressionAttributeValues,
	})
	if _, failed := conditionFailed(err, 0); failed {
		return errJobMoved(j.ID)
	}
	if err != nil {
		return fmt.Errorf("dynamo: update job %s: %w", j.ID, err)
	}
	j.Version++
	return nil
}

// RecordCallback sets the job's callback attribute alone, on condition that
// the job exists: the version other writers condition on stays.
func (s *Store) RecordCallback(ctx context.Context, workspaceID, id string, d *mediatrail.CallbackDelivery) error {
	if !mediatrail.ValidRef(workspaceID) || !mediatrail.ValidID(id) {
		return errJobNotFound()
	}
	v, err := attributevalue.MarshalWithOptions(d, spanCodec)
	if err != nil {
		return fmt.Errorf("dynamo: marshal callback of job %s: %w", id, err)
	}
	_, err = s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: jobKey(workspaceID, id),
		UpdateExpression:          aws.String("SET #callback = :callback"),
		ConditionExpression:       aws.String("attribute_exists(#pk)"),
		ExpressionAttributeNames:  map[string]string{"#callback": "callback", "#pk": attrPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":callback": v},
	})
	if _, failed := conditionFailed(err, 0); failed {
		return errJobNotFound()
	}
	if err != nil {
		return fmt.Errorf("dynamo: record callback of job %s: %w", id, err)
	}
	return nil
}

// FinishJob writes, in one TransactWriteItems: the ended job (on condition
// activeAt j.Version), its span with its usage counters and, when set, the
// ready asset with its counters (both on condition that they are new) and the
// release of an idempotency claim (on condition that its token still holds
// it).
func (s *Store) FinishJob(ctx context.Context, j *mediatrail.MediaJob, sp *mediatrail.Span, a *mediatrail.Asset, release *mediatrail.IdempotencyRecord) error {
	if !j.Status.Done() {
		return mediatrail.Invalid("status", "FinishJob ends a job: completed, failed or cancelled")
	}
	put, err := s.nextVersion(j)
	if err != nil {
		return err
	}
	spanItem, err := marshalSpan(sp)
	if err != nil {
		return err
	}
	items := append([]types.TransactWriteItem{{Put: put}, {Put: s.newItem(spanItem)}}, s.usageUpdates(sp)...)
	items = append(items, s.spendUpdates(sp)...)
	if a != nil {
		if a.Status != mediatrail.StatusReady || a.WorkspaceID != j.WorkspaceID {
			return mediatrail.Invalid("asset", "a job's asset is a ready asset of its workspace")
		}
		assetItem, err := marshalAsset(a)
		if err != nil {
			return err
		}
		items = append(items, types.TransactWriteItem{Put: s.newItem(assetItem)})
		items = append(items, s.counterUpdates(a, +1)...)
	}
	releaseAt := -1
	if release != nil {
		releaseAt = len(items)
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{
			TableName:                 aws.String(s.table),
			Key:                       idempotencyKey(release.WorkspaceID, release.Key),
			ConditionExpression:       aws.String("#token = :token"),
			ExpressionAttributeNames:  map[string]string{"#token": attrToken},
			ExpressionAttributeValues: map[string]types.AttributeValue{":token": str(release.Token)},
		}})
	}
	err = s.transact(ctx, items)
	if releaseAt >= 0 {
		if _, failed := conditionFailed(err, releaseAt); failed {
			err = s.transact(ctx, items[:releaseAt]) // the key was taken over: it is its new holder's
		}
	}
	for i := range items {
		if _, failed := conditionFailed(err, i); failed {
			return errJobMoved(j.ID)
		}
	}
	if err != nil {
		return fmt.Errorf("dynamo: finish job %s: %w", j.ID, err)
	}
	j.Version++
	return nil
}
