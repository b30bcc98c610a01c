package dynamo

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// idSkew is how far an asset's id time may be from its created_at (the id is
// minted with second precision, possibly just before a clock tick). Date ranges
// widen their key range by it and filter on created_at for exactness.
const idSkew = time.Second

// maxChunk bounds the Limit of one Query while filling a page or skipping.
const maxChunk = 1000

// allItems asks collect for every matching item.
const allItems = math.MaxInt32

// KSUID timestamps are 32-bit seconds from this epoch; times outside are clamped.
var (
	ksuidEpoch = time.Unix(1400000000, 0)
	ksuidEnd   = time.Unix(1400000000+math.MaxUint32, 0)
)

func clampToKSUID(t time.Time) time.Time {
	switch {
	case t.Before(ksuidEpoch):
		return ksuidEpoch
	case t.After(ksuidEnd):
		return ksuidEnd
	}
	return t
}

// filterDim is an equality filter in use.
type filterDim struct {
	dimension
	value string
}

// listing is one validated ListAssets request and its query plan.
type listing struct {
	ws     string
	status mediatrail.AssetStatus
	filter mediatrail.AssetFilter
	dims   []filterDim
	limit  int
	fp     []byte

	index  *filterDim // nil: the table itself
	lo, hi string     // inclusive sort key range, inside ASSET#
	empty  bool       // the date range admits nothing
}

// ListAssets returns the assets matching f (status ready unless f.Status says
// otherwise), newest first, always by Query (see the package documentation for
// index choice, paging and totals). f.Cursor wins over f.Page; a page past the
// end is empty. EINVALID for a limit outside 1..MaxLimit, a negative page, an
// unknown status, an invalid workspace reference, or a malformed or foreign
// cursor ("invalid cursor").
func (s *Store) ListAssets(ctx context.Context, workspaceID string, f mediatrail.AssetFilter) (*mediatrail.AssetPage, error) {
	l, err := newListing(workspaceID, f)
	if err != nil {
		return nil, err
	}
	var after string
	page := f.Page
	switch {
	case f.Cursor != "":
		c, err := s.readCursor(ctx, f.Cursor, l.fp)
		if err != nil {
			return nil, err
		}
		after, page = c.afterID, c.page
	case page == 0:
		page = 1
	case page < 0:
		return nil, mediatrail.Invalid("page", "page must be at least 1")
	}
	out := &mediatrail.AssetPage{Assets: []*mediatrail.Asset{}, Page: page, Limit: l.limit}
	if l.empty {
		return out, nil
	}
	if err := s.chooseIndex(ctx, l); err != nil {
		return nil, err
	}
	if out.Total, err = s.total(ctx, l); err != nil {
		return nil, err
	}
	if f.Cursor == "" && page > 1 {
		if pages := (out.Total + l.limit - 1) / l.limit; page > pages {
			return out, nil
		}
		id, ok, err := s.skip(ctx, l, (page-1)*l.limit)
		if err != nil || !ok {
			return out, err
		}
		after = id
	}
	assets, err := s.fetch(ctx, l, after, l.limit+1)
	if err != nil {
		return nil, err
	}
	if len(assets) > l.limit {
		assets = assets[:l.limit]
		if out.NextCursor, err = s.writeCursor(ctx, cursor{afterID: assets[l.limit-1].ID, page: page + 1}, l.fp); err != nil {
			return nil, err
		}
	}
	out.Assets = assets
	return out, nil
}

