package mediatrail

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// MediaJob is one asynchronous media call (a video): submitted to its provider
// when the request arrives, then polled in the background by a Workflow until
// the provider finishes, when its video is stored as an asset, or until it
// fails, is cancelled or passes its deadline. It is charged once, when it ends.
//
// The json names are the stored attribute names; clients see a JobView.
type MediaJob struct {
	ID           string         `json:"id"`
	WorkspaceID  string         `json:"workspace_id"`
	Status       JobState       `json:"status"`
	Capability   Capability     `json:"media_type"`
	Provider     string         `json:"provider"`
	Model        string         `json:"model"`
	Prompt       string         `json:"prompt"`
	InputAssetID string         `json:"input_asset_id,omitempty"`
	InputURL     string         `json:"input_url,omitempty"` // without its query
	Config       map[string]any `json:"config,omitempty"`
	ExecutionID  string         `json:"execution_id,omitempty"`
	AgentID      string         `json:"agent_id,omitempty"`
	TraceID      string         `json:"trace_id,omitempty"`
	ParentSpanID string         `json:"parent_span_id,omitempty"`
	SessionID    string         `json:"session_id,omitempty"`
	// ToolID and CredentialID are the media tool and workspace credential
	// the job was submitted with: every later provider call (poll, store,
	// cancel) uses the same credential.
	ToolID       string `json:"tool_id,omitempty"`
	CredentialID string `json:"credential_id,omitempty"`
	// CallbackURL receives the result when the job ends (Notify).
	CallbackURL string `json:"callback_url,omitempty"`
	// Callback is what became of the delivery to CallbackURL (nil
	// without one): each attempt records itself (JobStore.RecordCallback).
	Callback *CallbackDelivery `json:"callback,omitempty"`
	// ProviderJobID is the provider's opaque handle (Provider.Status). It
	// never leaves the service.
	ProviderJobID string `json:"provider_job_id"`
	// SpanID is minted at submission: the one span written when the job ends.
	SpanID string `json:"span_id"`
	// AssetID and StorageKey are fixed by the first Store attempt before it
	// uploads anything, so that every retry writes the same object and
	// creates the same asset, and a failed job knows what to clean up.
	AssetID    string  `json:"asset_id,omitempty"`
	StorageKey string  `json:"storage_key,omitempty"`
	Progress   float64 `json:"progress"`
	Polls      int     `json:"polls"`
	// RetentionDays of the asset, resolved at submission (RetentionService).
	RetentionDays int `json:"retention_days"`
	// Version increases with every write: writes are conditional on the
	// version read (optimistic concurrency between steps and the cancel route).
	Version int          `json:"version"`
	Error   *SpanFailure `json:"error,omitempty"`
	// Note says what cancelling did at the provider.
	Note string `json:"note,omitempty"`
	// CancelRequested is set by the cancel route before it asks the
	// provider to stop the job: a step that then sees the provider's job
	// end (cancelled, or failed, as providers without a cancelled state
	// report a stopped job) ends it as cancelled, not failed.
	CancelRequested bool      `json:"cancel_requested,omitempty"`
	Cost            float64   `json:"cost"`
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at"`
	DeadlineAt      time.Time `json:"deadline_at"`
	EndedAt         time.Time `json:"ended_at,omitzero"`
}

// Active reports whether the job may still change: it is queued or processing.
func (j *MediaJob) Active() bool { return !j.Status.Done() }

// input is the request the job was made from, as the media call helpers take it.
func (j *MediaJob) input() GenerateInput {
	return GenerateInput{
		Provider: j.Provider, MediaType: string(j.Capability), Model: j.Model, Prompt: j.Prompt,
		InputURL: j.InputURL, InputAssetID: j.InputAssetID, Config: j.Config,
		ExecutionID: j.ExecutionID, AgentID: j.AgentID, TraceID: j.TraceID, ParentSpanID: j.ParentSpanID, SessionID: j.SessionID,
		ToolID: j.ToolID, credentialID: j.CredentialID,
	}
}

