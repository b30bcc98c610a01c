// Command localstack runs mediatrail's SAM template on one machine.
//
//	localstack run [-runtime rie|inprocess]
//	        the whole stack: emulators with data in .data/, every function
//	        (each bootstrap under aws-lambda-rie by default), the API on
//	        127.0.0.1:$PORT (default 3000), the Lambda and Step Functions APIs
//	        and S3 notifications on a local AWS endpoint
//	localstack invoke FUNCTION [EVENT.json]
//	        `sam local invoke`: runs FUNCTION (logical id) with the event
//	        (default events/<name>.json) under aws-lambda-rie and prints its
//	        response; uses a running `localstack run`, or starts the stack
//	localstack exec -- CMD ARGS
//	        emulators on random ports, CMD run with their endpoints in its
//	        environment (how `make test` runs the tests), stopped afterwards
//
// Everything it starts is stopped on Ctrl-C/SIGTERM.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/mediatrail/mediatrail/internal/localstack"
	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/dynamo"
	"github.com/mediatrail/mediatrail/shared/providers"
)

// fixtureAPIKey is the X-API-Key of the events/ fixtures; it opens their own
// workspace, fixtureWorkspace, so that no fixture (setting a retention,
// creating a credential, deleting an asset) changes workspace demo. The key
// is public (it is in the repository), so it exists only once a fixture asks
// for it: `make invoke` stores it; `make run` removes it when it starts.
const (
	fixtureAPIKey    = "mt_example_key"
	fixtureWorkspace = "examples"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	code := 0
	switch os.Args[1] {
	case "run":
		err = run(ctx, os.Args[2:])
	case "invoke":
		code, err = invoke(ctx, os.Args[2:])
	case "exec":
		code, err = execCmd(ctx, os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "localstack:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: localstack run [-runtime rie|inprocess]\n"+
		"       localstack invoke FUNCTION [EVENT.json]\n"+
		"       localstack exec -- CMD [ARGS...]")
	os.Exit(2)
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

func emulatorLog(dir string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return os.OpenFile(filepath.Join(dir, "emulators.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
}

// stackFile is where `run` announces itself to `invoke`.
func stackFile(r string) string { return filepath.Join(r, ".data", "stack.json") }

type stackInfo struct {
	Endpoint, API string
	// DynamoDB is the table's endpoint: `make load` stores its keys there.
	DynamoDB string
	Runtime  localstack.Runtime
	PID      int
	// StateMachines are the local ARNs by logical id.
	StateMachines map[string]string `json:",omitempty"`
}

func run(ctx context.Context, args []string) error {
	started := time.Now()
	flags := flag.NewFlagSet("run", flag.ExitOnError)
	rt := flags.String("runtime", string(localstack.RuntimeRIE), "rie (each bootstrap under aws-lambda-rie) or inprocess")
	_ = flags.Parse(args)
	r := root()
	data := filepath.Join(r, ".data")
	runtime := localstack.Runtime(*rt)
	if runtime == localstack.RuntimeRIE {
		if err := (localstack.Tools{Root: r}).CheckRIE(); err != nil {
			fmt.Fprintf(os.Stderr, "localstack: %v\nlocalstack: running the functions in-process instead\n", err)
			runtime = localstack.RuntimeInProcess
		}
	}
	logf, err := emulatorLog(data)
	if err != nil {
		return err
	}
	defer logf.Close()
	keys, demoKey, err := apiKeys(data)
	if err != nil {
		return err
	}
	port, s3Port, err := localstack.StablePorts(os.Getenv)
	if err != nil {
		return err
	}
	storage, err := localstack.ExternalStorage(os.Getenv)
	if err != nil {
		return err
	}
	s, err := localstack.Start(ctx, localstack.Options{
		Root: r, DataDir: data, Runtime: runtime, GatewayAddr: fmt.Sprintf("127.0.0.1:%d", port), S3Port: s3Port,
		Storage: storage, Parameters: storageParameters(os.Getenv),
		APIKeys: keys, Env: passthroughEnv(),
		// The stack's own records (each invocation, ...) repeat what the
		// request view shows; VERBOSE=1 shows them.
		Logger:      slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: stackLogLevel(os.Getenv)})),
		FunctionLog: newRequestView(os.Stderr, os.Getenv), EmulatorLog: logf,
	})
	if err != nil {
		return err
	}
	defer func() {
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Close(shut)
	}()
	if _, set := keys[fixtureAPIKey]; !set {
		if err := fixtureKey(ctx, s.Config.DynamoDBURL, false); err != nil {
			return err
		}
	}
	machines := map[string]string{}
	for id, sm := range s.Deployment.StateMachines {
		machines[id] = sm.ARN
	}
	info, _ := json.Marshal(stackInfo{Endpoint: s.EndpointURL, API: s.URL, DynamoDB: s.Config.DynamoDBURL, Runtime: s.Runtime, PID: os.Getpid(), StateMachines: machines})
	if err := os.WriteFile(stackFile(r), info, 0o644); err != nil {
		return err
	}
	defer os.Remove(stackFile(r))

	var phases []string
	for _, t := range s.Timings {
		phases = append(phases, fmt.Sprintf("%s %s", t.Phase, t.Duration.Round(time.Millisecond)))
	}
	fmt.Printf("mediatrail is ready in %s (%s)\n", time.Since(started).Round(time.Millisecond), strings.Join(phases, ", "))
	fmt.Printf("  API:        %s/api/v1   (%d routes; functions: %s)\n", s.URL, len(s.Template.Routes), describeRuntime(s.Runtime))
	fmt.Printf("  console:    %s/console   (sign in with an API key below)\n", s.URL)
	fmt.Printf("  AWS APIs:   AWS_ENDPOINT_URL_LAMBDA=%s AWS_ENDPOINT_URL_SFN=%s\n", s.EndpointURL, s.EndpointURL)
	fmt.Printf("  DynamoDB:   %s   S3: %s   (emulator log: .data/emulators.log)\n", s.Config.DynamoDBURL, s.Config.S3URL)
	if storage != nil {
		fmt.Printf("  storage:    external, bucket %s (STORAGE_ENDPOINT; no S3 events reach the stack: make reconcile repairs)\n", s.Bucket)
	}
	if p := storageParameters(os.Getenv)["StoragePublicUrl"]; p != "" {
		fmt.Printf("  signed URLs: %s   (STORAGE_PUBLIC_URL)\n", p)
	}
	fmt.Printf("  also:       %d state machines, %d S3 notifications\n", len(s.Deployment.StateMachines), len(s.Deployment.S3Events))
	if demoKey != "" {
		fmt.Printf("  demo key:   %s   (workspace demo; set API_KEYS=key=workspace,... to use your own)\n", demoKey)
	} else {
		fmt.Printf("  API keys:   %d from API_KEYS\n", len(keys))
	}
	fmt.Printf("  try:        curl -H 'X-API-Key: %s' %s/api/v1/assets\n", firstKey(keys, demoKey), s.URL)
	fmt.Printf("              make invoke FN=AssetListFunction\n")
	fmt.Printf("  demo:       make demo   (one agent execution creating one asset of each kind with the offline provider)\n")
	fmt.Println("Ctrl-C stops everything.")
	<-ctx.Done()
	fmt.Println("\nstopping...")
	return nil
}

func stackLogLevel(getenv func(string) string) slog.Level {
	if verbose(getenv) {
		return slog.LevelInfo
	}
	return slog.LevelWarn
}

// verbose is VERBOSE set to anything but 0: the runtime emulator's and the
// stack's own records, and the metrics' lines, are shown too.
func verbose(getenv func(string) string) bool {
	v := getenv("VERBOSE")
	return v != "" && v != "0"
}

func describeRuntime(rt localstack.Runtime) string {
	if rt == localstack.RuntimeRIE {
		return "bootstraps under aws-lambda-rie"
	}
	return "in-process handlers"
}

func firstKey(keys map[string]string, demo string) string {
	if demo != "" {
		return demo
	}
	var first string
	for k := range keys {
		if first == "" || k < first {
			first = k
		}
	}
	return first
}

// fixtureKey stores (present) or removes the fixtures' key in the table of
// the stack whose DynamoDB is at dynamoURL.
func fixtureKey(ctx context.Context, dynamoURL string, present bool) error {
	store := dynamo.New(dynamodb.New(dynamodb.Options{
		Region:       localstack.Region,
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint: aws.String(dynamoURL),
	}), localstack.DefaultTable)
	h := mediatrail.HashAPIKey(fixtureAPIKey)
	if present {
		return store.PutAPIKey(ctx, h, fixtureWorkspace)
	}
	if err := store.DeleteAPIKey(ctx, h); err != nil && !mediatrail.IsNotFound(err) {
		return err
	}
	return nil
}

// apiKeys reads API_KEYS; when unset it returns a demo key for workspace "demo",
// kept in .data so that it survives restarts.
func apiKeys(data string) (map[string]string, string, error) {
	if v := strings.TrimSpace(os.Getenv("API_KEYS")); v != "" {
		keys, err := mediatrail.ParseAPIKeys(v)
		return keys, "", err
	}
	path := filepath.Join(data, "demo-key")
	b, err := os.ReadFile(path)
	key := strings.TrimSpace(string(b))
	if errors.Is(err, os.ErrNotExist) || key == "" {
		key = mediatrail.NewAPIKey()
		if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
			return nil, "", err
		}
	} else if err != nil {
		return nil, "", err
	}
	return map[string]string{key: "demo"}, key, nil
}

