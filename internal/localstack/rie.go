package localstack

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// BuildBootstraps compiles functions/<name> (relative to dir) for the host
// as Lambda's provided.al2023 runtime expects: a static binary named
// bootstrap, without the RPC shim. Each lands in out/<name>/bootstrap. One
// `go build` builds them all, sharing the build cache; nothing is rebuilt
// when no source file they depend on changed since the last build into out.
func BuildBootstraps(ctx context.Context, dir string, names []string, out string) error {
	if len(names) == 0 {
		return nil
	}
	pkgs := make([]string, len(names))
	for i, n := range names {
		pkgs[i] = "./functions/" + n
	}
	env := append(os.Environ(), "CGO_ENABLED=0", "GOOS="+runtime.GOOS, "GOARCH="+runtime.GOARCH)
	stamp := filepath.Join(out, ".sources")
	sources, err := sourceFingerprint(ctx, dir, env, pkgs)
	if err == nil && upToDate(stamp, sources, out, names) {
		return nil
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(out, ".build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	args := append(append([]string{"build"}, buildFlags...), "-o", tmp+string(filepath.Separator))
	args = append(args, pkgs...)
	cmd := exec.CommandContext(ctx, goTool(), args...)
	cmd.Dir = dir
	cmd.Env = env
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build bootstraps: %w\n%s", err, b)
	}
	for _, n := range names {
		dst := filepath.Join(out, n)
		if err := os.MkdirAll(dst, 0o755); err != nil {
			return err
		}
		if err := os.Rename(filepath.Join(tmp, n), filepath.Join(dst, "bootstrap")); err != nil {
			return err
		}
	}
	if sources != "" {
		_ = os.WriteFile(stamp, []byte(sources), 0o644)
	}
	return nil
}

// sourceFingerprint hashes the Go toolchain, build settings and the name,
// size and modification time of every non-standard source file pkgs depend on.
func sourceFingerprint(ctx context.Context, dir string, env, pkgs []string) (string, error) {
	format := `{{if not .Standard}}{{.Dir}}{{range .GoFiles}} {{.}}{{end}}{{range .EmbedFiles}} {{.}}{{end}}{{end}}`
	cmd := exec.CommandContext(ctx, goTool(), append([]string{"list", "-deps", "-tags", "lambda.norpc", "-f", format}, pkgs...)...)
	cmd.Dir = dir
	cmd.Env = env
	list, err := cmd.Output()
	if err != nil {
		return "", err
	}
	version, err := exec.CommandContext(ctx, goTool(), "env", "GOVERSION", "GOFLAGS").Output()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s %s/%s %q %q\n", version, runtime.GOOS, runtime.GOARCH, buildFlags, pkgs)
	for _, line := range strings.Split(string(list), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		for _, f := range fields[1:] {
			path := filepath.Join(fields[0], f)
			st, err := os.Stat(path)
			if err != nil {
				return "", err
			}
			fmt.Fprintf(h, "%s %d %d\n", path, st.Size(), st.ModTime().UnixNano())
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func upToDate(stamp, sources, out string, names []string) bool {
	b, err := os.ReadFile(stamp)
	if err != nil || string(b) != sources {
		return false
	}
	for _, n := range names {
		if _, err := os.Stat(filepath.Join(out, n, "bootstrap")); err != nil {
			return false
		}
	}
	return true
}

// buildFlags are those of a Lambda bootstrap (see the Makefile), minus the
// cross-compilation: no RPC shim, no symbol tables.
var buildFlags = []string{"-tags", "lambda.norpc", "-ldflags=-s -w"}

// goTool is the go command on PATH (runtime.GOROOT is deprecated, and names
// the toolchain that built this binary, not one that is installed); exec
// reports a missing one by this name.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return "go"
}

// RIEFunction is a function as the RIE runtime runs it.
type RIEFunction struct {
	// Bootstrap is the executable built by BuildBootstraps.
	Bootstrap string
	// Env is the function's whole environment (the process environment is
	// not inherited, as on Lambda).
	Env map[string]string
	// Timeout is the function's configured timeout.
	Timeout time.Duration
}

// Bounds of the RIE runtime's pools.
const (
	// DefaultPoolSize is how many RIE processes a function may have at once
	// unless told otherwise (PoolSizeEnv).
	DefaultPoolSize = 8
	// PoolSizeEnv names the environment variable that sets the pool size of
	// every function of a stack (Options.PoolSize wins).
	PoolSizeEnv = "LOCAL_LAMBDA_CONCURRENCY"
	// DefaultIdleTimeout is how long an RIE process may stay idle before it
	// is stopped.
	DefaultIdleTimeout = time.Minute
)

// PoolSizeFromEnv is the pool size getenv(PoolSizeEnv) sets: DefaultPoolSize
// when unset, an error unless a positive integer.
func PoolSizeFromEnv(getenv func(string) string) (int, error) {
	v := strings.TrimSpace(getenv(PoolSizeEnv))
	if v == "" {
		return DefaultPoolSize, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%s=%q: want a positive number of processes per function", PoolSizeEnv, v)
	}
	return n, nil
}

// RIE runs each function's bootstrap under aws-lambda-rie. One RIE serves one
// request at a time (concurrent requests crash it), so every function has a
// pool of RIE processes, as Lambda has execution environments: a request
// takes the most recently used idle process, else starts a new one while the
// function has fewer than PoolSize, else waits for one to be released. A
// process idle for IdleTimeout is stopped, so a burst's processes do not
// outlive it; taking the most recent first lets the others go idle.
type RIE struct {
	// Binary is the aws-lambda-rie executable.
	Binary    string
	Functions map[string]RIEFunction // by logical id
	// PoolSize bounds each function's processes (default DefaultPoolSize).
	PoolSize int
	// IdleTimeout is how long a process may stay idle (default
	// DefaultIdleTimeout).
	IdleTimeout time.Duration
	// Log receives the functions' output, each line prefixed with the
	// function's logical id (io.Discard when nil).
	Log io.Writer

	mu     sync.Mutex
	pools  map[string]*riePool
	closed bool
}

// Invoke implements Invoker.
func (r *RIE) Invoke(ctx context.Context, logicalID string, payload []byte) ([]byte, error) {
	p, err := r.pool(logicalID)
	if err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		inst, err := p.acquire(ctx)
		if err != nil {
			return nil, err
		}
		out, healthy, err := inst.invoke(ctx, payload, p.fn.Timeout)
		p.release(inst, healthy)
		// An emulator-level failure (the RIE process misbehaved, not the
		// function) discards that instance; one retry on a fresh one keeps a
		// flaky emulator from surfacing as a 500 the function never caused.
		var fe *FunctionError
		if err == nil || healthy || errors.As(err, &fe) || attempt == 2 || ctx.Err() != nil {
			return out, err
		}
	}
}

// Processes reports how many RIE processes function logicalID has, idle or
// busy, and how many of them are busy.
func (r *RIE) Processes(logicalID string) (running, busy int) {
	r.mu.Lock()
	p := r.pools[logicalID]
	r.mu.Unlock()
	if p == nil {
		return 0, 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.running, p.running - len(p.idle)
}

// Close stops every RIE process.
func (r *RIE) Close() error {
	r.mu.Lock()
	r.closed = true
	pools := r.pools
	r.pools = nil
	r.mu.Unlock()
	for _, p := range pools {
		p.close()
	}
	return nil
}

func (r *RIE) pool(id string) (*riePool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, errors.New("the RIE runtime is closed")
	}
	if p, ok := r.pools[id]; ok {
		return p, nil
	}
	fn, ok := r.Functions[id]
	if !ok {
		return nil, fmt.Errorf("function %s is not deployed to the RIE runtime", id)
	}
	size := r.PoolSize
	if size < 1 {
		size = DefaultPoolSize
	}
	idle := r.IdleTimeout
	if idle <= 0 {
		idle = DefaultIdleTimeout
	}
	log := r.Log
	if log == nil {
		log = io.Discard
	}
	p := &riePool{id: id, fn: fn, binary: r.Binary, log: log, size: size, idleTimeout: idle, closed: make(chan struct{})}
	go p.reapIdle()
	if r.pools == nil {
		r.pools = map[string]*riePool{}
	}
	r.pools[id] = p
	return p, nil
}

type riePool struct {
	id          string
	fn          RIEFunction
	binary      string
	log         io.Writer
	size        int
	idleTimeout time.Duration
	closed      chan struct{} // closed by close

	mu sync.Mutex
	// running counts the processes started or starting, idle or busy, and
	// the slots handed to waiters to start one (at most size).
	running int
	// idle holds the idle processes, the most recently released last.
	idle []*rieInstance
	// waiters wait, first come first served, for a released process (or
	// nil: a slot to start one).
	waiters []chan *rieInstance
	all     map[*rieInstance]bool
	closing bool
}

// acquire returns the most recently used idle instance, starts one if the
// pool is not full, or waits for one to be released.
func (p *riePool) acquire(ctx context.Context) (*rieInstance, error) {
	p.mu.Lock()
	for len(p.idle) > 0 {
		inst := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		if inst.alive() {
			p.mu.Unlock()
			return inst, nil
		}
		p.running--
		p.forget(inst)
		go inst.stop() // it exited: stop only flushes its output
	}
	switch {
	case p.closing:
		p.mu.Unlock()
		return nil, errors.New("the RIE runtime is closed")
	case p.running < p.size:
		p.running++
		p.mu.Unlock()
		return p.startInSlot(ctx)
	}
	w := make(chan *rieInstance, 1)
	p.waiters = append(p.waiters, w)
	p.mu.Unlock()
	select {
	case inst := <-w:
		if inst == nil {
			return p.startInSlot(ctx)
		}
		return inst, nil
	case <-p.closed:
		return nil, errors.New("the RIE runtime is closed")
	case <-ctx.Done():
		p.mu.Lock()
		p.waiters = slices.DeleteFunc(p.waiters, func(c chan *rieInstance) bool { return c == w })
		p.mu.Unlock()
		select {
		case inst := <-w: // handed over while giving up: pass it on
			if inst == nil {
				p.freeSlot()
			} else {
				p.release(inst, true)
			}
		default:
		}
		return nil, ctx.Err()
	}
}

// startInSlot starts an instance in a slot already counted in running.
func (p *riePool) startInSlot(ctx context.Context) (*rieInstance, error) {
	inst, err := p.start(ctx)
	if err != nil {
		p.freeSlot()
		return nil, err
	}
	return inst, nil
}

// freeSlot gives a slot of running to the first waiter, else frees it.
func (p *riePool) freeSlot() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.waiters) > 0 && !p.closing {
		w := p.waiters[0]
		p.waiters = p.waiters[1:]
		w <- nil
		return
	}
	p.running--
}

