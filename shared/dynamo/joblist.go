package dynamo

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// jobQuery is the Query of a job listing: the workspace's partition, sort
// keys inside JOB#, newest first, the status filter as a FilterExpression.
func (s *Store) jobQuery(ws, lo string, statuses []mediatrail.JobState) *dynamodb.QueryInput {
	in := &dynamodb.QueryInput{
		TableName:                aws.String(s.table),
		ScanIndexForward:         aws.Bool(false),
		KeyConditionExpression:   aws.String("#pk = :pk AND #sk BETWEEN :lo AND :hi"),
		ExpressionAttributeNames: map[string]string{"#pk": attrPK, "#sk": attrSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(wsPK(ws)), ":lo": str(lo),
		},
	}
	if len(statuses) > 0 {
		names := make([]string, len(statuses))
		for i, st := range statuses {
			names[i] = fmt.Sprintf(":s%d", i)
			in.ExpressionAttributeValues[names[i]] = str(string(st))
		}
		in.FilterExpression = aws.String("#status IN (" + strings.Join(names, ", ") + ")")
		in.ExpressionAttributeNames["#status"] = attrStatus
	}
	return in
}

// ListJobs returns the workspace's jobs matching f, newest first: a Query on
// the workspace's partition bounded to JOB# sort keys, never a Scan. A cursor
// costs the same at any depth (it lowers the range's top, as asset cursors
// do) and is bound to the workspace and status filter. The total is counted
// (Select=COUNT) on every page.
func (s *Store) ListJobs(ctx context.Context, workspaceID string, f mediatrail.JobFilter) (*mediatrail.JobPage, error) {
	if !mediatrail.ValidRef(workspaceID) {
		return nil, mediatrail.Invalid("workspace_id", "workspace_id is not a valid reference")
	}
	limit, err := pageLimit(f.Limit)
	if err != nil {
		return nil, err
	}
	parts := []string{"jobs", workspaceID}
	for _, st := range f.Statuses {
		parts = append(parts, string(st))
	}
	fp := fingerprintOf(parts...)
	lo, hi := jobPrefix+mediatrail.MinIDAt(ksuidEpoch), jobPrefix+mediatrail.MaxIDAt(ksuidEnd)
	page := 1
	if f.Cursor != "" {
		c, err := s.readCursor(ctx, f.Cursor, fp)
		if err != nil {
			return nil, err
		}
		page = c.page
		var ok bool
		if hi, ok = below(jobPrefix + c.afterID); !ok {
			return &mediatrail.JobPage{Jobs: []*mediatrail.MediaJob{}, Page: page, Limit: limit}, nil
		}
	}
	out := &mediatrail.JobPage{Jobs: []*mediatrail.MediaJob{}, Page: page, Limit: limit}
	if out.Total, err = s.count(ctx, s.jobQuery(workspaceID, lo, f.Statuses), lo, jobPrefix+mediatrail.MaxIDAt(ksuidEnd)); err != nil {
		return nil, err
	}
	out.Jobs, out.NextCursor, err = collectPage(ctx, s, s.jobQuery(workspaceID, lo, f.Statuses), lo, hi, limit, page, fp, unmarshalJob,
		func(j *mediatrail.MediaJob) string { return j.ID })
	if err != nil {
		return nil, fmt.Errorf("dynamo: list jobs: %w", err)
	}
	return out, nil
}

// pageLimit is a listing's page size: 0 means DefaultLimit; EINVALID outside
// 1..MaxLimit.
func pageLimit(limit int) (int, error) {
	switch {
	case limit == 0:
		return mediatrail.DefaultLimit, nil
	case limit < 0 || limit > mediatrail.MaxLimit:
		return 0, mediatrail.Invalid("limit", "limit must be between 1 and %d", mediatrail.MaxLimit)
	}
	return limit, nil
}

// collectPage reads one page of a listing: up to limit items of in over the
// sort key range [lo, hi], newest first, and, when more follow, the cursor
// of page+1 (after the last item's id, MAC'd under the table's cursor key
// with the listing fp).
func collectPage[T any](ctx context.Context, s *Store, in *dynamodb.QueryInput, lo, hi string, limit, page int, fp []byte,
	decode func(map[string]types.AttributeValue) (T, error), id func(T) string) ([]T, string, error) {
	items := []T{}
	err := s.collect(ctx, in, lo, hi, limit+1, func(item map[string]types.AttributeValue) error {
		v, err := decode(item)
		items = append(items, v)
		return err
	})
	if err != nil || len(items) <= limit {
		return items, "", err
	}
	items = items[:limit]
	next, err := s.writeCursor(ctx, cursor{afterID: id(items[limit-1]), page: page + 1}, fp)
	if err != nil {
		return nil, "", err
	}
	return items, next, nil
}
