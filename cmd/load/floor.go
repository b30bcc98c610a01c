package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/mediatrail/mediatrail/internal/localstack"
	"github.com/mediatrail/mediatrail/shared/dynamo"
)

// floor is what the table alone answers at a phase's concurrency: GetItem
// of an acknowledged asset, consistent as FindAsset reads it, sent straight
// to DynamoDB Local by as many workers as the phase had clients, each its
// next as soon as the last answered. The get and signed-url routes read the
// table twice in a row (the API key, then the asset), so twice its p50 is
// about the least either can take beyond the no-op function.
type floor struct {
	Clients, Requests, Errors int
	Duration                  time.Duration
	P50, P99                  time.Duration
}

// table is the stack's DynamoDB table, for the floor.
type table struct {
	client *dynamodb.Client
	name   string
}

func newTable(endpoint, name string, clients int) *table {
	// One idle connection per worker, as each function process keeps its
	// own: the floor times the table, not reconnections.
	httpClient := awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConns, t.MaxIdleConnsPerHost = clients, clients
	})
	return &table{name: name, client: dynamodb.New(dynamodb.Options{
		Region:       localstack.Region,
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint: aws.String(endpoint),
		HTTPClient:   httpClient,
	})}
}

// measure runs the floor with clients workers for d on the asset id of
// workspace ws.
func (t *table) measure(ctx context.Context, ws, id string, clients int, d time.Duration) *floor {
	in := &dynamodb.GetItemInput{TableName: aws.String(t.name), Key: dynamo.AssetKey(ws, id), ConsistentRead: aws.Bool(true)}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var (
		mu        sync.Mutex
		latencies []time.Duration
		errs      int
		wg        sync.WaitGroup
	)
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			failed := 0
			for ctx.Err() == nil {
				start := time.Now()
				out, err := t.client.GetItem(ctx, in)
				if ctx.Err() != nil {
					break // cut short by the end of the window: not a sample
				}
				if err != nil || len(out.Item) == 0 {
					failed++
					continue
				}
				mine = append(mine, time.Since(start))
			}
			mu.Lock()
			latencies, errs = append(latencies, mine...), errs+failed
			mu.Unlock()
		}()
	}
	wg.Wait()
	f := &floor{Clients: clients, Duration: d, Errors: errs}
	f.summarise(latencies)
	return f
}

// summarise counts f's requests (latencies, one a successful read, and
// f.Errors) and takes their p50 and p99.
func (f *floor) summarise(latencies []time.Duration) {
	f.Requests = len(latencies) + f.Errors
	if len(latencies) > 0 {
		slices.Sort(latencies)
		f.P50, f.P99 = quantile(latencies, 0.50), quantile(latencies, 0.99)
	}
}

// quantile of sorted latencies, nearest rank.
func quantile(sorted []time.Duration, q float64) time.Duration {
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func (f *floor) print(out io.Writer) {
	fmt.Fprintf(out, "  DynamoDB Local floor (direct GetItem, %d clients, %s, %d requests, %d failed): p50 %s, p99 %s\n",
		f.Clients, f.Duration, f.Requests, f.Errors, ms(f.P50), ms(f.P99))
}

// probeEvery paces the GetItems sent beside a phase: few enough not to add
// to the load they measure.
const probeEvery = 50 * time.Millisecond

// probe sends one GetItem of an acknowledged asset every probeEvery while a
// phase runs, straight to DynamoDB Local: what a read waits for in the
// emulator beside the phase's writes, which the floor, measured alone, does
// not see. The returned function stops it and answers its figures.
func (t *table) probe(ctx context.Context, w *workload) func() *floor {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan *floor, 1)
	go func() {
		f := &floor{Clients: 1}
		var latencies []time.Duration
		start := time.Now()
		tick := time.NewTicker(probeEvery)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				f.Duration = time.Since(start).Round(time.Second)
				f.summarise(latencies)
				done <- f
				return
			case <-tick.C:
			}
			ws, id, ok := w.liveAsset()
			if !ok {
				continue
			}
			in := &dynamodb.GetItemInput{TableName: aws.String(t.name), Key: dynamo.AssetKey(ws, id), ConsistentRead: aws.Bool(true)}
			sent := time.Now()
			out, err := t.client.GetItem(ctx, in)
			switch {
			case ctx.Err() != nil: // cut short by the phase's end: not a sample
			case err != nil || len(out.Item) == 0:
				f.Errors++
			default:
				latencies = append(latencies, time.Since(sent))
			}
		}
	}()
	return func() *floor {
		cancel()
		return <-done
	}
}

func (f *floor) printProbe(out io.Writer) {
	fmt.Fprintf(out, "  DynamoDB Local during the phase (a GetItem every %s beside it, %d requests, %d failed): p50 %s, p99 %s\n",
		probeEvery, f.Requests, f.Errors, ms(f.P50), ms(f.P99))
}