// JobStore keeps media jobs. Every method is scoped by the job's workspace.
type JobStore interface {
	// CreateJob stores a new job and, when done is set, completes the pending
	// idempotency claim done.Token holds with done.Response, in one
	// transaction. ECONFLICT if the job exists or the claim is no longer held.
	CreateJob(ctx context.Context, j *MediaJob, done *IdempotencyRecord) error

	// FindJob returns a job in any status. ENOTFOUND if there is none.
	FindJob(ctx context.Context, workspaceID, id string) (*MediaJob, error)

	// UpdateJob replaces an active job with j, on condition that it is still
	// active and at version j.Version, and increments j.Version. ECONFLICT when
	// the job changed or ended since it was read.
	UpdateJob(ctx context.Context, j *MediaJob) error

	// FinishJob ends an active job at version j.Version: j holds its final
	// state, sp is its span, a (when set) the ready asset it made, counted,
	// and release (when set) an idempotency claim to give up. All in one
	// transaction: a job is on the books, charged, once or not at all.
	// ECONFLICT when the job changed or ended since it was read, or the span
	// or asset exists.
	FinishJob(ctx context.Context, j *MediaJob, sp *Span, a *Asset, release *IdempotencyRecord) error

	// RecordCallback replaces the callback record of job id, which has
	// ended, and nothing else: the job's version stays. ENOTFOUND if there
	// is no such job.
	RecordCallback(ctx context.Context, workspaceID, id string, d *CallbackDelivery) error

	// ListJobs returns the workspace's jobs matching f, newest first, by a
	// Query on the workspace's JOB# items (never a Scan). EINVALID for a limit
	// outside 1..MaxLimit or a malformed or foreign cursor.
	ListJobs(ctx context.Context, workspaceID string, f JobFilter) (*JobPage, error)
}

// Workflow runs the background steps of jobs: on AWS a Step Functions state
// machine (statemachines/video-job.asl.json) calling Poll, Store, Fail and
// Notify.
type Workflow interface {
	// Start starts the job's run, named after the job, with t as its input.
	// Starting a run that is already running with the same input succeeds.
	Start(ctx context.Context, t JobTask) error
}

// CallbackSender delivers job results to callers' URLs, under the
// public-address policy of shared/fetch.
type CallbackSender interface {
	// Post sends body with headers to rawURL and returns the answer's status.
	// EINVALID for a refused URL or address; any other error means the URL
	// could not be reached and may be tried again.
	Post(ctx context.Context, rawURL string, header map[string]string, body []byte) (int, error)

	// CheckCallback tells at submission whether Post may send to rawURL
	// under the policy (where its host resolves now): EINVALID if not.
	CheckCallback(ctx context.Context, rawURL string) error
}

// CallbackDelivery is what became of a job's callback, as GET
// /api/v1/media/jobs/{id} shows it.
type CallbackDelivery struct {
	// Status is one of the Callback* states.
	Status   string `json:"status"`
	Attempts int    `json:"attempts"`
	// LastError says why the last attempt failed ("" once delivered).
	LastError     string     `json:"last_error"`
	LastAttemptAt *time.Time `json:"last_attempt_at"`
	DeliveredAt   *time.Time `json:"delivered_at"`
}

// Callback delivery states.
const (
	CallbackPending   = "pending"   // the job has not ended, or no attempt was made yet
	CallbackRetrying  = "retrying"  // an attempt failed; the workflow tries again
	CallbackDelivered = "delivered" // the URL answered 2xx
	CallbackFailed    = "failed"    // refused, or no attempt left
)

// MaxCallbackAttempts is how often Notify runs for one job at most: once
// and the Retry of the state machine's Notify state (a test keeps them
// equal). The last failed attempt is recorded as failed.
const MaxCallbackAttempts = 7

// What a workflow does after a step (JobTask.Next).
const (
	NextWait  = "wait"  // wait WaitSeconds, then poll again
	NextStore = "store" // the provider finished: store the video
	NextFail  = "fail"  // record the failure (Failure says why)
	NextDone  = "done"  // the job has ended: deliver the callback, if any
)

