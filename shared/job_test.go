package mediatrail_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// What Fail records for a step that gave up: the step's own client-facing
// error, however Step Functions passed it on, and nothing else.
func TestTaskFailure(t *testing.T) {
	doc := `{"errorType":"TransientError","errorMessage":"provider_error: provider runway failed"}`
	quoted, _ := json.Marshal(doc)
	for _, tc := range []struct {
		name  string
		error string
		cause string
		want  mediatrail.SpanFailure
	}{
		{"AWS: the Lambda error document as a JSON string", "TransientError", string(quoted), mediatrail.SpanFailure{Code: "provider_error", Message: "provider runway failed"}},
		{"the document itself", "TransientError", doc, mediatrail.SpanFailure{Code: "provider_error", Message: "provider runway failed"}},
		{"aws-local-stepfunctions: type, code and message", "PermanentError", `"PermanentError: unprocessable: provider fal could not produce the media: x"`,
			mediatrail.SpanFailure{Code: "unprocessable", Message: "provider fal could not produce the media: x"}},
		{"a crash tells nothing of itself", "Runtime.ExitError", `"Runtime.ExitError: signal: killed at /var/task/x.go:12"`, mediatrail.SpanFailure{Code: "internal", Message: "the job failed"}},
		{"a panic", "string", `"string: runtime error: index out of range"`, mediatrail.SpanFailure{Code: "internal", Message: "the job failed"}},
		{"a task timeout", "States.Timeout", `"Task timed out"`, mediatrail.SpanFailure{Code: "timeout", Message: "a step of the job did not finish in time"}},
		{"no cause", "States.TaskFailed", ``, mediatrail.SpanFailure{Code: "internal", Message: "the job failed"}},
	} {
		f := &mediatrail.TaskFailure{Error: tc.error, Cause: json.RawMessage(tc.cause)}
		if got := f.Failure(); *got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, *got, tc.want)
		}
	}
}

// Which step errors Step Functions retries.
func TestAsStepError(t *testing.T) {
	se := &mediatrail.StepError{Code: mediatrail.EUNAVAILABLE, Message: "m", Retryable: true}
	for _, tc := range []struct {
		name      string
		err       error
		code      string
		retryable bool
	}{
		{"rate limited", &mediatrail.ProviderError{Provider: "runway", Status: 429}, mediatrail.ERATELIMITED, true},
		{"provider 5xx", &mediatrail.ProviderError{Provider: "luma", Status: 503}, mediatrail.EPROVIDER, true},
		{"broken stream", &mediatrail.ProviderError{Provider: "fal", Status: 200, Code: mediatrail.ProviderTruncated}, mediatrail.EPROVIDER, true},
		{"not a video", &mediatrail.ProviderError{Provider: "fal", Status: 200, Code: mediatrail.ProviderMalformed}, mediatrail.EPROVIDER, false},
		{"refused", &mediatrail.ProviderError{Provider: "runway", Status: 400, Message: "bad"}, mediatrail.EINVALID, false},
		{"quota", &mediatrail.ProviderError{Provider: "runway", Status: 429, Code: "insufficient_credits"}, mediatrail.EQUOTA, false},
		{"our infrastructure", errors.New("dynamo: connection reset"), mediatrail.EINTERNAL, true},
		{"not found", mediatrail.Errorf(mediatrail.ENOTFOUND, "job not found"), mediatrail.ENOTFOUND, false},
		{"a step error as it is", fmt.Errorf("wrapped: %w", se), mediatrail.EUNAVAILABLE, true},
	} {
		got := mediatrail.AsStepError(tc.err)
		if got.Code != tc.code || got.Retryable != tc.retryable {
			t.Errorf("%s: %s retryable=%v, want %s %v", tc.name, got.Code, got.Retryable, tc.code, tc.retryable)
		}
		if got.Code == mediatrail.EINTERNAL && got.Message != "internal error" {
			t.Errorf("%s: internal message leaks: %q", tc.name, got.Message)
		}
	}
}

func TestPollWait(t *testing.T) {
	c := mediatrail.JobConfig{PollInterval: 5 * time.Second, MaxPollInterval: time.Minute}
	now := time.Now()
	far := now.Add(time.Hour)
	for _, tc := range []struct {
		polls    int
		deadline time.Time
		want     int
	}{
		{0, far, 5}, {1, far, 8}, {2, far, 12}, {5, far, 38}, {6, far, 57}, {7, far, 60}, {1000, far, 60},
		{7, now.Add(10 * time.Second), 10},       // never past the deadline
		{7, now.Add(1500 * time.Millisecond), 2}, // whole seconds, rounded up
		{0, now.Add(-time.Second), 0},
	} {
		if got := c.PollWait(tc.polls, now, tc.deadline); got != tc.want {
			t.Errorf("PollWait(%d, deadline in %s) = %d, want %d", tc.polls, tc.deadline.Sub(now), got, tc.want)
		}
	}
}

