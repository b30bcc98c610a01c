package mediatrail

import (
	"strconv"
	"strings"
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
}

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
	return c, nil
}
