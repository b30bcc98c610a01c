// Package app wires the adapters to the domain once per process: it reads the
// environment, loads the AWS configuration, builds every client and service,
// and names the Lambda handler of each function. functions/*/main.go and the
// local stack both start from here, so a function runs the same code locally
// and on AWS.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"sort"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	openapi "github.com/mediatrail/mediatrail"
	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/console"
	"github.com/mediatrail/mediatrail/shared/dynamo"
	"github.com/mediatrail/mediatrail/shared/httpapi"
	"github.com/mediatrail/mediatrail/shared/providers"
	"github.com/mediatrail/mediatrail/shared/s3"
)

// App holds the process-wide clients and services.
type App struct {
	Config mediatrail.Config
	AWS    aws.Config
	Logger *slog.Logger

	DynamoDB *dynamodb.Client
	Store    *dynamo.Store
	Blobs    *s3.Store
	Assets   *mediatrail.AssetService
	API      *httpapi.API

	Providers *providers.Registry
	Media     *mediatrail.MediaService
	Traces    *mediatrail.TraceService
	// Jobs runs video jobs (jobs.go).
	Jobs *mediatrail.JobService

	Retention  *mediatrail.RetentionService
	Cleanup    *mediatrail.CleanupService
	Reconciler *mediatrail.Reconciler

	// Workspace credentials, media tools and the media models list (credentials.go).
	Credentials *mediatrail.CredentialService
	Tools       *mediatrail.ToolService
	Models      *mediatrail.ModelService
}

// Load builds the App from the process environment. The AWS SDK reads its own
// variables (AWS_REGION, AWS_ENDPOINT_URL_DYNAMODB, credentials, ...).
func Load(ctx context.Context) (*App, error) {
	LimitMemory(os.Getenv)
	return LoadWith(ctx, os.Getenv)
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

// LoadWith builds the App from getenv; the local stack passes each function's
// environment from template.yaml.
func LoadWith(ctx context.Context, getenv func(string) string) (*App, error) {
	cfg, err := mediatrail.LoadConfig(getenv)
	if err != nil {
		return nil, err
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(region(getenv)))
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	secrets, err := providerSecrets(ctx, awsCfg, cfg.Media.ProviderSecretID)
	if err != nil {
		return nil, err
	}
	env := secrets.over(getenv)
	a := New(cfg, awsCfg, dynamoClient(awsCfg, getenv), env)
	newCredentials(a, getenv, env)
	a.Jobs = newJobs(a, getenv, env)
	a.Reconciler.Jobs, a.Reconciler.ActiveJobs = a.Jobs, a.Store
	return a, nil
}

func region(getenv func(string) string) string {
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
		if v := getenv(k); v != "" {
			return v
		}
	}
	return "us-east-1"
}

// dynamoClient honours AWS_ENDPOINT_URL_DYNAMODB from getenv, which may not be
// the process environment (the local stack runs several functions in one process).
func dynamoClient(cfg aws.Config, getenv func(string) string) *dynamodb.Client {
	ep := getenv("AWS_ENDPOINT_URL_DYNAMODB")
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		if ep != "" {
			o.BaseEndpoint = aws.String(ep)
			// DynamoDB Local sends no valid CRC32 on error responses; the SDK
			// would log a warning for every failed condition.
			o.DisableValidateResponseChecksum = true
		}
	})
}