// invoke runs one function with an event and prints the response; it exits
// 1 when the function failed (its error document is printed).
func invoke(ctx context.Context, args []string) (int, error) {
	if len(args) < 1 || len(args) > 2 || args[0] == "" {
		return 2, errors.New("usage: make invoke FN=<LogicalId> [EVENT=events/<name>.json]")
	}
	r := root()
	tmpl, err := localstack.LoadTemplate(filepath.Join(r, "template.yaml"))
	if err != nil {
		return 0, err
	}
	if _, ok := tmpl.StateMachines[args[0]]; ok {
		return execute(ctx, r, args)
	}
	fn, ok := tmpl.Functions[args[0]]
	if !ok {
		var ids []string
		for id := range tmpl.Functions {
			ids = append(ids, id)
		}
		return 2, fmt.Errorf("template.yaml has no function %q; it has %s", args[0], strings.Join(ids, ", "))
	}
	eventPath := filepath.Join(r, "events", fn.Name+".json")
	if len(args) == 2 && args[1] != "" {
		eventPath = args[1]
		if _, err := os.Stat(eventPath); err != nil && !filepath.IsAbs(eventPath) {
			eventPath = filepath.Join(r, eventPath)
		}
	}
	event, err := os.ReadFile(eventPath)
	if err != nil {
		return 0, err
	}
	if fn.LogicalID == "ReconcileFunction" {
		if event, err = reconcileEvent(event, os.LookupEnv); err != nil {
			return 2, err
		}
	}

	out, failed, err := invokeRunning(ctx, r, fn.LogicalID, event)
	if errors.Is(err, errNotRunning) {
		out, failed, err = invokeFresh(ctx, r, fn.LogicalID, event)
	}
	if err != nil {
		return 0, err
	}
	var pretty bytes.Buffer
	if json.Indent(&pretty, out, "", "  ") == nil {
		out = pretty.Bytes()
	}
	fmt.Println(string(out))
	if failed {
		fmt.Fprintf(os.Stderr, "localstack: %s failed (X-Amz-Function-Error: Unhandled)\n", fn.LogicalID)
		return 1, nil
	}
	return 0, nil
}

