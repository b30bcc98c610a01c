package local

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// tool is an external program and the Debian package that installs it.
type tool struct {
	name, pkg string
}

var (
	espeakNG              = tool{"espeak-ng", "espeak-ng"}
	ffmpeg                = tool{"ffmpeg", "ffmpeg"}
	pocketsphinxClassic   = tool{"pocketsphinx_continuous", "pocketsphinx"} // 0.8 / 5prealpha (Debian 12)
	pocketsphinxCommand   = tool{"pocketsphinx", "pocketsphinx"}            // 5.x: `pocketsphinx live FILE`, JSON lines
	pocketsphinxModelPkg  = "pocketsphinx-en-us"
	debianSpeechModelDirs = []string{"/usr/share/pocketsphinx/model/en-us"}
)

// find returns the path of the first of tools found on PATH, and which one it
// was; EUNAVAILABLE naming the package of the first when none is.
func (p *Provider) find(c mediatrail.Capability, tools ...tool) (string, tool, error) {
	for _, t := range tools {
		if path, err := p.lookPath(t.name); err == nil {
			return path, t, nil
		}
	}
	return "", tool{}, missing(c, tools[0].name, tools[0].pkg)
}

func missing(c mediatrail.Capability, what, pkg string) error {
	return mediatrail.Errorf(mediatrail.EUNAVAILABLE, "provider %s cannot make %s on this server: %s is not installed (Debian package %s: apt-get install %s)",
		Name, c, what, pkg, pkg).With("provider", Name).With("package", pkg)
}

// Output bounds of a tool run: what it prints is read into memory.
const (
	maxToolStdout = 16 << 20
	maxToolStderr = 4 << 10
)

// toolError is a tool that exited with an error. Its text (the end of what
// the tool wrote to standard error) is for logs: ProviderError.ClientError
// keeps it from clients.
type toolError struct {
	tool   string
	err    error
	stderr string
}

func (e *toolError) Error() string {
	return fmt.Sprintf("%s: %v: %s", e.tool, e.err, strings.TrimSpace(e.stderr))
}

func (e *toolError) Unwrap() error { return e.err }

// run runs the tool at path in dir with args (never user text: that goes
// through stdin or a file), bounded by ctx and the tool timeout, and returns
// what it printed. A failure is a *mediatrail.ProviderError wrapping a
// *toolError; an overrun is a ProviderTimeout.
func (p *Provider) run(ctx context.Context, dir string, stdin io.Reader, path string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, p.toolTimeout)
	defer cancel()
	// The limits are set by the shell that then becomes the tool, so they hold
	// from its first instruction (Go cannot set a child's rlimits). dash counts
	// ulimit -d in KiB and -f in 512-byte blocks.
	limits := fmt.Sprintf(`ulimit -d %d && ulimit -f %d && exec "$0" "$@"`, p.toolMemory>>10, p.toolFile>>9)
	cmd := exec.CommandContext(ctx, "/bin/sh", append([]string{"-c", limits, path}, args...)...)
	cmd.Dir = dir
	cmd.Stdin = stdin
	if stdin == nil {
		cmd.Stdin = strings.NewReader("")
	}
	stdout := &capped{max: maxToolStdout}
	stderr := &tail{max: maxToolStderr}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.WaitDelay = 2 * time.Second
	err := cmd.Run()
	name := toolName(path)
	switch {
	case ctx.Err() != nil:
		return nil, p.interrupted(ctx, "running "+name)
	case killedBy(err, syscall.SIGXFSZ):
		return nil, mediatrail.TooLarge("", "the media would exceed %d MiB of working files", p.toolFile>>20)
	case err != nil:
		return nil, &mediatrail.ProviderError{Provider: Name, Code: "tool_failed", Message: name + " failed",
			Err: &toolError{tool: name, err: err, stderr: stderr.String()}}
	case stdout.over:
		return nil, &mediatrail.ProviderError{Provider: Name, Code: mediatrail.ProviderMalformed, Message: name + " printed more than expected"}
	}
	return stdout.Bytes(), nil
}

// killedBy reports whether err is a process ended by sig.
func killedBy(err error, sig syscall.Signal) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == sig
}

// toolStderr is what a failed tool run wrote to standard error, "" for any
// other error.
func toolStderr(err error) string {
	var te *toolError
	if errors.As(err, &te) {
		return te.stderr
	}
	return ""
}

func toolName(path string) string { return filepath.Base(path) }

// Every temporary file of this process lives under one directory,
// $TMPDIR/mediatrail-local-<pid>, one sub-directory per piece of work (one
// invocation's tool runs). A process killed mid-work (a Lambda timeout or
// out-of-memory kill) leaves its directory behind in a sandbox whose /tmp
// outlives it: the next process removes the directories of processes that no
// longer exist when it starts (New), so /tmp does not fill up across kills.
const workDirPrefix = "mediatrail-local-"

// workDir makes the temporary directory of one piece of work under the
// process's directory; the caller removes it (or hands it to a fileBody).
func workDir() (string, error) {
	processDir := filepath.Join(os.TempDir(), workDirPrefix+strconv.Itoa(os.Getpid()))
	if err := os.MkdirAll(processDir, 0o700); err != nil {
		return "", err
	}
	return os.MkdirTemp(processDir, "work-*")
}

// removeStaleWorkDirs removes the work directories of processes that are
// gone. A directory whose process still runs (another function on this
// machine, locally) is left alone.
func removeStaleWorkDirs() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), workDirPrefix+"*"))
	for _, dir := range dirs {
		pid, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(dir), workDirPrefix))
		if err != nil || pid <= 0 || pid == os.Getpid() || syscall.Kill(pid, 0) != syscall.ESRCH {
			continue
		}
		_ = os.RemoveAll(dir) // best effort: what stays is tried again at the next start
	}
}

// capped keeps the first max bytes written and notes an overflow.
type capped struct {
	bytes.Buffer
	max  int
	over bool
}

func (c *capped) Write(b []byte) (int, error) {
	if room := c.max - c.Len(); len(b) > room {
		c.over = true
		c.Buffer.Write(b[:max(room, 0)])
		return len(b), nil
	}
	return c.Buffer.Write(b)
}

// tail keeps the last max bytes written.
type tail struct {
	buf []byte
	max int
}

func (t *tail) Write(b []byte) (int, error) {
	t.buf = append(t.buf, b...)
	if len(t.buf) > t.max {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max:]...)
	}
	return len(b), nil
}

func (t *tail) String() string { return string(t.buf) }
