package dynamo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// backoff is the one retry loop of this package: transactions cancelled by a
// concurrent one, and batch requests whose unprocessed items are resubmitted.
// (The SDK's own retryer covers throttled single calls; these are answers it
// counts as successes.)
type backoff struct {
	first, max time.Duration // the first wait, and the cap waits double up to
	attempts   int           // calls of op at most; 0 for as long as ctx lasts
}

// do calls op until it says not to go again, waiting a jittered, doubling
// delay between calls. It returns op's last error; if ctx ends during a wait,
// that error, or ctx's when op had none.
func (b backoff) do(ctx context.Context, op func() (again bool, err error)) error {
	wait := b.first
	for attempt := 1; ; attempt++ {
		again, err := op()
		if !again || attempt == b.attempts {
			return err
		}
		t := time.NewTimer(wait/2 + rand.N(wait)) // jitter spreads clients that collided
		select {
		case <-ctx.Done():
			t.Stop()
			if err != nil {
				return err
			}
			return ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, b.max)
	}
}

// scanEach visits every item a paginated Scan of what returns; visit's errors
// come back as they are.
func (s *Store) scanEach(ctx context.Context, what string, in *dynamodb.ScanInput, visit func(map[string]types.AttributeValue) error) error {
	for p := dynamodb.NewScanPaginator(s.client, in); p.HasMorePages(); {
		out, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("dynamo: scan %s: %w", what, err)
		}
		for _, item := range out.Items {
			if err := visit(item); err != nil {
				return err
			}
		}
	}
	return nil
}

// unprocessed resubmits a batch's unprocessed items until none are left.
var unprocessed = backoff{first: 10 * time.Millisecond, max: time.Second}
