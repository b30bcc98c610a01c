package localstack

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/app"
	"github.com/mediatrail/mediatrail/shared/app/media"
	"github.com/mediatrail/mediatrail/shared/dynamo"
	"github.com/mediatrail/mediatrail/shared/s3"
)

// Local names and identity of what template.yaml creates on AWS.
const (
	DefaultTable  = "mediatrail-local"
	DefaultBucket = "mediatrail-local"
	Region        = "us-east-1"
	AccountID     = "000000000000"
	StackName     = "mediatrail-local"
)

// Runtime selects how functions run.
type Runtime string

const (
	// RuntimeRIE runs each function's bootstrap, built for the host, under
	// aws-lambda-rie: the Lambda runtime API as on AWS, one process per
	// concurrent request.
	RuntimeRIE Runtime = "rie"
	// RuntimeInProcess calls the handlers the functions' constructors
	// build inside this process: fast, for tests of the API itself.
	RuntimeInProcess Runtime = "inprocess"
)

// Config is how functions reach the local services.
type Config struct {
	DynamoDBURL, S3URL, S3AccessKey, S3SecretKey string
	// KMSURL is local-kms (AWS_ENDPOINT_URL_KMS).
	KMSURL string
	// EndpointURL serves the Lambda Invoke and Step Functions APIs.
	EndpointURL string
	// Storage is the external S3 service at S3URL (Options.Storage); nil
	// when S3URL is the local versitygw.
	Storage *mediatrail.StorageConfig
}

// Env is the connection environment every function gets on top of its
// template environment (and which wins over it): region, credentials the
// local services accept, and their endpoints, so that aws-sdk-go-v2 clients
// work unchanged.
func (c Config) Env() map[string]string {
	env := map[string]string{
		"AWS_REGION":                Region,
		"AWS_DEFAULT_REGION":        Region,
		"AWS_ACCESS_KEY_ID":         c.S3AccessKey,
		"AWS_SECRET_ACCESS_KEY":     c.S3SecretKey,
		"AWS_ENDPOINT_URL_DYNAMODB": c.DynamoDBURL,
		"AWS_ENDPOINT_URL_S3":       c.S3URL,
		"AWS_ENDPOINT_URL_LAMBDA":   c.EndpointURL,
		"AWS_ENDPOINT_URL_SFN":      c.EndpointURL,
		"AWS_ENDPOINT_URL_KMS":      c.KMSURL,
		"STORAGE_ENDPOINT":          c.S3URL,
		"STORAGE_ACCESS_KEY_ID":     c.S3AccessKey,
		"STORAGE_SECRET_KEY":        c.S3SecretKey,
		"STORAGE_FORCE_PATH_STYLE":  "true",
	}
	if c.Storage != nil {
		// The storage keys are the external service's; the local services
		// keep accepting the local ones.
		env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"] = S3AccessKey, S3SecretKey
		env["STORAGE_REGION"] = c.Storage.Region
		env["STORAGE_FORCE_PATH_STYLE"] = strconv.FormatBool(c.Storage.ForcePathStyle)
	}
	return env
}

