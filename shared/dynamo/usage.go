package dynamo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// Usage counter items: PK WS#{ws}, SK USAGE#{scope}#{combination}, where the
// scope is ALL, EXEC#{execution} or DAY#{yyyy-mm-dd} (UTC, the day the span
// started) and the combination is a hash of provider, media type, kind,
// model, status and session, whose plain values are attributes of the item. Refs cannot hold '#',
// so a scope's counters are one key prefix, and days sort as their dates.
const (
	usagePrefix = "USAGE#"
	usageAll    = usagePrefix + "ALL#"
	usageExec   = usagePrefix + "EXEC#"
	usageDay    = usagePrefix + "DAY#"
	dayLayout   = "2006-01-02"
)

// Usage counter attributes besides provider, kind and model.
const (
	attrMediaType     = "media_type"
	attrErrors        = "errors"
	attrUnpriced      = "unpriced"
	attrCost          = "cost"
	attrDurationMs    = "duration_ms"
	attrMediaDuration = "media_duration_seconds"
)

// combination identifies the counter of a provider, media type, kind, model,
// status and session inside a scope; hashed because models are free text of
// any length. Counters written before status and session were part of it
// hash the first four alone (and carry neither attribute): they stay
// readable and are counted by summaries without a status or session filter.
func combination(u mediatrail.SpanUsage) string {
	parts := []string{u.Provider, string(u.MediaType), string(u.Kind), u.Model}
	if u.Status != "" || u.SessionID != "" {
		parts = append(parts, string(u.Status), u.SessionID)
	}
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(h[:16])
}

// usageSKs are the counters span usage u started on day belongs to: the
// workspace's, the day's and, when set, the execution's.
func usageSKs(u mediatrail.SpanUsage, executionID, day string) []string {
	c := combination(u)
	sks := []string{usageAll + c, usageDay + day + "#" + c}
	if executionID != "" {
		sks = append(sks, usageExec+executionID+"#"+c)
	}
	return sks
}

func spanUsageSKs(sp *mediatrail.Span) []string {
	return usageSKs(mediatrail.UsageOf(sp), sp.ExecutionID, sp.StartedAt.UTC().Format(dayLayout))
}

// decimal writes v for an ADD. Costs are kept to 1e-15 and play times to 1e-9,
// finer than the summary shows (1e-12, 1e-6), so that a counter's digits stay
// within DynamoDB's 38 significant ones and sums hold no float noise.
func decimal(v float64, digits int) *types.AttributeValueMemberN {
	p := math.Pow10(digits)
	return &types.AttributeValueMemberN{Value: strconv.FormatFloat(math.Round(v*p)/p, 'f', -1, 64)}
}

// usageUpdate adds u to the counter sk of ws, creating it if absent.
func (s *Store) usageUpdate(ws, sk string, u mediatrail.SpanUsage) *types.Update {
	return &types.Update{
		TableName: aws.String(s.table),
		Key:       map[string]types.AttributeValue{attrPK: str(wsPK(ws)), attrSK: str(sk)},
		UpdateExpression: aws.String("SET #provider = :provider, #media = :media, #kind = :kind, #model = :model, #status = :status, #session = :session " +
			"ADD #n :n, #errors :errors, #unpriced :unpriced, #cost :cost, #duration :duration, #play :play"),
		ExpressionAttributeNames: map[string]string{
			"#provider": attrProvider, "#media": attrMediaType, "#kind": attrKind, "#model": attrModel,
			"#status": attrStatus, "#session": attrSessionID, "#unpriced": attrUnpriced,
			"#n": attrCount, "#errors": attrErrors, "#cost": attrCost, "#duration": attrDurationMs, "#play": attrMediaDuration,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":provider": str(u.Provider), ":media": str(string(u.MediaType)), ":kind": str(string(u.Kind)), ":model": str(u.Model),
			":status": str(string(u.Status)), ":session": str(u.SessionID), ":unpriced": num(int64(u.Unpriced)),
			":n": num(int64(u.Count)), ":errors": num(int64(u.Errors)), ":cost": decimal(u.Cost, 15),
			":duration": num(u.DurationMs), ":play": decimal(u.MediaDurationSeconds, 9),
		},
	}
}

