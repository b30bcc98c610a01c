// Package media holds the constructors of the functions that reach media
// providers: the media routes, video jobs and their state machine's steps,
// workspace credentials and media tools, the MCP server and reconciliation
// (which ends stuck jobs). They read the provider secret (PROVIDER_SECRET_ID,
// where the template sets it), seal credentials with KMS (CREDENTIALS_KEY_ID)
// and start executions (VIDEO_STATE_MACHINE_ARN, where the template sets it);
// each client is built only when its variable is set.
package media

import (
	"context"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/app"
	"github.com/mediatrail/mediatrail/shared/app/secrets"
	"github.com/mediatrail/mediatrail/shared/dynamo"
	"github.com/mediatrail/mediatrail/shared/fetch"
	"github.com/mediatrail/mediatrail/shared/kms"
	"github.com/mediatrail/mediatrail/shared/providers"
	"github.com/mediatrail/mediatrail/shared/s3"
)

// App holds the services of the media path. Load builds all of them: what the
// media, job, MCP and reconciliation functions use, and what the local stack
// and the benches seed and drive. The credential and tool functions build
// only the credentials part (loadCredentials).
type App struct {
	*app.Env

	DynamoDB *dynamodb.Client
	Store    *dynamo.Store
	Blobs    *s3.Store
	Assets   *mediatrail.AssetService

	Providers   *providers.Registry
	Credentials *mediatrail.CredentialService
	Tools       *mediatrail.ToolService
	Models      *mediatrail.ModelService

	Media  *mediatrail.MediaService
	Traces *mediatrail.TraceService
	Jobs   *mediatrail.JobService

	Retention  *mediatrail.RetentionService
	Cleanup    *mediatrail.CleanupService
	Reconciler *mediatrail.Reconciler

	// providerEnv is the provider secret over the function's environment.
	providerEnv func(string) string
}

// Load builds every service of the media path from e.
func Load(ctx context.Context, e *app.Env) (*App, error) {
	a, err := loadCredentials(ctx, e)
	if err != nil {
		return nil, err
	}
	mc := e.Config.Media
	a.Blobs = e.Bucket()
	a.Assets = e.Assets(a.Store, a.Blobs)
	a.Retention = a.Assets.Retention
	a.Traces = app.Traces(a.Store)
	inputs, outputs := downloaders(mc, a.providerEnv)
	a.Media = &mediatrail.MediaService{
		Providers: a.Providers, Store: a.Store, Assets: a.Store, Blobs: a.Blobs, Inputs: inputs, Outputs: outputs,
		Prices: mediatrail.DefaultPrices(), Timeout: mc.Timeout, Retention: a.Retention, Logger: e.Logger, Metrics: e.Metrics,
		Credentials: a.Credentials, Tools: a.Tools, Budget: e.Budget(a.Store), Settings: app.Settings(a.Store),
		Sharing: a.Assets.Sharing,
	}
	a.Jobs = newJobs(a)
	a.Media.Jobs = a.Jobs
	// Budget alerts go out as job callbacks do: same secret, same sender.
	a.Media.Budget.CallbackSecret, a.Media.Budget.Callbacks = a.Jobs.Config.CallbackSecret, a.Jobs.Callbacks
	a.Cleanup = e.CleanupService(a.Store, a.Blobs)
	a.Reconciler = &mediatrail.Reconciler{Assets: a.Assets, Store: a.Store, Blobs: a.Blobs,
		Grace: e.Config.Cleanup.ReconcileGrace, MaxMissingBlobs: e.Config.Cleanup.ReconcileMaxMissingBlobs,
		Jobs: a.Jobs, ActiveJobs: a.Store, Logger: e.Logger, Metrics: e.Metrics}
	return a, nil
}

// loadCredentials builds the table, the provider registry and the
// credential, tool and model services: a provider factory over the
// deployment's registry (workspace base_urls through the public-address
// dialer, the tests' exact allow-list admitted), the KMS box when
// CREDENTIALS_KEY_ID names a key, and the platform-key policy
// (ALLOW_PLATFORM_CREDENTIALS).
func loadCredentials(ctx context.Context, e *app.Env) (*App, error) {
	mc := e.Config.Media
	secrets, err := secrets.Read(ctx, e.AWS, mc.ProviderSecretID)
	if err != nil {
		return nil, err
	}
	a := &App{Env: e, DynamoDB: e.DynamoDB(), providerEnv: secrets.Over(e.Getenv)}
	a.Store = dynamo.New(a.DynamoDB, e.Config.TableName)
	a.Providers = providers.FromEnv(a.providerEnv, &http.Client{Timeout: mc.Timeout})
	public := fetch.NewHTTPClient(fetch.Options{Timeout: mc.Timeout, Allow: allowOnly(mc.AllowPrivateInputs)})
	factory := providers.NewFactory(a.Providers, a.providerEnv, &http.Client{Timeout: mc.Timeout}, public)
	a.Credentials = &mediatrail.CredentialService{Store: a.Store, Providers: factory,
		AllowPlatform: mc.AllowPlatformCredentials, Logger: e.Logger}
	if mc.CredentialsKeyID != "" {
		a.Credentials.Box = kms.New(kmsClient(e), mc.CredentialsKeyID)
	}
	a.Tools = &mediatrail.ToolService{Store: a.Store, Credentials: a.Credentials}
	a.Models = &mediatrail.ModelService{Credentials: a.Credentials, Prices: mediatrail.DefaultPrices()}
	return a, nil
}