// Options configure Start. Only Root is required.
type Options struct {
	// Root is the repository root (tools/node, .cache).
	Root string
	// Template defaults to Root/template.yaml.
	Template string
	// CacheDir defaults to Root/.cache.
	CacheDir string
	// DataDir keeps emulator data across runs; "" keeps it in memory or in
	// temporary folders.
	DataDir string
	// Emulators, when set, are running emulators to use as they are. S3
	// events then only reach the stack if that versitygw was started with
	// this stack's webhook, which cannot be known in advance: leave Emulators
	// nil to get S3 events.
	Emulators *Emulators
	// DynamoDBURL, when set (and Emulators is nil), is a running DynamoDB to
	// use; versitygw is still started, wired to the stack's S3 events.
	DynamoDBURL string
	// Storage, when its Endpoint is set (and Emulators is nil), is an
	// S3-compatible service to keep the assets in instead of a local
	// versitygw, which is then not started (see ExternalStorage). Its Bucket
	// stands for the template's bucket; no S3 event reaches the stack.
	Storage *mediatrail.StorageConfig
	// Runtime defaults to RuntimeRIE.
	Runtime Runtime
	// PoolSize bounds the RIE processes of each function, started on demand
	// (0: LOCAL_LAMBDA_CONCURRENCY, default DefaultPoolSize).
	PoolSize int
	// IdleTimeout is how long an RIE process may stay idle before it is
	// stopped (default DefaultIdleTimeout).
	IdleTimeout time.Duration
	// Env is extra environment for every function. It wins over the template
	// environment, as the provider secret's values do on AWS (OPENAI_API_KEY,
	// MEDIA_TIMEOUT, ...), but not over the connection environment.
	Env map[string]string
	// Handlers replace, by logical id, the in-process handlers the
	// functions' mains name (RuntimeInProcess only).
	Handlers map[string]any
	// BuildDir receives the bootstraps (default CacheDir/build/<template>).
	BuildDir string
	// Prebuilt says BuildDir already holds every bootstrap (BuildBootstraps).
	Prebuilt bool
	// Table and Bucket are the local names of the template's table and bucket
	// (DefaultTable, DefaultBucket).
	Table, Bucket string
	// Parameters override template parameter defaults.
	Parameters map[string]string
	// GatewayAddr is the API's listen address (127.0.0.1:0 picks a port).
	GatewayAddr string
	// S3Port is the S3 emulator's port (0 picks a free one); see StablePorts.
	S3Port int
	// APIKeys maps raw keys to workspaces, upserted at start.
	APIKeys map[string]string
	// SkipWaits makes Wait states and Retry intervals of state machines
	// take no time.
	SkipWaits bool
	// S3RetryDelays are the waits before retrying a failed S3-triggered
	// invocation (S3 invokes asynchronously; Lambda retries twice).
	S3RetryDelays []time.Duration
	Logger        *slog.Logger
	// FunctionLog receives the functions' and the interpreter's output
	// (io.Discard when nil). EmulatorLog receives the emulators' output.
	FunctionLog, EmulatorLog io.Writer
	// Observe is called after every invocation.
	Observe func(Invocation)
}

// Stack is a running local deployment of a SAM template: emulators, the
// functions in their runtime, the API gateway, and one local AWS endpoint
// serving the Lambda Invoke API, the Step Functions API and versitygw's S3
// event webhook.
type Stack struct {
	Template   *Template
	Deployment *Deployment
	Emulators  *Emulators
	Config     Config
	// URL is the API gateway's base URL; EndpointURL the local AWS endpoint's.
	URL, EndpointURL string
	// Table and Bucket are the local names of the template's table and bucket.
	Table, Bucket string
	Runtime       Runtime
	// App is every service wired to the stack's table and bucket, for
	// seeding and tests.
	App *media.App
	// Timings of the start-up phases, in order.
	Timings []Timing

	opts       Options
	invoker    Invoker
	rie        *RIE
	sfn        *stepFunctions
	servers    []*http.Server
	ownsEmus   bool
	bgCtx      context.Context
	bgCancel   context.CancelFunc
	bg         sync.WaitGroup
	dataLock   *os.File // DataDir's lock, held until Close
	closeOnce  sync.Once
	closeError error
}

// Timing is how long one start-up phase took.
type Timing struct {
	Phase    string
	Duration time.Duration
}

