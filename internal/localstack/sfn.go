package localstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awssfn "github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// Step Functions limits the local API enforces.
const (
	maxExecutionInputBytes = 256 << 10
	maxExecutionNameLength = 80
)

// Execution statuses.
const (
	statusRunning   = "RUNNING"
	statusSucceeded = "SUCCEEDED"
	statusFailed    = "FAILED"
	statusAborted   = "ABORTED"
)

// NodeHost says how to start the Node process that interprets state machines
// (tools/node/sfn-host.cjs on aws-local-stepfunctions).
type NodeHost struct {
	// Node is the node executable; Args are its arguments (the polyfill
	// preload and the host script).
	Node string
	Args []string
	Env  []string
	// Log receives the host's stderr.
	Log io.Writer
}

// stepFunctions serves StartExecution, DescribeExecution and StopExecution of
// the Step Functions API (awsJson1.0, X-Amz-Target AWSStepFunctions.*) and runs
// executions of the deployment's state machines in one long-lived Node process.
type stepFunctions struct {
	deployment *Deployment
	node       NodeHost
	// skipWaits makes Wait states and Retry intervals take no time.
	skipWaits bool
	logger    *slog.Logger

	mu         sync.Mutex
	host       *nodeProcess
	executions map[string]*execution
	closed     bool
}

type execution struct {
	ARN, MachineARN, Name string
	Input                 string
	Status                string
	Start, Stop           time.Time
	Output                *string
	Error, Cause          *string
	host                  *nodeProcess
}

// nodeProcess is one running sfn-host.
type nodeProcess struct {
	cmd   *exec.Cmd
	mu    sync.Mutex
	stdin io.WriteCloser
	done  chan struct{}
}

func (p *nodeProcess) send(msg any) error {
	b, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	_, err = p.stdin.Write(append(b, '\n'))
	return err
}

type sfnError struct {
	status     int
	code, text string
}

func (e *sfnError) Error() string { return e.code + ": " + e.text }

func sfnClientError(code, format string, args ...any) *sfnError {
	return &sfnError{status: http.StatusBadRequest, code: code, text: fmt.Sprintf(format, args...)}
}

func (s *stepFunctions) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "AWSStepFunctions.")
	body, err := io.ReadAll(io.LimitReader(r.Body, 2*maxExecutionInputBytes))
	if !ok || err != nil {
		writeAWSJSONError(w, sfnClientError("UnknownOperationException", "unknown operation %q", r.Header.Get("X-Amz-Target")))
		return
	}
	var out any
	switch op {
	case "StartExecution":
		out, err = s.startExecution(r.Context(), body)
	case "DescribeExecution":
		out, err = s.describeExecution(body)
	case "StopExecution":
		out, err = s.stopExecution(body)
	default:
		err = sfnClientError("UnknownOperationException", "the local stack does not implement %s", op)
	}
	var se *sfnError
	switch {
	case errors.As(err, &se):
		writeAWSJSONError(w, se)
		return
	case err != nil:
		s.logger.Error("step functions", "operation", op, "err", err)
		writeAWSJSONError(w, &sfnError{status: http.StatusInternalServerError, code: "InternalFailure", text: "the local stack failed"})
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	_ = json.NewEncoder(w).Encode(out)
}

func writeAWSJSONError(w http.ResponseWriter, e *sfnError) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(e.status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": e.code, "message": e.text})
}

