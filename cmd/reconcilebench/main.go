// Command reconcilebench measures reconciliation at scale (`make
// bench-reconcile`): it seeds ready asset records (BatchWriteItem) and their
// objects (PutObject) into DynamoDB Local and versitygw, then runs a
// reconciliation as the reconcile state machine does, with the reconcile
// function's own handler (the app/media constructor) in this process: Plan,
// every table segment a page per invocation (as many in parallel as the
// Map's MaxConcurrency, 8), then every blobs segment the same way, then
// Finish. Each event and answer goes through JSON as between the states. For
// each size it prints the time, the checks made and the process's peak RSS
// during the run (VmHWM, reset before it); the last line is the ratio of the
// largest run's peak to the smallest's: memory stays flat in the object
// count when only a page per segment is held.
//
// Sizes are cumulative: -n 10000,100000 seeds 10,000, runs, seeds 90,000
// more, runs. It needs the emulators `make test` starts:
//
//	go run ./cmd/localstack exec -- go run ./cmd/reconcilebench -n 10000,100000
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/mediatrail/mediatrail/internal/seed"
	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/app"
	"github.com/mediatrail/mediatrail/shared/app/media"
	"github.com/mediatrail/mediatrail/shared/dynamo"
	"github.com/mediatrail/mediatrail/shared/obs"
	"github.com/mediatrail/mediatrail/shared/s3"
	"github.com/mediatrail/mediatrail/shared/testenv"
)

// mapConcurrency is the MaxConcurrency of both Map states of
// statemachines/reconcile.asl.json.
const mapConcurrency = 8

// seedWorkers is how many PutObject requests seeding keeps in flight.
const seedWorkers = 16

func main() {
	sizes := flag.String("n", "10000,100000", "object counts to reconcile, cumulative, comma-separated")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *sizes); err != nil {
		fmt.Fprintln(os.Stderr, "reconcilebench:", err)
		os.Exit(1)
	}
}

// handler is the reconcile function's handler.
type handler func(context.Context, json.RawMessage) (any, error)

func run(ctx context.Context, sizes string) error {
	var counts []int
	for _, s := range strings.Split(sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 || (len(counts) > 0 && n <= counts[len(counts)-1]) {
			return fmt.Errorf("-n: %q is not a count above the previous one", s)
		}
		counts = append(counts, n)
	}
	env := map[string]string{}
	for _, k := range []string{testenv.EnvDynamoDB, testenv.EnvS3, testenv.EnvS3Access, testenv.EnvS3Secret} {
		if env[k] = os.Getenv(k); env[k] == "" {
			return fmt.Errorf("%s is not set: run it with `make bench-reconcile`, which starts the emulators", k)
		}
	}
	name := testenv.UniqueName("reconcilebench")
	getenv := func(k string) string {
		return map[string]string{
			"TABLE_NAME": name, "STORAGE_BUCKET": name, "STORAGE_REGION": testenv.Region, "AWS_REGION": testenv.Region,
			"STORAGE_ENDPOINT": env[testenv.EnvS3], "STORAGE_ACCESS_KEY_ID": env[testenv.EnvS3Access], "STORAGE_SECRET_KEY": env[testenv.EnvS3Secret],
			"AWS_ENDPOINT_URL_DYNAMODB": env[testenv.EnvDynamoDB], "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
			"AWS_LAMBDA_FUNCTION_NAME": "reconcilebench",
		}[k]
	}
	e, err := app.Load(ctx, getenv)
	if err != nil {
		return err
	}
	// One log line per page would bury the figures.
	e.Logger = slog.New(slog.DiscardHandler)
	e.Metrics = obs.NewRecorder(io.Discard, e.Logger)
	ddb := e.DynamoDB()
	if err := dynamo.CreateTable(ctx, ddb, name); err != nil {
		return err
	}
	defer ddb.DeleteTable(context.WithoutCancel(ctx), &dynamodb.DeleteTableInput{TableName: aws.String(name)})
	client := s3.NewClient(e.AWS, app.StorageConfig(e.Config.Storage))
	if err := s3.EnsureBucket(ctx, client, name); err != nil {
		return err
	}
	// The bucket is left behind with its objects (deleting 100,000 takes as
	// long as putting them); versitygw's data lives under the stack's
	// temporary directory.
	h, err := media.Reconcile(ctx, e)
	if err != nil {
		return err
	}

	fmt.Printf("%10s %10s %10s %10s %10s %12s %12s\n", "objects", "seed (s)", "run (s)", "records", "blobs", "findings", "peak RSS")
	var first, last int64
	seeded := 0
	for i, n := range counts {
		start := time.Now()
		if err := seedRecords(ctx, ddb, client, name, n-seeded); err != nil {
			return err
		}
		seeded = n
		seedTime := time.Since(start)

		testenv.StartPeakRSS()
		start = time.Now()
		rep, err := reconcile(ctx, handler(h), fmt.Sprintf("bench-%d", n))
		if err != nil {
			return err
		}
		elapsed, peak := time.Since(start), testenv.PeakRSS()
		findings := 0
		for _, c := range rep.Found {
			findings += c
		}
		fmt.Printf("%10d %10.1f %10.1f %10d %10d %12d %8.1f MiB\n", n, seedTime.Seconds(), elapsed.Seconds(),
			rep.RecordsScanned, rep.BlobsScanned, findings, float64(peak)/(1<<20))
		if rep.RecordsScanned != n || rep.BlobsScanned != n || findings != 0 {
			return fmt.Errorf("%d objects: the run scanned %d records and %d blobs and found %d, want %d, %d and none",
				n, rep.RecordsScanned, rep.BlobsScanned, findings, n, n)
		}
		if i == 0 {
			first = peak
		}
		last = peak
	}
	if len(counts) > 1 && first > 0 {
		fmt.Printf("peak RSS at %d objects / at %d: %.2f (goal: flat, about 1)\n", counts[len(counts)-1], counts[0], float64(last)/float64(first))
	}
	return nil
}

