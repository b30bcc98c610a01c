package dynamo

import "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

// AssetKey is the table key of asset id of workspace ws, as FindAsset reads
// it: for tools that time the table alone (cmd/load's GetItem floor).
func AssetKey(ws, id string) map[string]types.AttributeValue { return assetKey(ws, id) }
