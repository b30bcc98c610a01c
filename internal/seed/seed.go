// Package seed fills a table with many ready assets or spans for benchmarks
// and local load (cmd/reconcilebench, shared/dynamo's benchmarks). It is
// tooling, not part of any function: it writes through dynamo.Bulk, which
// skips the store's transactions.
package seed

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/dynamo"
)

var providers = []string{"openai", "elevenlabs", "replicate"}

// Assets writes n ready assets into workspace ws, one second apart and ending
// now, and adds them to the counters. Asset i has type AssetTypes[i%5],
// provider openai, elevenlabs or replicate by i%3, agent "agent-{i%7}" and
// execution "exec-{i/100}". The counters are right only once it has returned.
func Assets(ctx context.Context, client *dynamodb.Client, table, ws string, n int) error {
	_, err := AssetKeys(ctx, client, table, ws, n)
	return err
}

// AssetKeys is Assets answering the storage keys of the assets, for a bench
// that also puts their objects (reconciliation).
func AssetKeys(ctx context.Context, client *dynamodb.Client, table, ws string, n int) ([]string, error) {
	bulk := dynamo.NewBulk(client, table)
	keys := make([]string, 0, n)
	start := time.Now().UTC().Truncate(time.Second).Add(-time.Duration(n) * time.Second)
	for i := range n {
		at := start.Add(time.Duration(i+1) * time.Second)
		id := mediatrail.NewIDAt(at)
		name := fmt.Sprintf("seed-%d.bin", i)
		a := &mediatrail.Asset{
			ID:          id,
			WorkspaceID: ws,
			ExecutionID: fmt.Sprintf("exec-%d", i/100),
			AgentID:     fmt.Sprintf("agent-%d", i%7),
			Type:        mediatrail.AssetTypes[i%len(mediatrail.AssetTypes)],
			Provider:    providers[i%len(providers)],
			Model:       "seed-model",
			FileName:    name,
			FileSize:    int64(1024 + i),
			ContentType: "application/octet-stream",
			StorageKey:  mediatrail.StorageKeyFor(ws, id, name),
			SHA256:      fmt.Sprintf("%064x", i),
			Metadata:    map[string]any{"prompt": "seed", "index": float64(i)},
			Status:      mediatrail.StatusReady,
			CreatedAt:   at,
			UpdatedAt:   at,
		}
		keys = append(keys, a.StorageKey)
		if err := bulk.PutAsset(a); err != nil {
			return nil, err
		}
	}
	if err := bulk.Flush(ctx); err != nil {
		return nil, fmt.Errorf("seed assets: %w", err)
	}
	return keys, nil
}

// Spans writes n spans into workspace ws, evenly spread over the period
// `over` that ends now, and adds them to their usage counters. Span i has
// media type Capabilities[i%6], provider openai, elevenlabs or replicate by
// i%3, model "seed-model-{i%4}", execution "exec-{i/100}" and trace
// "trace-{i/10}"; every tenth failed. Like Assets, the counters are right
// only once it has returned.
func Spans(ctx context.Context, client *dynamodb.Client, table, ws string, n int, over time.Duration) error {
	bulk := dynamo.NewBulk(client, table)
	end := time.Now().UTC()
	step := over / time.Duration(n)
	for i := range n {
		at := end.Add(-time.Duration(n-1-i) * step)
		c := mediatrail.Capabilities[i%len(mediatrail.Capabilities)]
		sp := &mediatrail.Span{
			ID: mediatrail.NewIDAt(at), WorkspaceID: ws, TraceID: fmt.Sprintf("trace-%d", i/10),
			ExecutionID: fmt.Sprintf("exec-%d", i/100), AgentID: "seed-agent", Name: "media." + string(c),
			Kind: c.SpanKind(), MediaType: c, Provider: providers[i%len(providers)],
			Model: fmt.Sprintf("seed-model-%d", i%4), Prompt: "seed", Status: mediatrail.SpanCompleted,
			DurationMs: int64(100 + i%900), MediaDurationSeconds: float64(i%60) / 4,
			Cost:      mediatrail.Cost{Amount: float64(i%100) * 0.0001, Currency: "USD", Quantity: 1, Unit: "request"},
			StartedAt: at, EndedAt: at.Add(time.Duration(100+i%900) * time.Millisecond),
		}
		if i%10 == 9 {
			sp.Status, sp.Error = mediatrail.SpanError, &mediatrail.SpanFailure{Code: "provider_error", Message: "seed"}
		}
		if err := bulk.PutSpan(sp); err != nil {
			return err
		}
	}
	if err := bulk.Flush(ctx); err != nil {
		return fmt.Errorf("seed spans: %w", err)
	}
	return nil
}
