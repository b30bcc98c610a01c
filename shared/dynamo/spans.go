package dynamo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

var _ mediatrail.SpanStore = (*Store)(nil)

const spanPrefix = "SPAN#"

// Span attribute names beyond the asset ones they share (id, workspace_id,
// execution_id, provider, ...).
const (
	attrTraceID      = "trace_id"
	attrSessionID    = "session_id"
	attrKind         = "kind"
	attrAssetID      = "asset_id"
	attrAssetDeleted = "asset_deleted"
	attrStartedAt    = "started_at"
	attrEndedAt      = "ended_at"
)

func spanSK(id string) string { return spanPrefix + id }

// spanDim is an equality filter of span listings: the GSI whose partitions
// it overloads, and how a span and a filter give its value.
type spanDim struct {
	dimension
	ofSpan   func(*mediatrail.Span) string
	ofFilter func(*mediatrail.SpanFilter) string
}

// spanDimensions are the equality filters of span listings, each on its own
// GSI (GSI1's execution partitions hold the execution's assets and spans
// together, GSI4's provider partitions the provider's), in order of
// preference: the first filter set picks the index, the others become a
// FilterExpression on that bounded Query. Status is last: its partitions are
// the largest (most spans are completed). README "Table design" lists them.
var spanDimensions = []spanDim{
	{dimension{GSI2, "TRACE", attrTraceID}, func(s *mediatrail.Span) string { return s.TraceID }, func(f *mediatrail.SpanFilter) string { return f.TraceID }},
	{dimension{GSI1, "EXEC", attrExecutionID}, func(s *mediatrail.Span) string { return s.ExecutionID }, func(f *mediatrail.SpanFilter) string { return f.ExecutionID }},
	{dimension{GSI6, "SESSION", attrSessionID}, func(s *mediatrail.Span) string { return s.SessionID }, func(f *mediatrail.SpanFilter) string { return f.SessionID }},
	{dimension{GSI5, "AGENT", attrAgentID}, func(s *mediatrail.Span) string { return s.AgentID }, func(f *mediatrail.SpanFilter) string { return f.AgentID }},
	{dimension{GSI7, "MODEL", attrModel}, func(s *mediatrail.Span) string { return s.Model }, func(f *mediatrail.SpanFilter) string { return f.Model }},
	{dimension{GSI8, "MEDIA", attrMediaType}, func(s *mediatrail.Span) string { return string(s.MediaType) }, func(f *mediatrail.SpanFilter) string { return string(f.MediaType) }},
	{dimension{GSI4, "PROV", attrProvider}, func(s *mediatrail.Span) string { return s.Provider }, func(f *mediatrail.SpanFilter) string { return f.Provider }},
	{dimension{GSI3, "KIND", attrKind}, func(s *mediatrail.Span) string { return string(s.Kind) }, func(f *mediatrail.SpanFilter) string { return string(f.Kind) }},
	{dimension{GSI9, "STATUS", attrStatus}, func(s *mediatrail.Span) string { return string(s.Status) }, func(f *mediatrail.SpanFilter) string { return string(f.Status) }},
}

// maxKeyValue bounds a value written into an index key as it is; longer
// ones (models are free text) are keyed by their SHA-256, so every key stays
// far below DynamoDB's 2 KB partition key limit.
const maxKeyValue = 512

// keyValue is how value v appears in an index key.
func keyValue(v string) string {
	if len(v) <= maxKeyValue {
		return v
	}
	h := sha256.Sum256([]byte(v))
	return "sha256:" + hex.EncodeToString(h[:])
}

// spanCodec stores Span fields under their JSON names, with times in the
// table's sortable layout.
func spanCodec(o *attributevalue.EncoderOptions) { o.TagKey = "json" }

// marshalSpan returns the item of sp, with GSI keys for its non-empty dimensions.
func marshalSpan(sp *mediatrail.Span) (map[string]types.AttributeValue, error) {
	item, err := attributevalue.MarshalMapWithOptions(sp, spanCodec)
	if err != nil {
		return nil, fmt.Errorf("dynamo: marshal span %s: %w", sp.ID, err)
	}
	item[attrPK], item[attrSK] = str(wsPK(sp.WorkspaceID)), str(spanSK(sp.ID))
	item[attrStartedAt], item[attrEndedAt] = str(formatTime(sp.StartedAt)), str(formatTime(sp.EndedAt))
	for _, d := range spanDimensions {
		if v := d.ofSpan(sp); v != "" {
			item[gsiPK(d.index)] = str(d.indexPK(sp.WorkspaceID, keyValue(v)))
			item[gsiSK(d.index)] = str(spanSK(sp.ID))
		}
	}
	return item, nil
}