// epochSeconds is how awsJson1.0 encodes timestamps.
func epochSeconds(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

func (s *stepFunctions) startExecution(ctx context.Context, body []byte) (any, error) {
	var in struct {
		StateMachineArn string  `json:"stateMachineArn"`
		Name            string  `json:"name"`
		Input           *string `json:"input"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, sfnClientError("SerializationException", "malformed request")
	}
	sm, ok := s.deployment.StateMachineByARN(in.StateMachineArn)
	if !ok {
		return nil, sfnClientError("StateMachineDoesNotExist", "State Machine Does Not Exist: '%s'", in.StateMachineArn)
	}
	input := "{}"
	if in.Input != nil {
		input = *in.Input
	}
	if len(input) > maxExecutionInputBytes {
		return nil, sfnClientError("InvalidExecutionInput", "input exceeds %d bytes", maxExecutionInputBytes)
	}
	if !json.Valid([]byte(input)) {
		return nil, sfnClientError("InvalidExecutionInput", "Invalid State Machine Execution Input: 'Unexpected input'")
	}
	name := in.Name
	if name == "" {
		name = newRequestID()
	}
	if n := utf8.RuneCountInString(name); n > maxExecutionNameLength || strings.ContainsAny(name, " <>{}[]?*\"#%\\^|~`$&,;:/") {
		return nil, sfnClientError("InvalidName", "Invalid Name: '%s'", name)
	}
	arn := strings.Replace(sm.ARN, ":stateMachine:", ":execution:", 1) + ":" + name

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, errors.New("the local stack is stopping")
	}
	if ex, ok := s.executions[arn]; ok {
		s.mu.Unlock()
		// StartExecution is idempotent for a running execution with the same input.
		if ex.Status == statusRunning && ex.Input == input {
			return map[string]any{"executionArn": ex.ARN, "startDate": epochSeconds(ex.Start)}, nil
		}
		return nil, sfnClientError("ExecutionAlreadyExists", "Execution Already Exists: '%s'", arn)
	}
	host, err := s.hostLocked(ctx)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	ex := &execution{ARN: arn, MachineARN: sm.ARN, Name: name, Input: input, Status: statusRunning, Start: time.Now().UTC(), host: host}
	if s.executions == nil {
		s.executions = map[string]*execution{}
	}
	s.executions[arn] = ex
	s.mu.Unlock()

	msg := map[string]any{
		"op": "start", "id": arn, "definition": sm.Definition, "input": json.RawMessage(input), "skipWaits": s.skipWaits,
		"context": map[string]any{
			"Execution": map[string]any{
				"Id": arn, "Name": name, "Input": json.RawMessage(input), "StartTime": ex.Start.Format(time.RFC3339Nano),
				"RoleArn": fmt.Sprintf("arn:aws:iam::%s:role/%s-role", s.deployment.Locals.AccountID, sm.Name),
			},
			"StateMachine": map[string]any{"Id": sm.ARN, "Name": sm.Name},
		},
	}
	if err := host.send(msg); err != nil {
		s.finish(arn, statusFailed, nil, "States.Runtime", "the Step Functions interpreter is not running")
	}
	return map[string]any{"executionArn": arn, "startDate": epochSeconds(ex.Start)}, nil
}

func (s *stepFunctions) lookup(body []byte) (*execution, string, string, error) {
	var in struct{ ExecutionArn, Error, Cause string }
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, "", "", sfnClientError("SerializationException", "malformed request")
	}
	s.mu.Lock()
	ex, ok := s.executions[in.ExecutionArn]
	s.mu.Unlock()
	if !ok {
		return nil, "", "", sfnClientError("ExecutionDoesNotExist", "Execution Does Not Exist: '%s'", in.ExecutionArn)
	}
	return ex, in.Error, in.Cause, nil
}

func (s *stepFunctions) describeExecution(body []byte) (any, error) {
	ex, _, _, err := s.lookup(body)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]any{
		"executionArn": ex.ARN, "stateMachineArn": ex.MachineARN, "name": ex.Name, "status": ex.Status,
		"startDate": epochSeconds(ex.Start), "input": ex.Input, "inputDetails": map[string]bool{"included": true},
	}
	if !ex.Stop.IsZero() {
		out["stopDate"] = epochSeconds(ex.Stop)
	}
	if ex.Output != nil {
		out["output"] = *ex.Output
		out["outputDetails"] = map[string]bool{"included": true}
	}
	if ex.Error != nil {
		out["error"] = *ex.Error
	}
	if ex.Cause != nil {
		out["cause"] = *ex.Cause
	}
	return out, nil
}

func (s *stepFunctions) stopExecution(body []byte) (any, error) {
	ex, errCode, cause, err := s.lookup(body)
	if err != nil {
		return nil, err
	}
	if s.finish(ex.ARN, statusAborted, nil, errCode, cause) {
		_ = ex.host.send(map[string]string{"op": "stop", "id": ex.ARN})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return map[string]any{"stopDate": epochSeconds(ex.Stop)}, nil
}

// finish records the end of a running execution; it reports false when the
// execution had already ended.
func (s *stepFunctions) finish(arn, status string, output json.RawMessage, errCode, cause string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	ex, ok := s.executions[arn]
	if !ok || ex.Status != statusRunning {
		return false
	}
	ex.Status, ex.Stop = status, time.Now().UTC()
	if status == statusSucceeded {
		o := string(output)
		ex.Output = &o
	}
	if errCode != "" {
		ex.Error = &errCode
	}
	if cause != "" {
		ex.Cause = &cause
	}
	s.logger.Info("execution ended", "execution", ex.Name, "status", status, "error", errCode)
	return true
}

// hostLocked returns the running Node host, starting it if needed. s.mu is held.
func (s *stepFunctions) hostLocked(ctx context.Context) (*nodeProcess, error) {
	if s.host != nil {
		select {
		case <-s.host.done:
		default:
			return s.host, nil
		}
	}
	p, err := s.startHost(ctx)
	if err != nil {
		return nil, err
	}
	s.host = p
	return p, nil
}

func (s *stepFunctions) startHost(ctx context.Context) (*nodeProcess, error) {
	cmd := exec.Command(s.node.Node, s.node.Args...)
	cmd.Env = s.node.Env
	log := s.node.Log
	if log == nil {
		log = io.Discard
	}
	cmd.Stderr = newLineWriter(log, "[stepfunctions] ")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the Step Functions interpreter: %w", err)
	}
	p := &nodeProcess{cmd: cmd, stdin: stdin, done: make(chan struct{})}
	ready := make(chan struct{})
	go func() {
		var once sync.Once
		scanLines(stdout, func(line []byte) {
			var msg struct {
				Ready                bool
				ID                   string `json:"id"`
				Status, Error, Cause string
				Output               json.RawMessage
			}
			if json.Unmarshal(line, &msg) != nil {
				return
			}
			if msg.Ready {
				once.Do(func() { close(ready) })
				return
			}
			if msg.ID != "" {
				s.finish(msg.ID, msg.Status, msg.Output, msg.Error, msg.Cause)
			}
		})
		_ = cmd.Wait()
		close(p.done)
		s.hostExited(p)
	}()
	wait, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	select {
	case <-ready:
		return p, nil
	case <-p.done:
		return nil, fmt.Errorf("the Step Functions interpreter exited at start (%v); see its log", cmd.ProcessState)
	case <-wait.Done():
		p.kill()
		return nil, errors.New("the Step Functions interpreter did not start within 30s")
	}
}

