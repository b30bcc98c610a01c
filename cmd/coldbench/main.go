// Command coldbench measures what a cold start costs each function
// (`make bench-cold`). It builds every bootstrap as `make build` does
// (linux/arm64, -tags lambda.norpc, -trimpath, stripped) and prints its size,
// then builds them the same way for the host and times init-to-first-response
// under aws-lambda-rie: a fresh RIE process per run, listening before the
// clock starts, then one invocation whose answer stops it. Each API function
// gets its events/<name>.json without the API key, which every route answers
// (401, or the contract and the console, which ask for none) before any AWS
// call: the time is the function's process start and init, not the network's.
// The baseline is a hello-world aws-lambda-go bootstrap (testdata/hello),
// measured in the same rounds, interleaved with the functions; the ratio is
// median over median. The baseline and asset-get, whose ratio has a goal, are
// timed at least minGoalRuns times.
//
// Run with a DynamoDB Local endpoint in MEDIATRAIL_TEST_DYNAMODB_ENDPOINT (as
// `make bench-cold` runs it, under `localstack exec`), it adds the row
// asset-get+db beside asset-get: the same bootstrap answering
// events/asset-get.json with its key, so that its first request reads the API
// key and the asset from the emulator (200), connection included.
//
//	go run ./cmd/localstack exec -- go run ./cmd/coldbench [-runs 7] [-functions asset-get,asset-list]
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mediatrail/mediatrail/internal/localstack"
)

// baseline names the hello-world bootstrap among the functions.
const baseline = "hello-world"

// Goals of issue 14: an asset route's arm64 bootstrap at most 10 MB, asset-get's
// init at most 1.5 × the baseline's.
const (
	maxAssetBytes = 10_000_000
	maxInitRatio  = 1.5
)

func main() {
	runs := flag.Int("runs", 7, "cold starts per function (the median is reported)")
	only := flag.String("functions", "", "comma-separated functions to measure (default: all)")
	flag.Parse()
	if err := run(*runs, *only); err != nil {
		fmt.Fprintln(os.Stderr, "coldbench:", err)
		os.Exit(1)
	}
}

type function struct {
	name, pkg string
	bin       string // the bootstrap's file, when another row's (default name)
	size      int64
	event     []byte   // nil: not timed (no API Gateway fixture)
	env       []string // nil: bootstrapEnv
	want      int      // the answer's status code; 0: any below 500
	times     []time.Duration
}

// file is the name of f's bootstrap in a build directory.
func (f *function) file() string {
	if f.bin != "" {
		return f.bin
	}
	return f.name
}

