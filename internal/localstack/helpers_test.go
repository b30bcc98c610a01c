package localstack_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/mediatrail/mediatrail/internal/localstack"
	"github.com/mediatrail/mediatrail/shared/testenv"
)

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// testdataTemplate is the test-only application whose functions prove the
// local stack's mechanisms with real bootstraps.
func testdataTemplate() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "testdata", "template.yaml")
}

func TestMain(m *testing.M) {
	code := m.Run()
	closeSharedStacks()
	os.Exit(code)
}

// testEmulators are the emulators `make test` started.
func testEmulators(t testing.TB) *localstack.Emulators {
	t.Helper()
	s3, _ := testenv.S3(t)
	return &localstack.Emulators{
		DynamoDBURL: testenv.Endpoint(t, testenv.EnvDynamoDB),
		S3URL:       s3.Endpoint, S3AccessKey: s3.AccessKey, S3SecretKey: s3.SecretKey,
		KMSURL: testenv.Endpoint(t, testenv.EnvKMS),
	}
}

var builds struct {
	sync.Mutex
	dirs map[string]*buildResult
}

type buildResult struct {
	once sync.Once
	dir  string
	err  error
}

// bootstraps builds every function of a template once per test binary into
// the cache (where unchanged sources are not rebuilt on the next run) and
// returns the directory holding <name>/bootstrap.
func bootstraps(t testing.TB, template string) string {
	t.Helper()
	builds.Lock()
	if builds.dirs == nil {
		builds.dirs = map[string]*buildResult{}
	}
	b := builds.dirs[template]
	if b == nil {
		b = &buildResult{dir: filepath.Join(repoRoot(), ".cache", "build", "test-"+filepath.Base(filepath.Dir(template)))}
		builds.dirs[template] = b
	}
	builds.Unlock()
	b.once.Do(func() {
		tmpl, err := localstack.LoadTemplate(template)
		if err != nil {
			b.err = err
			return
		}
		var names []string
		for _, f := range tmpl.Functions {
			names = append(names, f.Name)
		}
		sort.Strings(names)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		b.err = localstack.BuildBootstraps(ctx, tmpl.Dir(), names, b.dir)
	})
	if b.err != nil {
		t.Fatalf("build bootstraps of %s: %v", template, b.err)
	}
	return b.dir
}

// syncBuffer collects the output of a stack's functions.
type syncBuffer = testenv.Buffer

// startStack starts a stack that stops when the test ends; the functions'
// output is logged if the test fails.
func startStack(t testing.TB, o localstack.Options) *localstack.Stack {
	t.Helper()
	log := &syncBuffer{}
	if o.Table == "" {
		o.Table = testenv.Table(t, "stack")
	}
	o = withTestDefaults(t, o, log)
	s, err := localstack.Start(context.Background(), o)
	if err != nil {
		t.Fatalf("start stack: %v\n%s", err, log)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.Close(ctx)
		if t.Failed() {
			t.Logf("function output:\n%s", log)
		}
	})
	return s
}

func withTestDefaults(t testing.TB, o localstack.Options, log *syncBuffer) localstack.Options {
	if o.Root == "" {
		o.Root = repoRoot()
	}
	if o.Table == "" {
		o.Table = testenv.UniqueName("stack")
	}
	if o.Bucket == "" {
		o.Bucket = testenv.UniqueName("stack")
	}
	if o.Runtime == localstack.RuntimeRIE && o.BuildDir == "" {
		tmpl := o.Template
		if tmpl == "" {
			tmpl = filepath.Join(o.Root, "template.yaml")
		}
		o.BuildDir, o.Prebuilt = bootstraps(t, tmpl), true
	}
	o.FunctionLog = log
	return o
}

// Stacks shared by the tests of this package: starting one costs seconds.
var shared struct {
	sync.Mutex
	stacks map[string]*sharedStack
}

type sharedStack struct {
	once     sync.Once
	stack    *localstack.Stack
	err      error
	log      *syncBuffer
	observed *observer
}

// sharedStackFor returns the stack named key, starting it with o on first use;
// it stops after all tests ran.
func sharedStackFor(t testing.TB, key string, o localstack.Options) (*localstack.Stack, *observer) {
	t.Helper()
	shared.Lock()
	if shared.stacks == nil {
		shared.stacks = map[string]*sharedStack{}
	}
	ss := shared.stacks[key]
	if ss == nil {
		ss = &sharedStack{log: &syncBuffer{}, observed: &observer{}}
		shared.stacks[key] = ss
	}
	shared.Unlock()
	ss.once.Do(func() {
		o = withTestDefaults(t, o, ss.log)
		o.Observe = ss.observed.record
		ss.stack, ss.err = localstack.Start(context.Background(), o)
	})
	if ss.err != nil {
		t.Fatalf("start stack %s: %v\n%s", key, ss.err, ss.log)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("output of stack %s so far:\n%s", key, ss.log)
		}
	})
	return ss.stack, ss.observed
}

func closeSharedStacks() {
	shared.Lock()
	defer shared.Unlock()
	for _, ss := range shared.stacks {
		if ss.stack != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			_ = ss.stack.Close(ctx)
			cancel()
		}
	}
}

// observer records every invocation of a stack and lets tests wait for one.
type observer struct {
	mu      sync.Mutex
	seen    []localstack.Invocation
	changed chan struct{}
}

func (o *observer) record(inv localstack.Invocation) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.seen = append(o.seen, inv)
	if o.changed != nil {
		close(o.changed)
		o.changed = nil
	}
}

// waitFor returns the first invocation matching keep, failing the test if
// none arrives within timeout.
func (o *observer) waitFor(t testing.TB, timeout time.Duration, keep func(localstack.Invocation) bool) localstack.Invocation {
	t.Helper()
	deadline := time.After(timeout)
	for {
		o.mu.Lock()
		for _, inv := range o.seen {
			if keep(inv) {
				o.mu.Unlock()
				return inv
			}
		}
		if o.changed == nil {
			o.changed = make(chan struct{})
		}
		changed := o.changed
		o.mu.Unlock()
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("no matching invocation within %s", timeout)
		}
	}
}

// all returns the invocations recorded so far that match keep.
func (o *observer) all(keep func(localstack.Invocation) bool) []localstack.Invocation {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []localstack.Invocation
	for _, inv := range o.seen {
		if keep(inv) {
			out = append(out, inv)
		}
	}
	return out
}
