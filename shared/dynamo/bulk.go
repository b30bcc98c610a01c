package dynamo

import (
	"context"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// Bulk loads many assets and spans into a table in the store's item format
// with BatchWriteItem, for seeding benchmarks and local load: writing a large
// workspace through the store's transactions, one record at a time, would
// take far longer than the measurement.
//
// Put* only queue records; Flush writes them, then adds them to the counters
// (asset counts, span usage) with one UpdateItem per counter, carrying the
// sums. Unlike the store, Bulk checks no condition: a record put twice is
// overwritten and counted twice, and the counters are right only once Flush
// has returned. A Bulk is not safe for concurrent use.
type Bulk struct {
	client  *dynamodb.Client
	table   string
	puts    []types.WriteRequest
	counts  map[counterKey]int64
	usage   map[counterKey]mediatrail.SpanUsage
	workers int
}

// counterKey is a counter item's workspace and sort key.
type counterKey struct{ ws, sk string }

// NewBulk returns an empty Bulk writing to table.
func NewBulk(client *dynamodb.Client, table string) *Bulk {
	return &Bulk{client: client, table: table, counts: map[counterKey]int64{},
		usage: map[counterKey]mediatrail.SpanUsage{}, workers: 8}
}

// PutAsset queues asset a; a ready asset is added to its workspace's counters.
func (b *Bulk) PutAsset(a *mediatrail.Asset) error {
	item, err := marshalAsset(a)
	if err != nil {
		return err
	}
	b.puts = append(b.puts, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
	if a.Status == mediatrail.StatusReady {
		for _, sk := range counterSKs(a) {
			b.counts[counterKey{a.WorkspaceID, sk}]++
		}
	}
	return nil
}

// PutSpan queues span sp and charges it to its usage counters, as the
// transaction writing a span does.
func (b *Bulk) PutSpan(sp *mediatrail.Span) error {
	item, err := marshalSpan(sp)
	if err != nil {
		return err
	}
	b.puts = append(b.puts, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
	one := mediatrail.UsageOf(sp)
	for _, sk := range spanUsageSKs(sp) {
		k := counterKey{sp.WorkspaceID, sk}
		u, ok := b.usage[k]
		if !ok {
			u = one
			u.SpanTotals = mediatrail.SpanTotals{}
		}
		u.Merge(one.SpanTotals)
		b.usage[k] = u
	}
	return nil
}

// Flush writes the queued records, 25 a request and 8 requests at a time
// (resubmitting unprocessed items), then updates their counters, and leaves
// b empty. On error, part of the records may have been written.
func (b *Bulk) Flush(ctx context.Context) error {
	if err := b.writeItems(ctx); err != nil {
		return err
	}
	store := New(b.client, b.table)
	for k, n := range b.counts {
		if err := b.update(ctx, store.counterUpdate(k.ws, k.sk, n)); err != nil {
			return fmt.Errorf("dynamo: bulk counter %s: %w", k.sk, err)
		}
		delete(b.counts, k)
	}
	for k, u := range b.usage {
		if err := b.update(ctx, store.usageUpdate(k.ws, k.sk, u)); err != nil {
			return fmt.Errorf("dynamo: bulk span usage %s: %w", k.sk, err)
		}
		delete(b.usage, k)
	}
	return nil
}

// update runs a transaction's counter update on its own.
func (b *Bulk) update(ctx context.Context, up *types.Update) error {
	_, err := b.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: up.TableName, Key: up.Key, UpdateExpression: up.UpdateExpression,
		ExpressionAttributeNames: up.ExpressionAttributeNames, ExpressionAttributeValues: up.ExpressionAttributeValues,
	})
	return err
}

// writeItems writes the queued puts in batches of up to 25, b.workers at a
// time.
func (b *Bulk) writeItems(ctx context.Context) error {
	var batches [][]types.WriteRequest
	for puts := b.puts; len(puts) > 0; {
		n := min(25, len(puts))
		batches, puts = append(batches, puts[:n]), puts[n:]
	}
	b.puts = nil
	work := make(chan []types.WriteRequest)
	errs := make(chan error, b.workers)
	var wg sync.WaitGroup
	for range b.workers {
		wg.Go(func() {
			for batch := range work {
				if err := b.batchWrite(ctx, batch); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for _, batch := range batches {
		select {
		case work <- batch:
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
func (b *Bulk) batchWrite(ctx context.Context, reqs []types.WriteRequest) error {
	return unprocessed.do(ctx, func() (bool, error) {
		out, err := b.client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
			RequestItems: map[string][]types.WriteRequest{b.table: reqs},
		})
		if err != nil {
			return false, fmt.Errorf("dynamo: bulk write: %w", err)
		}
		reqs = out.UnprocessedItems[b.table]
		return len(reqs) > 0, nil
	})
}