func run(runs int, only string) error {
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	tools := localstack.Tools{Root: root}
	if err := tools.CheckRIE(); err != nil {
		return err
	}
	fns, err := functions(root, only)
	if err != nil {
		return err
	}
	env := bootstrapEnv()
	if i := slices.IndexFunc(fns, func(f *function) bool { return f.name == "asset-get" }); i >= 0 {
		db, drop, skipped, err := dbFunction(context.Background(), root, env)
		if err != nil {
			return err
		}
		if db == nil {
			fmt.Fprintln(os.Stderr, "coldbench: no asset-get+db row:", skipped)
		} else {
			defer drop()
			fns = slices.Insert(fns, i+1, db)
		}
	}
	tmp, err := os.MkdirTemp("", "coldbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	arm, host := filepath.Join(tmp, "arm64"), filepath.Join(tmp, "host")
	fmt.Fprintf(os.Stderr, "building %d bootstraps for linux/arm64 and %s/%s...\n",
		len(fns)-count(fns, func(f *function) bool { return f.bin != "" }), runtime.GOOS, runtime.GOARCH)
	if err := build(root, arm, "linux", "arm64", fns); err != nil {
		return err
	}
	if err := build(root, host, runtime.GOOS, runtime.GOARCH, fns); err != nil {
		return err
	}
	for _, f := range fns {
		st, err := os.Stat(filepath.Join(arm, f.file()))
		if err != nil {
			return err
		}
		f.size = st.Size()
	}
	// The goal's rows (the baseline and asset-get) get extra rounds of
	// their own, side by side: on a shared machine a few cold starts of
	// 5 ms each swing their ratio by a third.
	rounds := max(runs, minGoalRuns)
	for r := 0; r < rounds; r++ {
		fmt.Fprintf(os.Stderr, "round %d/%d\n", r+1, rounds)
		for _, f := range fns {
			if f.event == nil || (r >= runs && !goalRow(f.name)) {
				continue
			}
			fenv := env
			if f.env != nil {
				fenv = f.env
			}
			d, err := coldStart(tools.RIE(), filepath.Join(host, f.file()), fenv, f.event, f.want)
			if err != nil {
				return fmt.Errorf("%s: %w", f.name, err)
			}
			f.times = append(f.times, d)
		}
	}
	return report(fns, runs)
}

// minGoalRuns is the fewest cold starts of the goal's rows.
const minGoalRuns = 15

// goalRow reports whether name's row is one of the goal's (or asset-get+db,
// read beside asset-get).
func goalRow(name string) bool {
	return name == baseline || name == "asset-get" || name == "asset-get+db"
}

// functions are the baseline and every functions/<name> (or those of only).
func functions(root, only string) ([]*function, error) {
	hello, err := os.ReadFile(filepath.Join(root, "events", "asset-get.json"))
	if err != nil {
		return nil, err
	}
	fns := []*function{{name: baseline, pkg: "./cmd/coldbench/testdata/hello", event: hello}}
	dirs, err := os.ReadDir(filepath.Join(root, "functions"))
	if err != nil {
		return nil, err
	}
	want := strings.Split(only, ",")
	for _, d := range dirs {
		if only != "" && !slices.Contains(want, d.Name()) {
			continue
		}
		f := &function{name: d.Name(), pkg: "./functions/" + d.Name()}
		if f.event, err = keylessEvent(filepath.Join(root, "events", d.Name()+".json")); err != nil {
			return nil, err
		}
		fns = append(fns, f)
	}
	if len(fns) == 1 {
		return nil, fmt.Errorf("no function matches %q", only)
	}
	return fns, nil
}

// keylessEvent is the API Gateway fixture at path without its API key, or nil
// when the function takes another event (S3, Step Functions, schedule).
func keylessEvent(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var ev map[string]any
	if err := json.Unmarshal(b, &ev); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if _, ok := ev["routeKey"]; !ok {
		return nil, nil
	}
	if h, ok := ev["headers"].(map[string]any); ok {
		delete(h, "x-api-key")
		delete(h, "authorization")
	}
	return json.Marshal(ev)
}

// build compiles fns into dir/<file> as the Makefile's build target does
// (once for rows that share a bootstrap).
func build(root, dir, goos, goarch string, fns []*function) error {
	args := []string{"build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w"}
	for _, f := range fns {
		if f.bin != "" {
			continue
		}
		out := filepath.Join(dir, f.name)
		cmd := exec.Command("go", append(args, "-o", out, f.pkg)...)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH="+goarch, "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("build %s for %s/%s: %w\n%s", f.name, goos, goarch, err, b)
		}
	}
	return nil
}

// bootstrapEnv is what every bootstrap starts with: a table, a bucket and
// credentials, and endpoints nothing listens on (no call reaches them).
func bootstrapEnv() []string {
	return []string{
		"TABLE_NAME=coldbench", "STORAGE_BUCKET=coldbench", "STORAGE_ENDPOINT=http://127.0.0.1:9",
		"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=coldbench", "AWS_SECRET_ACCESS_KEY=coldbench",
		"AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:9", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=512",
		"HOME=" + os.TempDir(), "PATH=" + os.Getenv("PATH"), "TZ=:UTC",
	}
}

