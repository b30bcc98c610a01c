package media

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssfn "github.com/aws/aws-sdk-go-v2/service/sfn"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/app"
	"github.com/mediatrail/mediatrail/shared/fetch"
	"github.com/mediatrail/mediatrail/shared/obs"
	"github.com/mediatrail/mediatrail/shared/sfn"
)

// callbackTimeout bounds one callback delivery.
const callbackTimeout = 10 * time.Second

// newJobs wires video jobs onto a's media service: the workflow (the state
// machine VIDEO_STATE_MACHINE_ARN names; none, and no Step Functions client,
// without it), the downloader of finished videos (providers' addresses or
// public ones, VIDEO_MAX_BYTES, VIDEO_STORE_TIMEOUT) and the callback sender
// (public addresses only, as for inputs). The callback signing secret may
// live in the provider secret.
func newJobs(a *App) *mediatrail.JobService {
	cfg := a.Config.Jobs
	cfg.CallbackSecret = a.providerEnv("CALLBACK_SIGNING_SECRET")
	jobs := &mediatrail.JobService{
		Media: a.Media, Jobs: a.Store, Config: cfg,
		Outputs: downloader{fetch.New(fetch.Options{
			Timeout: cfg.StoreTimeout, MaxBytes: cfg.MaxBytes, Allow: allowOnly(providerAddrs(a.providerEnv)),
		})},
		Callbacks: fetch.New(fetch.Options{Timeout: callbackTimeout, Allow: allowOnly(a.Config.Media.AllowPrivateInputs)}),
	}
	if cfg.StateMachineARN != "" {
		jobs.Workflow = &sfn.Workflow{Client: sfnClient(a.Env), StateMachineARN: cfg.StateMachineARN}
	}
	return jobs
}

// sfnClient honours AWS_ENDPOINT_URL_SFN from the function's environment, as
// Env.DynamoDB does for DynamoDB (the local stack serves Step Functions itself).
func sfnClient(e *app.Env) *awssfn.Client {
	ep := e.Endpoint("SFN")
	return awssfn.NewFromConfig(e.AWS, func(o *awssfn.Options) {
		if ep != "" {
			o.BaseEndpoint = aws.String(ep)
		}
	})
}

// TransientError and PermanentError are how a failed job step reaches Step
// Functions: their names are the Lambda errorType that the state machine's
// Retry and Catch match (statemachines/video-job.asl.json), their message the
// client-facing "code: message" that Fail records.
type (
	TransientError struct{ *mediatrail.StepError }
	PermanentError struct{ *mediatrail.StepError }
)

// StepHandler is a job step: the task document in and out.
type StepHandler func(context.Context, mediatrail.JobTask) (mediatrail.JobTask, error)

// Step is the Lambda handler of job step f: its errors become TransientError
// or PermanentError. The step's workspace, job and whether a failure is
// retried join its invocation's log line (app.Observe), which logs the cause.
func Step(f StepHandler) StepHandler {
	return func(ctx context.Context, t mediatrail.JobTask) (mediatrail.JobTask, error) {
		obs.Annotate(ctx, slog.String(obs.KeyWorkspace, t.WorkspaceID), slog.String("job", t.JobID))
		out, err := f(ctx, t)
		if err == nil {
			return out, nil
		}
		se := mediatrail.AsStepError(err)
		// The Lambda error carries the client-facing "code: message"
		// only; the log line keeps the cause.
		cause := err
		if se.Err != nil {
			cause = se.Err
		}
		obs.Annotate(ctx, slog.Bool("retryable", se.Retryable), slog.String(obs.KeyError, cause.Error()))
		if se.Retryable {
			return out, TransientError{se}
		}
		return out, PermanentError{se}
	}
}
