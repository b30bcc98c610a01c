package e2e_test

import (
	"cmp"
	"context"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/mediatrail/mediatrail/internal/localstack"
	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/providers/fake"
	"github.com/mediatrail/mediatrail/shared/testenv"
)

// providerEnv names each provider's key and base URL variables, as
// providers.FromEnv documents them.
var providerEnv = map[string][2]string{
	"openai":     {"OPENAI_API_KEY", "OPENAI_BASE_URL"},
	"elevenlabs": {"ELEVENLABS_API_KEY", "ELEVENLABS_BASE_URL"},
	"deepgram":   {"DEEPGRAM_API_KEY", "DEEPGRAM_BASE_URL"},
	"fal":        {"FAL_KEY", "FAL_BASE_URL"},
	"replicate":  {"REPLICATE_API_TOKEN", "REPLICATE_BASE_URL"},
	"stability":  {"STABILITY_API_KEY", "STABILITY_BASE_URL"},
	"runway":     {"RUNWAYML_API_SECRET", "RUNWAY_BASE_URL"},
	"luma":       {"LUMAAI_API_KEY", "LUMA_BASE_URL"},
}

// stack is the template's API in process over fresh resources, with every
// provider served by its fake and an input server for input_url.
type stack struct {
	*localstack.Stack
	fakes  map[string]*fake.Server
	inputs *httptest.Server
	s3     *awss3.Client
	bucket string
}

// script is the text the input server serves for TTS from a file.
const script = "Hello from a script."

// newStack starts a stack whose media functions run with mediaTimeout
// (MEDIA_TIMEOUT) and reach the fakes through their base URLs.
func newStack(t *testing.T, mediaTimeout time.Duration) *stack {
	t.Helper()
	return newStackWith(t, stackOptions{env: map[string]string{"MEDIA_TIMEOUT": mediaTimeout.String()}})
}

// stackOptions tune newStackWith: environment for every function (over the
// fakes'), more addresses that input_url and callback_url may reach, and
// in-process handlers replacing shared/app's by logical id (made once the
// stack runs, so they may use it).
type stackOptions struct {
	env      map[string]string
	allow    []string
	handlers func(*stack) map[string]any
	// runtime defaults to in-process; log receives the functions' and the
	// stack's output (RIE: the bootstraps' stdout and stderr).
	runtime localstack.Runtime
	log     io.Writer
}

// newStackWith starts a stack as newStack does. Its state machines run
// with no waits: Wait states and Retry intervals take no time.
func newStackWith(t *testing.T, o stackOptions) *stack {
	t.Helper()
	ctx := testenv.Context(t)
	s3cfg, s3c := testenv.S3(t)
	st := &stack{fakes: map[string]*fake.Server{}, s3: s3c, bucket: testenv.UniqueName("e2e")}
	env := map[string]string{}
	maps.Copy(env, o.env)
	for name, vars := range providerEnv {
		f := fake.New(name)
		t.Cleanup(f.Close)
		// A job finishes at its first poll: Generate polls once a second.
		f.PlanJobs(fake.JobPlan{})
		st.fakes[name] = f
		env[vars[0]], env[vars[1]] = fake.Key, f.BaseURL
	}
	st.inputs = httptest.NewServer(inputHandler())
	t.Cleanup(st.inputs.Close)
	env["MEDIA_ALLOW_PRIVATE_INPUTS"] = strings.Join(append([]string{strings.TrimPrefix(st.inputs.URL, "http://")}, o.allow...), ",")
	var handlers map[string]any
	if o.handlers != nil {
		handlers = o.handlers(st)
	}

	// The fakes' base URLs and key reach every function as a deployment's
	// provider secret would.
	var err error
	st.Stack, err = localstack.Start(ctx, localstack.Options{
		Root: repoRoot(), Runtime: cmp.Or(o.runtime, localstack.RuntimeInProcess), Env: env, SkipWaits: true, Handlers: handlers,
		FunctionLog: o.log, Logger: stackLogger(o.log),
		Emulators: &localstack.Emulators{
			DynamoDBURL: testenv.Endpoint(t, testenv.EnvDynamoDB),
			S3URL:       s3cfg.Endpoint, S3AccessKey: s3cfg.AccessKey, S3SecretKey: s3cfg.SecretKey,
			KMSURL: testenv.Endpoint(t, testenv.EnvKMS),
		},
		Table: testenv.Table(t, "e2e"), Bucket: st.bucket,
	})
	if err != nil {
		t.Fatalf("start stack: %v", err)
	}
	t.Cleanup(func() { _ = st.Close(context.Background()) })
	return st
}

// stackLogger writes the stack's own log to w; nil keeps the default.
func stackLogger(w io.Writer) *slog.Logger {
	if w == nil {
		return nil
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// inputHandler serves callers' inputs: /audio.wav, /image.png, /script.txt,
// and /redirect?to=URL.
func inputHandler() http.Handler {
	mux := http.NewServeMux()
	serve := func(path, contentType string, body []byte) {
		mux.HandleFunc("GET "+path, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", contentType)
			_, _ = w.Write(body)
		})
	}
	serve("/audio.wav", "audio/wav", fake.WAV())
	serve("/image.png", "image/png", fake.PNG())
	serve("/script.txt", "text/plain; charset=utf-8", []byte(script))
	mux.HandleFunc("GET /redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusFound)
	})
	return mux
}