var errNotRunning = errors.New("no running stack")

// seed creates what a fixture refers to (an asset, a credential, a media
// tool) in the fixtures' workspace of the stack serving api, and answers the
// event naming it (localstack.SeedFixture).
func seed(ctx context.Context, r, api string, event []byte) ([]byte, error) {
	seeded, err := localstack.SeedFixture(ctx, api, fixtureAPIKey, filepath.Join(r, "events"), event)
	if err != nil {
		return nil, fmt.Errorf("seed what the event refers to: %w", err)
	}
	if !bytes.Equal(seeded, event) {
		fmt.Fprintf(os.Stderr, "localstack: seeded what the event refers to in workspace %s\n", fixtureWorkspace)
	}
	return seeded, nil
}

// reconcileEvent adds the shell's RECONCILE_GRACE and
// RECONCILE_MAX_MISSING_BLOBS to a reconciliation event as its per-run
// options (mediatrail.ReconcileOptions): a running stack's functions keep the
// environment they started with, so the event is how they reach it.
func reconcileEvent(event []byte, lookup func(string) (string, bool)) ([]byte, error) {
	var m map[string]any
	if err := json.Unmarshal(event, &m); err != nil {
		return nil, fmt.Errorf("reconcile event: %w", err)
	}
	if v, ok := lookup("RECONCILE_GRACE"); ok && v != "" {
		if d, err := time.ParseDuration(v); err != nil || d <= 0 {
			return nil, fmt.Errorf("RECONCILE_GRACE must be a positive duration such as 10m, not %q", v)
		}
		m["grace"] = v
	}
	if v, ok := lookup("RECONCILE_MAX_MISSING_BLOBS"); ok && v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n == 0 {
			return nil, fmt.Errorf("RECONCILE_MAX_MISSING_BLOBS must be a non-zero integer, not %q", v)
		}
		m["max_missing_blobs"] = n
	}
	return json.Marshal(m)
}

