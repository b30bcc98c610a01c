// Package s3 implements mediatrail.BlobStore on any S3-compatible object store
// (AWS S3, Cloudflare R2, MinIO, versitygw) with aws-sdk-go-v2.
//
// Only features every such store supports are used: path-style addressing when
// asked, SigV4 presigned URLs, plain (non-trailing) checksums sent only where an
// operation requires one or where this package binds a body to its SHA-256.
//
// Blobs written by Store.Put carry their hex SHA-256 in the user metadata key
// "sha256". Blobs uploaded through a presigned PUT carry it as the object's
// full-object SHA-256 checksum, which the store verified on receipt. Stat reads
// either, so callers can verify a blob without downloading it.
package s3