func unmarshalSpan(item map[string]types.AttributeValue) (*mediatrail.Span, error) {
	sp := &mediatrail.Span{}
	err := attributevalue.UnmarshalMapWithOptions(item, sp, func(o *attributevalue.DecoderOptions) { o.TagKey = "json" })
	if err != nil {
		return nil, fmt.Errorf("dynamo: decode span: %w", err)
	}
	sp.StartedAt, sp.EndedAt = sp.StartedAt.UTC(), sp.EndedAt.UTC()
	return sp, nil
}

// spanQuery is one validated span filter and its query plan.
type spanQuery struct {
	ws     string
	filter mediatrail.SpanFilter
	index  *spanDim // nil: the table itself
	value  string   // of index
	lo, hi string   // inclusive sort key range, inside SPAN#
	empty  bool
	fp     []byte
}

func newSpanQuery(ws string, f mediatrail.SpanFilter) (*spanQuery, error) {
	if !mediatrail.ValidRef(ws) {
		return nil, mediatrail.Invalid("workspace_id", "workspace_id is not a valid reference")
	}
	q := &spanQuery{ws: ws, filter: f, lo: spanSK(mediatrail.MinIDAt(ksuidEpoch)), hi: spanSK(mediatrail.MaxIDAt(ksuidEnd))}
	for i, d := range spanDimensions {
		if v := d.ofFilter(&f); v != "" {
			q.index, q.value = &spanDimensions[i], v
			break
		}
	}
	if !f.From.IsZero() {
		q.lo = spanSK(mediatrail.MinIDAt(clampToKSUID(f.From.Add(-idSkew))))
	}
	if !f.To.IsZero() {
		q.hi = spanSK(mediatrail.MaxIDAt(clampToKSUID(f.To.Add(idSkew))))
	}
	q.empty = q.lo > q.hi || (!f.From.IsZero() && !f.To.IsZero() && f.To.Before(f.From))

	parts := []string{"spans", ws, stamp(f.From), stamp(f.To)}
	for _, d := range spanDimensions {
		parts = append(parts, d.ofFilter(&f))
	}
	q.fp = fingerprintOf(parts...)
	return q, nil
}

// input is the Query over the chosen index with the other filters; :hi is set
// by each.
func (q *spanQuery) input(table string) *dynamodb.QueryInput {
	in := &dynamodb.QueryInput{
		TableName:                aws.String(table),
		ScanIndexForward:         aws.Bool(false),
		KeyConditionExpression:   aws.String("#pk = :pk AND #sk BETWEEN :lo AND :hi"),
		ExpressionAttributeNames: map[string]string{"#pk": attrPK, "#sk": attrSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(wsPK(q.ws)), ":lo": str(q.lo), ":hi": str(q.hi),
		},
	}
	if q.index != nil {
		in.IndexName = aws.String(q.index.index)
		in.ExpressionAttributeNames["#pk"] = gsiPK(q.index.index)
		in.ExpressionAttributeNames["#sk"] = gsiSK(q.index.index)
		in.ExpressionAttributeValues[":pk"] = str(q.index.indexPK(q.ws, keyValue(q.value)))
	}
	var filter []string
	for i, d := range spanDimensions {
		v := d.ofFilter(&q.filter)
		if v == "" || (q.index != nil && d.index == q.index.index) {
			continue
		}
		name, value := fmt.Sprintf("#f%d", i), fmt.Sprintf(":f%d", i)
		filter = append(filter, name+" = "+value)
		in.ExpressionAttributeNames[name] = d.attr
		in.ExpressionAttributeValues[value] = str(v)
	}
	for _, b := range []struct {
		t      time.Time
		op, ph string
	}{{q.filter.From, ">=", ":from"}, {q.filter.To, "<=", ":to"}} {
		if !b.t.IsZero() {
			filter = append(filter, "#started "+b.op+" "+b.ph)
			in.ExpressionAttributeNames["#started"] = attrStartedAt
			in.ExpressionAttributeValues[b.ph] = str(formatTime(b.t))
		}
	}
	if len(filter) > 0 {
		in.FilterExpression = aws.String(strings.Join(filter, " AND "))
	}
	return in
}

