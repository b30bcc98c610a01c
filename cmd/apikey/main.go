// Command apikey manages the API keys of a deployment's table (or, with
// -local, of the running `make run`):
//
//	go run ./cmd/apikey create -workspace acme [-key KEY]   mint (or store) a key; printed once
//	go run ./cmd/apikey list [-workspace acme]              every key's hash prefix and workspace
//	go run ./cmd/apikey revoke -key KEY | -hash PREFIX      refuse the key from the next request on
//
// Every command takes -table (default $TABLE_NAME, the stack's AssetsTableName
// output) and uses the ordinary AWS credential chain, or -local. Only a key's
// SHA-256 is stored, so list shows hashes: revoke a key by its hash prefix
// when the key itself is lost. "apikey -workspace acme" (no command) is
// create, as before.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/mediatrail/mediatrail/internal/localstack"
	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/dynamo"
)

// keyStore is what the commands need of the table.
type keyStore interface {
	PutAPIKey(ctx context.Context, keyHash, workspaceID string) error
	ListAPIKeys(ctx context.Context, workspaceID string) ([]mediatrail.StoredAPIKey, error)
	DeleteAPIKey(ctx context.Context, keyHash string) error
	EnsureCursorKey(ctx context.Context) error
}

// opener opens the table a command names.
type opener func(ctx context.Context, table string, local bool) (keyStore, error)

// errUsage is a command line that names no valid command or lacks a flag.
var errUsage = errors.New("usage")

const usage = `usage: apikey create -workspace WS [-key KEY]
       apikey list [-workspace WS]
       apikey revoke -key KEY | -hash PREFIX
each with [-table TABLE (default $TABLE_NAME)] [-local (the running make run)]`

func main() {
	err := run(context.Background(), os.Args[1:], os.Stdout, open)
	switch {
	case errors.Is(err, errUsage):
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "apikey:", err)
		os.Exit(1)
	}
}

// hashPrefix is how much of a hash list prints: enough to name one key
// among millions, short enough to read.
const hashPrefix = 12

func run(ctx context.Context, args []string, out io.Writer, open opener) error {
	cmd := "create"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	flags := flag.NewFlagSet("apikey "+cmd, flag.ContinueOnError)
	flags.SetOutput(io.Discard)
	table := flags.String("table", os.Getenv("TABLE_NAME"), "DynamoDB table")
	local := flags.Bool("local", false, "the running make run's table")
	workspace := flags.String("workspace", "", "workspace")
	key := flags.String("key", "", "API key")
	hash := flags.String("hash", "", "hash prefix of a key (from list)")
	if err := flags.Parse(args); err != nil || flags.NArg() > 0 {
		return errUsage
	}
	if !*local && *table == "" {
		return errUsage
	}
	if *local {
		*table = localstack.DefaultTable
	}
	switch cmd {
	case "create":
		if !mediatrail.ValidRef(*workspace) || *hash != "" {
			return errUsage
		}
	case "list":
		if *key != "" || *hash != "" || (*workspace != "" && !mediatrail.ValidRef(*workspace)) {
			return errUsage
		}
	case "revoke":
		if (*key == "") == (*hash == "") || *workspace != "" {
			return errUsage
		}
	default:
		return errUsage
	}
	store, err := open(ctx, *table, *local)
	if err != nil {
		return err
	}
	switch cmd {
	case "create":
		return create(ctx, store, out, *workspace, *key)
	case "list":
		return list(ctx, store, out, *workspace)
	}
	return revoke(ctx, store, out, *key, *hash)
}

func create(ctx context.Context, store keyStore, out io.Writer, workspace, key string) error {
	if key == "" {
		key = mediatrail.NewAPIKey()
	}
	if err := store.PutAPIKey(ctx, mediatrail.HashAPIKey(key), workspace); err != nil {
		return err
	}
	// The list functions may only read the table: the key that signs cursors
	// is created here, once, after a deploy.
	if err := store.EnsureCursorKey(ctx); err != nil {
		return err
	}
	_, err := fmt.Fprintf(out, "X-API-Key: %s  (workspace %s, hash %s)\n", key, workspace, mediatrail.HashAPIKey(key)[:hashPrefix])
	return err
}

func list(ctx context.Context, store keyStore, out io.Writer, workspace string) error {
	keys, err := store.ListAPIKeys(ctx, workspace)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%-*s  %s\n", hashPrefix, "HASH", "WORKSPACE")
	for _, k := range keys {
		fmt.Fprintf(out, "%-*s  %s\n", hashPrefix, k.Hash[:hashPrefix], k.WorkspaceID)
	}
	_, err = fmt.Fprintf(out, "%d keys\n", len(keys))
	return err
}

// revoke deletes the key given, or the one key whose hash starts with
// prefix (at least 8 characters; more when two keys share it).
func revoke(ctx context.Context, store keyStore, out io.Writer, key, prefix string) error {
	h := mediatrail.HashAPIKey(key)
	if key == "" {
		prefix = strings.ToLower(prefix)
		if len(prefix) < 8 {
			return mediatrail.Invalid("hash", "give at least 8 characters of the hash")
		}
		keys, err := store.ListAPIKeys(ctx, "")
		if err != nil {
			return err
		}
		var matches []mediatrail.StoredAPIKey
		for _, k := range keys {
			if strings.HasPrefix(k.Hash, prefix) {
				matches = append(matches, k)
			}
		}
		switch len(matches) {
		case 0:
			return mediatrail.Errorf(mediatrail.ENOTFOUND, "no API key has a hash starting with %s", prefix)
		case 1:
			h = matches[0].Hash
		default:
			return mediatrail.Errorf(mediatrail.ECONFLICT, "%d keys have a hash starting with %s: give more of it", len(matches), prefix)
		}
	}
	if err := store.DeleteAPIKey(ctx, h); err != nil {
		return err
	}
	_, err := fmt.Fprintf(out, "revoked %s\n", h[:hashPrefix])
	return err
}

// open opens the deployment's table with the AWS credential chain (the SDK
// honours AWS_ENDPOINT_URL_DYNAMODB), or the running make run's.
func open(ctx context.Context, table string, local bool) (keyStore, error) {
	if !local {
		cfg, err := awsconfig.LoadDefaultConfig(ctx)
		if err != nil {
			return nil, err
		}
		return dynamo.New(dynamodb.NewFromConfig(cfg), table), nil
	}
	endpoint, err := runningDynamoDB()
	if err != nil {
		return nil, err
	}
	client := dynamodb.New(dynamodb.Options{
		Region:       localstack.Region,
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint: aws.String(endpoint),
	})
	return dynamo.New(client, table), nil
}

// runningDynamoDB is the DynamoDB endpoint the running `make run` announced
// in .data/stack.json (found from the working directory up, beside
// template.yaml).
func runningDynamoDB() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; d != filepath.Dir(d); d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "template.yaml")); err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join(d, ".data", "stack.json"))
		if err != nil {
			break
		}
		var info struct{ DynamoDB string }
		if json.Unmarshal(b, &info) != nil || info.DynamoDB == "" {
			break
		}
		return info.DynamoDB, nil
	}
	return "", errors.New("-local: no running make run (.data/stack.json) found")
}
