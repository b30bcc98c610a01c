package app

import (
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/fetch"
	"github.com/mediatrail/mediatrail/shared/kms"
	"github.com/mediatrail/mediatrail/shared/providers"
)

// newCredentials wires workspace credentials and media tools into the media
// path: a provider factory over the deployment's registry (workspace
// base_urls through the public-address dialer, the tests' exact allow-list
// admitted), the KMS box when CREDENTIALS_KEY_ID names a key, and the
// platform-key policy (ALLOW_PLATFORM_CREDENTIALS).
func newCredentials(a *App, getenv, providerEnv func(string) string) {
	mc := a.Config.Media
	public := fetch.NewHTTPClient(fetch.Options{Timeout: mc.Timeout, Allow: allowOnly(mc.AllowPrivateInputs)})
	factory := providers.NewFactory(a.Providers, providerEnv, &http.Client{Timeout: mc.Timeout}, public)
	creds := &mediatrail.CredentialService{Store: a.Store, Providers: factory, AllowPlatform: mc.AllowPlatformCredentials, Logger: a.Logger}
	if mc.CredentialsKeyID != "" {
		creds.Box = kms.New(kmsClient(a.AWS, getenv), mc.CredentialsKeyID)
	}
	a.Credentials = creds
	a.Tools = &mediatrail.ToolService{Store: a.Store, Credentials: creds}
	a.Models = &mediatrail.ModelService{Credentials: creds, Prices: a.Media.Prices}
	a.Media.Credentials, a.Media.Tools = creds, a.Tools
}

// kmsClient honours AWS_ENDPOINT_URL_KMS from getenv, as dynamoClient does
// for DynamoDB (the local stack runs local-kms).
func kmsClient(cfg aws.Config, getenv func(string) string) *awskms.Client {
	ep := getenv("AWS_ENDPOINT_URL_KMS")
	return awskms.NewFromConfig(cfg, func(o *awskms.Options) {
		if ep != "" {
			o.BaseEndpoint = aws.String(ep)
		}
	})
}
