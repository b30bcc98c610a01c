package dynamo

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

var _ mediatrail.BudgetStore = (*Store)(nil)

// Budget items, all under PK WS#{ws}:
//   - the limits and the alert webhook: attributes budget_* of the
//     workspace's SETTINGS item;
//   - spend counters SPEND#{scope key} (SpendScope.Key): spent (charged by
//     the transaction that writes each span, spendUpdates), reserved (held
//     by calls still running) and committed = spent + reserved, the one
//     number a hold's condition can compare, since conditions cannot add;
//   - holds HOLD#{span id}: amount, the counters held and expires_at. They
//     carry no TTL: a deleted hold must give its amount back, which only
//     Release does (a later refusal releases expired holds);
//   - alerts ALERT#{yyyy-mm}#{scope key}#{threshold}, written once.
const (
	spendPrefix = "SPEND#"
	holdPrefix  = "HOLD#"
	alertPrefix = "ALERT#"
)

const (
	attrSpent     = "spent"
	attrReserved  = "reserved"
	attrCommitted = "committed"
	attrAmount    = "amount"
	attrScopes    = "scopes"
	attrHoldUntil = "hold_until"
)

// budgetAttrs are the limits' attributes on the settings item.
var budgetAttrs = []string{"budget_" + mediatrail.LimitMonthly, "budget_" + mediatrail.LimitPerExecution, "budget_" + mediatrail.LimitPerAgentDaily}

// attrAlertWebhook is the budget's alert_webhook_url on the settings item.
const attrAlertWebhook = "budget_alert_webhook_url"

func budgetLimits(b *mediatrail.Budget) []*float64 {
	return []*float64{b.MonthlyUSD, b.PerExecutionUSD, b.PerAgentDailyUSD}
}

func spendSK(sc mediatrail.SpendScope) string { return spendPrefix + sc.Key() }

// FindBudget reads the limits from the workspace's settings, consistently
// (a new limit holds from the next call on).
func (s *Store) FindBudget(ctx context.Context, workspaceID string) (*mediatrail.Budget, error) {
	b := &mediatrail.Budget{WorkspaceID: workspaceID}
	if !mediatrail.ValidRef(workspaceID) {
		return nil, mediatrail.Invalid("workspace_id", "workspace_id is not a valid reference")
	}
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            map[string]types.AttributeValue{attrPK: str(wsPK(workspaceID)), attrSK: str(settingsSK)},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("dynamo: get budget: %w", err)
	}
	r := itemReader{item: out.Item}
	for i, l := range []**float64{&b.MonthlyUSD, &b.PerExecutionUSD, &b.PerAgentDailyUSD} {
		if _, ok := out.Item[budgetAttrs[i]]; ok {
			v := r.float(budgetAttrs[i])
			*l = &v
		}
	}
	if _, ok := out.Item["budget_updated_at"]; ok {
		b.UpdatedAt = r.time("budget_updated_at")
	}
	if _, ok := out.Item[attrAlertWebhook]; ok {
		b.AlertWebhookURL = r.str(attrAlertWebhook)
	}
	if r.err != nil {
		return nil, fmt.Errorf("dynamo: decode budget: %w", r.err)
	}
	return b, nil
}

// PutBudget sets the limits and the alert webhook on the settings item,
// removing those that are nil or empty and keeping the item's other
// settings.
func (s *Store) PutBudget(ctx context.Context, b *mediatrail.Budget) error {
	if !mediatrail.ValidRef(b.WorkspaceID) {
		return mediatrail.Invalid("workspace_id", "workspace_id is not a valid reference")
	}
	names := map[string]string{"#updated": "budget_updated_at"}
	values := map[string]types.AttributeValue{":updated": str(formatTime(b.UpdatedAt))}
	set, remove := []string{"#updated = :updated"}, []string{}
	for i, l := range budgetLimits(b) {
		name := fmt.Sprintf("#l%d", i)
		names[name] = budgetAttrs[i]
		if l == nil {
			remove = append(remove, name)
			continue
		}
		values[fmt.Sprintf(":l%d", i)] = decimal(*l, 12)
		set = append(set, fmt.Sprintf("%s = :l%d", name, i))
	}
	names["#hook"] = attrAlertWebhook
	if b.AlertWebhookURL == "" {
		remove = append(remove, "#hook")
	} else {
		values[":hook"] = str(b.AlertWebhookURL)
		set = append(set, "#hook = :hook")
	}
	expr := "SET " + strings.Join(set, ", ")
	if len(remove) > 0 {
		expr += " REMOVE " + strings.Join(remove, ", ")
	}
	_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       map[string]types.AttributeValue{attrPK: str(wsPK(b.WorkspaceID)), attrSK: str(settingsSK)},
		UpdateExpression:          aws.String(expr),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	})
	if err != nil {
		return fmt.Errorf("dynamo: put budget: %w", err)
	}
	return nil
}