func newListing(ws string, f mediatrail.AssetFilter) (*listing, error) {
	l := &listing{ws: ws, filter: f, status: f.Status, limit: f.Limit}
	if !mediatrail.ValidRef(ws) {
		return nil, mediatrail.Invalid("workspace_id", "workspace_id is not a valid reference")
	}
	switch l.status {
	case "":
		l.status = mediatrail.StatusReady
	case mediatrail.StatusPending, mediatrail.StatusReady, mediatrail.StatusDeleted:
	default:
		return nil, mediatrail.Invalid("status", "status must be one of pending, ready, deleted")
	}
	switch {
	case l.limit == 0:
		l.limit = mediatrail.DefaultLimit
	case l.limit < 0 || l.limit > mediatrail.MaxLimit:
		return nil, mediatrail.Invalid("limit", "limit must be between 1 and %d", mediatrail.MaxLimit)
	}
	for _, d := range dimensions {
		if v := d.ofFilter(f); v != "" {
			l.dims = append(l.dims, filterDim{d, v})
		}
	}
	l.fp = fingerprint(ws, l.status, f)

	after, before := f.CreatedAfter, f.CreatedBefore
	l.lo = assetSK(mediatrail.MinIDAt(ksuidEpoch))
	l.hi = assetSK(mediatrail.MaxIDAt(ksuidEnd))
	if !after.IsZero() {
		l.lo = assetSK(mediatrail.MinIDAt(clampToKSUID(after.Add(-idSkew))))
	}
	if !before.IsZero() {
		l.hi = assetSK(mediatrail.MaxIDAt(clampToKSUID(before.Add(idSkew))))
	}
	if l.lo > l.hi || (!after.IsZero() && !before.IsZero() && !after.Before(before)) {
		l.empty = true
	}
	return l, nil
}

// countable reports whether a counter holds the listing's total: counters count
// ready assets overall and per single dimension value.
func (l *listing) countable() bool {
	return l.status == mediatrail.StatusReady && len(l.dims) <= 1 &&
		l.filter.CreatedAfter.IsZero() && l.filter.CreatedBefore.IsZero()
}

// counterSK is the counter of the listing's equality filter (COUNT#ALL without one).
func (l *listing) counterSK() string {
	if len(l.dims) == 0 {
		return countAll
	}
	return l.dims[0].counterSK(l.dims[0].value)
}

// chooseIndex picks the GSI of the most selective equality filter: the only one,
// or among several the one whose counter is smallest, read in one BatchGetItem.
func (s *Store) chooseIndex(ctx context.Context, l *listing) error {
	switch len(l.dims) {
	case 0:
		return nil
	case 1:
		l.index = &l.dims[0]
		return nil
	}
	keys := make([]map[string]types.AttributeValue, len(l.dims))
	for i, d := range l.dims {
		keys[i] = map[string]types.AttributeValue{attrPK: str(wsPK(l.ws)), attrSK: str(d.counterSK(d.value))}
	}
	out, err := s.client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{
		RequestItems: map[string]types.KeysAndAttributes{s.table: {
			Keys:                     keys,
			ProjectionExpression:     aws.String("#sk, #n"),
			ExpressionAttributeNames: map[string]string{"#sk": attrSK, "#n": attrCount},
		}},
	})
	if err != nil {
		return fmt.Errorf("dynamo: read counters: %w", err)
	}
	counts := map[string]int64{}
	for _, k := range out.UnprocessedKeys[s.table].Keys {
		r := itemReader{item: k}
		counts[r.str(attrSK)] = math.MaxInt64
	}
	for _, item := range out.Responses[s.table] {
		r := itemReader{item: item}
		counts[r.str(attrSK)] = r.int(attrCount)
	}
	best := 0
	for i, d := range l.dims {
		if counts[d.counterSK(d.value)] < counts[l.dims[best].counterSK(l.dims[best].value)] {
			best = i
		}
	}
	l.index = &l.dims[best]
	return nil
}

