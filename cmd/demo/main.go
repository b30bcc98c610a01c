// Command demo is `make demo`: one agent execution that creates one asset of
// each kind with the offline provider `local` (tts, stt of that speech,
// image_gen, image_edit of that image, video_gen, video_from_image of that
// image), waits for the video jobs, and prints the execution's trace summary
// and each asset's signed URL. It uses a running `make run` (found through
// .data/stack.json) or starts a stack on .data for the run. It exits non-zero
// on any failure.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/mediatrail/mediatrail/internal/localstack"
	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// fixtureAPIKey opens workspace demo in the stack the demo starts itself.
const fixtureAPIKey = "mt_example_key"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "demo: FAILED:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	r := root()
	c, stopStack, err := connect(ctx, r)
	if err != nil {
		return err
	}
	defer stopStack()
	_, err = demo(ctx, c, options{ExecutionID: "demo-" + time.Now().UTC().Format("20060102-150405"), JobTimeout: 5 * time.Minute}, os.Stdout)
	return err
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

// runningKey is a key the running `make run` accepts: the first of API_KEYS
// when set (the stack stored those), else its demo key (.data/demo-key).
func runningKey(data string) string {
	if keys, err := mediatrail.ParseAPIKeys(os.Getenv("API_KEYS")); err == nil && len(keys) > 0 {
		return slices.Sorted(maps.Keys(keys))[0]
	}
	k, _ := os.ReadFile(filepath.Join(data, "demo-key"))
	return strings.TrimSpace(string(k))
}