// spendAdd is the update adding spent and reserved (either may be 0 or
// negative) to the counter sc of ws, and both to committed.
func (s *Store) spendAdd(ws string, sc mediatrail.SpendScope, spent, reserved float64) *types.Update {
	return &types.Update{
		TableName: aws.String(s.table),
		Key:       map[string]types.AttributeValue{attrPK: str(wsPK(ws)), attrSK: str(spendSK(sc))},
		UpdateExpression: aws.String("SET #limit = :limit, #period = :period, #exec = :exec, #agent = :agent " +
			"ADD #spent :spent, #reserved :reserved, #committed :committed"),
		ExpressionAttributeNames: map[string]string{"#limit": "limit", "#period": "period", "#exec": attrExecutionID, "#agent": attrAgentID,
			"#spent": attrSpent, "#reserved": attrReserved, "#committed": attrCommitted},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":limit": str(sc.Limit), ":period": str(sc.Period), ":exec": str(sc.ExecutionID), ":agent": str(sc.AgentID),
			":spent": decimal(spent, 12), ":reserved": decimal(reserved, 12), ":committed": decimal(spent+reserved, 12),
		},
	}
}

// spendUpdates charges span sp's cost to its spend counters, for the
// transaction that writes it: spend is counted exactly when a span is
// written, and a span without cost changes none.
func (s *Store) spendUpdates(sp *mediatrail.Span) []types.TransactWriteItem {
	if sp.Cost.Amount == 0 {
		return nil
	}
	var items []types.TransactWriteItem
	for _, sc := range mediatrail.SpendScopes(sp.StartedAt, sp.ExecutionID, sp.AgentID) {
		items = append(items, types.TransactWriteItem{Update: s.spendAdd(sp.WorkspaceID, sc, sp.Cost.Amount, 0)})
	}
	return items
}

// SpendOf reads the counters of scopes with one consistent BatchGetItem.
func (s *Store) SpendOf(ctx context.Context, workspaceID string, scopes []mediatrail.SpendScope) ([]mediatrail.Spend, error) {
	if !mediatrail.ValidRef(workspaceID) {
		return nil, mediatrail.Invalid("workspace_id", "workspace_id is not a valid reference")
	}
	keys := make([]map[string]types.AttributeValue, len(scopes))
	for i, sc := range scopes {
		keys[i] = map[string]types.AttributeValue{attrPK: str(wsPK(workspaceID)), attrSK: str(spendSK(sc))}
	}
	found := map[string]map[string]types.AttributeValue{}
	req := map[string]types.KeysAndAttributes{s.table: {Keys: keys, ConsistentRead: aws.Bool(true)}}
	for len(req) > 0 && len(req[s.table].Keys) > 0 {
		out, err := s.client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
		if err != nil {
			return nil, fmt.Errorf("dynamo: read spend: %w", err)
		}
		for _, item := range out.Responses[s.table] {
			found[(&itemReader{item: item}).str(attrSK)] = item
		}
		req = out.UnprocessedKeys
	}
	spend := make([]mediatrail.Spend, len(scopes))
	for i, sc := range scopes {
		r := itemReader{item: found[spendSK(sc)]}
		spend[i] = mediatrail.Spend{SpendScope: sc, Spent: r.float(attrSpent), Reserved: r.float(attrReserved)}
		if r.err != nil {
			return nil, fmt.Errorf("dynamo: decode spend: %w", r.err)
		}
	}
	return spend, nil
}