// Start deploys the template locally and returns when every part answers. On
// error, whatever started is stopped.
func Start(ctx context.Context, o Options) (_ *Stack, err error) {
	if o.PoolSize == 0 {
		if o.PoolSize, err = PoolSizeFromEnv(os.Getenv); err != nil {
			return nil, err
		}
	}
	o = o.withDefaults()
	s := &Stack{opts: o, Runtime: o.Runtime, Table: o.Table, Bucket: o.Bucket}
	s.bgCtx, s.bgCancel = context.WithCancel(context.WithoutCancel(ctx))
	defer func() {
		if err != nil {
			_ = s.Close(context.Background())
		}
	}()
	if o.DataDir != "" {
		// Before anything starts: a second stack on the same data fails here.
		if s.dataLock, err = LockDataDir(o.DataDir); err != nil {
			return nil, err
		}
	}
	phase := time.Now()
	mark := func(name string) {
		s.Timings = append(s.Timings, Timing{name, time.Since(phase)})
		phase = time.Now()
	}

	if s.Template, err = LoadTemplate(o.Template); err != nil {
		return nil, err
	}
	endpoint, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.EndpointURL = "http://" + endpoint.Addr().String()
	endpointMux := http.NewServeMux()
	s.serve(endpoint, endpointMux)

	if s.Emulators = o.Emulators; s.Emulators == nil {
		s.Emulators, err = StartEmulators(ctx, EmulatorOptions{
			CacheDir: o.CacheDir, DataDir: o.DataDir, DynamoDBURL: o.DynamoDBURL, Log: o.EmulatorLog, S3Port: o.S3Port,
			S3WebhookURL: s.EndpointURL + s3WebhookPath, Storage: o.Storage,
		})
		if err != nil {
			return nil, err
		}
		s.ownsEmus = true
	}
	mark("emulators")
	s.Config = Config{
		DynamoDBURL: s.Emulators.DynamoDBURL, S3URL: s.Emulators.S3URL,
		S3AccessKey: s.Emulators.S3AccessKey, S3SecretKey: s.Emulators.S3SecretKey, EndpointURL: s.EndpointURL,
		KMSURL: s.Emulators.KMSURL, Storage: s.Emulators.Storage,
	}
	s.Deployment, err = s.Template.Resolve(Locals{
		Region: Region, AccountID: AccountID, StackName: StackName, Table: o.Table, Bucket: o.Bucket, Parameters: o.Parameters,
		KMSKeyID: LocalKMSKeyID,
	})
	if err != nil {
		return nil, err
	}
	if err := s.createResources(ctx); err != nil {
		return nil, err
	}
	mark("resources")

	switch o.Runtime {
	case RuntimeRIE:
		if err := s.startRIE(ctx); err != nil {
			return nil, err
		}
		mark("bootstraps")
	case RuntimeInProcess:
		if err := s.startInProcess(ctx); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("unknown runtime %q", o.Runtime)
	}

	if err := s.handleAWSAPIs(endpointMux); err != nil {
		return nil, err
	}
	gateway, err := net.Listen("tcp", o.GatewayAddr)
	if err != nil {
		return nil, err
	}
	s.URL = "http://" + gateway.Addr().String()
	s.serve(gateway, &Gateway{
		Routes: s.Template.Routes, Invoker: invokerFunc(func(ctx context.Context, id string, payload []byte) ([]byte, error) {
			return s.invoke(ctx, "api", id, payload)
		}),
		APIs:      s.Template.APIs,
		AccountID: AccountID, Region: Region, Logger: o.Logger,
	})
	mark("servers")
	return s, nil
}