// connect finds the running `make run` or starts a stack on .data.
func connect(ctx context.Context, r string) (*client, func(), error) {
	data := filepath.Join(r, ".data")
	if b, err := os.ReadFile(filepath.Join(data, "stack.json")); err == nil {
		var info struct{ Endpoint, API string }
		if json.Unmarshal(b, &info) == nil && info.API != "" && info.Endpoint != "" {
			c := &client{base: info.API, key: runningKey(data), http: &http.Client{Timeout: 2 * time.Minute}}
			if resp, err := (&http.Client{Timeout: 2 * time.Second}).Get(info.Endpoint + "/_localstack/health"); err == nil {
				resp.Body.Close()
				fmt.Fprintf(os.Stderr, "demo: using the running stack at %s\n", info.API)
				return c, func() {}, nil
			}
		}
	}
	fmt.Fprintln(os.Stderr, "demo: no running `make run`: starting a stack on .data for the demo")
	if err := os.MkdirAll(data, 0o755); err != nil {
		return nil, nil, err
	}
	logf, err := os.OpenFile(filepath.Join(data, "emulators.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, nil, err
	}
	_, s3Port, err := localstack.StablePorts(os.Getenv)
	if err != nil {
		logf.Close()
		return nil, nil, err
	}
	// The S3 port of `make run`: the signed links printed below keep working
	// when `make run` later serves the same .data.
	s, err := localstack.Start(ctx, localstack.Options{
		Root: r, DataDir: data, Runtime: localstack.RuntimeInProcess, S3Port: s3Port, APIKeys: map[string]string{fixtureAPIKey: "demo"},
		Logger:      slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		FunctionLog: io.Discard, EmulatorLog: logf,
	})
	if err != nil {
		logf.Close()
		return nil, nil, fmt.Errorf("start a stack: %w", err)
	}
	return &client{base: s.URL, key: fixtureAPIKey, http: &http.Client{Timeout: 2 * time.Minute}}, func() {
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Close(shut)
		logf.Close()
	}, nil
}

// client calls the API with one key.
type client struct {
	base, key string
	http      *http.Client
}

// apiError is an answer other than the one expected.
type apiError struct {
	Method, Path string
	Status       int
	Body         string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%s %s: HTTP %d: %s", e.Method, e.Path, e.Status, strings.TrimSpace(e.Body))
}

// call sends body (JSON) and decodes the answer's data into out.
func (c *client) call(ctx context.Context, method, path string, body any, want int, out any) error {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-Key", c.key)
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode != want {
		return &apiError{Method: method, Path: path, Status: resp.StatusCode, Body: string(raw)}
	}
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return fmt.Errorf("%s %s: the answer is not JSON: %w", method, path, err)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(env.Data, out); err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	return nil
}

// options of one demo run.
type options struct {
	ExecutionID string
	AgentID     string // default demo-agent
	JobTimeout  time.Duration
	PollEvery   time.Duration // default 1s
}

// Asset is an asset as GET /api/v1/assets/{id} answers it.
type Asset struct {
	ID          string         `json:"id"`
	Type        string         `json:"type"`
	ContentType string         `json:"content_type"`
	FileSize    int64          `json:"file_size"`
	ExecutionID string         `json:"execution_id"`
	Metadata    map[string]any `json:"metadata"`
}

// made is one of the demo's assets.
type made struct {
	Step      string // the media type
	Asset     Asset
	SignedURL string
	JobID     string // for videos
}

// report is what a demo run made.
type report struct {
	ExecutionID string
	Assets      []made
	Summary     json.RawMessage
}

type generated struct {
	Status     string `json:"status"`
	JobID      string `json:"job_id"`
	AssetID    string `json:"asset_id"`
	TextOutput string `json:"text_output"`
}

type jobView struct {
	Status  string          `json:"status"`
	AssetID string          `json:"asset_id"`
	Error   json.RawMessage `json:"error"`
	Message string          `json:"message"`
}

// Video settings of the demo (config of the local provider).
const (
	demoVideoWidth, demoVideoHeight = 640, 360
	demoVideoGenSeconds             = 3
	demoVideoFromImageSeconds       = 2
)

// demo runs the execution and prints what it made to out.
func demo(ctx context.Context, c *client, o options, out io.Writer) (*report, error) {
	if o.AgentID == "" {
		o.AgentID = "demo-agent"
	}
	if o.PollEvery == 0 {
		o.PollEvery = time.Second
	}
	rep := &report{ExecutionID: o.ExecutionID}
	fmt.Fprintf(out, "execution %s (agent %s), provider local\n", o.ExecutionID, o.AgentID)
	body := func(fields map[string]any) map[string]any {
		fields["provider"], fields["execution_id"], fields["agent_id"] = "local", o.ExecutionID, o.AgentID
		return fields
	}
	sync := func(route string, fields map[string]any) (generated, error) {
		var g generated
		start := time.Now()
		if err := c.call(ctx, "POST", "/api/v1/media/"+route, body(fields), http.StatusOK, &g); err != nil {
			return g, fmt.Errorf("%s: %w", route, err)
		}
		if g.Status != "completed" || g.AssetID == "" {
			return g, fmt.Errorf("%s: answered status %q and asset %q", route, g.Status, g.AssetID)
		}
		fmt.Fprintf(out, "  %-17s asset %s (%s)\n", route, g.AssetID, time.Since(start).Round(time.Millisecond))
		rep.Assets = append(rep.Assets, made{Step: route, Asset: Asset{ID: g.AssetID}})
		return g, nil
	}
	speech, err := sync("tts", map[string]any{"prompt": "Hello from the mediatrail demo. This speech was made on this machine."})
	if err != nil {
		return rep, err
	}
	text, err := sync("stt", map[string]any{"input_asset_id": speech.AssetID})
	if err != nil {
		return rep, err
	}
	fmt.Fprintf(out, "  %-17s transcript: %q\n", "", text.TextOutput)
	img, err := sync("image_gen", map[string]any{"prompt": "A lighthouse at dawn", "config": map[string]any{"width": demoVideoWidth, "height": demoVideoHeight, "seed": 7}})
	if err != nil {
		return rep, err
	}
	if _, err := sync("image_edit", map[string]any{"prompt": "grayscale, blur 2", "input_asset_id": img.AssetID}); err != nil {
		return rep, err
	}

	// Videos run as jobs: submit both, then wait for each.
	videos := []struct {
		route  string
		fields map[string]any
	}{
		{"video_gen", map[string]any{"prompt": "A lighthouse at dawn, slowly", "config": map[string]any{"duration": demoVideoGenSeconds, "width": demoVideoWidth, "height": demoVideoHeight}}},
		{"video_from_image", map[string]any{"input_asset_id": img.AssetID, "prompt": "a slow zoom", "config": map[string]any{"duration": demoVideoFromImageSeconds, "width": demoVideoWidth, "height": demoVideoHeight}}},
	}
	var jobs []string
	for _, v := range videos {
		var g generated
		if err := c.call(ctx, "POST", "/api/v1/media/"+v.route, body(v.fields), http.StatusAccepted, &g); err != nil {
			return rep, fmt.Errorf("%s: %w", v.route, err)
		}
		if g.JobID == "" {
			return rep, fmt.Errorf("%s: no job id in the answer", v.route)
		}
		fmt.Fprintf(out, "  %-17s job %s submitted\n", v.route, g.JobID)
		jobs = append(jobs, g.JobID)
	}
	for i, id := range jobs {
		start := time.Now()
		v, err := awaitJob(ctx, c, id, o)
		if err != nil {
			return rep, fmt.Errorf("%s job %s: %w", videos[i].route, id, err)
		}
		fmt.Fprintf(out, "  %-17s asset %s (job done in %s)\n", videos[i].route, v.AssetID, time.Since(start).Round(time.Millisecond))
		rep.Assets = append(rep.Assets, made{Step: videos[i].route, Asset: Asset{ID: v.AssetID}, JobID: id})
	}

	// The execution's trace summary.
	var sum json.RawMessage
	if err := c.call(ctx, "GET", "/api/v1/traces/summary?execution_id="+url.QueryEscape(o.ExecutionID), nil, http.StatusOK, &sum); err != nil {
		return rep, fmt.Errorf("trace summary: %w", err)
	}
	rep.Summary = sum
	var pretty bytes.Buffer
	if json.Indent(&pretty, sum, "  ", "  ") != nil {
		pretty.Reset()
		pretty.Write(sum)
	}
	fmt.Fprintf(out, "\ntrace summary (GET /api/v1/traces/summary?execution_id=%s):\n  %s\n\nassets:\n", o.ExecutionID, pretty.String())

	// Each asset with its signed URL.
	for i := range rep.Assets {
		m := &rep.Assets[i]
		if err := c.call(ctx, "GET", "/api/v1/assets/"+m.Asset.ID, nil, http.StatusOK, &m.Asset); err != nil {
			return rep, fmt.Errorf("%s asset: %w", m.Step, err)
		}
		var signed struct {
			URL string `json:"url"`
		}
		if err := c.call(ctx, "GET", "/api/v1/assets/"+m.Asset.ID+"/signed-url", nil, http.StatusOK, &signed); err != nil {
			return rep, fmt.Errorf("%s signed URL: %w", m.Step, err)
		}
		if signed.URL == "" {
			return rep, fmt.Errorf("%s: no signed URL", m.Step)
		}
		m.SignedURL = signed.URL
		fmt.Fprintf(out, "  %-17s %-5s %-24s %9d bytes  %s\n      %s\n", m.Step, m.Asset.Type, m.Asset.ContentType, m.Asset.FileSize, describe(m.Asset.Metadata), signed.URL)
	}
	return rep, nil
}

// describe is an asset's dimensions and duration, as probed.
func describe(md map[string]any) string {
	var parts []string
	if w, h := md["width"], md["height"]; w != nil && h != nil {
		parts = append(parts, fmt.Sprintf("%vx%v", w, h))
	}
	if d, ok := md["duration_seconds"].(float64); ok {
		parts = append(parts, fmt.Sprintf("%.2fs", d))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

// awaitJob polls GET /api/v1/media/jobs/{id} until the job ends; an end
// other than completed is an error.
func awaitJob(ctx context.Context, c *client, id string, o options) (jobView, error) {
	deadline := time.Now().Add(o.JobTimeout)
	for {
		var v jobView
		if err := c.call(ctx, "GET", "/api/v1/media/jobs/"+id, nil, http.StatusOK, &v); err != nil {
			return v, err
		}
		switch v.Status {
		case "completed":
			if v.AssetID == "" {
				return v, errors.New("completed without an asset")
			}
			return v, nil
		case "failed", "cancelled":
			return v, fmt.Errorf("ended %s: %s %s", v.Status, v.Error, v.Message)
		}
		if time.Now().After(deadline) {
			return v, fmt.Errorf("still %s after %s", v.Status, o.JobTimeout)
		}
		select {
		case <-ctx.Done():
			return v, ctx.Err()
		case <-time.After(o.PollEvery):
		}
	}
}
