package dynamo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Key and index attribute names of the table.
const (
	attrPK = "PK"
	attrSK = "SK"
)

// TTLAttribute is the attribute DynamoDB's time to live reads (epoch seconds).
const TTLAttribute = "ttl"

// GSI names. GSIn is keyed by GSInPK / GSInSK.
const (
	GSI1 = "GSI1" // WS#{ws}#EXEC#{execution} / ASSET#{id}
	GSI2 = "GSI2" // WS#{ws}#AGENT#{agent} / ASSET#{id}
	GSI3 = "GSI3" // WS#{ws}#TYPE#{type} / ASSET#{id}
	GSI4 = "GSI4" // WS#{ws}#PROV#{provider} / ASSET#{id}, SPAN#{id}
	// Spans only (README "Table design": which index serves which filter).
	GSI5 = "GSI5" // WS#{ws}#AGENT#{agent} / SPAN#{id}
	GSI6 = "GSI6" // WS#{ws}#SESSION#{session} / SPAN#{id}
	GSI7 = "GSI7" // WS#{ws}#MODEL#{model} / SPAN#{id}
	GSI8 = "GSI8" // WS#{ws}#MEDIA#{media_type} / SPAN#{id}
	GSI9 = "GSI9" // WS#{ws}#STATUS#{status} / SPAN#{id}
)

var gsiNames = []string{GSI1, GSI2, GSI3, GSI4, GSI5, GSI6, GSI7, GSI8, GSI9, GSI10}

// GSI10 finds a workspace's assets by the SHA-256 of their bytes (provenance
// look-ups): GSI10PK = WS#{ws}#SHA#{sha256}, GSI10SK = ASSET#{id}. It projects
// the keys only, so an asset's status changes never write it: it costs one
// index write when the asset is created, and a look-up reads the records it
// names consistently from the table.
const GSI10 = "GSI10"

func gsiPK(index string) string { return index + "PK" }
func gsiSK(index string) string { return index + "SK" }

// TableSchema is the one definition of the table: key schema, attribute
// definitions and GSIs (projection ALL but GSI10's keys only), billing on
// demand. CreateTable uses it; template.yaml must declare the same.
func TableSchema(table string) *dynamodb.CreateTableInput {
	in := &dynamodb.CreateTableInput{
		TableName:   aws.String(table),
		BillingMode: types.BillingModePayPerRequest,
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(attrPK), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(attrSK), KeyType: types.KeyTypeRange},
		},
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(attrPK), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(attrSK), AttributeType: types.ScalarAttributeTypeS},
		},
	}
	for _, name := range gsiNames {
		projection := types.ProjectionTypeAll
		if name == GSI10 {
			projection = types.ProjectionTypeKeysOnly
		}
		in.AttributeDefinitions = append(in.AttributeDefinitions,
			types.AttributeDefinition{AttributeName: aws.String(gsiPK(name)), AttributeType: types.ScalarAttributeTypeS},
			types.AttributeDefinition{AttributeName: aws.String(gsiSK(name)), AttributeType: types.ScalarAttributeTypeS},
		)
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, types.GlobalSecondaryIndex{
			IndexName: aws.String(name),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(gsiPK(name)), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(gsiSK(name)), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{ProjectionType: projection},
		})
	}
	return in
}

// CreateTable creates the table as TableSchema describes it, waits until it is
// ACTIVE and enables time to live on TTLAttribute. A table that already exists
// is waited for and given the indexes it lacks (addIndexes: a table made
// before an index was added, such as a `make run` .data of an older
// version), so calling it again succeeds. It is meant for local set-up and
// tests; deployed tables come from template.yaml.
func CreateTable(ctx context.Context, client *dynamodb.Client, table string) error {
	_, err := client.CreateTable(ctx, TableSchema(table))
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("dynamo: create table %s: %w", table, err)
	}
	waiter := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 20 * time.Millisecond
		o.MaxDelay = 500 * time.Millisecond
	})
	if err := waiter.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, 2*time.Minute); err != nil {
		return fmt.Errorf("dynamo: wait for table %s: %w", table, err)
	}
	if inUse != nil {
		if err := addIndexes(ctx, client, table); err != nil {
			return err
		}
	}
	ttl, err := client.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(table)})
	if err != nil {
		return fmt.Errorf("dynamo: describe ttl of %s: %w", table, err)
	}
	if d := ttl.TimeToLiveDescription; d != nil && aws.ToString(d.AttributeName) == TTLAttribute &&
		(d.TimeToLiveStatus == types.TimeToLiveStatusEnabled || d.TimeToLiveStatus == types.TimeToLiveStatusEnabling) {
		return nil
	}
	_, err = client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName: aws.String(table),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{
			AttributeName: aws.String(TTLAttribute),
			Enabled:       aws.Bool(true),
		},
	})
	if err != nil {
		return fmt.Errorf("dynamo: enable ttl on %s: %w", table, err)
	}
	return nil
}