// coldStart starts aws-lambda-rie with bootstrap, waits until it listens,
// then times one invocation: the runtime's start and init, and its answer,
// which must have status want (any below 500 when want is 0).
func coldStart(rie, bootstrap string, env []string, event []byte, want int) (time.Duration, error) {
	invokePort, err := localstack.FreePort()
	if err != nil {
		return 0, err
	}
	apiPort, err := localstack.FreePort()
	if err != nil {
		return 0, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", invokePort)
	cmd := exec.Command(rie, "--runtime-interface-emulator-address", addr,
		"--runtime-api-address", fmt.Sprintf("127.0.0.1:%d", apiPort), bootstrap)
	cmd.Env = env
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	defer func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	}()
	if err := waitListening(addr, 10*time.Second); err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/2015-03-31/functions/function/invocations", bytes.NewReader(event))
	if err != nil {
		return 0, err
	}
	start := time.Now()
	resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(req)
	if err != nil {
		return 0, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	elapsed := time.Since(start)
	if err != nil {
		return 0, err
	}
	var answer struct {
		StatusCode int `json:"statusCode"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &answer) != nil || answer.StatusCode == 0 || answer.StatusCode >= 500 ||
		(want != 0 && answer.StatusCode != want) {
		return 0, fmt.Errorf("no HTTP answer %s from the function (RIE %d, status %d, %d bytes)\n%s",
			map[bool]string{true: strconv.Itoa(want), false: "below 500"}[want != 0], resp.StatusCode, answer.StatusCode, len(body), logs.String())
	}
	return elapsed, nil
}

func waitListening(addr string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			return conn.Close()
		}
		if time.Now().After(deadline) {
			return errors.New("aws-lambda-rie did not listen within " + limit.String())
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func count(fns []*function, match func(*function) bool) int {
	n := 0
	for _, f := range fns {
		if match(f) {
			n++
		}
	}
	return n
}

func find(fns []*function, name string) *function {
	if i := slices.IndexFunc(fns, func(f *function) bool { return f.name == name }); i >= 0 {
		return fns[i]
	}
	return nil
}

func report(fns []*function, runs int) error {
	base := fns[0]
	baseInit := median(base.times)
	fmt.Printf("cold starts under aws-lambda-rie on %s/%s (%d CPUs), median of %d (%s, asset-get and asset-get+db: of %d); sizes of linux/arm64 stripped -tags lambda.norpc bootstraps\n",
		runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runs, baseline, max(runs, minGoalRuns))
	fmt.Printf("%-24s %10s %10s %12s %10s\n", "function", "size (MB)", "size/base", "init (ms)", "init/base")
	var failed []string
	for _, f := range fns {
		initMS, ratio := "-", "-"
		if len(f.times) > 0 {
			m := median(f.times)
			initMS = fmt.Sprintf("%.1f", float64(m.Microseconds())/1000)
			ratio = fmt.Sprintf("%.2f", float64(m)/float64(baseInit))
			if f.name == "asset-get" && float64(m) > maxInitRatio*float64(baseInit) {
				failed = append(failed, fmt.Sprintf("asset-get init %.2f× the baseline (goal ≤ %.1f×)", float64(m)/float64(baseInit), maxInitRatio))
			}
		}
		fmt.Printf("%-24s %10.2f %10.2f %12s %10s\n", f.name, float64(f.size)/1e6, float64(f.size)/float64(base.size), initMS, ratio)
		if strings.HasPrefix(f.name, "asset-") && f.size > maxAssetBytes {
			failed = append(failed, fmt.Sprintf("%s is %.2f MB (goal ≤ %d MB)", f.name, float64(f.size)/1e6, maxAssetBytes/1_000_000))
		}
	}
	if db, plain := find(fns, "asset-get+db"), find(fns, "asset-get"); db != nil && plain != nil && len(db.times) > 0 && len(plain.times) > 0 {
		fmt.Printf("asset-get+db: the first request reads its API key and asset from DynamoDB Local: %.1f ms, %.1f ms beyond asset-get's keyless 401\n",
			float64(median(db.times).Microseconds())/1000, float64((median(db.times)-median(plain.times)).Microseconds())/1000)
	}
	if len(failed) > 0 {
		return errors.New(strings.Join(failed, "; "))
	}
	fmt.Println("goals met: asset bootstraps ≤ 10 MB, asset-get init ≤ 1.5× hello-world")
	return nil
}