// handleAWSAPIs adds the Lambda Invoke API, the Step Functions API and the S3
// event webhook to the local AWS endpoint.
func (s *Stack) handleAWSAPIs(mux *http.ServeMux) error {
	o := s.opts
	tools := Tools{Root: o.Root, CacheDir: o.CacheDir}
	if len(s.Deployment.StateMachines) > 0 {
		if err := tools.CheckNode(); err != nil {
			return err
		}
	}
	s.sfn = &stepFunctions{
		deployment: s.Deployment, node: tools.StepFunctionsHost(s.EndpointURL, Region, o.FunctionLog),
		skipWaits: o.SkipWaits, logger: o.Logger,
	}
	mux.Handle("POST /{$}", s.sfn)
	mux.Handle("POST /2015-03-31/functions/{name}/invocations", &lambdaAPI{
		deployment: s.Deployment, invoke: s.invoke, logger: o.Logger, background: s.background,
	})
	s3c := s3.NewClient(s.App.AWS, app.StorageConfig(s.App.Config.Storage))
	mux.Handle("POST "+s3WebhookPath, &s3Notifications{
		sources: s.Deployment.S3Events, invoke: s.invoke, background: s.background,
		retryDelays: o.S3RetryDelays, logger: o.Logger,
		objectSize: func(ctx context.Context, bucket, key string) (int64, error) {
			out, err := s3c.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: &bucket, Key: &key})
			if err != nil {
				return 0, err
			}
			return aws.ToInt64(out.ContentLength), nil
		},
	})
	mux.HandleFunc("GET "+healthPath, s.health)
	return nil
}

// Paths the local AWS endpoint serves besides the AWS APIs.
const (
	s3WebhookPath = "/_localstack/s3-events"
	healthPath    = "/_localstack/health"
)

func (o Options) withDefaults() Options {
	if o.Template == "" {
		o.Template = filepath.Join(o.Root, "template.yaml")
	}
	if o.CacheDir == "" {
		o.CacheDir = filepath.Join(o.Root, ".cache")
	}
	if o.Runtime == "" {
		o.Runtime = RuntimeRIE
	}
	if o.BuildDir == "" {
		sum := sha256.Sum256([]byte(o.Template))
		o.BuildDir = filepath.Join(o.CacheDir, "build", hex.EncodeToString(sum[:6]))
	}
	if o.Table == "" {
		o.Table = DefaultTable
	}
	if o.Storage != nil && o.Storage.Endpoint != "" && o.Emulators == nil {
		o.Bucket = o.Storage.Bucket
	}
	if o.Bucket == "" {
		o.Bucket = DefaultBucket
	}
	if o.GatewayAddr == "" {
		o.GatewayAddr = "127.0.0.1:0"
	}
	if o.S3RetryDelays == nil {
		o.S3RetryDelays = []time.Duration{time.Second, 2 * time.Second}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.FunctionLog == nil {
		o.FunctionLog = io.Discard
	}
	if o.EmulatorLog == nil {
		o.EmulatorLog = io.Discard
	}
	// Every local log is redacted: signed URLs, keys and tokens never reach it.
	o.Logger = RedactingLogger(o.Logger)
	o.FunctionLog, o.EmulatorLog = redactingWriter{o.FunctionLog}, redactingWriter{o.EmulatorLog}
	return o
}

func (s *Stack) serve(l net.Listener, h http.Handler) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	s.servers = append(s.servers, srv)
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.opts.Logger.Error("server stopped", "addr", l.Addr().String(), "err", err)
		}
	}()
}

// appEnv is the environment of the stack's own App: the connection
// environment plus the table and bucket.
func (s *Stack) appEnv() map[string]string {
	env := s.Config.Env()
	env["TABLE_NAME"] = s.opts.Table
	env["STORAGE_BUCKET"] = s.opts.Bucket
	if env["STORAGE_REGION"] == "" {
		env["STORAGE_REGION"] = Region
	}
	return env
}

