// Command apikey binds an API key to a workspace in a deployed table, using the
// ordinary AWS credential chain:
//
//	go run ./cmd/apikey -table <AssetsTableName> -workspace acme [-key KEY]
//
// Without -key it mints one. Only the key's SHA-256 is stored; the key itself is
// printed once.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/dynamo"
)

func main() {
	table := flag.String("table", os.Getenv("TABLE_NAME"), "DynamoDB table (the stack's AssetsTableName output)")
	workspace := flag.String("workspace", "", "workspace the key opens")
	key := flag.String("key", "", "key to store (minted when empty)")
	flag.Parse()
	if *table == "" || !mediatrail.ValidRef(*workspace) {
		flag.Usage()
		os.Exit(2)
	}
	if *key == "" {
		*key = mediatrail.NewAPIKey()
	}
	ctx := context.Background()
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "apikey:", err)
		os.Exit(1)
	}
	store := dynamo.New(dynamodb.NewFromConfig(cfg), *table)
	if err := store.PutAPIKey(ctx, mediatrail.HashAPIKey(*key), *workspace); err != nil {
		fmt.Fprintln(os.Stderr, "apikey:", err)
		os.Exit(1)
	}
	// The list functions may only read the table: the key that signs cursors
	// is created here, once, after a deploy.
	if err := store.EnsureCursorKey(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "apikey:", err)
		os.Exit(1)
	}
	fmt.Printf("X-API-Key: %s  (workspace %s)\n", *key, *workspace)
}