// JobTask is the document a job's workflow passes from step to step: the
// input and output of Poll, Store, Fail and Notify.
type JobTask struct {
	WorkspaceID string   `json:"workspace_id"`
	JobID       string   `json:"job_id"`
	Next        string   `json:"next"`
	Status      JobState `json:"status,omitempty"`
	// WaitSeconds is the wait before the next poll (Wait's SecondsPath).
	WaitSeconds int `json:"wait_seconds"`
	// Callback says whether the job has a callback URL (the Notify branch).
	Callback bool `json:"callback"`
	// Failure is why the job fails, when Poll found out (NextFail).
	Failure *SpanFailure `json:"failure,omitempty"`
	// Caught is a step's error as a Catch reports it, for Fail.
	Caught *TaskFailure `json:"caught,omitempty"`
}

// TaskFailure is a failed step as Step Functions' Catch reports it: the
// error name (the Lambda errorType) and its cause, which is the Lambda error
// document (AWS: a JSON string) or its message.
type TaskFailure struct {
	Error string          `json:"Error"`
	Cause json.RawMessage `json:"Cause,omitempty"`
}

// Failure is the client-facing failure a step error stands for. Step errors
// carry "code: message" (see StepError); anything else, a crash or a timeout,
// is told without its internals.
func (f *TaskFailure) Failure() *SpanFailure {
	msg := f.message()
	if code, text, ok := strings.Cut(msg, ": "); ok && knownCode(code) {
		return &SpanFailure{Code: code, Message: text}
	}
	if f.Error == "States.Timeout" {
		return &SpanFailure{Code: ETIMEOUT, Message: "a step of the job did not finish in time"}
	}
	return &SpanFailure{Code: EINTERNAL, Message: "the job failed"}
}

// message digs the error message out of Cause: a JSON string holding the
// Lambda error document, the document itself, or plain text, each perhaps
// prefixed by the error type as aws-local-stepfunctions does.
func (f *TaskFailure) message() string {
	var doc struct {
		ErrorType, ErrorMessage string
	}
	raw := f.Cause
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if json.Unmarshal([]byte(s), &doc) == nil && doc.ErrorMessage != "" {
			return doc.ErrorMessage
		}
		return strings.TrimPrefix(s, f.Error+": ")
	}
	if json.Unmarshal(raw, &doc) == nil {
		return doc.ErrorMessage
	}
	return ""
}

var errorCodes = []string{EINVALID, EUNAUTHENTICATED, EQUOTA, EFORBIDDEN, ENOTFOUND, ECONFLICT, ETOOLARGE,
	EUNPROCESSABLE, ERATELIMITED, EINTERNAL, EPROVIDER, EUNAVAILABLE, ETIMEOUT}

func knownCode(code string) bool {
	for _, c := range errorCodes {
		if c == code {
			return true
		}
	}
	return false
}

// StepError is how a failed job step reaches its workflow: the client-facing
// code and message ("code: message", never internals), and whether running
// the step again may help.
type StepError struct {
	Code, Message string
	Retryable     bool
	Err           error // for logs only
}

func (e *StepError) Error() string { return e.Code + ": " + e.Message }
func (e *StepError) Unwrap() error { return e.Err }

// As lets errors.As(err, &*Error) find the client-facing form, so that
// ErrorCode and ErrorMessage read a StepError as they read an *Error.
func (e *StepError) As(target any) bool {
	if t, ok := target.(**Error); ok {
		*t = &Error{Code: e.Code, Message: e.Message}
		return true
	}
	return false
}

// AsStepError classifies err: provider rate limits, 5xx answers, timeouts and
// broken streams, and this service's own infrastructure failures (EINTERNAL,
// EUNAVAILABLE) may pass when retried; refusals and malformed answers do not.
func AsStepError(err error) *StepError {
	var se *StepError
	if errors.As(err, &se) {
		return se
	}
	out := &StepError{Code: ErrorCode(err), Message: ErrorMessage(err), Err: err}
	var pe *ProviderError
	switch {
	case errors.As(err, &pe):
		out.Retryable = pe.Temporary()
	default:
		switch out.Code {
		case EINTERNAL, EUNAVAILABLE, ETIMEOUT, ERATELIMITED, EPROVIDER:
			out.Retryable = true
		}
	}
	return out
}