// invokeRunning calls the Lambda Invoke API of a running `localstack run`.
func invokeRunning(ctx context.Context, r, id string, event []byte) ([]byte, bool, error) {
	b, err := os.ReadFile(stackFile(r))
	if err != nil {
		return nil, false, errNotRunning
	}
	var info stackInfo
	if json.Unmarshal(b, &info) != nil || info.Endpoint == "" {
		return nil, false, errNotRunning
	}
	health, err := (&http.Client{Timeout: 2 * time.Second}).Get(info.Endpoint + "/_localstack/health")
	if err != nil {
		return nil, false, errNotRunning
	}
	health.Body.Close()
	if bytes.Contains(event, []byte(fixtureAPIKey)) {
		if err := fixtureKey(ctx, info.DynamoDB, true); err != nil {
			return nil, false, fmt.Errorf("store the fixtures' key: %w", err)
		}
		fmt.Fprintf(os.Stderr, "localstack: the event's key %s now opens workspace %s (the next make run removes it)\n", fixtureAPIKey, fixtureWorkspace)
		if event, err = seed(ctx, r, info.API, event); err != nil {
			return nil, false, err
		}
	}
	fmt.Fprintf(os.Stderr, "localstack: invoking %s in the running stack (pid %d, %s)\n", id, info.PID, describeRuntime(info.Runtime))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, info.Endpoint+"/2015-03-31/functions/"+id+"/invocations", bytes.NewReader(event))
	if err != nil {
		return nil, false, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, false, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, false, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, false, fmt.Errorf("invoke: %s: %s", resp.Status, out)
	}
	return out, resp.Header.Get("X-Amz-Function-Error") != "", nil
}

// invokeFresh starts the stack (data in .data, as `run`), invokes, and stops.
func invokeFresh(ctx context.Context, r, id string, event []byte) ([]byte, bool, error) {
	s, err := startFresh(ctx, r)
	if err != nil {
		return nil, false, err
	}
	defer closeStack(s)
	if bytes.Contains(event, []byte(fixtureAPIKey)) {
		if event, err = seed(ctx, r, s.URL, event); err != nil {
			return nil, false, err
		}
	}
	out, err := s.Invoke(ctx, id, event)
	var fe *localstack.FunctionError
	if errors.As(err, &fe) {
		return fe.Payload, true, nil
	}
	return out, false, err
}

// startFresh starts the stack on .data for one call, under aws-lambda-rie.
func startFresh(ctx context.Context, r string) (*localstack.Stack, error) {
	started := time.Now()
	data := filepath.Join(r, ".data")
	logf, err := emulatorLog(data)
	if err != nil {
		return nil, err
	}
	_, s3Port, err := localstack.StablePorts(os.Getenv)
	if err != nil {
		logf.Close()
		return nil, err
	}
	storage, err := localstack.ExternalStorage(os.Getenv)
	if err != nil {
		logf.Close()
		return nil, err
	}
	s, err := localstack.Start(ctx, localstack.Options{
		Root: r, DataDir: data, Runtime: localstack.RuntimeRIE, S3Port: s3Port, APIKeys: map[string]string{fixtureAPIKey: fixtureWorkspace}, Env: passthroughEnv(),
		Storage: storage, Parameters: storageParameters(os.Getenv),
		Logger:      slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		FunctionLog: newRequestView(os.Stderr, os.Getenv), EmulatorLog: logf,
	})
	if err != nil {
		logf.Close()
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "localstack: stack ready in %s (aws-lambda-rie)\n", time.Since(started).Round(time.Millisecond))
	return s, nil
}

