package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/mediatrail/mediatrail/cmd/load/internal/noop"
	"github.com/mediatrail/mediatrail/internal/localstack"
	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/dynamo"
)

// target is the stack the load drives, with its two fresh workspaces.
type target struct {
	API     string
	Runtime localstack.Runtime
	// DynamoDB and Table are the stack's table, which the floor reads.
	DynamoDB, Table string
	Spaces          []*workspace
	close           func()
}

func (t *target) Close() { t.close() }

// newSpaces names two fresh workspaces, each with a new key, so that the
// check after the load sees only this run's assets.
func newSpaces() []*workspace {
	run := time.Now().UTC().Format("20060102-150405")
	return []*workspace{
		{ID: "load-" + run + "-a", Key: mediatrail.NewAPIKey()},
		{ID: "load-" + run + "-b", Key: mediatrail.NewAPIKey()},
	}
}

// connect finds the running `make run` (.data/stack.json) and stores the two
// workspaces' keys in its table, or starts a stack on .data with them and env
// in every function.
func connect(ctx context.Context, r string, env map[string]string) (*target, error) {
	spaces := newSpaces()
	data := filepath.Join(r, ".data")
	if b, err := os.ReadFile(filepath.Join(data, "stack.json")); err == nil {
		var info struct {
			Endpoint, API, DynamoDB string
			Runtime                 localstack.Runtime
		}
		if json.Unmarshal(b, &info) == nil && info.API != "" && info.DynamoDB != "" && healthy(info.Endpoint) {
			if len(env) > 0 {
				return nil, errors.New("-function-env applies to a stack the load starts: stop the running `make run` first")
			}
			if err := storeKeys(ctx, info.DynamoDB, spaces); err != nil {
				return nil, fmt.Errorf("store the load's API keys: %w", err)
			}
			fmt.Fprintf(os.Stderr, "load: using the running stack at %s\n", info.API)
			return &target{API: info.API, Runtime: info.Runtime, DynamoDB: info.DynamoDB, Table: localstack.DefaultTable,
				Spaces: spaces, close: func() {}}, nil
		}
	}
	fmt.Fprintln(os.Stderr, "load: no running `make run`: starting a stack on .data for the load (functions under aws-lambda-rie)")
	if err := os.MkdirAll(data, 0o755); err != nil {
		return nil, err
	}
	logf, err := os.OpenFile(filepath.Join(data, "emulators.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	keys := map[string]string{}
	for _, ws := range spaces {
		keys[ws.Key] = ws.ID
	}
	runtime := localstack.RuntimeRIE
	if err := (localstack.Tools{Root: r}).CheckRIE(); err != nil {
		fmt.Fprintf(os.Stderr, "load: %v\nload: running the functions in-process instead\n", err)
		runtime = localstack.RuntimeInProcess
	}
	s, err := localstack.Start(ctx, localstack.Options{
		Root: r, DataDir: data, Runtime: runtime, APIKeys: keys, Env: env,
		Logger:      slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		FunctionLog: io.Discard, EmulatorLog: logf,
	})
	if err != nil {
		logf.Close()
		return nil, fmt.Errorf("start a stack: %w", err)
	}
	return &target{API: s.URL, Runtime: s.Runtime, DynamoDB: s.Config.DynamoDBURL, Table: s.Table, Spaces: spaces, close: func() {
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Close(shut)
		logf.Close()
	}}, nil
}

func healthy(endpoint string) bool {
	resp, err := (&http.Client{Timeout: 2 * time.Second}).Get(endpoint + "/_localstack/health")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// storeKeys puts the workspaces' keys into the running stack's table, as
// the stack does for API_KEYS.
func storeKeys(ctx context.Context, dynamoURL string, spaces []*workspace) error {
	client := dynamodb.New(dynamodb.Options{
		Region:       localstack.Region,
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint: aws.String(dynamoURL),
	})
	store := dynamo.New(client, localstack.DefaultTable)
	for _, ws := range spaces {
		if err := store.PutAPIKey(ctx, mediatrail.HashAPIKey(ws.Key), ws.ID); err != nil {
			return err
		}
	}
	return nil
}

// noopFunction is the no-op function behind its own local Gateway.
type noopFunction struct {
	URL   string
	close func()
}

func (n *noopFunction) Close() { n.close() }

const noopID = "LoadNoopFunction"

// startNoop serves GET /noop through a localstack.Gateway to the no-op
// function, run as the stack runs its functions: its bootstrap
// (cmd/load/noop) under aws-lambda-rie with a pool of pool processes, or
// in-process.
func startNoop(ctx context.Context, r string, rt localstack.Runtime, pool int) (*noopFunction, error) {
	var inv localstack.Invoker
	stopRuntime := func() {}
	switch rt {
	case localstack.RuntimeRIE:
		dir, err := os.MkdirTemp("", "mediatrail-load-noop-")
		if err != nil {
			return nil, err
		}
		bootstrap := filepath.Join(dir, "bootstrap")
		build := exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc", "-ldflags=-s -w", "-o", bootstrap, "./cmd/load/noop")
		build.Dir, build.Env = r, append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("build: %w\n%s", err, out)
		}
		rie := &localstack.RIE{
			Binary: (localstack.Tools{Root: r}).RIE(), PoolSize: pool,
			Functions: map[string]localstack.RIEFunction{noopID: {
				Bootstrap: bootstrap, Timeout: 10 * time.Second,
				Env: map[string]string{"AWS_LAMBDA_FUNCTION_NAME": "load-noop", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128", "_HANDLER": "bootstrap"},
			}},
		}
		inv, stopRuntime = rie, func() { _ = rie.Close(); os.RemoveAll(dir) }
	default:
		inv = localstack.InProcess{noopID: lambda.NewHandler(noop.Handle)}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		stopRuntime()
		return nil, err
	}
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: &localstack.Gateway{
		Routes:  []localstack.Route{{Method: http.MethodGet, Path: "/noop", Function: noopID, API: "LoadNoopApi"}},
		Invoker: inv, AccountID: localstack.AccountID, Region: localstack.Region,
	}}
	go func() { _ = srv.Serve(l) }()
	return &noopFunction{URL: "http://" + l.Addr().String() + "/noop", close: func() {
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
		stopRuntime()
	}}, nil
}
