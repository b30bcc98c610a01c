package dynamo

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

var _ mediatrail.ProvenanceStore = (*Store)(nil)

// maxSHAMatches bounds the records one SHA-256 look-up reads: the same bytes
// stored more often than that answer with the newest ones.
const maxSHAMatches = 25

// FindAssetsBySHA256 returns the workspace's asset records (any status) whose
// bytes have the SHA-256 sha, newest first, at most maxSHAMatches: one Query
// of GSI10 (eventually consistent, keys only), then the records read
// consistently from the table (a record purged since is left out).
func (s *Store) FindAssetsBySHA256(ctx context.Context, workspaceID, sha string) ([]*mediatrail.Asset, error) {
	if !mediatrail.ValidRef(workspaceID) || sha == "" {
		return nil, nil
	}
	out, err := s.client.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		IndexName:                 aws.String(GSI10),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": gsiPK(GSI10)},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(shaPK(workspaceID, sha))},
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(maxSHAMatches),
	})
	if err != nil {
		return nil, fmt.Errorf("dynamo: query assets by sha256: %w", err)
	}
	refs := make([]mediatrail.AssetRef, 0, len(out.Items))
	for _, item := range out.Items {
		sk, _ := item[gsiSK(GSI10)].(*types.AttributeValueMemberS)
		if sk != nil {
			refs = append(refs, mediatrail.AssetRef{WorkspaceID: workspaceID, ID: idFromSK(sk.Value)})
		}
	}
	found, err := s.FindAssets(ctx, refs)
	if err != nil {
		return nil, err
	}
	assets := make([]*mediatrail.Asset, 0, len(found))
	for _, r := range refs {
		if a := found[r]; a != nil && a.SHA256 == sha {
			assets = append(assets, a)
		}
	}
	return assets, nil
}
