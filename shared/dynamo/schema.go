package dynamo

import (
	"context"
	"errors"
	"fmt"
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
	GSI4 = "GSI4" // WS#{ws}#PROV#{provider} / ASSET#{id}
)

var gsiNames = []string{GSI1, GSI2, GSI3, GSI4}

// GSI5 finds a workspace's assets by the SHA-256 of their bytes (provenance
// look-ups): GSI5PK = WS#{ws}#SHA#{sha256}, GSI5SK = ASSET#{id}. It projects
// the keys only, so an asset's status changes never write it: it costs one
// index write when the asset is created, and a look-up reads the records it
// names consistently from the table.
const GSI5 = "GSI5"

func gsiPK(index string) string { return index + "PK" }
func gsiSK(index string) string { return index + "SK" }

// TableSchema is the one definition of the table: key schema, attribute
// definitions and GSIs (projection ALL), billing on demand. CreateTable uses it;
// template.yaml must declare the same.
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
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		})
	}
	in.AttributeDefinitions = append(in.AttributeDefinitions,
		types.AttributeDefinition{AttributeName: aws.String(gsiPK(GSI5)), AttributeType: types.ScalarAttributeTypeS},
		types.AttributeDefinition{AttributeName: aws.String(gsiSK(GSI5)), AttributeType: types.ScalarAttributeTypeS},
	)
	in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, types.GlobalSecondaryIndex{
		IndexName: aws.String(GSI5),
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(gsiPK(GSI5)), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(gsiSK(GSI5)), KeyType: types.KeyTypeRange},
		},
		Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly},
	})
	return in
}

// CreateTable creates the table as TableSchema describes it, waits until it is
// ACTIVE and enables time to live on TTLAttribute. A table that already exists
// is waited for and left as it is apart from enabling TTL, so calling it again
// succeeds. It is meant for local set-up and tests; deployed tables come from
// template.yaml.
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