// addIndexes creates, one at a time as DynamoDB requires, the GSIs of
// TableSchema that table lacks, waits for each to be ACTIVE, then writes the
// keys of the new span indexes onto the spans already stored (a Scan of
// SPAN# items: local set-up only, never a request).
func addIndexes(ctx context.Context, client *dynamodb.Client, table string) error {
	desc, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		return fmt.Errorf("dynamo: describe table %s: %w", table, err)
	}
	have := map[string]bool{}
	for _, g := range desc.Table.GlobalSecondaryIndexes {
		have[aws.ToString(g.IndexName)] = true
	}
	schema := TableSchema(table)
	added := false
	for _, g := range schema.GlobalSecondaryIndexes {
		name := aws.ToString(g.IndexName)
		if have[name] {
			continue
		}
		_, err := client.UpdateTable(ctx, &dynamodb.UpdateTableInput{
			TableName: aws.String(table),
			AttributeDefinitions: []types.AttributeDefinition{
				{AttributeName: aws.String(gsiPK(name)), AttributeType: types.ScalarAttributeTypeS},
				{AttributeName: aws.String(gsiSK(name)), AttributeType: types.ScalarAttributeTypeS},
			},
			GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Create: &types.CreateGlobalSecondaryIndexAction{
				IndexName: g.IndexName, KeySchema: g.KeySchema, Projection: g.Projection,
			}}},
		})
		if err != nil {
			return fmt.Errorf("dynamo: add index %s to %s: %w", name, table, err)
		}
		if err := waitForIndex(ctx, client, table, name); err != nil {
			return err
		}
		added = true
	}
	if !added {
		return nil
	}
	return reindexSpans(ctx, client, table)
}

// waitForIndex polls until index of table is ACTIVE, at most two minutes.
func waitForIndex(ctx context.Context, client *dynamodb.Client, table, index string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		desc, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		if err != nil {
			return fmt.Errorf("dynamo: wait for index %s: %w", index, err)
		}
		for _, g := range desc.Table.GlobalSecondaryIndexes {
			if aws.ToString(g.IndexName) == index && g.IndexStatus == types.IndexStatusActive {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("dynamo: wait for index %s: %w", index, ctx.Err())
		case <-tick.C:
		}
	}
}

// reindexSpans sets every stored span's index keys as marshalSpan writes
// them today, leaving its other attributes alone.
func reindexSpans(ctx context.Context, client *dynamodb.Client, table string) error {
	pages := dynamodb.NewScanPaginator(client, &dynamodb.ScanInput{
		TableName:                 aws.String(table),
		FilterExpression:          aws.String("begins_with(#sk, :span)"),
		ExpressionAttributeNames:  map[string]string{"#sk": attrSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":span": str(spanPrefix)},
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("dynamo: reindex spans of %s: %w", table, err)
		}
		for _, item := range page.Items {
			sp, err := unmarshalSpan(item)
			if err != nil {
				return err
			}
			fresh, err := marshalSpan(sp)
			if err != nil {
				return err
			}
			var sets []string
			names := map[string]string{"#pk": attrPK}
			values := map[string]types.AttributeValue{}
			for i, name := range gsiNames {
				if v, ok := fresh[gsiPK(name)]; ok {
					sets = append(sets, fmt.Sprintf("#p%d = :p%d, #s%d = :s%d", i, i, i, i))
					names[fmt.Sprintf("#p%d", i)], names[fmt.Sprintf("#s%d", i)] = gsiPK(name), gsiSK(name)
					values[fmt.Sprintf(":p%d", i)], values[fmt.Sprintf(":s%d", i)] = v, fresh[gsiSK(name)]
				}
			}
			if len(sets) == 0 {
				continue
			}
			_, err = client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
				TableName:                 aws.String(table),
				Key:                       map[string]types.AttributeValue{attrPK: item[attrPK], attrSK: item[attrSK]},
				UpdateExpression:          aws.String("SET " + strings.Join(sets, ", ")),
				ConditionExpression:       aws.String("attribute_exists(#pk)"),
				ExpressionAttributeNames:  names,
				ExpressionAttributeValues: values,
			})
			if _, failed := conditionFailed(err, 0); failed {
				continue // deleted meanwhile
			}
			if err != nil {
				return fmt.Errorf("dynamo: reindex span: %w", err)
			}
		}
	}
	return nil
}