// queryInput is the Query over the chosen index with the key condition (pk and
// the sort key BETWEEN :lo AND :hi, :hi set by each) and the filter (status,
// other equality filters, created_at).
func (l *listing) queryInput(table string) *dynamodb.QueryInput {
	in := &dynamodb.QueryInput{
		TableName:              aws.String(table),
		ScanIndexForward:       aws.Bool(false),
		KeyConditionExpression: aws.String("#pk = :pk AND #sk BETWEEN :lo AND :hi"),
		ExpressionAttributeNames: map[string]string{
			"#pk":     attrPK,
			"#sk":     attrSK,
			"#status": attrStatus,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":     str(wsPK(l.ws)),
			":lo":     str(l.lo),
			":hi":     str(l.hi),
			":status": str(string(l.status)),
		},
	}
	if l.index != nil {
		in.IndexName = aws.String(l.index.index)
		in.ExpressionAttributeNames["#pk"] = gsiPK(l.index.index)
		in.ExpressionAttributeNames["#sk"] = gsiSK(l.index.index)
		in.ExpressionAttributeValues[":pk"] = str(l.index.indexPK(l.ws, l.index.value))
	}
	filter := []string{"#status = :status"}
	for i, d := range l.dims {
		if l.index != nil && d.index == l.index.index {
			continue
		}
		name, value := "#f"+strconv.Itoa(i), ":f"+strconv.Itoa(i)
		filter = append(filter, name+" = "+value)
		in.ExpressionAttributeNames[name] = d.attr
		in.ExpressionAttributeValues[value] = str(d.value)
	}
	if !l.filter.CreatedAfter.IsZero() {
		filter = append(filter, "#created > :after")
		in.ExpressionAttributeNames["#created"] = attrCreatedAt
		in.ExpressionAttributeValues[":after"] = str(formatTime(l.filter.CreatedAfter))
	}
	if !l.filter.CreatedBefore.IsZero() {
		filter = append(filter, "#created < :before")
		in.ExpressionAttributeNames["#created"] = attrCreatedAt
		in.ExpressionAttributeValues[":before"] = str(formatTime(l.filter.CreatedBefore))
	}
	in.FilterExpression = aws.String(strings.Join(filter, " AND "))
	return in
}

// hiAfter is the upper sort key bound that resumes the listing after asset id
// (from the top when id is ""); ok is false when nothing can follow.
func (l *listing) hiAfter(id string) (hi string, ok bool) {
	if id == "" {
		return l.hi, true
	}
	hi, ok = below(assetSK(id))
	return min(hi, l.hi), ok && min(hi, l.hi) >= l.lo
}

// below returns the greatest sort key of sk's kind (ASSET#, SPAN#) less than sk:
// its id decremented as a base62 number, whose digits 0-9A-Za-z sort like their
// values. ok is false for the smallest id.
func below(sk string) (string, bool) {
	id := []byte(idFromSK(sk))
	prefix := sk[:len(sk)-len(id)]
	for i := len(id) - 1; i >= 0; i-- {
		switch c := id[i]; c {
		case '0':
			id[i] = 'z'
			continue
		case 'A':
			id[i] = '9'
		case 'a':
			id[i] = 'Z'
		default:
			id[i] = c - 1
		}
		return prefix + string(id), true
	}
	return "", false
}

// each runs in over the sort key range [lo, hi], newest first, one Query at a
// time, until visit returns false or the range is exhausted. Each Query after
// the first lowers :hi to just below the last evaluated key rather than passing
// ExclusiveStartKey: a bounded range costs the same at any depth, on DynamoDB
// and on DynamoDB Local alike (whose ExclusiveStartKey cost grows with depth).
// Sort keys are unique within every index partition (ASSET#{id} and SPAN#{id}
// under one workspace), so this resumes exactly where the last Query stopped.
func (s *Store) each(ctx context.Context, in *dynamodb.QueryInput, lo, hi string, visit func(*dynamodb.QueryOutput) (bool, error)) error {
	for {
		in.ExpressionAttributeValues[":hi"] = str(hi)
		out, err := s.client.Query(ctx, in)
		if err != nil {
			return err
		}
		if more, err := visit(out); err != nil || !more {
			return err
		}
		last, ok := out.LastEvaluatedKey[attrSK].(*types.AttributeValueMemberS)
		if !ok {
			return nil
		}
		if hi, ok = below(last.Value); !ok || hi < lo {
			return nil
		}
	}
}

