package dynamo

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

var _ mediatrail.BlobShareStore = (*Store)(nil)

// Share record attributes (item WS#{ws} / BLOB#{owner}).
const (
	blobPrefix    = "BLOB#"
	attrUsers     = "users" // string set of the asset ids using the blob
	attrDedup     = "deduplicated"
	shareItemSize = 2 // the transaction items a share adds (shareItems)
)

func blobKey(ws, owner string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: str(wsPK(ws)), attrSK: str(blobPrefix + owner)}
}

// shareItems are the transaction items that make assetID a user of share's
// blob: the asset it was found through must still be ready with the blob's
// key, and the share record takes it (with that asset, which may be the
// owner joining the record it creates) while it has room.
func (s *Store) shareItems(share *mediatrail.BlobShare, assetID string) []types.TransactWriteItem {
	return []types.TransactWriteItem{
		{ConditionCheck: &types.ConditionCheck{
			TableName:                aws.String(s.table),
			Key:                      assetKey(share.WorkspaceID, share.Via),
			ConditionExpression:      aws.String("#status = :ready AND #key = :key"),
			ExpressionAttributeNames: map[string]string{"#status": attrStatus, "#key": attrStorageKey},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":ready": str(string(mediatrail.StatusReady)), ":key": str(share.Key),
			},
		}},
		{Update: &types.Update{
			TableName:                aws.String(s.table),
			Key:                      blobKey(share.WorkspaceID, share.OwnerID),
			UpdateExpression:         aws.String("ADD #users :ids SET #key = :key, #sha = :sha"),
			ConditionExpression:      aws.String("attribute_not_exists(#users) OR size(#users) < :max"),
			ExpressionAttributeNames: map[string]string{"#users": attrUsers, "#key": attrStorageKey, "#sha": attrSHA256},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":ids": &types.AttributeValueMemberSS{Value: uniq(share.Via, assetID)},
				":key": str(share.Key), ":sha": str(share.SHA256),
				":max": num(mediatrail.MaxBlobReferrers),
			},
		}},
	}
}

func uniq(a, b string) []string {
	if a == b {
		return []string{a}
	}
	return []string{a, b}
}

// shareLost reports whether err cancelled a transaction at the share items
// placed from index at.
func shareLost(err error, at int) bool {
	for i := range shareItemSize {
		if _, failed := conditionFailed(err, at+i); failed {
			return true
		}
	}
	return false
}

// BlobUsers reads the share record of owner's blob consistently.
func (s *Store) BlobUsers(ctx context.Context, workspaceID, ownerID string) ([]string, error) {
	if !mediatrail.ValidRef(workspaceID) || !mediatrail.ValidID(ownerID) {
		return nil, nil
	}
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            blobKey(workspaceID, ownerID),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("dynamo: get blob share %s: %w", ownerID, err)
	}
	users, _ := out.Item[attrUsers].(*types.AttributeValueMemberSS)
	if users == nil {
		return nil, nil
	}
	return users.Value, nil
}

// DetachBlob deletes assetID from the users set, on condition that the share
// record exists (an UpdateItem would otherwise create it). DynamoDB removes
// a set that becomes empty, so the last user leaves a record without users.
func (s *Store) DetachBlob(ctx context.Context, workspaceID, ownerID, assetID string) (int, bool, error) {
	if !mediatrail.ValidRef(workspaceID) || !mediatrail.ValidID(ownerID) {
		return 0, false, nil
	}
	out, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       blobKey(workspaceID, ownerID),
		UpdateExpression:          aws.String("DELETE #users :id"),
		ConditionExpression:       aws.String("attribute_exists(#pk)"),
		ExpressionAttributeNames:  map[string]string{"#users": attrUsers, "#pk": attrPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":id": &types.AttributeValueMemberSS{Value: []string{assetID}}},
		ReturnValues:              types.ReturnValueAllNew,
	})
	if _, failed := conditionFailed(err, 0); failed {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("dynamo: detach asset %s from blob %s: %w", assetID, ownerID, err)
	}
	users, _ := out.Attributes[attrUsers].(*types.AttributeValueMemberSS)
	if users == nil {
		return 0, true, nil
	}
	return len(users.Value), true, nil
}

// DropSharedBlob deletes the share record on condition that it has no users.
func (s *Store) DropSharedBlob(ctx context.Context, workspaceID, ownerID string) error {
	if !mediatrail.ValidRef(workspaceID) || !mediatrail.ValidID(ownerID) {
		return nil
	}
	_, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                aws.String(s.table),
		Key:                      blobKey(workspaceID, ownerID),
		ConditionExpression:      aws.String("attribute_not_exists(#users)"),
		ExpressionAttributeNames: map[string]string{"#users": attrUsers},
	})
	if _, failed := conditionFailed(err, 0); failed {
		return mediatrail.Conflict("", "assets joined the shared blob")
	}
	if err != nil {
		return fmt.Errorf("dynamo: drop blob share %s: %w", ownerID, err)
	}
	return nil
}

// dedupAttr is the item attribute of Asset.Deduplicated (absent when false).
func dedupAttr(item map[string]types.AttributeValue) bool {
	b, _ := item[attrDedup].(*types.AttributeValueMemberBOOL)
	return b != nil && b.Value
}