// hostExited fails the executions a dead host was running.
func (s *stepFunctions) hostExited(p *nodeProcess) {
	s.mu.Lock()
	var orphans []string
	for arn, ex := range s.executions {
		if ex.host == p && ex.Status == statusRunning {
			orphans = append(orphans, arn)
		}
	}
	s.mu.Unlock()
	for _, arn := range orphans {
		s.finish(arn, statusFailed, nil, "States.Runtime", "the Step Functions interpreter exited")
	}
}

func (p *nodeProcess) kill() {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

// close stops the Node host: closing stdin asks it to abort its executions
// and exit; it is killed if it has not within 2s.
func (s *stepFunctions) close() {
	s.mu.Lock()
	s.closed = true
	p := s.host
	s.mu.Unlock()
	if p == nil {
		return
	}
	_ = p.stdin.Close()
	select {
	case <-p.done:
	case <-time.After(2 * time.Second):
		p.kill()
	}
}

// nodeEnv is the environment of the Node host: only what it needs, so a
// developer's AWS profile never leaks into local runs.
func nodeEnv(nodeModules, lambdaEndpoint, region string) []string {
	env := []string{
		"NODE_PATH=" + nodeModules,
		"AWS_ENDPOINT_URL_LAMBDA=" + lambdaEndpoint,
		"AWS_REGION=" + region,
		"AWS_ACCESS_KEY_ID=local",
		"AWS_SECRET_ACCESS_KEY=local",
		"AWS_MAX_ATTEMPTS=1",
		// The JavaScript SDK warns on every start that its releases after
		// January 2027 need Node 22; the README's prerequisite is Node 20+,
		// and the interpreter is pinned (tools/node/package-lock.json).
		"AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true",
	}
	for _, k := range []string{"PATH", "TMPDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// Execute starts an execution of the state machine logicalID with input on
// the stack's Step Functions API, waits for it to end and answers its output;
// an execution that does not succeed is an error naming its error and cause.
func (s *Stack) Execute(ctx context.Context, logicalID string, input []byte) ([]byte, error) {
	sm, ok := s.Deployment.StateMachines[logicalID]
	if !ok {
		return nil, fmt.Errorf("the template has no state machine %q", logicalID)
	}
	return ExecuteAt(ctx, s.EndpointURL, sm.ARN, input)
}

// ExecuteAt is Execute on the Step Functions API at endpoint (a running
// stack's EndpointURL), for the state machine arn.
func ExecuteAt(ctx context.Context, endpoint, arn string, input []byte) ([]byte, error) {
	client := awssfn.New(awssfn.Options{
		Region: Region, BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
	})
	start, err := client.StartExecution(ctx, &awssfn.StartExecutionInput{StateMachineArn: aws.String(arn), Input: aws.String(string(input))})
	if err != nil {
		return nil, err
	}
	for {
		out, err := client.DescribeExecution(ctx, &awssfn.DescribeExecutionInput{ExecutionArn: start.ExecutionArn})
		switch {
		case err != nil:
			return nil, err
		case out.Status == sfntypes.ExecutionStatusSucceeded:
			return []byte(aws.ToString(out.Output)), nil
		case out.Status != sfntypes.ExecutionStatusRunning:
			return nil, fmt.Errorf("%s %s: %s: %s", arn, out.Status, aws.ToString(out.Error), aws.ToString(out.Cause))
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