// Hold writes the hold and adds its amount to each counter in one
// transaction, each on condition that the counter's committed spend is at
// most its room: parallel holds serialise on the counters, so together they
// never pass a limit by more than what the calls cost beyond their
// estimates.
func (s *Store) Hold(ctx context.Context, h *mediatrail.BudgetHold) error {
	if !mediatrail.ValidRef(h.WorkspaceID) || !mediatrail.ValidID(h.ID) {
		return mediatrail.Invalid("hold", "a hold needs a workspace and a KSUID")
	}
	keys := make([]string, len(h.Scopes))
	for i, sc := range h.Scopes {
		keys[i] = spendSK(sc.SpendScope)
	}
	items := []types.TransactWriteItem{{Put: &types.Put{
		TableName: aws.String(s.table),
		Item: map[string]types.AttributeValue{
			attrPK: str(wsPK(h.WorkspaceID)), attrSK: str(holdPrefix + h.ID), attrAmount: decimal(h.Amount, 12),
			attrScopes: &types.AttributeValueMemberSS{Value: keys}, attrHoldUntil: str(formatTime(h.ExpiresAt)),
		},
		ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#pk": attrPK},
	}}}
	for _, sc := range h.Scopes {
		u := s.spendAdd(h.WorkspaceID, sc.SpendScope, 0, h.Amount)
		u.ConditionExpression = aws.String("attribute_not_exists(#committed) OR #committed <= :room")
		u.ExpressionAttributeValues[":room"] = decimal(sc.Room, 12)
		u.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
		items = append(items, types.TransactWriteItem{Update: u})
	}
	err := s.transact(ctx, items)
	if _, failed := conditionFailed(err, 0); failed {
		return mediatrail.Errorf(mediatrail.ECONFLICT, "budget hold %s already exists", h.ID)
	}
	for i, sc := range h.Scopes {
		if item, failed := conditionFailed(err, i+1); failed {
			r := itemReader{item: item}
			refusal := &mediatrail.BudgetRefusal{Spend: mediatrail.Spend{SpendScope: sc.SpendScope, Spent: r.float(attrSpent), Reserved: r.float(attrReserved)}}
			return refusal
		}
	}
	if err != nil {
		return fmt.Errorf("dynamo: hold budget: %w", err)
	}
	return nil
}

// Release deletes the hold, on condition that it still exists, and takes
// its amount back from its counters, in one transaction.
func (s *Store) Release(ctx context.Context, workspaceID, id string) (bool, error) {
	if !mediatrail.ValidRef(workspaceID) || !mediatrail.ValidID(id) {
		return false, nil
	}
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            map[string]types.AttributeValue{attrPK: str(wsPK(workspaceID)), attrSK: str(holdPrefix + id)},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return false, fmt.Errorf("dynamo: get budget hold: %w", err)
	}
	if out.Item == nil {
		return false, nil
	}
	return s.release(ctx, workspaceID, out.Item)
}

func (s *Store) release(ctx context.Context, ws string, hold map[string]types.AttributeValue) (bool, error) {
	r := itemReader{item: hold}
	sk, amount := r.str(attrSK), r.float(attrAmount)
	if r.err != nil {
		return false, fmt.Errorf("dynamo: decode budget hold: %w", r.err)
	}
	items := []types.TransactWriteItem{{Delete: &types.Delete{
		TableName:                aws.String(s.table),
		Key:                      map[string]types.AttributeValue{attrPK: str(wsPK(ws)), attrSK: str(sk)},
		ConditionExpression:      aws.String("attribute_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#pk": attrPK},
	}}}
	scopes, _ := hold[attrScopes].(*types.AttributeValueMemberSS)
	if scopes != nil {
		for _, key := range scopes.Value {
			items = append(items, types.TransactWriteItem{Update: &types.Update{
				TableName:                 aws.String(s.table),
				Key:                       map[string]types.AttributeValue{attrPK: str(wsPK(ws)), attrSK: str(key)},
				UpdateExpression:          aws.String("ADD #reserved :minus, #committed :minus"),
				ExpressionAttributeNames:  map[string]string{"#reserved": attrReserved, "#committed": attrCommitted},
				ExpressionAttributeValues: map[string]types.AttributeValue{":minus": decimal(-amount, 12)},
			}})
		}
	}
	err := s.transact(ctx, items)
	if _, failed := conditionFailed(err, 0); failed {
		return false, nil // released meanwhile
	}
	if err != nil {
		return false, fmt.Errorf("dynamo: release budget hold: %w", err)
	}
	return true, nil
}

