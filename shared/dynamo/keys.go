package dynamo

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

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

// ListAPIKeys returns every stored key of workspaceID ("" for every
// workspace), sorted by workspace then hash. It scans the table: an
// operator's command (cmd/apikey), never a request.
func (s *Store) ListAPIKeys(ctx context.Context, workspaceID string) ([]mediatrail.StoredAPIKey, error) {
	filter := "begins_with(#pk, :prefix) AND #sk = :sk"
	values := map[string]types.AttributeValue{":prefix": str(keyPK("")), ":sk": str(keySK)}
	if workspaceID != "" {
		filter += " AND #ws = :ws"
		values[":ws"] = str(workspaceID)
	}
	in := &dynamodb.ScanInput{
		TableName:                 aws.String(s.table),
		FilterExpression:          aws.String(filter),
		ExpressionAttributeNames:  map[string]string{"#pk": attrPK, "#sk": attrSK, "#ws": attrWorkspaceID},
		ExpressionAttributeValues: values,
		ProjectionExpression:      aws.String("#pk, #ws"),
		ConsistentRead:            aws.Bool(true),
	}
	var keys []mediatrail.StoredAPIKey
	for {
		out, err := s.client.Scan(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("dynamo: list API keys: %w", err)
		}
		for _, item := range out.Items {
			r := itemReader{item: item}
			pk, ws := r.str(attrPK), r.str(attrWorkspaceID)
			if r.err != nil {
				return nil, fmt.Errorf("dynamo: decode API key: %w", r.err)
			}
			keys = append(keys, mediatrail.StoredAPIKey{Hash: strings.TrimPrefix(pk, keyPK("")), WorkspaceID: ws})
		}
		if len(out.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].WorkspaceID != keys[j].WorkspaceID {
			return keys[i].WorkspaceID < keys[j].WorkspaceID
		}
		return keys[i].Hash < keys[j].Hash
	})
	return keys, nil
}

// DeleteAPIKey revokes the key of keyHash: from the next request on it is
// refused (WorkspaceForKeyHash reads consistently). ENOTFOUND when no key
// has that hash; EINVALID for a malformed hash.
func (s *Store) DeleteAPIKey(ctx context.Context, keyHash string) error {
	if !validKeyHash(keyHash) {
		return mediatrail.Invalid("key_hash", "key hash must be 64 lower-case hex characters")
	}
	_, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                aws.String(s.table),
		Key:                      map[string]types.AttributeValue{attrPK: str(keyPK(keyHash)), attrSK: str(keySK)},
		ConditionExpression:      aws.String("attribute_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#pk": attrPK},
	})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		return mediatrail.Errorf(mediatrail.ENOTFOUND, "no API key has that hash")
	}
	if err != nil {
		return fmt.Errorf("dynamo: delete API key: %w", err)
	}
	return nil
}
