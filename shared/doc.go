// Package mediatrail is the domain of mediatrail: assets, workspaces, API keys,
// the errors every layer speaks, the interfaces adapters implement, and the use
// cases written against those interfaces.
//
// It imports no AWS SDK and no adapter. Adapters live in subpackages, one per
// outside system (dynamo, s3, httpapi, ...); functions/* only wire them.
package mediatrail
