package dynamo

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

var seedProviders = []string{"openai", "elevenlabs", "replicate"}

// SeedAssets writes n ready assets into workspace ws for benchmarks and local
// load, one second apart and ending now, with BatchWriteItem, then adds them to
// the counters. Asset i has type AssetTypes[i%5], provider openai, elevenlabs
// or replicate by i%3, agent "agent-{i%7}" and execution "exec-{i/100}". It
// bypasses the store's transactions, so the counters are right only once it has
// returned.
func SeedAssets(ctx context.Context, client *dynamodb.Client, table, ws string, n int) error {
	_, err := SeedAssetKeys(ctx, client, table, ws, n)
	return err
}

// SeedAssetKeys is SeedAssets answering the storage keys of the assets, for
// a bench that also puts their objects (reconciliation).
func SeedAssetKeys(ctx context.Context, client *dynamodb.Client, table, ws string, n int) ([]string, error) {
	keys := make([]string, 0, n)
	start := time.Now().UTC().Truncate(time.Second).Add(-time.Duration(n) * time.Second)
	counts := map[string]int64{}
	var batches [][]types.WriteRequest
	for i := range n {
		at := start.Add(time.Duration(i+1) * time.Second)
		id := mediatrail.NewIDAt(at)
		a := &mediatrail.Asset{
			ID:          id,
			WorkspaceID: ws,
			ExecutionID: fmt.Sprintf("exec-%d", i/100),
			AgentID:     fmt.Sprintf("agent-%d", i%7),
			Type:        mediatrail.AssetTypes[i%len(mediatrail.AssetTypes)],
			Provider:    seedProviders[i%len(seedProviders)],
			Model:       "seed-model",
			FileName:    fmt.Sprintf("seed-%d.bin", i),
			FileSize:    int64(1024 + i),
			ContentType: "application/octet-stream",
			StorageKey:  mediatrail.StorageKeyFor(ws, id, fmt.Sprintf("seed-%d.bin", i)),
			SHA256:      fmt.Sprintf("%064x", i),
			Metadata:    map[string]any{"prompt": "seed", "index": float64(i)},
			Status:      mediatrail.StatusReady,
			CreatedAt:   at,
			UpdatedAt:   at,
		}
		keys = append(keys, a.StorageKey)
		item, err := marshalAsset(a)
		if err != nil {
			return nil, err
		}
		if i%25 == 0 {
			batches = append(batches, nil)
		}
		batches[len(batches)-1] = append(batches[len(batches)-1], types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
		for _, sk := range counterSKs(a) {
			counts[sk]++
		}
	}

	if err := writeSeed(ctx, client, table, batches); err != nil {
		return nil, err
	}

	for sk, c := range counts {
		_, err := client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                 aws.String(table),
			Key:                       map[string]types.AttributeValue{attrPK: str(wsPK(ws)), attrSK: str(sk)},
			UpdateExpression:          aws.String("ADD #n :delta"),
			ExpressionAttributeNames:  map[string]string{"#n": attrCount},
			ExpressionAttributeValues: map[string]types.AttributeValue{":delta": num(c)},
		})
		if err != nil {
			return nil, fmt.Errorf("dynamo: seed counter %s: %w", sk, err)
		}
	}
	return keys, nil
}

// SeedSpans writes n spans into workspace ws for benchmarks, evenly spread
// over the period `over` that ends now, with BatchWriteItem, then adds them
// to their usage counters with one UpdateItem per counter (the update a
// span's transaction makes, carrying the sums). Span i has media type
// Capabilities[i%6], provider openai, elevenlabs or replicate by i%3, model
// "seed-model-{i%4}", execution "exec-{i/100}" and trace "trace-{i/10}";
// every tenth failed. Like SeedAssets, the counters are right only once it
// has returned.
func SeedSpans(ctx context.Context, client *dynamodb.Client, table, ws string, n int, over time.Duration) error {
	end := time.Now().UTC()
	step := over / time.Duration(n)
	usage := map[string]mediatrail.SpanUsage{}
	var batches [][]types.WriteRequest
	for i := range n {
		at := end.Add(-time.Duration(n-1-i) * step)
		c := mediatrail.Capabilities[i%len(mediatrail.Capabilities)]
		sp := &mediatrail.Span{
			ID: mediatrail.NewIDAt(at), WorkspaceID: ws, TraceID: fmt.Sprintf("trace-%d", i/10),
			ExecutionID: fmt.Sprintf("exec-%d", i/100), AgentID: "seed-agent", Name: "media." + string(c),
			Kind: c.SpanKind(), MediaType: c, Provider: seedProviders[i%len(seedProviders)],
			Model: fmt.Sprintf("seed-model-%d", i%4), Prompt: "seed", Status: mediatrail.SpanCompleted,
			DurationMs: int64(100 + i%900), MediaDurationSeconds: float64(i%60) / 4,
			Cost:      mediatrail.Cost{Amount: float64(i%100) * 0.0001, Currency: "USD", Quantity: 1, Unit: "request"},
			StartedAt: at, EndedAt: at.Add(time.Duration(100+i%900) * time.Millisecond),
		}
		if i%10 == 9 {
			sp.Status, sp.Error = mediatrail.SpanError, &mediatrail.SpanFailure{Code: "provider_error", Message: "seed"}
		}
		item, err := marshalSpan(sp)
		if err != nil {
			return err
		}
		if i%25 == 0 {
			batches = append(batches, nil)
		}
		batches[len(batches)-1] = append(batches[len(batches)-1], types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
		one := mediatrail.UsageOf(sp)
		for _, sk := range spanUsageSKs(sp) {
			u, ok := usage[sk]
			if !ok {
				u = one
				u.SpanTotals = mediatrail.SpanTotals{}
			}
			u.Merge(one.SpanTotals)
			usage[sk] = u
		}
	}
	if err := writeSeed(ctx, client, table, batches); err != nil {
		return err
	}
	store := New(client, table)
	for sk, u := range usage {
		up := store.usageUpdate(ws, sk, u)
		_, err := client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: up.TableName, Key: up.Key, UpdateExpression: up.UpdateExpression,
			ExpressionAttributeNames: up.ExpressionAttributeNames, ExpressionAttributeValues: up.ExpressionAttributeValues,
		})
		if err != nil {
			return fmt.Errorf("dynamo: seed span usage %s: %w", sk, err)
		}
	}
	return nil
}

// writeSeed writes batches of up to 25 put requests, 8 at a time.
func writeSeed(ctx context.Context, client *dynamodb.Client, table string, batches [][]types.WriteRequest) error {
	const workers = 8
	work := make(chan []types.WriteRequest)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for batch := range work {
				if err := batchWrite(ctx, client, table, batch); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for _, b := range batches {
		select {
		case work <- b:
		case err := <-errs:
			close(work)
			wg.Wait()
			return err
		}
	}
	close(work)
	wg.Wait()
	close(errs)
	return <-errs
}

// batchWrite writes up to 25 requests, resubmitting unprocessed ones.
func batchWrite(ctx context.Context, client *dynamodb.Client, table string, reqs []types.WriteRequest) error {
	return unprocessed.do(ctx, func() (bool, error) {
		out, err := client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
			RequestItems: map[string][]types.WriteRequest{table: reqs},
		})
		if err != nil {
			return false, fmt.Errorf("dynamo: seed: %w", err)
		}
		reqs = out.UnprocessedItems[table]
		return len(reqs) > 0, nil
	})
}