func (p *riePool) release(inst *rieInstance, healthy bool) {
	p.mu.Lock()
	if !healthy || p.closing || !inst.alive() {
		p.forget(inst)
		p.mu.Unlock()
		inst.stop()
		p.freeSlot()
		return
	}
	defer p.mu.Unlock()
	if len(p.waiters) > 0 {
		w := p.waiters[0]
		p.waiters = p.waiters[1:]
		w <- inst
		return
	}
	inst.idleSince = time.Now()
	p.idle = append(p.idle, inst)
}

// forget drops inst from the instances close stops; p.mu is held.
func (p *riePool) forget(inst *rieInstance) {
	delete(p.all, inst)
}

// reapIdle stops the instances idle for longer than idleTimeout, until the
// pool closes.
func (p *riePool) reapIdle() {
	tick := time.NewTicker(max(p.idleTimeout/4, 10*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-p.closed:
			return
		case now := <-tick.C:
			p.mu.Lock()
			// idle is in release order: the longest idle come first.
			n := 0
			for n < len(p.idle) && now.Sub(p.idle[n].idleSince) >= p.idleTimeout {
				n++
			}
			stale := slices.Clone(p.idle[:n])
			p.idle = slices.Delete(p.idle, 0, n)
			p.running -= n
			for _, inst := range stale {
				p.forget(inst)
			}
			p.mu.Unlock()
			for _, inst := range stale {
				inst.stop()
			}
		}
	}
}