// ListSpans returns the spans matching f, newest first, by Query on the most
// selective index (spanDimensions), the other filters in a FilterExpression. Paging works as for
// assets: a cursor costs the same at any depth, a page skips keys; the total is
// counted (Select=COUNT) on every page. EINVALID for a limit outside
// 1..MaxLimit or a malformed or foreign cursor.
func (s *Store) ListSpans(ctx context.Context, workspaceID string, f mediatrail.SpanFilter) (*mediatrail.SpanPage, error) {
	q, err := newSpanQuery(workspaceID, f)
	if err != nil {
		return nil, err
	}
	limit, err := pageLimit(f.Limit)
	if err != nil {
		return nil, err
	}
	page, after := max(f.Page, 1), ""
	if f.Cursor != "" {
		c, err := s.readCursor(ctx, f.Cursor, q.fp)
		if err != nil {
			return nil, err
		}
		page, after = c.page, c.afterID
	}
	out := &mediatrail.SpanPage{Spans: []*mediatrail.Span{}, Page: page, Limit: limit}
	if q.empty {
		return out, nil
	}
	if out.Total, err = s.count(ctx, q.input(s.table), q.lo, q.hi); err != nil {
		return nil, err
	}
	if f.Cursor == "" && page > 1 {
		if page > (out.Total+limit-1)/limit {
			return out, nil
		}
		id, ok, err := s.skipKeys(ctx, q.input(s.table), q.lo, q.hi, (page-1)*limit)
		if err != nil || !ok {
			return out, err
		}
		after = id
	}
	hi := q.hi
	if after != "" {
		var ok bool
		if hi, ok = below(spanSK(after)); !ok || hi < q.lo {
			return out, nil
		}
		hi = min(hi, q.hi)
	}
	out.Spans, out.NextCursor, err = collectPage(ctx, s, q.input(s.table), q.lo, hi, limit, page, q.fp, unmarshalSpan,
		func(sp *mediatrail.Span) string { return sp.ID })
	if err != nil {
		return nil, fmt.Errorf("dynamo: list spans: %w", err)
	}
	return out, nil
}

// GetSpan returns span id of the workspace with one strongly consistent
// GetItem; ENOTFOUND if the workspace has no such span.
func (s *Store) GetSpan(ctx context.Context, workspaceID, id string) (*mediatrail.Span, error) {
	if !mediatrail.ValidRef(workspaceID) || !mediatrail.ValidID(id) {
		return nil, mediatrail.Errorf(mediatrail.ENOTFOUND, "span not found")
	}
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            map[string]types.AttributeValue{attrPK: str(wsPK(workspaceID)), attrSK: str(spanSK(id))},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("dynamo: get span %s: %w", id, err)
	}
	if len(out.Item) == 0 {
		return nil, mediatrail.Errorf(mediatrail.ENOTFOUND, "span not found")
	}
	return unmarshalSpan(out.Item)
}

// errStop ends EachSpan's walk at the visitor's request.
var errStop = errors.New("stop")

// EachSpan calls visit for every span matching f (paging ignored), newest
// first. Its cost grows with the spans in the chosen index range.
func (s *Store) EachSpan(ctx context.Context, workspaceID string, f mediatrail.SpanFilter, visit func(*mediatrail.Span) error) error {
	q, err := newSpanQuery(workspaceID, f)
	if err != nil || q.empty {
		return err
	}
	var visitErr error
	err = s.collect(ctx, q.input(s.table), q.lo, q.hi, allItems, func(item map[string]types.AttributeValue) error {
		sp, err := unmarshalSpan(item)
		if err != nil {
			return err
		}
		if visitErr = visit(sp); visitErr != nil {
			return errStop
		}
		return nil
	})
	if visitErr != nil {
		return visitErr
	}
	if err != nil {
		return fmt.Errorf("dynamo: read spans: %w", err)
	}
	return nil
}

// MarkSpanAssetDeleted sets asset_deleted on the span, on condition that it
// exists and produced assetID; otherwise it does nothing.
func (s *Store) MarkSpanAssetDeleted(ctx context.Context, workspaceID, spanID, assetID string, at time.Time) error {
	if !mediatrail.ValidRef(workspaceID) || !mediatrail.ValidID(spanID) {
		return nil
	}
	_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(s.table),
		Key:                      map[string]types.AttributeValue{attrPK: str(wsPK(workspaceID)), attrSK: str(spanSK(spanID))},
		UpdateExpression:         aws.String("SET #deleted = :true, #deleted_at = :at"),
		ConditionExpression:      aws.String("attribute_exists(#pk) AND #asset = :asset"),
		ExpressionAttributeNames: map[string]string{"#deleted": attrAssetDeleted, "#deleted_at": "asset_deleted_at", "#pk": attrPK, "#asset": attrAssetID},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":true": &types.AttributeValueMemberBOOL{Value: true}, ":at": str(formatTime(at)), ":asset": str(assetID),
		},
	})
	if _, failed := conditionFailed(err, 0); failed {
		return nil
	}
	if err != nil {
		return fmt.Errorf("dynamo: mark span %s: %w", spanID, err)
	}
	return nil
}