// New wires an App from already built clients. providerEnv holds the media
// providers' keys and base URLs (see providers.FromEnv).
func New(cfg mediatrail.Config, awsCfg aws.Config, ddb *dynamodb.Client, providerEnv func(string) string) *App {
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	store := dynamo.New(ddb, cfg.TableName)
	blobs := s3.New(awsCfg, StorageConfig(cfg.Storage))
	prices := mediatrail.DefaultPrices()
	registry, inputs, outputs := mediaClients(cfg.Media, providerEnv)
	retention := &mediatrail.RetentionService{Default: cfg.Cleanup.DefaultRetentionDays, Store: store}
	assets := &mediatrail.AssetService{Store: store, Blobs: blobs, Spans: store, Retention: retention, Logger: logger,
		Multipart: blobs, Uploads: cfg.Uploads}
	return &App{
		Config:    cfg,
		AWS:       awsCfg,
		Logger:    logger,
		DynamoDB:  ddb,
		Store:     store,
		Blobs:     blobs,
		Assets:    assets,
		API:       &httpapi.API{Keys: store, Logger: logger},
		Providers: registry,
		Media: &mediatrail.MediaService{
			Providers: registry, Store: store, Assets: store, Blobs: blobs, Inputs: inputs, Outputs: outputs,
			Prices: prices, Timeout: cfg.Media.Timeout, Retention: retention, Logger: logger,
		},
		Traces: &mediatrail.TraceService{Spans: store, Currency: prices.Currency},

		Retention: retention,
		Cleanup:   &mediatrail.CleanupService{Assets: assets, Store: store, Blobs: blobs, Logger: logger},
		Reconciler: &mediatrail.Reconciler{Assets: assets, Store: store, Blobs: blobs, Grace: cfg.Cleanup.ReconcileGrace,
			MaxMissingBlobs: cfg.Cleanup.ReconcileMaxMissingBlobs, Logger: logger},
	}
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

// MustLoad is Load for main: a function that cannot read its configuration
// fails its cold start loudly.
func MustLoad(ctx context.Context) *App {
	a, err := Load(ctx)
	if err != nil {
		slog.Error("start-up failed", "err", err)
		os.Exit(1)
	}
	return a
}

// functions names the handler of every Lambda by its folder under functions/.
var functions = map[string]func(*App) any{
	"asset-list":       func(a *App) any { return a.API.Handler(httpapi.ListAssets(a.Assets)) },
	"asset-get":        func(a *App) any { return a.API.Handler(httpapi.GetAsset(a.Assets)) },
	"asset-delete":     func(a *App) any { return a.API.Handler(httpapi.DeleteAsset(a.Assets)) },
	"asset-signed-url": func(a *App) any { return a.API.Handler(httpapi.SignedURL(a.Assets)) },
	"asset-register":   func(a *App) any { return a.API.Handler(httpapi.RegisterAsset(a.Assets)) },
	"asset-complete":   func(a *App) any { return a.API.Handler(httpapi.CompleteAsset(a.Assets)) },
	"media-generate":   mediaHandler(""),
	"media-tts":        mediaHandler(mediatrail.CapabilityTTS),
	"media-stt":        mediaHandler(mediatrail.CapabilitySTT),
	"media-image-gen":  mediaHandler(mediatrail.CapabilityImageGen),
	"media-image-edit": mediaHandler(mediatrail.CapabilityImageEdit),
	"trace-list":       func(a *App) any { return a.API.Handler(httpapi.ListTraces(a.Traces)) },
	"trace-summary":    func(a *App) any { return a.API.Handler(httpapi.TraceSummary(a.Traces)) },
	// Video jobs (jobs.go): the routes, and the steps of the state machine.
	"media-video-gen":        mediaHandler(mediatrail.CapabilityVideoGen),
	"media-video-from-image": mediaHandler(mediatrail.CapabilityVideoFromImage),
	"media-job-get":          func(a *App) any { return a.API.Handler(httpapi.GetJob(a.Jobs)) },
	"media-job-cancel":       func(a *App) any { return a.API.Handler(httpapi.CancelJob(a.Jobs)) },
	"media-job-list":         func(a *App) any { return a.API.Handler(httpapi.ListJobs(a.Jobs)) },
	"video-poll":             func(a *App) any { return step(a.Jobs.Poll, a.Logger) },
	"video-store":            func(a *App) any { return step(a.Jobs.Store, a.Logger) },
	"video-fail":             func(a *App) any { return step(a.Jobs.Fail, a.Logger) },
	"video-notify":           func(a *App) any { return step(a.Jobs.Notify, a.Logger) },
	// Cleanup and retention (see cleanup.go).
	"asset-cleanup":           func(a *App) any { return a.API.Handler(httpapi.CleanupAssets(a.Cleanup)) },
	"workspace-retention-get": func(a *App) any { return a.API.Handler(httpapi.GetWorkspaceRetention(a.Retention)) },
	"workspace-retention-set": func(a *App) any { return a.API.Handler(httpapi.SetWorkspaceRetention(a.Retention)) },
	"cleanup":                 func(a *App) any { return s3.EventHandler(a.Cleanup) },
	"reconcile":               func(a *App) any { return reconcileHandler(a.Reconciler) },
	// The media tools over MCP (mcp.go).
	"mcp": mcpHandler,
	// The contract, openapi.yaml, for anyone (no key).
	"api-spec": func(*App) any { return httpapi.Document(openapi.JSON) },
	// The review console's static files (shared/console).
	"console": func(a *App) any { return console.New(a.Config.Storage).Handler() },
	// Credentials, media tools, agents' tools and media models (credentials.go).
	"credential-list":       func(a *App) any { return a.API.Handler(httpapi.ListCredentials(a.Credentials)) },
	"credential-get":        func(a *App) any { return a.API.Handler(httpapi.GetCredential(a.Credentials)) },
	"credential-create":     func(a *App) any { return a.API.Handler(httpapi.CreateCredential(a.Credentials)) },
	"credential-update":     func(a *App) any { return a.API.Handler(httpapi.UpdateCredential(a.Credentials)) },
	"credential-delete":     func(a *App) any { return a.API.Handler(httpapi.DeleteCredential(a.Credentials)) },
	"credential-default":    func(a *App) any { return a.API.Handler(httpapi.SetDefaultCredential(a.Credentials)) },
	"credential-check":      func(a *App) any { return a.API.Handler(httpapi.CheckCredential(a.Credentials)) },
	"media-tool-list":       func(a *App) any { return a.API.Handler(httpapi.ListTools(a.Tools)) },
	"media-tool-get":        func(a *App) any { return a.API.Handler(httpapi.GetTool(a.Tools)) },
	"media-tool-create":     func(a *App) any { return a.API.Handler(httpapi.CreateTool(a.Tools)) },
	"media-tool-update":     func(a *App) any { return a.API.Handler(httpapi.UpdateTool(a.Tools)) },
	"media-tool-delete":     func(a *App) any { return a.API.Handler(httpapi.DeleteTool(a.Tools)) },
	"agent-media-tools-get": func(a *App) any { return a.API.Handler(httpapi.GetAgentTools(a.Tools)) },
	"agent-media-tools-set": func(a *App) any { return a.API.Handler(httpapi.SetAgentTools(a.Tools)) },
	"media-model-list":      func(a *App) any { return a.API.Handler(httpapi.ListMediaModels(a.Models)) },
}

// mediaHandler serves the media route of capability c ("" for /media/generate).
func mediaHandler(c mediatrail.Capability) func(*App) any {
	return func(a *App) any { return a.API.Handler(httpapi.GenerateMedia(a.Media, c)) }
}

// Functions lists the function names, sorted.
func Functions() []string {
	names := make([]string, 0, len(functions))
	for n := range functions {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Handler returns the Lambda handler of the named function, or nil.
func (a *App) Handler(name string) any {
	f, ok := functions[name]
	if !ok {
		return nil
	}
	return f(a)
}