func (p *riePool) close() {
	p.mu.Lock()
	if p.closing {
		p.mu.Unlock()
		return
	}
	p.closing = true
	close(p.closed)
	all := p.all
	p.all = nil
	p.idle = nil
	p.mu.Unlock()
	var wg sync.WaitGroup
	for inst := range all {
		wg.Add(1)
		go func() { defer wg.Done(); inst.stop() }()
	}
	wg.Wait()
}

// start launches an RIE process on two free loopback ports and waits until
// it accepts connections. A port taken between choosing and binding makes
// RIE exit; start then tries other ports.
func (p *riePool) start(ctx context.Context) (*rieInstance, error) {
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		inst, err := p.startOnce(ctx)
		if err == nil {
			p.mu.Lock()
			if p.closing {
				p.mu.Unlock()
				inst.stop()
				return nil, errors.New("the RIE runtime is closed")
			}
			if p.all == nil {
				p.all = map[*rieInstance]bool{}
			}
			p.all[inst] = true
			p.mu.Unlock()
			return inst, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, fmt.Errorf("start aws-lambda-rie for %s: %w", p.id, lastErr)
}

func (p *riePool) startOnce(ctx context.Context) (*rieInstance, error) {
	invokePort, err := FreePort()
	if err != nil {
		return nil, err
	}
	apiPort, err := FreePort()
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", invokePort)
	cmd := exec.Command(p.binary,
		"--runtime-interface-emulator-address", addr,
		"--runtime-api-address", fmt.Sprintf("127.0.0.1:%d", apiPort),
		p.fn.Bootstrap)
	cmd.Dir = filepath.Dir(p.fn.Bootstrap)
	cmd.Env = sortedEnv(p.fn.Env)
	out := newLineWriter(p.log, "["+p.id+"] ")
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	inst := &rieInstance{cmd: cmd, url: "http://" + addr + "/2015-03-31/functions/function/invocations", done: make(chan struct{}), out: out}
	go func() { _ = cmd.Wait(); out.Flush(); close(inst.done) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			conn.Close()
			return inst, nil
		}
		select {
		case <-inst.done:
			return nil, fmt.Errorf("aws-lambda-rie exited at start: %v", cmd.ProcessState)
		case <-ctx.Done():
			inst.stop()
			return nil, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			inst.stop()
			return nil, errors.New("aws-lambda-rie did not listen within 10s")
		}
	}
}

