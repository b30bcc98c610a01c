package dynamo

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

var (
	_ mediatrail.SettingsStore  = (*Store)(nil)
	_ mediatrail.RetentionStore = (*Store)(nil)
)

// attrProvenanceEmbedding is the settings item's switch (BOOL); absent means
// the default.
const attrProvenanceEmbedding = "provenance_embedding"

// WorkspaceSettings reads the switches of the workspace's settings item,
// consistently (a change holds from the next call on).
func (s *Store) WorkspaceSettings(ctx context.Context, workspaceID string) (mediatrail.WorkspaceSettings, error) {
	out := mediatrail.DefaultWorkspaceSettings
	if !mediatrail.ValidRef(workspaceID) {
		return out, nil
	}
	got, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:                aws.String(s.table),
		Key:                      map[string]types.AttributeValue{attrPK: str(wsPK(workspaceID)), attrSK: str(settingsSK)},
		ProjectionExpression:     aws.String("#prov"),
		ExpressionAttributeNames: map[string]string{"#prov": attrProvenanceEmbedding},
		ConsistentRead:           aws.Bool(true),
	})
	if err != nil {
		return out, fmt.Errorf("dynamo: get workspace settings: %w", err)
	}
	switch v := got.Item[attrProvenanceEmbedding].(type) {
	case nil:
	case *types.AttributeValueMemberBOOL:
		out.ProvenanceEmbedding = v.Value
	default:
		return out, fmt.Errorf("dynamo: decode workspace settings: %s is not a boolean", attrProvenanceEmbedding)
	}
	return out, nil
}

// SetWorkspaceSettings sets the switches in gives on the settings item,
// keeping its other attributes. EINVALID for an invalid workspace.
func (s *Store) SetWorkspaceSettings(ctx context.Context, workspaceID string, in mediatrail.SetSettingsInput, at time.Time) error {
	if !mediatrail.ValidRef(workspaceID) {
		return mediatrail.Invalid("workspace_id", "workspace_id is not a valid reference")
	}
	if in.ProvenanceEmbedding == nil {
		return nil
	}
	_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(s.table),
		Key:                      map[string]types.AttributeValue{attrPK: str(wsPK(workspaceID)), attrSK: str(settingsSK)},
		UpdateExpression:         aws.String("SET #prov = :prov, #updated = :at"),
		ExpressionAttributeNames: map[string]string{"#prov": attrProvenanceEmbedding, "#updated": "settings_updated_at"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":prov": &types.AttributeValueMemberBOOL{Value: *in.ProvenanceEmbedding}, ":at": str(formatTime(at)),
		},
	})
	if err != nil {
		return fmt.Errorf("dynamo: set workspace settings: %w", err)
	}
	return nil
}

// settingsSK is the sort key of a workspace's settings item (PK WS#{ws}).
const settingsSK = "SETTINGS"

// WorkspaceRetention returns the retention the workspace set; ok is false
// when it has set none (or the workspace reference is invalid).
func (s *Store) WorkspaceRetention(ctx context.Context, workspaceID string) (int, bool, error) {
	if !mediatrail.ValidRef(workspaceID) {
		return 0, false, nil
	}
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:                aws.String(s.table),
		Key:                      map[string]types.AttributeValue{attrPK: str(wsPK(workspaceID)), attrSK: str(settingsSK)},
		ProjectionExpression:     aws.String("#days"),
		ExpressionAttributeNames: map[string]string{"#days": attrRetentionDays},
		ConsistentRead:           aws.Bool(true),
	})
	if err != nil {
		return 0, false, fmt.Errorf("dynamo: get workspace settings: %w", err)
	}
	if _, ok := out.Item[attrRetentionDays]; !ok {
		return 0, false, nil
	}
	r := itemReader{item: out.Item}
	days := int(r.int(attrRetentionDays))
	if r.err != nil {
		return 0, false, fmt.Errorf("dynamo: decode workspace settings: %w", r.err)
	}
	return days, true, nil
}

// SetWorkspaceRetention sets the workspace's retention, keeping any other
// setting of the item. EINVALID for an invalid workspace or retention.
func (s *Store) SetWorkspaceRetention(ctx context.Context, workspaceID string, days int, at time.Time) error {
	if !mediatrail.ValidRef(workspaceID) {
		return mediatrail.Invalid("workspace_id", "workspace_id is not a valid reference")
	}
	if err := mediatrail.ValidateRetentionDays(days); err != nil {
		return err
	}
	_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       map[string]types.AttributeValue{attrPK: str(wsPK(workspaceID)), attrSK: str(settingsSK)},
		UpdateExpression:          aws.String("SET #days = :days, #updated = :at"),
		ExpressionAttributeNames:  map[string]string{"#days": attrRetentionDays, "#updated": attrUpdatedAt},
		ExpressionAttributeValues: map[string]types.AttributeValue{":days": num(int64(days)), ":at": str(formatTime(at))},
	})
	if err != nil {
		return fmt.Errorf("dynamo: set workspace retention: %w", err)
	}
	return nil
}
