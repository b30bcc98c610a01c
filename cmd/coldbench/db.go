package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/dynamo"
	"github.com/mediatrail/mediatrail/shared/testenv"
)

// dbWorkspace owns the asset the asset-get+db row reads.
const dbWorkspace = "coldbench"

// dbFunction is asset-get answering events/asset-get.json itself, key and
// all, against DynamoDB Local (the emulator `localstack exec` started): the
// first request's API-key and asset reads, connection included, on top of
// the plain row's init. Nil, with the reason, when no emulator is given.
func dbFunction(ctx context.Context, root string, base []string) (*function, func(), string, error) {
	endpoint := os.Getenv(testenv.EnvDynamoDB)
	if endpoint == "" {
		return nil, nil, testenv.EnvDynamoDB + " is not set (run it as `make bench-cold` does, under `localstack exec`)", nil
	}
	event, err := os.ReadFile(filepath.Join(root, "events", "asset-get.json"))
	if err != nil {
		return nil, nil, "", err
	}
	var ev struct {
		Headers        map[string]string `json:"headers"`
		PathParameters map[string]string `json:"pathParameters"`
	}
	if err := json.Unmarshal(event, &ev); err != nil {
		return nil, nil, "", fmt.Errorf("events/asset-get.json: %w", err)
	}
	table := testenv.UniqueName("coldbench")
	client := dynamodb.New(dynamodb.Options{
		Region:       testenv.Region,
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint: aws.String(endpoint),
	})
	if err := dynamo.CreateTable(ctx, client, table); err != nil {
		return nil, nil, "", err
	}
	drop := func() {
		_, _ = client.DeleteTable(context.WithoutCancel(ctx), &dynamodb.DeleteTableInput{TableName: aws.String(table)})
	}
	store := dynamo.New(client, table)
	id, now := ev.PathParameters["id"], time.Now().UTC()
	err = store.PutAPIKey(ctx, mediatrail.HashAPIKey(ev.Headers["x-api-key"]), dbWorkspace)
	if err == nil {
		err = store.CreateAsset(ctx, &mediatrail.Asset{ID: id, WorkspaceID: dbWorkspace, Type: mediatrail.AssetImage, Provider: "local",
			FileName: "a.png", FileSize: 3, ContentType: "image/png", StorageKey: mediatrail.StorageKeyFor(dbWorkspace, id, "a.png"),
			Status: mediatrail.StatusReady, CreatedAt: now, UpdatedAt: now})
	}
	if err != nil {
		drop()
		return nil, nil, "", fmt.Errorf("seed the asset-get+db table: %w", err)
	}
	env := append([]string{}, base...)
	for i, kv := range env {
		switch {
		case strings.HasPrefix(kv, "TABLE_NAME="):
			env[i] = "TABLE_NAME=" + table
		case strings.HasPrefix(kv, "AWS_ENDPOINT_URL_DYNAMODB="):
			env[i] = "AWS_ENDPOINT_URL_DYNAMODB=" + endpoint
		}
	}
	return &function{name: "asset-get+db", pkg: "./functions/asset-get", bin: "asset-get", event: event, env: env, want: 200}, drop, "", nil
}