// fetch returns up to want matching assets after asset id `after` (from the top
// when ""), querying in chunks until it has them or the range is exhausted.
func (s *Store) fetch(ctx context.Context, l *listing, after string, want int) ([]*mediatrail.Asset, error) {
	assets := []*mediatrail.Asset{}
	hi, ok := l.hiAfter(after)
	if !ok {
		return assets, nil
	}
	err := s.collect(ctx, l.queryInput(s.table), l.lo, hi, want, func(item map[string]types.AttributeValue) error {
		a, err := unmarshalAsset(item)
		assets = append(assets, a)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("dynamo: list assets: %w", err)
	}
	return assets, nil
}

// collect hands add up to want items (all of them when want is allItems)
// that in matches in the sort key range [lo, hi], newest first, querying in
// chunks sized from how selective the filter has been so far.
func (s *Store) collect(ctx context.Context, in *dynamodb.QueryInput, lo, hi string, want int, add func(map[string]types.AttributeValue) error) error {
	in.Limit = aws.Int32(int32(min(want, maxChunk)))
	got, scanned, matched := 0, 0, 0
	return s.each(ctx, in, lo, hi, func(out *dynamodb.QueryOutput) (bool, error) {
		for _, item := range out.Items {
			if err := add(item); err != nil {
				return false, err
			}
			if got++; got == want {
				return false, nil
			}
		}
		scanned, matched = scanned+int(out.ScannedCount), matched+int(out.Count)
		in.Limit = aws.Int32(int32(nextChunk(want-got, scanned, matched)))
		return true, nil
	})
}

// skip walks past n matching assets reading only their keys and returns the id
// of the n-th; ok is false when fewer than n match.
func (s *Store) skip(ctx context.Context, l *listing, n int) (string, bool, error) {
	return s.skipKeys(ctx, l.queryInput(s.table), l.lo, l.hi, n)
}

// skipKeys walks past n items that in matches in the sort key range [lo, hi],
// reading only their keys, and returns the id of the n-th; ok is false when
// fewer than n match.
func (s *Store) skipKeys(ctx context.Context, in *dynamodb.QueryInput, lo, hi string, n int) (id string, ok bool, err error) {
	in.ProjectionExpression = aws.String("#tsk")
	in.ExpressionAttributeNames["#tsk"] = attrSK
	in.Limit = aws.Int32(int32(min(n, maxChunk)))
	scanned, matched := 0, 0
	err = s.each(ctx, in, lo, hi, func(out *dynamodb.QueryOutput) (bool, error) {
		if matched+len(out.Items) >= n {
			r := itemReader{item: out.Items[n-matched-1]}
			id, ok = idFromSK(r.str(attrSK)), true
			return false, r.err
		}
		scanned, matched = scanned+int(out.ScannedCount), matched+len(out.Items)
		in.Limit = aws.Int32(int32(nextChunk(n-matched, scanned, matched)))
		return true, nil
	})
	if err != nil {
		return "", false, fmt.Errorf("dynamo: skip items: %w", err)
	}
	return id, ok, nil
}

// nextChunk sizes the next Query from the share of items the filter kept so far,
// so a selective filter needs few round trips and an unselective one reads
// little beyond the page.
func nextChunk(remaining, scanned, matched int) int {
	est := remaining
	switch {
	case matched == 0 && scanned > 0:
		est = maxChunk
	case matched < scanned:
		est = remaining*scanned/matched + 1
	}
	return max(1, min(est, maxChunk))
}

// total counts the listing: from a counter when one holds it, otherwise with a
// Select=COUNT query over the chosen index and the same conditions.
func (s *Store) total(ctx context.Context, l *listing) (int, error) {
	if l.countable() {
		out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
			TableName:                aws.String(s.table),
			Key:                      map[string]types.AttributeValue{attrPK: str(wsPK(l.ws)), attrSK: str(l.counterSK())},
			ProjectionExpression:     aws.String("#n"),
			ExpressionAttributeNames: map[string]string{"#n": attrCount},
		})
		if err != nil {
			return 0, fmt.Errorf("dynamo: read counter: %w", err)
		}
		r := itemReader{item: out.Item}
		n := r.int(attrCount)
		if r.err != nil {
			return 0, fmt.Errorf("dynamo: read counter: %w", r.err)
		}
		return int(max(n, 0)), nil
	}
	return s.count(ctx, l.queryInput(s.table), l.lo, l.hi)
}

// count counts the items in matches in the sort key range [lo, hi] with
// Select=COUNT: its cost grows with the items in the range.
func (s *Store) count(ctx context.Context, in *dynamodb.QueryInput, lo, hi string) (int, error) {
	in.Select = types.SelectCount
	total := 0
	err := s.each(ctx, in, lo, hi, func(out *dynamodb.QueryOutput) (bool, error) {
		total += int(out.Count)
		return true, nil
	})
	if err != nil {
		return 0, fmt.Errorf("dynamo: count items: %w", err)
	}
	return total, nil
}
