package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/mediatrail/mediatrail/shared/obs"
)

// requestView is what `make run` shows of the functions' output: one
// readable line per request (time, method, path, status, latency,
// workspace, error code) and per other invocation (function, outcome,
// latency), the functions' other log lines shortened, and nothing of
// aws-lambda-rie's START/END/REPORT lines or of the metrics' EMF lines
// unless verbose. Lines arrive as the stack writes them, "[FunctionId] text".
type requestView struct {
	mu      sync.Mutex
	w       io.Writer
	colour  bool
	verbose bool
	buf     []byte
}

// newRequestView writes to w; colour when w is a terminal and NO_COLOR is
// unset (no-color.org), everything when verbose.
func newRequestView(w *os.File, getenv func(string) string) *requestView {
	return &requestView{
		w:       w,
		colour:  term.IsTerminal(int(w.Fd())) && getenv("NO_COLOR") == "",
		verbose: verbose(getenv),
	}
}

func (v *requestView) Write(p []byte) (int, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.buf = append(v.buf, p...)
	for {
		i := bytes.IndexByte(v.buf, '\n')
		if i < 0 {
			break
		}
		if out, ok := v.format(string(v.buf[:i])); ok {
			_, _ = io.WriteString(v.w, out+"\n")
		}
		v.buf = v.buf[i+1:]
	}
	return len(p), nil
}

// runtimeNoise are the line starts of aws-lambda-rie's own records.
var runtimeNoise = []string{"START RequestId:", "END RequestId:", "REPORT RequestId:", "INIT_START", "INIT_REPORT"}

// format returns what the view shows of one line, and whether it shows it.
func (v *requestView) format(line string) (string, bool) {
	fn, text := "", line
	if strings.HasPrefix(line, "[") {
		if i := strings.Index(line, "] "); i > 0 {
			fn, text = line[1:i], line[i+2:]
		}
	}
	for _, p := range runtimeNoise {
		if strings.HasPrefix(text, p) {
			return line, v.verbose
		}
	}
	if !strings.HasPrefix(text, "{") {
		return line, true
	}
	var rec map[string]any
	if json.Unmarshal([]byte(text), &rec) != nil {
		return line, true
	}
	if _, ok := rec["_aws"]; ok {
		return line, v.verbose
	}
	if v.verbose {
		return line, true
	}
	clock := time.Now().Format("15:04:05")
	if t, err := time.Parse(time.RFC3339Nano, str(rec["time"])); err == nil {
		clock = t.Local().Format("15:04:05")
	}
	latency := ""
	if ms, ok := rec[obs.KeyLatencyMS].(float64); ok {
		latency = fmt.Sprintf("%dms", int64(ms))
	}
	tail := v.paint(dim, strings.TrimSpace(strings.Join([]string{str(rec[obs.KeyWorkspace]), str(rec[obs.KeyProvider])}, " ")))
	problem := strings.TrimSpace(str(rec[obs.KeyErrorCode]) + " " + v.cause(rec))
	switch str(rec["msg"]) {
	case obs.MsgRequest:
		status := int(num(rec[obs.KeyStatus]))
		return join(clock, fmt.Sprintf("%-6s", str(rec[obs.KeyMethod])), str(rec[obs.KeyPath]),
			v.paint(statusColour(status), fmt.Sprint(status)), latency, tail, v.paint(statusColour(status), problem)), true
	case obs.MsgInvocation:
		c := green
		if rec[obs.KeyOutcome] != "ok" {
			c = levelColour(str(rec["level"]))
		}
		return join(clock, "λ", str(rec[obs.KeyFunction]), v.paint(c, str(rec[obs.KeyOutcome])), latency, tail, v.paint(c, problem)), true
	}
	// Any other log line: level, function, message and its attributes.
	var attrs []string
	for k, val := range rec {
		switch k {
		case "time", "level", "msg":
			continue
		}
		attrs = append(attrs, fmt.Sprintf("%s=%v", k, val))
	}
	sort.Strings(attrs)
	level := str(rec["level"])
	return join(clock, v.paint(levelColour(level), level), v.paint(dim, fn), str(rec["msg"]), v.paint(dim, strings.Join(attrs, " "))), true
}

// cause is the root cause of a server-side failure (5xx, failed
// invocation); a client's mistake shows its code only.
func (v *requestView) cause(rec map[string]any) string {
	if str(rec["level"]) != "ERROR" {
		return ""
	}
	return str(rec[obs.KeyError])
}

// ANSI colours.
const (
	green  = "32"
	yellow = "33"
	red    = "31"
	dim    = "2"
)

func statusColour(status int) string {
	switch {
	case status >= 500:
		return red
	case status >= 400:
		return yellow
	}
	return green
}

func levelColour(level string) string {
	switch level {
	case "ERROR":
		return red
	case "WARN":
		return yellow
	}
	return dim
}

func (v *requestView) paint(colour, s string) string {
	if !v.colour || s == "" {
		return s
	}
	return "\x1b[" + colour + "m" + s + "\x1b[0m"
}

func join(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, " ")
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func num(v any) float64 {
	f, _ := v.(float64)
	return f
}
