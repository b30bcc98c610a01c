package media

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/app"
	"github.com/mediatrail/mediatrail/shared/obs"
)

// A failed step reaches Step Functions as TransientError or PermanentError
// (the Lambda errorType is the Go type's name), with a client-safe message.
func TestStepErrorTypes(t *testing.T) {
	for _, tc := range []struct {
		err      error
		typ, msg string
	}{
		{&mediatrail.ProviderError{Provider: "runway", Status: 503}, "TransientError", "provider_error: provider runway failed"},
		{errors.New("dynamo: secret internals"), "TransientError", "internal: internal error"},
		{&mediatrail.ProviderError{Provider: "luma", Status: 400, Message: "bad keyframe"}, "PermanentError", "validation_error: provider luma rejected the request: bad keyframe"},
		{mediatrail.Errorf(mediatrail.ENOTFOUND, "job not found"), "PermanentError", "not_found: job not found"},
	} {
		h := Step(func(context.Context, mediatrail.JobTask) (mediatrail.JobTask, error) {
			return mediatrail.JobTask{}, tc.err
		})
		_, err := h(context.Background(), mediatrail.JobTask{JobID: "j"})
		if got := reflect.TypeOf(err).Name(); got != tc.typ || err.Error() != tc.msg {
			t.Errorf("%v: %s %q, want %s %q", tc.err, got, err.Error(), tc.typ, tc.msg)
		}
	}
}

func TestJobsWiring(t *testing.T) {
	env := map[string]string{"TABLE_NAME": "t", "STORAGE_BUCKET": "b", "AWS_REGION": "us-east-1",
		"CALLBACK_SIGNING_SECRET": "s", "AWS_ENDPOINT_URL_SFN": "http://127.0.0.1:1"}
	t.Setenv("AWS_ACCESS_KEY_ID", "x")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "y")
	load := func() *App {
		t.Helper()
		e, err := app.Load(context.Background(), func(k string) string { return env[k] })
		if err != nil {
			t.Fatal(err)
		}
		a, err := Load(context.Background(), e)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	a := load()
	if a.Jobs == nil || a.Media.Jobs != a.Jobs || a.Jobs.Workflow != nil || a.Jobs.Config.CallbackSecret != "s" || a.Jobs.Outputs == nil {
		t.Errorf("without a state machine: %+v", a.Jobs)
	}
	if a.Reconciler.Jobs != a.Jobs || a.Reconciler.ActiveJobs == nil {
		t.Errorf("the reconciler cannot end stuck jobs: %+v", a.Reconciler)
	}
	env["VIDEO_STATE_MACHINE_ARN"] = "arn:aws:states:us-east-1:000000000000:stateMachine:VideoJobStateMachine"
	if a = load(); a.Jobs.Workflow == nil {
		t.Errorf("with a state machine: no workflow")
	}
	for name, build := range map[string]app.Constructor[StepHandler]{
		"video-poll": VideoPoll, "video-store": VideoStore, "video-fail": VideoFail, "video-notify": VideoNotify,
	} {
		if h, err := app.Build(context.Background(), func(k string) string { return env[k] }, build); h == nil || err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// A failed step's invocation line carries its code, whether it is retried,
// the job, and the root cause, which its Lambda error does not.
func TestStepLogLine(t *testing.T) {
	for _, tc := range []struct {
		err         error
		code, cause string
		level       string
		retryable   bool
	}{
		{&mediatrail.StepError{Code: mediatrail.ETIMEOUT, Message: "the video could not be copied in time", Retryable: true,
			Err: errors.New("read tcp: i/o timeout")}, "timeout", "read tcp: i/o timeout", "WARN", true},
		{errors.New("dynamo: ProvisionedThroughputExceeded"), "internal", "dynamo: ProvisionedThroughputExceeded", "ERROR", true},
		{&mediatrail.ProviderError{Provider: "luma", Status: 400, Message: "bad keyframe"}, "validation_error", "bad keyframe", "WARN", false},
	} {
		var buf bytes.Buffer
		h := obs.Invocation(obs.NewLogger(&buf), "VideoStoreFunction", Step(func(context.Context, mediatrail.JobTask) (mediatrail.JobTask, error) {
			return mediatrail.JobTask{}, tc.err
		}))
		_, err := h(context.Background(), mediatrail.JobTask{WorkspaceID: "ws-a", JobID: "j1"})
		if strings.Contains(err.Error(), "dynamo") || strings.Contains(err.Error(), "tcp") {
			t.Errorf("Lambda error %q holds the cause", err)
		}
		var l map[string]any
		if err := json.Unmarshal(buf.Bytes(), &l); err != nil {
			t.Fatalf("%q: %v", buf.String(), err)
		}
		want := map[string]any{"error_code": tc.code, "level": tc.level, "retryable": tc.retryable, "workspace": "ws-a", "job": "j1", "outcome": "error"}
		for k, v := range want {
			if l[k] != v {
				t.Errorf("%v: %s = %v, want %v", tc.err, k, l[k], v)
			}
		}
		if cause, _ := l["err"].(string); !strings.Contains(cause, tc.cause) {
			t.Errorf("%v: err = %q, want the cause %q", tc.err, cause, tc.cause)
		}
		if strings.Count(buf.String(), "\n") != 1 {
			t.Errorf("not one line: %s", buf.String())
		}
	}
}