// JobView is a job as the API answers it (GET /api/v1/media/jobs/{id}).
type JobView struct {
	ID          string     `json:"id"`
	JobID       string     `json:"job_id"` // = id, for clients of the 202 answer
	Status      JobState   `json:"status"`
	MediaType   Capability `json:"media_type"`
	Provider    string     `json:"provider"`
	Model       string     `json:"model"`
	Prompt      string     `json:"prompt"`
	ExecutionID string     `json:"execution_id"`
	AgentID     string     `json:"agent_id"`
	TraceID     string     `json:"trace_id"`
	Progress    float64    `json:"progress"`
	Polls       int        `json:"polls"` // provider status checks so far
	SpanID      string     `json:"span_id"`
	// AssetID, Asset and AssetURL (a fresh signed URL of our copy) are set
	// once the job completed; Asset is absent once that asset was deleted.
	AssetID     string       `json:"asset_id,omitempty"`
	Asset       *Asset       `json:"asset,omitempty"`
	AssetURL    string       `json:"asset_url,omitempty"`
	Cost        float64      `json:"cost"`
	Error       *SpanFailure `json:"error,omitempty"`
	Message     string       `json:"message,omitempty"`
	CallbackURL string       `json:"callback_url,omitempty"` // without its query
	// Callback is the delivery of the callback, when there is one.
	Callback    *CallbackDelivery `json:"callback,omitempty"`
	CreatedAt   time.Time         `json:"created_at"`
	UpdatedAt   time.Time         `json:"updated_at"`
	DeadlineAt  time.Time         `json:"deadline_at"`
	CompletedAt *time.Time        `json:"completed_at,omitempty"`
	// ProviderCancelled answers a cancel: whether the provider stopped the
	// job too (Luma cannot).
	ProviderCancelled *bool `json:"provider_cancelled,omitempty"`
}

// Limits and defaults of video jobs.
const (
	DefaultPollInterval    = 5 * time.Second
	DefaultMaxPollInterval = time.Minute
	DefaultJobDeadline     = time.Hour
	// MaxJobDeadline stays under WorkflowTimeout, so that a job always ends
	// through Fail, never by the run timing out.
	MaxJobDeadline = 2 * time.Hour
	// WorkflowTimeout is the state machine's TimeoutSeconds
	// (statemachines/video-job.asl.json; a test keeps them equal): past
	// it, no execution of a job's workflow can still end the job.
	WorkflowTimeout = 3 * time.Hour
	// DefaultMaxVideoBytes bounds one stored video.
	DefaultMaxVideoBytes = 4 << 30
	// DefaultStoreTimeout bounds the copy of one video, under the Store
	// function's 15 minutes.
	DefaultStoreTimeout = 14 * time.Minute
	// MaxCallbackURLBytes bounds callback_url.
	MaxCallbackURLBytes = 2048
	// CallbackSignatureHeader carries "sha256=<hex HMAC-SHA256 of the body>".
	CallbackSignatureHeader = "X-Mediatrail-Signature"
)

// JobConfig tunes video jobs; the variables are read by LoadConfig, except
// CallbackSecret (see shared/app).
type JobConfig struct {
	// StateMachineARN runs the jobs (VIDEO_STATE_MACHINE_ARN); without it,
	// video requests answer 503.
	StateMachineARN string
	// PollInterval is the first wait between polls, growing by half each
	// poll up to MaxPollInterval (VIDEO_POLL_INTERVAL, VIDEO_POLL_MAX_INTERVAL).
	PollInterval, MaxPollInterval time.Duration
	// Deadline is how long a job may take from submission before it is
	// failed and cancelled at its provider (VIDEO_JOB_DEADLINE, at most
	// MaxJobDeadline).
	Deadline time.Duration
	// MaxBytes bounds one video (VIDEO_MAX_BYTES).
	MaxBytes int64
	// StoreTimeout bounds the copy of one video (VIDEO_STORE_TIMEOUT).
	StoreTimeout time.Duration
	// CallbackSecret signs callbacks (CALLBACK_SIGNING_SECRET, from the
	// provider secret or the environment); without it callbacks fail.
	CallbackSecret string
}