func closeStack(s *localstack.Stack) {
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.Close(shut)
}

// execute runs one execution of a state machine with an input (default
// {}) and prints its output: in a running stack, or in one started on .data
// for the call. ReconcileStateMachine's input gets the shell's reconcile
// settings (reconcileEvent).
func execute(ctx context.Context, r string, args []string) (int, error) {
	id, input := args[0], []byte("{}")
	if len(args) == 2 && args[1] != "" {
		b, err := os.ReadFile(args[1])
		if err != nil {
			return 0, err
		}
		input = b
	}
	if id == "ReconcileStateMachine" {
		var err error
		if input, err = reconcileEvent(input, os.LookupEnv); err != nil {
			return 2, err
		}
	}
	var out []byte
	var err error
	b, readErr := os.ReadFile(stackFile(r))
	var info stackInfo
	if readErr == nil && json.Unmarshal(b, &info) == nil && info.StateMachines[id] != "" && healthy(info.Endpoint) {
		fmt.Fprintf(os.Stderr, "localstack: executing %s in the running stack (pid %d)\n", id, info.PID)
		out, err = localstack.ExecuteAt(ctx, info.Endpoint, info.StateMachines[id], input)
	} else {
		s, err := startFresh(ctx, r)
		if err != nil {
			return 0, err
		}
		defer closeStack(s)
		out, err = s.Execute(ctx, id, input)
		if err == nil {
			printJSON(out)
			return 0, nil
		}
		return 1, err
	}
	if err != nil {
		return 1, err
	}
	printJSON(out)
	return 0, nil
}

func healthy(endpoint string) bool {
	resp, err := (&http.Client{Timeout: 2 * time.Second}).Get(endpoint + "/_localstack/health")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return true
}

func printJSON(out []byte) {
	var pretty bytes.Buffer
	if json.Indent(&pretty, out, "", "  ") == nil {
		out = pretty.Bytes()
	}
	fmt.Println(string(out))
}

// passthroughEnv is what the shell gives every local function on top of the
// template: the provider keys and base URLs, the media settings (on AWS they
// come from the provider secret and the template) and RECONCILE_GRACE.
func passthroughEnv() map[string]string {
	env := map[string]string{}
	for _, k := range slices.Concat(providers.EnvNames(), mediatrail.MediaEnvNames, mediatrail.CleanupEnvNames, mediatrail.JobEnvNames) {
		if v, ok := os.LookupEnv(k); ok {
			env[k] = v
		}
	}
	return env
}

// storageParameters are the template parameters the shell sets for storage:
// STORAGE_PUBLIC_URL, the origin written into signed URLs (StoragePublicUrl),
// for the local versitygw or an external service alike.
func storageParameters(getenv func(string) string) map[string]string {
	p := map[string]string{}
	if v := strings.TrimSpace(getenv("STORAGE_PUBLIC_URL")); v != "" {
		p["StoragePublicUrl"] = v
	}
	return p
}

// execCmd runs args with the emulators' endpoints in its environment and
// returns its exit code.
func execCmd(ctx context.Context, args []string) (int, error) {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		usage()
	}
	r := root()
	logf, err := emulatorLog(filepath.Join(r, ".cache"))
	if err != nil {
		return 0, err
	}
	defer logf.Close()
	started := time.Now()
	em, err := localstack.StartEmulators(ctx, localstack.EmulatorOptions{CacheDir: filepath.Join(r, ".cache"), Log: logf})
	if err != nil {
		return 0, err
	}
	defer em.Stop()
	fmt.Fprintf(os.Stderr, "localstack: emulators ready in %s (DynamoDB %s, S3 %s, KMS %s)\n",
		time.Since(started).Round(time.Millisecond), em.DynamoDBURL, em.S3URL, em.KMSURL)
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), em.Env()...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	err = cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), nil
	}
	return 0, err
}