// createResources creates the template's table and bucket when missing and
// stores the API keys.
func (s *Stack) createResources(ctx context.Context) error {
	// The SDK of this process must find credentials; the local services
	// accept any.
	for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"} {
		if os.Getenv(k) == "" {
			os.Setenv(k, v)
		}
	}
	env := s.appEnv()
	e, err := app.Load(ctx, func(k string) string { return env[k] })
	if err != nil {
		return err
	}
	a, err := media.Load(ctx, e)
	if err != nil {
		return err
	}
	s.App = a
	if len(s.Template.Tables) > 0 {
		// DynamoDB Local's error responses carry a wrong CRC32, which the SDK
		// logs on every "table exists" answer.
		ddb := dynamodb.NewFromConfig(a.AWS, func(o *dynamodb.Options) {
			o.BaseEndpoint = aws.String(s.Config.DynamoDBURL)
			o.DisableValidateResponseChecksum = true
		})
		if err := dynamo.CreateTable(ctx, ddb, s.opts.Table); err != nil {
			return fmt.Errorf("create table: %w", err)
		}
	}
	if len(s.Template.Buckets) > 0 {
		client := s3.NewClient(a.AWS, app.StorageConfig(a.Config.Storage))
		if err := s3.EnsureBucket(ctx, client, s.opts.Bucket); err != nil && s.Config.Storage != nil {
			// Keys of an external service may read and write a bucket
			// without the right to create one: an existing bucket will do.
			if _, herr := client.HeadBucket(ctx, &awss3.HeadBucketInput{Bucket: &s.opts.Bucket}); herr != nil {
				return fmt.Errorf("external storage %s: bucket %q: %w", s.Config.S3URL, s.opts.Bucket, errors.Join(err, herr))
			}
		} else if err != nil {
			return fmt.Errorf("create bucket: %w", err)
		}
	}
	if len(s.opts.APIKeys) > 0 && len(s.Template.Tables) == 0 {
		return errors.New("API keys need the template's table")
	}
	for key, ws := range s.opts.APIKeys {
		if err := a.Store.PutAPIKey(ctx, mediatrail.HashAPIKey(key), ws); err != nil {
			return fmt.Errorf("store API key: %w", err)
		}
	}
	if len(s.Template.Tables) > 0 {
		if err := a.Store.EnsureCursorKey(ctx); err != nil {
			return fmt.Errorf("create cursor key: %w", err)
		}
	}
	return nil
}

// FunctionEnv is the environment a function runs with locally: the template
// environment, Options.Env over it, the connection environment (Config.Env)
// over both, and the variables the Lambda service sets.
func (s *Stack) FunctionEnv(logicalID string) map[string]string {
	f := s.Deployment.Functions[logicalID]
	env := map[string]string{}
	for k, v := range f.Env {
		env[k] = v
	}
	for k, v := range s.opts.Env {
		env[k] = v
	}
	for k, v := range s.Config.Env() {
		env[k] = v
	}
	env["AWS_LAMBDA_FUNCTION_NAME"] = f.LambdaName
	env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = strconv.Itoa(f.MemorySize)
	env["AWS_LAMBDA_FUNCTION_TIMEOUT"] = strconv.Itoa(f.Timeout)
	env["AWS_LAMBDA_FUNCTION_VERSION"] = "$LATEST"
	env["AWS_LAMBDA_LOG_GROUP_NAME"] = "/aws/lambda/" + f.LambdaName
	env["_HANDLER"] = "bootstrap"
	env["TZ"] = ":UTC"
	env["LANG"] = "en_US.UTF-8"
	env["PATH"] = os.Getenv("PATH")
	return env
}