// JobEnvNames are the JobConfig variables a local stack passes through from
// the shell (VIDEO_STATE_MACHINE_ARN comes from the template).
var JobEnvNames = []string{"VIDEO_POLL_INTERVAL", "VIDEO_POLL_MAX_INTERVAL", "VIDEO_JOB_DEADLINE", "VIDEO_MAX_BYTES",
	"VIDEO_STORE_TIMEOUT", "CALLBACK_SIGNING_SECRET"}

func loadJobConfig(getenv func(string) string) (JobConfig, error) {
	c := JobConfig{
		StateMachineARN: strings.TrimSpace(getenv("VIDEO_STATE_MACHINE_ARN")),
		PollInterval:    DefaultPollInterval, MaxPollInterval: DefaultMaxPollInterval,
		Deadline: DefaultJobDeadline, MaxBytes: DefaultMaxVideoBytes, StoreTimeout: DefaultStoreTimeout,
	}
	for _, d := range []struct {
		name     string
		dst      *time.Duration
		min, max time.Duration
	}{
		{"VIDEO_POLL_INTERVAL", &c.PollInterval, 0, time.Hour},
		{"VIDEO_POLL_MAX_INTERVAL", &c.MaxPollInterval, 0, time.Hour},
		{"VIDEO_JOB_DEADLINE", &c.Deadline, time.Second, MaxJobDeadline},
		{"VIDEO_STORE_TIMEOUT", &c.StoreTimeout, time.Second, 15 * time.Minute},
	} {
		v := strings.TrimSpace(getenv(d.name))
		if v == "" {
			continue
		}
		x, err := time.ParseDuration(v)
		if err != nil || x < d.min || x > d.max {
			return c, Invalid(d.name, "%s must be a duration between %s and %s", d.name, d.min, d.max)
		}
		*d.dst = x
	}
	if c.MaxPollInterval < c.PollInterval {
		return c, Invalid("VIDEO_POLL_MAX_INTERVAL", "VIDEO_POLL_MAX_INTERVAL must not be shorter than VIDEO_POLL_INTERVAL")
	}
	if v := strings.TrimSpace(getenv("VIDEO_MAX_BYTES")); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1<<20 {
			return c, Invalid("VIDEO_MAX_BYTES", "VIDEO_MAX_BYTES must be a number of bytes, at least 1 MiB")
		}
		c.MaxBytes = n
	}
	return c, nil
}

// PollWait is the wait after the nth poll (0-based): PollInterval growing by
// half each time up to MaxPollInterval, never past the deadline, in whole
// seconds (Step Functions' Wait).
func (c JobConfig) PollWait(polls int, now, deadline time.Time) int {
	wait := float64(c.PollInterval)
	for range min(polls, 32) {
		wait *= 1.5
	}
	d := min(time.Duration(wait), c.MaxPollInterval)
	if left := deadline.Sub(now); left < d {
		d = max(left, 0)
	}
	return int((d + time.Second - 1) / time.Second)
}

// validateCallbackURL accepts an absolute http(s) URL without credentials.
// Where it points is checked at submission (CallbackSender.CheckCallback)
// and again when the result is delivered (public addresses only, as for
// inputs).
func validateCallbackURL(raw string) error { return validateHookURL("callback_url", raw) }

// validateHookURL is validateCallbackURL for field: every URL the server
// posts signed callbacks to (callback_url, a budget's alert_webhook_url).
func validateHookURL(field, raw string) error {
	u, err := url.Parse(raw)
	switch {
	case len(raw) > MaxCallbackURLBytes:
		return Invalid(field, "%s must be at most %d bytes", field, MaxCallbackURLBytes)
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil:
		return Invalid(field, "%s must be an http or https URL without credentials", field)
	}
	return nil
}

// jobEnded explains why an ended job cannot be cancelled.
func jobEnded(j *MediaJob) *Error {
	return Conflict("", "the job has already %s", map[JobState]string{
		JobCompleted: "completed", JobFailed: "failed", JobCancelled: "been cancelled",
	}[j.Status]).With("status", string(j.Status))
}