// ReleaseExpired queries the workspace's holds and releases those that
// expired before now.
func (s *Store) ReleaseExpired(ctx context.Context, workspaceID string, now time.Time) (int, error) {
	if !mediatrail.ValidRef(workspaceID) {
		return 0, nil
	}
	pages := dynamodb.NewQueryPaginator(s.client, &dynamodb.QueryInput{
		TableName:                aws.String(s.table),
		ConsistentRead:           aws.Bool(true),
		KeyConditionExpression:   aws.String("#pk = :pk AND begins_with(#sk, :hold)"),
		FilterExpression:         aws.String("#expires < :now"),
		ExpressionAttributeNames: map[string]string{"#pk": attrPK, "#sk": attrSK, "#expires": attrHoldUntil},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(wsPK(workspaceID)), ":hold": str(holdPrefix), ":now": str(formatTime(now)),
		},
	})
	n := 0
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return n, fmt.Errorf("dynamo: list budget holds: %w", err)
		}
		for _, item := range page.Items {
			ok, err := s.release(ctx, workspaceID, item)
			if err != nil {
				return n, err
			}
			if ok {
				n++
			}
		}
	}
	return n, nil
}

func alertSK(a *mediatrail.BudgetAlert) string {
	return fmt.Sprintf("%s%s#%s#%03d", alertPrefix, a.At.UTC().Format("2006-01"), a.Key(), a.Threshold)
}

// RecordAlert puts the alert on condition that it is new. An alert's key
// holds its scope's period: a month's, a day's, an execution's (recorded in
// the month it crossed).
func (s *Store) RecordAlert(ctx context.Context, a *mediatrail.BudgetAlert) (bool, error) {
	if !mediatrail.ValidRef(a.WorkspaceID) {
		return false, mediatrail.Invalid("workspace_id", "workspace_id is not a valid reference")
	}
	_, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table),
		Item: map[string]types.AttributeValue{
			attrPK: str(wsPK(a.WorkspaceID)), attrSK: str(alertSK(a)),
			"limit": str(a.Limit), "period": str(a.Period), attrExecutionID: str(a.ExecutionID), attrAgentID: str(a.AgentID),
			"threshold": num(int64(a.Threshold)), "limit_usd": decimal(a.LimitUSD, 12), attrSpent: decimal(a.SpentUSD, 12),
			"at": str(formatTime(a.At)),
		},
		ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#pk": attrPK},
	})
	if _, failed := conditionFailed(err, 0); failed {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("dynamo: record budget alert: %w", err)
	}
	return true, nil
}

// ListAlerts queries the alerts of the months from from's on, newest month
// first.
func (s *Store) ListAlerts(ctx context.Context, workspaceID string, from time.Time) ([]mediatrail.BudgetAlert, error) {
	if !mediatrail.ValidRef(workspaceID) {
		return nil, mediatrail.Invalid("workspace_id", "workspace_id is not a valid reference")
	}
	pages := dynamodb.NewQueryPaginator(s.client, &dynamodb.QueryInput{
		TableName:                aws.String(s.table),
		ScanIndexForward:         aws.Bool(false),
		KeyConditionExpression:   aws.String("#pk = :pk AND #sk BETWEEN :lo AND :hi"),
		ExpressionAttributeNames: map[string]string{"#pk": attrPK, "#sk": attrSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(wsPK(workspaceID)), ":lo": str(alertPrefix + from.UTC().Format("2006-01")), ":hi": str(alertPrefix + "~"),
		},
	})
	alerts := []mediatrail.BudgetAlert{}
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("dynamo: list budget alerts: %w", err)
		}
		for _, item := range page.Items {
			r := itemReader{item: item}
			a := mediatrail.BudgetAlert{WorkspaceID: workspaceID,
				SpendScope: mediatrail.SpendScope{Limit: r.str("limit"), Period: r.str("period"), ExecutionID: r.str(attrExecutionID), AgentID: r.str(attrAgentID)},
				Threshold:  int(r.int("threshold")), LimitUSD: r.float("limit_usd"), SpentUSD: r.float(attrSpent), At: r.time("at"),
			}
			if r.err != nil {
				return nil, fmt.Errorf("dynamo: decode budget alert: %w", r.err)
			}
			alerts = append(alerts, a)
		}
	}
	return alerts, nil
}
