package app

import (
	"context"
	"errors"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/endpointcreds"
)

// awsConfig is a function's AWS configuration: its region and the
// credentials its runtime gives it, cached until they expire. The clients
// fill in the rest (HTTP client, retries) with the SDK's defaults.
//
// Not config.LoadDefaultConfig: its chain (shared config files, SSO, STS web
// identity and assume-role, external processes) links the STS, SSO and
// sign-in clients into every bootstrap (about 0.6 MB, issue 14) for sources a
// Lambda function never has. Lambda puts the role's credentials in the
// environment; the container endpoint covers SnapStart and containers. Tools
// that run on a workstation (cmd/apikey) keep the full chain.
func awsConfig(getenv func(string) string) aws.Config {
	return aws.Config{
		Region:      region(getenv),
		Credentials: aws.NewCredentialsCache(credentialsFrom(processFallback(getenv))),
	}
}

// processFallback looks a variable up in getenv, then in the process: the
// in-process local stack gives each function the local services'
// credentials in its own environment, and callers with a partial environment
// (benches, tests) rely on the process's, as the SDK's chain did.
func processFallback(getenv func(string) string) func(string) string {
	return func(k string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return os.Getenv(k)
	}
}

// containerHost serves AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (ECS, and the
// address the SDK's chain uses for it).
const containerHost = "http://169.254.170.2"

// errNoCredentials is what a request gets when the environment names no
// credentials: the failure is lazy, as the SDK's chain's is, so a function
// that never calls AWS starts without them.
var errNoCredentials = errors.New("no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_CONTAINER_CREDENTIALS_FULL_URI")

// credentialsFrom picks the credential source getenv names: static keys
// (with the session token Lambda adds), else the container endpoint.
func credentialsFrom(getenv func(string) string) aws.CredentialsProvider {
	if id, secret := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY"); id != "" && secret != "" {
		return credentials.NewStaticCredentialsProvider(id, secret, getenv("AWS_SESSION_TOKEN"))
	}
	url := getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI")
	if rel := getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"); url == "" && rel != "" {
		url = containerHost + rel
	}
	if url == "" {
		return aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{}, errNoCredentials
		})
	}
	return endpointcreds.New(url, func(o *endpointcreds.Options) {
		o.AuthorizationToken = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN")
		if file := getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"); file != "" {
			// Read at every refresh: the runtime rotates the file.
			o.AuthorizationTokenProvider = endpointcreds.TokenProviderFunc(func() (string, error) {
				b, err := os.ReadFile(file)
				return strings.TrimSpace(string(b)), err
			})
		}
	})
}
