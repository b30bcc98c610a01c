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
	Uploads   UploadConfig
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
	if c.Uploads, err = loadUploadConfig(getenv); err != nil {
		return c, err
	}
	c.Jobs, err = loadJobConfig(getenv)
	return c, err
}

// UploadConfig decides how registered files are uploaded: in one presigned
// PUT up to MultipartThreshold bytes, in presigned parts above it.
type UploadConfig struct {
	// MultipartThreshold (UPLOAD_MULTIPART_THRESHOLD, bytes; default and
	// most MaxSinglePutBytes). Tests lower it to upload small files in parts.
	MultipartThreshold int64
	// PartSize (UPLOAD_PART_SIZE, bytes, at least MinPartBytes; default
	// DefaultPartBytes) is the size of every part but the last; larger when a
	// file would need more than MaxUploadParts parts.
	PartSize int64
}

// InParts reports whether a file of size bytes is uploaded in parts: above
// MultipartThreshold (MaxSinglePutBytes when unset).
func (u UploadConfig) InParts(size int64) bool {
	threshold := u.MultipartThreshold
	if threshold <= 0 {
		threshold = MaxSinglePutBytes
	}
	return size > threshold
}

// PartSizeFor is the part size of a file of size bytes: PartSize (at least
// MinPartBytes; DefaultPartBytes when unset), larger when the file would
// need more than MaxUploadParts parts (rounded up to a MiB).
func (u UploadConfig) PartSizeFor(size int64) int64 {
	part := max(u.PartSize, MinPartBytes)
	if u.PartSize <= 0 {
		part = DefaultPartBytes
	}
	if need := (size + MaxUploadParts - 1) / MaxUploadParts; need > part {
		part = (need + 1<<20 - 1) >> 20 << 20
	}
	return part
}

func loadUploadConfig(getenv func(string) string) (UploadConfig, error) {
	u := UploadConfig{MultipartThreshold: MaxSinglePutBytes, PartSize: DefaultPartBytes}
	for _, v := range []struct {
		name   string
		dst    *int64
		lo, hi int64
	}{
		{"UPLOAD_MULTIPART_THRESHOLD", &u.MultipartThreshold, 1, MaxSinglePutBytes},
		{"UPLOAD_PART_SIZE", &u.PartSize, MinPartBytes, MaxPartBytes},
	} {
		s := strings.TrimSpace(getenv(v.name))
		if s == "" {
			continue
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < v.lo || n > v.hi {
			return u, Invalid(v.name, "%s must be a number of bytes between %d and %d", v.name, v.lo, v.hi)
		}
		*v.dst = n
	}
	return u, nil
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
