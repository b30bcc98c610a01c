package mediatrail

import (
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// StorageConfig locates the object store. Empty endpoint and keys mean AWS
// defaults (the Lambda role); any S3-compatible endpoint works (R2, MinIO, versitygw).
type StorageConfig struct {
	Endpoint       string // STORAGE_ENDPOINT
	Region         string // STORAGE_REGION
	Bucket         string // STORAGE_BUCKET (required)
	AccessKeyID    string // STORAGE_ACCESS_KEY_ID
	SecretKey      string // STORAGE_SECRET_KEY
	PublicURL      string // STORAGE_PUBLIC_URL: endpoint clients reach for signed URLs
	ForcePathStyle bool   // STORAGE_FORCE_PATH_STYLE, default true
}

// Config is everything a function reads from its environment, loaded once at
// cold start.
type Config struct {
	TableName string // TABLE_NAME (required)
	Storage   StorageConfig
	Media     MediaConfig
	Jobs      JobConfig
	Cleanup   CleanupConfig
}

// MediaConfig tunes media calls. Provider keys and base URLs are not here: the
// provider registry reads them (OPENAI_API_KEY, OPENAI_BASE_URL, ...), from the
// Secrets Manager secret named by ProviderSecretID when set, else from the
// environment.
type MediaConfig struct {
	// Timeout bounds a provider call with its retries and the copy of its output
	// (MEDIA_TIMEOUT, a Go duration; default DefaultMediaTimeout).
	Timeout time.Duration
	// ProviderSecretID names the Secrets Manager secret whose JSON object holds
	// the provider variables (PROVIDER_SECRET_ID, a name or ARN; AWS only).
	ProviderSecretID string
	// AllowPrivateInputs lists the exact non-public addresses that input_url may
	// reach (MEDIA_ALLOW_PRIVATE_INPUTS, "127.0.0.1:8080,..."). For tests that
	// serve inputs on loopback only: empty, the default, admits public
	// addresses alone.
	AllowPrivateInputs []netip.AddrPort
	// CredentialsKeyID is the KMS key sealing workspace credentials
	// (CREDENTIALS_KEY_ID; the template's CredentialsKey). Empty: workspace
	// credentials are not offered.
	CredentialsKeyID string
	// AllowPlatformCredentials lets media calls without a workspace
	// credential use the deployment's own provider keys
	// (ALLOW_PLATFORM_CREDENTIALS, default true; template parameter
	// AllowPlatformCredentials).
	AllowPlatformCredentials bool
}

// MediaEnvNames are the MediaConfig variables a local stack passes through
// from the shell (PROVIDER_SECRET_ID is AWS-only).
var MediaEnvNames = []string{"MEDIA_TIMEOUT", "MEDIA_ALLOW_PRIVATE_INPUTS"}

// LoadConfig reads Config through getenv (os.Getenv in production). EINVALID
// names the first missing or malformed variable.
func LoadConfig(getenv func(string) string) (Config, error) {
	c := Config{
		TableName: strings.TrimSpace(getenv("TABLE_NAME")),
		Storage: StorageConfig{
			Endpoint:       strings.TrimSpace(getenv("STORAGE_ENDPOINT")),
			Region:         strings.TrimSpace(getenv("STORAGE_REGION")),
			Bucket:         strings.TrimSpace(getenv("STORAGE_BUCKET")),
			AccessKeyID:    strings.TrimSpace(getenv("STORAGE_ACCESS_KEY_ID")),
			SecretKey:      strings.TrimSpace(getenv("STORAGE_SECRET_KEY")),
			PublicURL:      strings.TrimSpace(getenv("STORAGE_PUBLIC_URL")),
			ForcePathStyle: true,
		},
	}
	if c.TableName == "" {
		return c, Invalid("TABLE_NAME", "TABLE_NAME is required")
	}
	if c.Storage.Bucket == "" {
		return c, Invalid("STORAGE_BUCKET", "STORAGE_BUCKET is required")
	}
	if (c.Storage.AccessKeyID == "") != (c.Storage.SecretKey == "") {
		return c, Invalid("STORAGE_ACCESS_KEY_ID", "STORAGE_ACCESS_KEY_ID and STORAGE_SECRET_KEY must be set together")
	}
	if v := strings.TrimSpace(getenv("STORAGE_FORCE_PATH_STYLE")); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return c, Invalid("STORAGE_FORCE_PATH_STYLE", "STORAGE_FORCE_PATH_STYLE must be true or false")
		}
		c.Storage.ForcePathStyle = b
	}
	var err error
	if c.Cleanup, err = loadCleanupConfig(getenv); err != nil {
		return c, err
	}
	c.Media, err = loadMediaConfig(getenv)
	if err != nil {
		return c, err
	}
	c.Jobs, err = loadJobConfig(getenv)
	return c, err
}

func loadMediaConfig(getenv func(string) string) (MediaConfig, error) {
	m := MediaConfig{Timeout: DefaultMediaTimeout, ProviderSecretID: strings.TrimSpace(getenv("PROVIDER_SECRET_ID")),
		CredentialsKeyID: strings.TrimSpace(getenv("CREDENTIALS_KEY_ID")), AllowPlatformCredentials: true}
	if v := strings.TrimSpace(getenv("ALLOW_PLATFORM_CREDENTIALS")); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return m, Invalid("ALLOW_PLATFORM_CREDENTIALS", "ALLOW_PLATFORM_CREDENTIALS must be true or false")
		}
		m.AllowPlatformCredentials = b
	}
	if v := strings.TrimSpace(getenv("MEDIA_TIMEOUT")); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return m, Invalid("MEDIA_TIMEOUT", "MEDIA_TIMEOUT must be a positive duration such as 20s")
		}
		m.Timeout = d
	}
	for _, v := range strings.Split(getenv("MEDIA_ALLOW_PRIVATE_INPUTS"), ",") {
		if v = strings.TrimSpace(v); v == "" {
			continue
		}
		ap, err := netip.ParseAddrPort(v)
		if err != nil {
			return m, Invalid("MEDIA_ALLOW_PRIVATE_INPUTS", "MEDIA_ALLOW_PRIVATE_INPUTS must list addresses such as 127.0.0.1:8080")
		}
		m.AllowPrivateInputs = append(m.AllowPrivateInputs, ap)
	}
	return m, nil
}
