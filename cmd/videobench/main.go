// Command videobench measures what storing a video costs in memory: it
// serves generated MP4s (moov at the end) from a fake Runway on 127.0.0.1,
// submits a video job through the real services, polls it, and runs the Store
// step, which streams the video into the S3 emulator (multipart) and probes
// it with ranged reads. For each size it prints the body size, the time, the
// process's peak RSS during Store (VmHWM of /proc/self/status, reset before
// each run) and the ratio of the two: memory stays flat while the body grows.
// Provenance embedding is on (the default), and each stored video is checked
// to carry its record.
//
// It needs the emulators `make test` starts; `make bench-video` runs it:
//
//	go run ./cmd/localstack exec -- go run ./cmd/videobench -mib 64,1024
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/app"
	"github.com/mediatrail/mediatrail/shared/app/media"
	"github.com/mediatrail/mediatrail/shared/dynamo"
	"github.com/mediatrail/mediatrail/shared/provenance"
	"github.com/mediatrail/mediatrail/shared/providers/fake"
	"github.com/mediatrail/mediatrail/shared/s3"
	"github.com/mediatrail/mediatrail/shared/testenv"
)

func main() {
	sizes := flag.String("mib", "64,1024", "video sizes to store, in MiB, comma-separated")
	memprofile := flag.String("memprofile", "", "write the allocations of the runs (pprof) to this file")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *memprofile != "" {
		runtime.MemProfileRate = 64 << 10
	}
	err := run(ctx, *sizes)
	if err == nil && *memprofile != "" {
		err = writeProfile(*memprofile)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "videobench:", err)
		os.Exit(1)
	}
}

// workflow stands in for the state machine: the bench runs the steps itself.
type workflow struct{ task mediatrail.JobTask }

func (w *workflow) Start(_ context.Context, t mediatrail.JobTask) error {
	w.task = t
	return nil
}

func run(ctx context.Context, sizes string) error {
	var mibs []int64
	for _, s := range strings.Split(sizes, ",") {
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil || n <= 0 {
			return fmt.Errorf("-mib: %q is not a positive number", s)
		}
		mibs = append(mibs, n)
	}
	env := map[string]string{}
	for _, k := range []string{testenv.EnvDynamoDB, testenv.EnvS3, testenv.EnvS3Access, testenv.EnvS3Secret} {
		if env[k] = os.Getenv(k); env[k] == "" {
			return fmt.Errorf("%s is not set: run it with `make bench-video`, which starts the emulators", k)
		}
	}
	// The AWS SDK reads its credentials from the process; the emulators take any.
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} {
		if os.Getenv(k) == "" {
			os.Setenv(k, "local")
		}
	}
	runway := fake.New("runway")
	defer runway.Close()
	name := testenv.UniqueName("videobench")
	e, err := app.Load(ctx, func(k string) string {
		return map[string]string{
			"TABLE_NAME": name, "STORAGE_BUCKET": name, "STORAGE_REGION": testenv.Region, "AWS_REGION": testenv.Region,
			"STORAGE_ENDPOINT": env[testenv.EnvS3], "STORAGE_ACCESS_KEY_ID": env[testenv.EnvS3Access], "STORAGE_SECRET_KEY": env[testenv.EnvS3Secret],
			"AWS_ENDPOINT_URL_DYNAMODB": env[testenv.EnvDynamoDB],
			"RUNWAYML_API_SECRET":       fake.Key, "RUNWAY_BASE_URL": runway.BaseURL,
			"VIDEO_MAX_BYTES": strconv.FormatInt(2*slicesMax(mibs)<<20, 10),
		}[k]
	})
	if err != nil {
		return err
	}
	a, err := media.Load(ctx, e)
	if err != nil {
		return err
	}
	if err := dynamo.CreateTable(ctx, a.DynamoDB, name); err != nil {
		return err
	}
	defer a.DynamoDB.DeleteTable(context.WithoutCancel(ctx), &dynamodb.DeleteTableInput{TableName: aws.String(name)})
	client := s3.NewClient(a.AWS, app.StorageConfig(a.Config.Storage))
	if err := s3.EnsureBucket(ctx, client, name); err != nil {
		return err
	}
	defer client.DeleteBucket(context.WithoutCancel(ctx), &awss3.DeleteBucketInput{Bucket: aws.String(name)})
	wf := &workflow{}
	a.Jobs.Workflow = wf

	fmt.Printf("%12s %10s %10s %14s %14s %14s %10s\n", "body", "seconds", "MiB/s", "duration (s)", "RSS before", "peak RSS", "RSS/body")
	for _, mib := range mibs {
		video := fake.Video{Payload: mib << 20, Seconds: 600, Width: 1920, Height: 1080}
		prompt := fmt.Sprintf("videobench %d MiB", mib)
		runway.PlanPrompt(prompt, fake.JobPlan{Video: &video})
		if _, err := a.Media.Generate(ctx, "bench", mediatrail.CapabilityVideoGen, mediatrail.GenerateInput{Provider: "runway", Prompt: prompt}); err != nil {
			return err
		}
		task := wf.task
		for task.Next != mediatrail.NextStore {
			if task, err = a.Jobs.Poll(ctx, task); err != nil {
				return err
			}
		}
		testenv.StartPeakRSS()
		before := testenv.PeakRSS()
		start := time.Now()
		if task, err = a.Jobs.Store(ctx, task); err != nil {
			return err
		}
		elapsed := time.Since(start)
		peak := testenv.PeakRSS()
		v, err := a.Jobs.Get(ctx, "bench", task.JobID)
		if err != nil || v.Asset == nil {
			return fmt.Errorf("job %s after Store: %+v %v", task.JobID, v, err)
		}
		size := v.Asset.FileSize
		fmt.Printf("%8.0f MiB %10.1f %10.0f %14v %10.1f MiB %10.1f MiB %10.4f\n", float64(size)/(1<<20), elapsed.Seconds(),
			float64(size)/(1<<20)/elapsed.Seconds(), v.Asset.Metadata["duration_seconds"], float64(before)/(1<<20), float64(peak)/(1<<20), float64(peak)/float64(size))
		if err := carriesProvenance(ctx, client, name, v.Asset); err != nil {
			return err
		}
		if err := a.Blobs.Delete(ctx, v.Asset.StorageKey); err != nil {
			return err
		}
	}
	return nil
}

// carriesProvenance checks that Store embedded the asset's provenance (the
// XMP uuid box it appends to an MP4), so the RSS measured includes the
// embedding: it reads the object's last 64 KiB.
func carriesProvenance(ctx context.Context, client *awss3.Client, bucket string, asset *mediatrail.Asset) error {
	out, err := client.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(asset.StorageKey),
		Range: aws.String("bytes=-65536")})
	if err != nil {
		return err
	}
	defer out.Body.Close()
	tail, err := io.ReadAll(out.Body)
	if err != nil {
		return err
	}
	if rec, ok := provenance.Find(tail); !ok || rec.AssetID != asset.ID {
		return fmt.Errorf("asset %s: the stored video carries no provenance record", asset.ID)
	}
	return nil
}

// writeProfile writes the allocations so far: what Store allocates per part
// is what grows the heap between collections (go tool pprof -sample_index
// alloc_space).
func writeProfile(path string) error {
	runtime.GC() // the profile is as of the last collection
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	return errors.Join(pprof.Lookup("allocs").WriteTo(f, 0), f.Close())
}

func slicesMax(xs []int64) int64 {
	m := xs[0]
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}
