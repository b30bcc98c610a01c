// Command load is `make load`: it drives the running local stack (`make run`,
// found through .data/stack.json; without one it starts a stack on .data for
// the run, under aws-lambda-rie as `make run` does) with vegeta, a mix of
// list, get, signed-url, register + PUT + complete and delete across two
// fresh workspaces, at 20 then 100 concurrent clients. Beside the stack it
// serves a no-op function through the local stack's Gateway under the same
// runtime, and sends it a share of the mix: its latency is what the gateway
// and the runtime add to every route. After each phase it times GetItem sent
// straight to DynamoDB Local at the same concurrency: what the table alone
// takes. It prints each route's p50/p95/p99, throughput and errors per phase,
// with those two floors, then checks that nothing was lost: every
// asset whose complete was acknowledged and which was not deleted is listed
// and downloads, through its signed URL, with the SHA-256 it was registered
// with. It exits non-zero on any error or loss.
//
//	DURATION=10s CLIENTS=20,100 make load
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	duration := flag.Duration("duration", envDuration("DURATION", 60*time.Second), "length of each phase (DURATION)")
	clients := flag.String("clients", envOr("CLIENTS", "20,100"), "concurrent clients of each phase, comma-separated (CLIENTS)")
	rate := flag.Int("rate", envInt("RATE", 0), "requests per second of each phase; 0: each client sends its next request when the last one answered (RATE)")
	warmup := flag.Duration("warmup", 5*time.Second, "unreported warm-up at the largest client count, before the phases")
	noopPool := flag.Int("noop-pool", 8, "aws-lambda-rie processes of the no-op function (the local stack's bound per function)")
	fnEnv := flag.String("function-env", envOr("FUNCTION_ENV", ""), "KEY=VALUE,... set in every function of the stack the load starts (not in a running `make run`) (FUNCTION_ENV)")
	floorFor := flag.Duration("floor", 5*time.Second, "length of the direct DynamoDB GetItem floor after each phase (0: none)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	o := options{Duration: *duration, Rate: *rate, Warmup: min(*warmup, *duration), Floor: min(*floorFor, *duration)}
	for _, s := range strings.Split(*clients, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "load: -clients: %q is not a positive number\n", s)
			os.Exit(2)
		}
		o.Clients = append(o.Clients, n)
	}
	env := map[string]string{}
	for _, kv := range strings.Split(*fnEnv, ",") {
		if kv = strings.TrimSpace(kv); kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			fmt.Fprintf(os.Stderr, "load: -function-env: %q is not KEY=VALUE\n", kv)
			os.Exit(2)
		}
		env[k] = v
	}
	r := root()
	st, err := connect(ctx, r, env)
	if err != nil {
		fmt.Fprintln(os.Stderr, "load: FAILED:", err)
		os.Exit(1)
	}
	defer st.Close()
	noop, err := startNoop(ctx, r, st.Runtime, *noopPool)
	if err != nil {
		fmt.Fprintln(os.Stderr, "load: FAILED: no-op function:", err)
		os.Exit(1)
	}
	defer noop.Close()
	o.API, o.NoopURL, o.Spaces = st.API, noop.URL, st.Spaces
	o.Runtime = string(st.Runtime)
	if o.Floor > 0 {
		o.Table = newTable(st.DynamoDB, st.Table, slices.Max(o.Clients))
	}
	rep, err := run(ctx, o, os.Stdout)
	if err == nil {
		err = rep.Err()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "load: FAILED:", err)
		os.Exit(1)
	}
}

func envOr(k, def string) string {
	if v := strings.TrimSpace(os.Getenv(k)); v != "" {
		return v
	}
	return def
}

func envDuration(k string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(envOr(k, "")); err == nil {
		return d
	}
	return def
}

func envInt(k string, def int) int {
	if n, err := strconv.Atoi(envOr(k, "")); err == nil {
		return n
	}
	return def
}

func root() string {
	dir, _ := os.Getwd()
	for d := dir; d != filepath.Dir(d); d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "template.yaml")); err == nil {
			return d
		}
	}
	return dir
}

// options of one load run.
type options struct {
	API, NoopURL string
	Spaces       []*workspace
	Runtime      string // of the stack and the no-op function, for the report
	Duration     time.Duration
	Clients      []int
	Rate         int // per second; 0: closed loop
	Warmup       time.Duration
	// Table and Floor: the stack's table, timed directly for Floor after
	// each phase (none when nil or 0).
	Table *table
	Floor time.Duration
}

// report is what a load run measured and verified.
type report struct {
	Phases []phase
	Verify verification
}

// Err is the run's failure: a request that failed, or an asset lost.
func (r *report) Err() error {
	var errs []error
	for _, p := range r.Phases {
		if n := p.Errors(); n > 0 {
			errs = append(errs, fmt.Errorf("%d clients: %d requests failed", p.Clients, n))
		}
	}
	if err := r.Verify.Err(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// run attacks the stack once per client count, then verifies.
func run(ctx context.Context, o options, out io.Writer) (*report, error) {
	if len(o.Spaces) < 2 {
		return nil, errors.New("the load needs two workspaces")
	}
	w := newWorkload(o.API, o.NoopURL, o.Spaces, uint64(time.Now().UnixNano()))
	rep := &report{}
	fmt.Fprintf(out, "load: %s, workspaces %s and %s, %s per phase, runtime %s\n", o.API, o.Spaces[0].ID, o.Spaces[1].ID, o.Duration, o.Runtime)
	// A warm-up at the largest client count starts the runtime's processes
	// (cold starts are not what the phases measure). What it registers and
	// deletes is checked afterwards like the rest.
	if o.Warmup > 0 {
		p := attack(ctx, w, slices.Max(o.Clients), o.Rate, o.Warmup)
		fmt.Fprintf(out, "warm-up: %d clients, %s, %d requests (not reported)\n", slices.Max(o.Clients), o.Warmup, p.Total.Requests)
	}
	for _, n := range o.Clients {
		stopProbe := func() *floor { return nil }
		if o.Table != nil && o.Floor > 0 {
			stopProbe = o.Table.probe(ctx, w)
		}
		p := attack(ctx, w, n, o.Rate, o.Duration)
		p.Probe = stopProbe()
		if ws, id, ok := w.liveAsset(); ok && o.Table != nil && o.Floor > 0 && ctx.Err() == nil {
			p.Floor = o.Table.measure(ctx, ws, id, n, o.Floor)
		}
		p.print(out)
		rep.Phases = append(rep.Phases, p)
		if ctx.Err() != nil {
			return rep, ctx.Err()
		}
	}
	rep.Verify = verify(ctx, o.API, w)
	rep.Verify.print(out)
	return rep, nil
}