// usageUpdates charges span sp to its counters, for the transaction that
// writes it: a span is counted exactly when it is written.
func (s *Store) usageUpdates(sp *mediatrail.Span) []types.TransactWriteItem {
	u := mediatrail.UsageOf(sp)
	var items []types.TransactWriteItem
	for _, sk := range spanUsageSKs(sp) {
		items = append(items, types.TransactWriteItem{Update: s.usageUpdate(sp.WorkspaceID, sk, u)})
	}
	return items
}

// SpanUsage reads the counters of scope with one strongly consistent Query
// (paged past 1 MB): a key prefix for the workspace or an execution, a key
// range for days.
func (s *Store) SpanUsage(ctx context.Context, workspaceID string, scope mediatrail.UsageScope) ([]mediatrail.SpanUsage, error) {
	if !mediatrail.ValidRef(workspaceID) {
		return nil, mediatrail.Invalid("workspace_id", "workspace_id is not a valid reference")
	}
	lo, hi := usageAll, usageAll+"~" // '~' sorts after every hex digit
	switch {
	case scope.ExecutionID != "":
		if !mediatrail.ValidRef(scope.ExecutionID) {
			return nil, mediatrail.Invalid("execution_id", "execution_id is not a valid reference")
		}
		lo, hi = usageExec+scope.ExecutionID+"#", usageExec+scope.ExecutionID+"#~"
	case scope.ByDay:
		lo, hi = usageDay, usageDay+"~"
		if !scope.FromDay.IsZero() {
			lo = usageDay + scope.FromDay.UTC().Format(dayLayout) + "#"
		}
		if !scope.ToDay.IsZero() {
			hi = usageDay + scope.ToDay.UTC().Format(dayLayout) + "#~"
		}
		if lo > hi {
			return nil, nil
		}
	}
	in := &dynamodb.QueryInput{
		TableName:                aws.String(s.table),
		ConsistentRead:           aws.Bool(true),
		KeyConditionExpression:   aws.String("#pk = :pk AND #sk BETWEEN :lo AND :hi"),
		ExpressionAttributeNames: map[string]string{"#pk": attrPK, "#sk": attrSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(wsPK(workspaceID)), ":lo": str(lo), ":hi": str(hi),
		},
	}
	var out []mediatrail.SpanUsage
	pages := dynamodb.NewQueryPaginator(s.client, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("dynamo: read span usage: %w", err)
		}
		for _, item := range page.Items {
			u, err := unmarshalUsage(item)
			if err != nil {
				return nil, err
			}
			out = append(out, u)
		}
	}
	return out, nil
}

func unmarshalUsage(item map[string]types.AttributeValue) (mediatrail.SpanUsage, error) {
	r := itemReader{item: item}
	u := mediatrail.SpanUsage{
		Provider: r.str(attrProvider), MediaType: mediatrail.Capability(r.str(attrMediaType)),
		Kind: mediatrail.SpanKind(r.str(attrKind)), Model: r.str(attrModel),
		Status: mediatrail.SpanStatus(r.str(attrStatus)), SessionID: r.str(attrSessionID),
	}
	u.Count = int(r.int(attrCount))
	u.Errors = int(r.int(attrErrors))
	u.Unpriced = int(r.int(attrUnpriced))
	u.DurationMs = r.int(attrDurationMs)
	u.Cost = r.float(attrCost)
	u.MediaDurationSeconds = r.float(attrMediaDuration)
	if r.err != nil {
		return u, fmt.Errorf("dynamo: decode span usage: %w", r.err)
	}
	return u, nil
}