func (s *Stack) functionIDs() []string {
	ids := make([]string, 0, len(s.Deployment.Functions))
	for id := range s.Deployment.Functions {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

func (s *Stack) startRIE(ctx context.Context) error {
	tools := Tools{Root: s.opts.Root, CacheDir: s.opts.CacheDir}
	if err := tools.CheckRIE(); err != nil {
		return err
	}
	ids := s.functionIDs()
	names := make([]string, len(ids))
	for i, id := range ids {
		names[i] = s.Deployment.Functions[id].Name
	}
	if !s.opts.Prebuilt {
		if err := BuildBootstraps(ctx, s.Template.Dir(), names, s.opts.BuildDir); err != nil {
			return err
		}
	}
	s.rie = &RIE{Binary: tools.RIE(), Functions: map[string]RIEFunction{}, PoolSize: s.opts.PoolSize, IdleTimeout: s.opts.IdleTimeout, Log: s.opts.FunctionLog}
	for _, id := range ids {
		f := s.Deployment.Functions[id]
		s.rie.Functions[id] = RIEFunction{
			Bootstrap: filepath.Join(s.opts.BuildDir, f.Name, "bootstrap"),
			Env:       s.FunctionEnv(id),
			Timeout:   time.Duration(f.Timeout) * time.Second,
		}
	}
	s.invoker = s.rie
	return nil
}

// startInProcess builds each function's handler with the constructor its
// main names, from that function's own environment, as its cold start would.
func (s *Stack) startInProcess(ctx context.Context) error {
	handlers := InProcess{}
	for _, id := range s.functionIDs() {
		if h, ok := s.opts.Handlers[id]; ok {
			handlers[id] = perCall{h}
			continue
		}
		h, err := inProcessHandler(ctx, s.Template.Dir(), s.Deployment.Functions[id].Name, s.FunctionEnv(id))
		if err != nil {
			return fmt.Errorf("%s: cold start: %w", id, err)
		}
		handlers[id] = perCall{h}
	}
	s.invoker = handlers
	return nil
}

// perCall is a lambda.Handler that adapts fn afresh for every invocation.
// aws-lambda-go answers in a buffer it pools per adapted handler, and the
// bytes it returns stay in that buffer once it is back in the pool: Lambda
// never runs two invocations at once on an instance, but the in-process
// runtime does, and a concurrent call would overwrite a response being read.
type perCall struct{ fn any }

func (p perCall) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	return lambda.NewHandler(p.fn).Invoke(ctx, payload)
}

type invokerFunc func(ctx context.Context, logicalID string, payload []byte) ([]byte, error)

func (f invokerFunc) Invoke(ctx context.Context, id string, payload []byte) ([]byte, error) {
	return f(ctx, id, payload)
}

// Invoke runs a function named as the Lambda API names it (name, logical id
// or ARN) synchronously. A failure of the function is a *FunctionError.
func (s *Stack) Invoke(ctx context.Context, name string, payload []byte) ([]byte, error) {
	f, ok := s.Deployment.Function(name)
	if !ok {
		return nil, fmt.Errorf("no function %q in %s", name, s.Template.Path)
	}
	return s.invoke(ctx, "lambda", f.LogicalID, payload)
}

func (s *Stack) invoke(ctx context.Context, source, id string, payload []byte) ([]byte, error) {
	start := time.Now()
	out, err := s.invoker.Invoke(ctx, id, payload)
	inv := Invocation{Function: id, Source: source, Payload: payload, Response: out, Err: err, Duration: time.Since(start)}
	level := slog.LevelDebug
	if source != "api" {
		level = slog.LevelInfo
	}
	if err != nil {
		level = slog.LevelWarn
	}
	s.opts.Logger.Log(ctx, level, "invoked", "function", id, "source", source, "duration", inv.Duration.Round(time.Millisecond), "err", err)
	if s.opts.Observe != nil {
		s.opts.Observe(inv)
	}
	return out, err
}

// background runs f outside any request; Close cancels and waits for it.
func (s *Stack) background(f func(context.Context)) {
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		f(s.bgCtx)
	}()
}

func (s *Stack) health(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"status": "ok", "runtime": string(s.Runtime), "api": s.URL})
}

// Close stops the servers (letting requests in flight finish until ctx
// ends), background deliveries, the runtimes and the emulators the stack
// started.
func (s *Stack) Close(ctx context.Context) error {
	s.closeOnce.Do(func() {
		var errs []error
		for _, srv := range s.servers {
			if err := srv.Shutdown(ctx); err != nil {
				errs = append(errs, err)
			}
		}
		s.bgCancel()
		s.bg.Wait()
		if s.sfn != nil {
			s.sfn.close()
		}
		if s.rie != nil {
			_ = s.rie.Close()
		}
		if s.ownsEmus && s.Emulators != nil {
			s.Emulators.Stop()
		}
		if s.dataLock != nil {
			_ = s.dataLock.Close() // releases the flock
		}
		s.closeError = errors.Join(errs...)
	})
	return s.closeError
}