// rieInstance is one aws-lambda-rie process hosting one bootstrap.
type rieInstance struct {
	cmd  *exec.Cmd
	url  string
	done chan struct{}
	out  *lineWriter
	once sync.Once
	// idleSince is when it was last released (guarded by its pool's mu).
	idleSince time.Time
}

// rieClient has no overall timeout: invoke bounds each call by the function's.
var rieClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4, IdleConnTimeout: 30 * time.Second}}

func (i *rieInstance) alive() bool {
	select {
	case <-i.done:
		return false
	default:
		return true
	}
}

func (i *rieInstance) stop() {
	i.once.Do(func() {
		// The runtime's complaints about its emulator going away are noise.
		i.out.Close()
		_ = syscall.Kill(-i.cmd.Process.Pid, syscall.SIGKILL)
		<-i.done
	})
}

// invoke posts one event. healthy is false when the instance must not be
// reused (it timed out, crashed or answered outside the protocol).
func (i *rieInstance) invoke(ctx context.Context, payload []byte, timeout time.Duration) (_ []byte, healthy bool, _ error) {
	// RIE enforces the function timeout itself; the margin covers its reply.
	ctx, cancel := context.WithTimeout(ctx, timeout+5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, i.url, bytes.NewReader(payload))
	if err != nil {
		return nil, false, err
	}
	requestID := newRequestID()
	req.Header.Set("X-Amzn-RequestId", requestID)
	resp, err := rieClient.Do(req)
	if err != nil {
		return nil, false, fmt.Errorf("invoke through aws-lambda-rie: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, false, fmt.Errorf("read aws-lambda-rie response: %w", err)
	}
	switch {
	case resp.StatusCode == http.StatusOK && bytes.HasPrefix(body, []byte("Task timed out after")):
		return nil, false, newFunctionError("Sandbox.Timedout", "RequestId: "+requestID+" Error: "+string(body))
	case resp.StatusCode == http.StatusOK:
		if fe, ok := parseFunctionError(body); ok {
			return nil, true, fe
		}
		return body, true, nil
	case resp.StatusCode == http.StatusBadGateway:
		// The runtime panicked or exited; RIE restarts it on the next call.
		if fe, ok := parseFunctionError(body); ok {
			return nil, true, fe
		}
		// The body may be the function's whole response: it is never logged.
		return nil, false, newFunctionError("Runtime.Unknown", fmt.Sprintf("RequestId: %s Error: the runtime failed (%d bytes of output withheld)", requestID, len(body)))
	default:
		return nil, false, fmt.Errorf("aws-lambda-rie answered %d (%d bytes of body withheld)", resp.StatusCode, len(body))
	}
}

// newRequestID returns a random UUID, the form of Lambda request ids.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func sortedEnv(env map[string]string) []string {
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// lineWriter prefixes every line written to it and drops RIE's own INFO
// chatter, keeping the function's output and the START/END/REPORT lines.
type lineWriter struct {
	mu     sync.Mutex
	w      io.Writer
	prefix string
	buf    []byte
	closed bool
}

// Close drops everything written afterwards.
func (l *lineWriter) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
}

func newLineWriter(w io.Writer, prefix string) *lineWriter { return &lineWriter{w: w, prefix: prefix} }

func (l *lineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		l.emit(l.buf[:i])
		l.buf = l.buf[i+1:]
	}
	return len(p), nil
}

// Flush writes a trailing partial line.
func (l *lineWriter) Flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 {
		l.emit(l.buf)
		l.buf = nil
	}
}

func (l *lineWriter) emit(line []byte) {
	if l.closed || bytes.Contains(line, []byte("[INFO] (rapid)")) || len(bytes.TrimSpace(line)) == 0 {
		return
	}
	var b bytes.Buffer
	b.WriteString(l.prefix)
	b.Write(line)
	b.WriteByte('\n')
	_, _ = l.w.Write(b.Bytes())
}

// scanLines calls f for each line of r until r ends.
func scanLines(r io.Reader, f func([]byte)) {
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 64<<10), 16<<20)
	for s.Scan() {
		f(s.Bytes())
	}
}
