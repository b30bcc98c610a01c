// Package localstack runs the SAM application on one machine: the real local
// emulators for DynamoDB and S3, and an API Gateway HTTP API (payload 2.0)
// emulation whose routes come from template.yaml, the one source of truth.
// Functions are reached through the Lambda handler protocol (JSON in, JSON out)
// exactly as on AWS.
package localstack
