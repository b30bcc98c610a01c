// Package app wires the adapters to the domain, one constructor per Lambda
// function, each building only what its function uses. functions/*/main.go
// names its constructor (app.ColdStart(app.AssetGet)), so a function's code is
// two hops from template.yaml and a misspelt constructor fails to compile.
//
// The constructors are grouped by what they need, one package per group, so a
// function links only its group's adapters:
//
//   - app (this package): the asset, trace, workspace and cleanup functions;
//     DynamoDB, and S3 where they presign or delete. No provider, image, KMS,
//     Secrets Manager or Step Functions code (TestLeanFunctions holds this).
//   - app/media: the media, job, credential, tool, MCP and reconciliation
//     functions; providers, credentials sealed with KMS, the provider secret,
//     and Step Functions where the template names a state machine.
//   - app/static: the contract and the review console; no AWS client.
//
// The local stack runs the same constructors in-process (its registry by
// function name lives in internal/localstack, never in a Lambda).
package app

import (
	"context"
	"log/slog"
	"os"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/dynamo"
	"github.com/mediatrail/mediatrail/shared/httpapi"
	"github.com/mediatrail/mediatrail/shared/obs"
	"github.com/mediatrail/mediatrail/shared/s3"
)

// Env is what a function's cold start reads once and every constructor is
// given: its environment, the configuration parsed from it, the AWS
// configuration (loaded once per process) and the logger.
type Env struct {
	// Getenv is the function's environment: the process's on AWS, the
	// template's for each function in the in-process local stack.
	Getenv func(string) string
	Config mediatrail.Config
	AWS    aws.Config
	Logger *slog.Logger
	// Metrics is where the services record what operators watch: EMF
	// lines on stdout (shared/obs).
	Metrics mediatrail.Metrics
	// KeyCacheTTL is how long Route's handlers may answer an API key's
	// workspace from memory (KeyCacheTTLEnv); 0: every request reads it.
	KeyCacheTTL time.Duration
}

// Constructor builds the handler of one function from its Env. H is a shape
// lambda.Start accepts.
type Constructor[H any] func(context.Context, *Env) (H, error)

// ColdStart is a function's main: it sets the memory limit, reads the process
// environment, loads the AWS configuration, builds the handler with build and
// returns it for lambda.Start. A function that cannot start exits non-zero,
// failing its cold start loudly.
func ColdStart[H any](build Constructor[H]) H {
	ctx := context.Background()
	LimitMemory(os.Getenv)
	h, err := Build(ctx, os.Getenv, build)
	if err != nil {
		slog.Error("start-up failed", "err", err)
		os.Exit(1)
	}
	return h
}

// Build loads the Env of getenv and builds a handler with build, as a cold
// start does (without the process-wide memory limit).
func Build[H any](ctx context.Context, getenv func(string) string, build Constructor[H]) (H, error) {
	e, err := Load(ctx, getenv)
	if err != nil {
		var zero H
		return zero, err
	}
	return build(ctx, e)
}

// Load reads the configuration from getenv and builds the AWS configuration
// (awsConfig): the region, service endpoints and credentials are taken from
// getenv, credentials from the process when getenv has none.
func Load(_ context.Context, getenv func(string) string) (*Env, error) {
	cfg, err := mediatrail.LoadConfig(getenv)
	if err != nil {
		return nil, err
	}
	ttl, err := keyCacheTTL(getenv)
	if err != nil {
		return nil, err
	}
	logger := obs.NewLogger(os.Stderr)
	return &Env{Getenv: getenv, Config: cfg, AWS: awsConfig(getenv), Logger: logger, Metrics: obs.NewRecorder(os.Stdout, logger),
		KeyCacheTTL: ttl}, nil
}

// LimitMemory gives the Go heap a soft limit of three quarters of the
// function's memory (AWS_LAMBDA_FUNCTION_MEMORY_SIZE, in MB) unless GOMEMLIMIT
// says otherwise, so garbage from one image operation is collected before the
// next outgrows the function. A process-wide setting: only a function's own
// process calls it, never the in-process local stack.
func LimitMemory(getenv func(string) string) {
	mb, err := strconv.ParseInt(getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"), 10, 64)
	if err != nil || mb <= 0 || getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetMemoryLimit(mb << 20 / 4 * 3)
}

func region(getenv func(string) string) string {
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
		if v := getenv(k); v != "" {
			return v
		}
	}
	return "us-east-1"
}