// seedRecords writes n ready records into the table and their objects (a few bytes
// each) into the bucket, all in one workspace.
func seedRecords(ctx context.Context, ddb *dynamodb.Client, client *awss3.Client, bucket string, n int) error {
	keys, err := seed.AssetKeys(ctx, ddb, bucket, "ws-reconcile", n)
	if err != nil {
		return err
	}
	work := make(chan string)
	errs := make(chan error, seedWorkers)
	var wg sync.WaitGroup
	for range seedWorkers {
		wg.Go(func() {
			for key := range work {
				_, err := client.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
					Body: bytes.NewReader([]byte(key))})
				if err != nil {
					errs <- fmt.Errorf("seed %s: %w", key, err)
					return
				}
			}
		})
	}
	defer wg.Wait()
	defer close(work)
	for _, k := range keys {
		select {
		case work <- k:
		case err := <-errs:
			return err
		}
	}
	return nil
}

// reconcile runs the state machine's steps with h: Plan, the table
// segments' pages, the blobs segments' pages, Finish. The grace is 1 ns, so
// that everything just seeded is old enough to be checked.
func reconcile(ctx context.Context, h handler, execution string) (*mediatrail.ReconcileReport, error) {
	var plan mediatrail.ReconcilePlan
	if err := invoke(ctx, h, mediatrail.ReconcileStep{Step: "plan", Execution: execution,
		Options: mediatrail.ReconcileOptions{Grace: "1ns"}}, &plan); err != nil {
		return nil, err
	}
	for _, segs := range [][]mediatrail.ReconcileSegment{plan.Table, plan.Blobs} {
		if err := mapSegments(ctx, h, plan.RunID, segs); err != nil {
			return nil, err
		}
	}
	var rep mediatrail.ReconcileReport
	err := invoke(ctx, h, mediatrail.ReconcileStep{Step: "finish", RunID: plan.RunID}, &rep)
	return &rep, err
}

// mapSegments is a Map state: each segment's pages in turn until done, at
// most mapConcurrency segments at a time.
func mapSegments(ctx context.Context, h handler, runID string, segs []mediatrail.ReconcileSegment) error {
	sem := make(chan struct{}, mapConcurrency)
	errs := make(chan error, len(segs))
	var wg sync.WaitGroup
	for _, seg := range segs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			for {
				var page mediatrail.ReconcilePage
				if err := invoke(ctx, h, mediatrail.ReconcileStep{Step: "page", RunID: runID, Segment: &seg}, &page); err != nil {
					errs <- err
					return
				}
				if page.Done {
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// invoke calls h with step and decodes its answer into out, through JSON as
// Step Functions passes them.
func invoke(ctx context.Context, h handler, step mediatrail.ReconcileStep, out any) error {
	event, err := json.Marshal(step)
	if err != nil {
		return err
	}
	answer, err := h(ctx, event)
	if err != nil {
		return fmt.Errorf("%s: %w", step.Step, err)
	}
	b, err := json.Marshal(answer)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}
