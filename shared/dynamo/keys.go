package dynamo

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// WorkspaceForKeyHash returns the workspace of a key hash (see
// mediatrail.HashAPIKey), read consistently so a new key works at once.
// EUNAUTHENTICATED if the hash is unknown.
func (s *Store) WorkspaceForKeyHash(ctx context.Context, keyHash string) (string, error) {
	if !validKeyHash(keyHash) {
		return "", mediatrail.Errorf(mediatrail.EUNAUTHENTICATED, "invalid API key")
	}
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            map[string]types.AttributeValue{attrPK: str(keyPK(keyHash)), attrSK: str(keySK)},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return "", fmt.Errorf("dynamo: get API key: %w", err)
	}
	r := itemReader{item: out.Item}
	ws := r.str(attrWorkspaceID)
	if r.err != nil {
		return "", fmt.Errorf("dynamo: decode API key: %w", r.err)
	}
	if ws == "" {
		return "", mediatrail.Errorf(mediatrail.EUNAUTHENTICATED, "invalid API key")
	}
	return ws, nil
}

// PutAPIKey binds a key hash to a workspace, replacing any earlier binding.
// EINVALID unless the hash is 64 lower-case hex characters and the workspace a
// valid reference.
func (s *Store) PutAPIKey(ctx context.Context, keyHash, workspaceID string) error {
	if !validKeyHash(keyHash) {
		return mediatrail.Invalid("key_hash", "key hash must be 64 lower-case hex characters")
	}
	if !mediatrail.ValidRef(workspaceID) {
		return mediatrail.Invalid("workspace_id", "workspace_id is not a valid reference")
	}
	_, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table),
		Item: map[string]types.AttributeValue{
			attrPK:          str(keyPK(keyHash)),
			attrSK:          str(keySK),
			attrWorkspaceID: str(workspaceID),
		},
	})
	if err != nil {
		return fmt.Errorf("dynamo: put API key: %w", err)
	}
	return nil
}

func validKeyHash(h string) bool {
	if len(h) != 64 {
		return false
	}
	for _, c := range h {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