// workspace registers a fresh workspace and returns its API key.
func (st *stack) workspace(t *testing.T) (key, ws string) {
	t.Helper()
	ws = testenv.UniqueName("ws")
	key = "key-" + ws
	if err := st.App.Store.PutAPIKey(testenv.Context(t), mediatrail.HashAPIKey(key), ws); err != nil {
		t.Fatal(err)
	}
	return key, ws
}

// registered is the answer of POST /api/v1/assets for a file sent in one PUT.
type registered struct {
	Asset  mediatrail.Asset            `json:"asset"`
	Upload mediatrail.PresignedRequest `json:"upload"`
}

// register registers body as fileName of contentType, as a client does.
func (st *stack) register(t *testing.T, key, fileName, contentType string, body []byte) registered {
	t.Helper()
	r := st.do(t, "POST", "/api/v1/assets", key, map[string]any{
		"file_name": fileName, "content_type": contentType, "size": len(body), "sha256": sha256Hex(body),
	})
	wantOK(t, r, http.StatusCreated)
	var reg registered
	r.Into(t, &reg)
	return reg
}

// put sends the registered upload's bytes through its URL.
func (reg registered) put(t *testing.T, body []byte) {
	t.Helper()
	if status := upload(t, reg.Upload, body); status != http.StatusOK {
		t.Fatalf("upload: %d", status)
	}
}

// complete completes an uploaded asset and answers it.
func (st *stack) complete(t *testing.T, key, id string) mediatrail.Asset {
	t.Helper()
	r := st.do(t, "POST", "/api/v1/assets/"+id+"/complete", key, nil)
	wantOK(t, r, http.StatusOK)
	var a mediatrail.Asset
	r.Into(t, &a)
	return a
}

// reply is an API answer (testenv.Reply).
type reply = testenv.Reply

func (st *stack) do(t *testing.T, method, path, key string, body any) reply {
	t.Helper()
	return testenv.Call(t, st.URL, method, path, key, body)
}

func wantOK(t *testing.T, r reply, status int) {
	t.Helper()
	r.WantStatus(t, status)
}

func wantError(t *testing.T, r reply, status int, code string) {
	t.Helper()
	r.WantError(t, status, code)
}

// generated is the data of a media answer.
type generated struct {
	Status      string         `json:"status"`
	AssetID     string         `json:"asset_id"`
	AssetURL    string         `json:"asset_url"`
	TextOutput  string         `json:"text_output"`
	ContentType string         `json:"content_type"`
	Metadata    map[string]any `json:"metadata"`
	SpanID      string         `json:"span_id"`
	Cost        float64        `json:"cost"`
}

// span is a span as GET /api/v1/traces lists it.
type span struct {
	ID                   string                 `json:"id"`
	TraceID              string                 `json:"trace_id"`
	ExecutionID          string                 `json:"execution_id"`
	Kind                 string                 `json:"kind"`
	MediaType            string                 `json:"media_type"`
	Provider             string                 `json:"provider"`
	Model                string                 `json:"model"`
	Prompt               string                 `json:"prompt"`
	AssetID              string                 `json:"asset_id"`
	AssetURL             string                 `json:"asset_url"`
	OutputURL            string                 `json:"output_url"`
	ContentType          string                 `json:"content_type"`
	AssetDeleted         bool                   `json:"asset_deleted"`
	DurationMs           int64                  `json:"duration_ms"`
	MediaDurationSeconds float64                `json:"media_duration_seconds"`
	Status               string                 `json:"status"`
	Error                *struct{ Code string } `json:"error"`
	Cost                 float64                `json:"cost"`
	CostDetail           mediatrail.Cost        `json:"cost_detail"`
}

// spans lists the workspace's spans matching query.
func (st *stack) spans(t *testing.T, key, query string) ([]span, testenv.Meta) {
	t.Helper()
	r := st.do(t, "GET", "/api/v1/traces?"+query, key, nil)
	wantOK(t, r, http.StatusOK)
	var out []span
	r.Into(t, &out)
	if r.Meta == nil {
		t.Fatalf("no meta: %s", r.Raw)
	}
	return out, *r.Meta
}

// objects lists the bucket's keys under the workspace.
func (st *stack) objects(t *testing.T, ws string) []string {
	t.Helper()
	out, err := st.s3.ListObjectsV2(testenv.Context(t), &awss3.ListObjectsV2Input{
		Bucket: aws.String(st.bucket), Prefix: aws.String("workspaces/" + ws + "/"),
	})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	return keys
}

// download fetches a signed URL.
func download(t *testing.T, u string) (int, http.Header, []byte) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// concurrently runs one subtest per case, all at once whatever -parallel
// says: they wait on fakes and timers, not on CPUs.
func concurrently[T any](t *testing.T, cases map[string]T, run func(*testing.T, T)) {
	var wg sync.WaitGroup
	for name, c := range cases {
		wg.Go(func() { t.Run(name, func(t *testing.T) { run(t, c) }) })
	}
	wg.Wait()
}

// apiRequests counts the requests a fake received on paths containing part.
func apiRequests(f *fake.Server, part string) int {
	n := 0
	for _, r := range f.Requests() {
		if strings.Contains(r.Path, part) {
			n++
		}
	}
	return n
}
