package localstack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/app"
	"github.com/mediatrail/mediatrail/shared/dynamo"
	"github.com/mediatrail/mediatrail/shared/s3"
)

// Local names of the resources template.yaml creates on AWS.
const (
	DefaultTable  = "mediatrail-local"
	DefaultBucket = "mediatrail-local"
	Region        = "us-east-1"
)

// Config points the local API at running emulators.
type Config struct {
	// Root is the repository root holding template.yaml.
	Root string
	// Emulator endpoints and the S3 root credentials.
	DynamoDBURL, S3URL, S3AccessKey, S3SecretKey string
	// Table and Bucket are created when missing.
	Table, Bucket string
	// Addr is the gateway's listen address (127.0.0.1:0 picks a free port).
	Addr string
	// APIKeys maps raw keys to workspaces; they are upserted at start.
	APIKeys map[string]string
	Logger  *slog.Logger
}

// API is a running local HTTP API.
type API struct {
	URL      string
	App      *app.App
	Template *Template
	server   *http.Server
}

// Env is the environment every function sees locally; on AWS the same names
// come from template.yaml.
func (c Config) Env() map[string]string {
	return map[string]string{
		"TABLE_NAME":                c.Table,
		"STORAGE_BUCKET":            c.Bucket,
		"STORAGE_ENDPOINT":          c.S3URL,
		"STORAGE_REGION":            Region,
		"STORAGE_ACCESS_KEY_ID":     c.S3AccessKey,
		"STORAGE_SECRET_KEY":        c.S3SecretKey,
		"STORAGE_FORCE_PATH_STYLE":  "true",
		"AWS_REGION":                Region,
		"AWS_ENDPOINT_URL_DYNAMODB": c.DynamoDBURL,
	}
}

// ServeAPI creates the table and bucket if needed, upserts the API keys and
// serves the template's routes with in-process handlers.
func ServeAPI(ctx context.Context, c Config) (*API, error) {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	// DynamoDB Local accepts any credentials but the SDK must find some.
	for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"} {
		if os.Getenv(k) == "" {
			os.Setenv(k, v)
		}
	}
	env := c.Env()
	a, err := app.LoadWith(ctx, func(k string) string { return env[k] })
	if err != nil {
		return nil, err
	}
	if err := dynamo.CreateTable(ctx, a.DynamoDB, c.Table); err != nil {
		return nil, fmt.Errorf("create table: %w", err)
	}
	if err := s3.EnsureBucket(ctx, s3.NewClient(a.AWS, app.StorageConfig(a.Config.Storage)), c.Bucket); err != nil {
		return nil, fmt.Errorf("create bucket: %w", err)
	}
	for key, ws := range c.APIKeys {
		if err := a.Store.PutAPIKey(ctx, mediatrail.HashAPIKey(key), ws); err != nil {
			return nil, fmt.Errorf("store API key: %w", err)
		}
	}
	tmpl, err := LoadTemplate(filepath.Join(c.Root, "template.yaml"))
	if err != nil {
		return nil, err
	}
	handlers := InProcess{}
	for id, f := range tmpl.Functions {
		h := a.Handler(f.Name)
		if h == nil {
			return nil, fmt.Errorf("template function %s has no handler %q in shared/app", id, f.Name)
		}
		handlers[id] = lambda.NewHandler(h)
	}
	addr := c.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	srv := &http.Server{
		Handler:           &Gateway{Routes: tmpl.Routes, Invoker: handlers, Logger: c.Logger},
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			c.Logger.Error("gateway stopped", "err", err)
		}
	}()
	return &API{URL: "http://" + l.Addr().String(), App: a, Template: tmpl, server: srv}, nil
}

// Close stops the gateway, letting requests in flight finish.
func (a *API) Close(ctx context.Context) error { return a.server.Shutdown(ctx) }
