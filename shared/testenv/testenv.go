// Package testenv hands integration tests clients for the real local emulators
// (DynamoDB Local, versitygw) that `make test` starts once and announces through
// environment variables. Each call gets fresh, uniquely named resources, so
// tests and packages run in parallel without seeing each other's data.
//
// Outside `make test` (a plain `go test`), the tests fail with a message saying how
// to start the emulators: they never silently skip.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Environment variables set by the stack runner (`make test`).
const (
	EnvDynamoDB   = "MEDIATRAIL_TEST_DYNAMODB_ENDPOINT"
	EnvS3         = "MEDIATRAIL_TEST_S3_ENDPOINT"
	EnvS3Access   = "MEDIATRAIL_TEST_S3_ACCESS_KEY"
	EnvS3Secret   = "MEDIATRAIL_TEST_S3_SECRET_KEY"
	EnvKMS        = "MEDIATRAIL_TEST_KMS_ENDPOINT"
	EnvKMSKeyID   = "MEDIATRAIL_TEST_KMS_KEY_ID"
	Region        = "us-east-1"
	dynamoKeyID   = "local"
	dynamoSecret  = "local"
	missingDetail = " is not set: run the tests with `make test`, which starts the emulators, or under `go run ./cmd/localstack exec -- go test ./...`"
)

// Endpoint returns the value of env or fails the test with a clear message.
func Endpoint(tb testing.TB, env string) string {
	tb.Helper()
	v := os.Getenv(env)
	if v == "" {
		tb.Fatalf("%s%s", env, missingDetail)
	}
	return v
}

// UniqueName returns prefix plus a random lower-case suffix, valid as a table or
// bucket name.
func UniqueName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return strings.ToLower(prefix) + "-" + hex.EncodeToString(b)
}

// DynamoDB returns a client for DynamoDB Local.
func DynamoDB(tb testing.TB) *dynamodb.Client {
	tb.Helper()
	url := Endpoint(tb, EnvDynamoDB)
	cfg := aws.Config{
		Region:      Region,
		Credentials: credentials.NewStaticCredentialsProvider(dynamoKeyID, dynamoSecret, ""),
	}
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(url)
		o.DisableValidateResponseChecksum = true // DynamoDB Local's error responses carry none
	})
}

// Table returns a fresh table name for a table that the test, or a stack it
// starts, creates, and drops that table when the test ends (after the cleanups
// registered later, such as the stack's Close). DynamoDB Local slows down as
// tables pile up, and `make test` runs every package against one instance.
func Table(tb testing.TB, prefix string) string {
	tb.Helper()
	client := DynamoDB(tb)
	name := UniqueName(prefix)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// A table that was never created is not found: nothing to drop.
		_, _ = client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)})
	})
	return name
}

// KMS returns a client for local-kms and the id of its seeded key.
func KMS(tb testing.TB) (*kms.Client, string) {
	tb.Helper()
	url := Endpoint(tb, EnvKMS)
	keyID := Endpoint(tb, EnvKMSKeyID)
	cfg := aws.Config{
		Region:      Region,
		Credentials: credentials.NewStaticCredentialsProvider(dynamoKeyID, dynamoSecret, ""),
	}
	return kms.NewFromConfig(cfg, func(o *kms.Options) { o.BaseEndpoint = aws.String(url) }), keyID
}

// S3Config describes the versitygw endpoint and its root credentials.
type S3Config struct {
	Endpoint, AccessKey, SecretKey, Region string
}

// S3 returns the endpoint config and a path-style client for versitygw.
func S3(tb testing.TB) (S3Config, *s3.Client) {
	tb.Helper()
	c := S3Config{
		Endpoint:  Endpoint(tb, EnvS3),
		AccessKey: Endpoint(tb, EnvS3Access),
		SecretKey: Endpoint(tb, EnvS3Secret),
		Region:    Region,
	}
	cfg := aws.Config{
		Region:      c.Region,
		Credentials: credentials.NewStaticCredentialsProvider(c.AccessKey, c.SecretKey, ""),
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(c.Endpoint)
		o.UsePathStyle = true
	})
	return c, client
}

// Context returns a context cancelled when the test ends.
func Context(tb testing.TB) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	tb.Cleanup(cancel)
	return ctx
}
