package media

import (
	"context"
	"errors"
	"reflect"
	"testing"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/app"
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