func TestJobConfig(t *testing.T) {
	base := map[string]string{"TABLE_NAME": "t", "STORAGE_BUCKET": "b"}
	load := func(kv ...string) (mediatrail.Config, error) {
		env := map[string]string{}
		for k, v := range base {
			env[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			env[kv[i]] = kv[i+1]
		}
		return mediatrail.LoadConfig(func(k string) string { return env[k] })
	}
	c, err := load()
	if err != nil || c.Jobs.PollInterval != 5*time.Second || c.Jobs.MaxPollInterval != time.Minute || c.Jobs.Deadline != time.Hour ||
		c.Jobs.MaxBytes != mediatrail.DefaultMaxVideoBytes || c.Jobs.StateMachineARN != "" {
		t.Errorf("defaults: %+v %v", c.Jobs, err)
	}
	c, err = load("VIDEO_STATE_MACHINE_ARN", "arn:aws:states:us-east-1:1:stateMachine:v", "VIDEO_POLL_INTERVAL", "0s", "VIDEO_JOB_DEADLINE", "90m", "VIDEO_MAX_BYTES", "1073741824")
	if err != nil || c.Jobs.PollInterval != 0 || c.Jobs.Deadline != 90*time.Minute || c.Jobs.MaxBytes != 1<<30 || c.Jobs.StateMachineARN == "" {
		t.Errorf("set: %+v %v", c.Jobs, err)
	}
	for _, bad := range [][]string{
		{"VIDEO_JOB_DEADLINE", "3h"}, {"VIDEO_JOB_DEADLINE", "soon"}, {"VIDEO_POLL_INTERVAL", "-1s"},
		{"VIDEO_POLL_INTERVAL", "2m", "VIDEO_POLL_MAX_INTERVAL", "1m"}, {"VIDEO_MAX_BYTES", "12"}, {"VIDEO_STORE_TIMEOUT", "20m"},
	} {
		if _, err := load(bad...); mediatrail.ErrorCode(err) != mediatrail.EINVALID {
			t.Errorf("%v: %v", bad, err)
		}
	}
}

func TestSignCallback(t *testing.T) {
	// RFC 4231-style check against a known HMAC-SHA256.
	got := mediatrail.SignCallback("key", []byte("The quick brown fox jumps over the lazy dog"))
	if want := "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"; got != want {
		t.Errorf("SignCallback = %s, want %s", got, want)
	}
}

// WorkflowTimeout is the video state machine's own TimeoutSeconds: the
// reconciler relies on it to know when no execution can still end a job.
func TestWorkflowTimeoutMatchesStateMachine(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "statemachines", "video-job.asl.json"))
	if err != nil {
		t.Fatal(err)
	}
	var asl struct{ TimeoutSeconds int }
	if err := json.Unmarshal(raw, &asl); err != nil {
		t.Fatal(err)
	}
	if got := time.Duration(asl.TimeoutSeconds) * time.Second; got != mediatrail.WorkflowTimeout {
		t.Errorf("the state machine times out after %s, WorkflowTimeout is %s", got, mediatrail.WorkflowTimeout)
	}
	if mediatrail.MaxJobDeadline >= mediatrail.WorkflowTimeout {
		t.Errorf("MaxJobDeadline %s must stay under WorkflowTimeout %s", mediatrail.MaxJobDeadline, mediatrail.WorkflowTimeout)
	}
}

// MaxCallbackAttempts is one run of Notify and its retries in the state
// machine, so that the last attempt is the one recorded as failed.
func TestMaxCallbackAttemptsMatchesStateMachine(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "statemachines", "video-job.asl.json"))
	if err != nil {
		t.Fatal(err)
	}
	var asl struct {
		States map[string]struct {
			Retry []struct {
				ErrorEquals []string
				MaxAttempts int
			}
		}
	}
	if err := json.Unmarshal(raw, &asl); err != nil {
		t.Fatal(err)
	}
	retries := -1
	for _, r := range asl.States["Notify"].Retry {
		if slices.Contains(r.ErrorEquals, "States.ALL") {
			retries = r.MaxAttempts
		}
	}
	if retries+1 != mediatrail.MaxCallbackAttempts {
		t.Errorf("Notify runs %d times, MaxCallbackAttempts is %d", retries+1, mediatrail.MaxCallbackAttempts)
	}
}