// Endpoint honours AWS_ENDPOINT_URL_<SERVICE> from e.Getenv, which may not be
// the process environment (the local stack runs several functions in one
// process): "" when unset, and the SDK resolves the service's endpoint.
func (e *Env) Endpoint(service string) string {
	return e.Getenv("AWS_ENDPOINT_URL_" + service)
}

// DynamoDB builds the DynamoDB client.
func (e *Env) DynamoDB() *dynamodb.Client {
	ep := e.Endpoint("DYNAMODB")
	return dynamodb.NewFromConfig(e.AWS, func(o *dynamodb.Options) {
		if ep != "" {
			o.BaseEndpoint = aws.String(ep)
			// DynamoDB Local sends no valid CRC32 on error responses; the SDK
			// would log a warning for every failed condition.
			o.DisableValidateResponseChecksum = true
		}
	})
}

// Table builds the store of the function's table.
func (e *Env) Table() *dynamo.Store { return dynamo.New(e.DynamoDB(), e.Config.TableName) }

// Bucket builds the store of the function's bucket. It makes no request.
func (e *Env) Bucket() *s3.Store { return s3.New(e.AWS, StorageConfig(e.Config.Storage)) }

// Route serves endpoint as an API Gateway route authenticated by keys (held
// in memory for e.KeyCacheTTL when it is set).
func (e *Env) Route(keys mediatrail.KeyStore, endpoint httpapi.Endpoint) httpapi.LambdaHandler {
	if e.KeyCacheTTL > 0 {
		keys = newCachedKeys(keys, e.KeyCacheTTL, time.Now)
	}
	return (&httpapi.API{Keys: keys, Logger: e.Logger}).Handler(endpoint)
}

// Budget is the budget service over store.
func (e *Env) Budget(store *dynamo.Store) *mediatrail.BudgetService {
	return &mediatrail.BudgetService{Store: store, Logger: e.Logger}
}

// Observe wraps handler f of a function that is not an HTTP route (a job
// step, the bucket's events, reconciliation) so that every invocation writes
// one log line (obs.Invocation), named by the function's Lambda name.
func Observe[In, Out any](e *Env, f func(context.Context, In) (Out, error)) func(context.Context, In) (Out, error) {
	return obs.Invocation(e.Logger, e.Getenv("AWS_LAMBDA_FUNCTION_NAME"), f)
}

// Retention is the retention service over store.
func (e *Env) Retention(store *dynamo.Store) *mediatrail.RetentionService {
	return &mediatrail.RetentionService{Default: e.Config.Cleanup.DefaultRetentionDays, Store: store}
}

// Settings is the workspace settings service over store.
func Settings(store *dynamo.Store) *mediatrail.SettingsService {
	return &mediatrail.SettingsService{Store: store}
}

// Assets is the asset service over the table and the bucket.
func (e *Env) Assets(store *dynamo.Store, blobs *s3.Store) *mediatrail.AssetService {
	return &mediatrail.AssetService{Store: store, Blobs: blobs, Spans: store, Retention: e.Retention(store),
		Logger: e.Logger, Multipart: blobs, Uploads: e.Config.Uploads, Sharing: e.Sharing(store)}
}

// Sharing is content dedup over the table: blobs shared by assets with the
// same bytes, reference counted (mediatrail.BlobSharing).
func (e *Env) Sharing(store *dynamo.Store) *mediatrail.BlobSharing {
	return &mediatrail.BlobSharing{Finder: store, Store: store, Logger: e.Logger}
}

// StorageConfig translates the domain's storage settings for the S3 adapter.
func StorageConfig(c mediatrail.StorageConfig) s3.Config {
	return s3.Config{
		Endpoint:       c.Endpoint,
		Region:         c.Region,
		Bucket:         c.Bucket,
		AccessKeyID:    c.AccessKeyID,
		SecretKey:      c.SecretKey,
		PublicURL:      c.PublicURL,
		ForcePathStyle: c.ForcePathStyle,
	}
}
