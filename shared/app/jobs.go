package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssfn "github.com/aws/aws-sdk-go-v2/service/sfn"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/fetch"
	"github.com/mediatrail/mediatrail/shared/sfn"
)

// callbackTimeout bounds one callback delivery.
const callbackTimeout = 10 * time.Second

// newJobs wires video jobs onto a's media service: the workflow (the state
// machine VIDEO_STATE_MACHINE_ARN names; none without it), the downloader
// of finished videos (providers' addresses or public ones, VIDEO_MAX_BYTES,
// VIDEO_STORE_TIMEOUT) and the callback sender (public addresses only, as
// for inputs). env holds the provider secret over the environment: the
// callback signing secret may live there.
func newJobs(a *App, getenv, env func(string) string) *mediatrail.JobService {
	cfg := a.Config.Jobs
	cfg.CallbackSecret = env("CALLBACK_SIGNING_SECRET")
	jobs := &mediatrail.JobService{
		Media: a.Media, Jobs: a.Store, Config: cfg,
		Outputs: downloader{fetch.New(fetch.Options{
			Timeout: cfg.StoreTimeout, MaxBytes: cfg.MaxBytes, Allow: allowOnly(providerAddrs(env)),
		})},
		Callbacks: fetch.New(fetch.Options{Timeout: callbackTimeout, Allow: allowOnly(a.Config.Media.AllowPrivateInputs)}),
	}
	if cfg.StateMachineARN != "" {
		jobs.Workflow = &sfn.Workflow{Client: sfnClient(a.AWS, getenv), StateMachineARN: cfg.StateMachineARN}
	}
	a.Media.Jobs = jobs
	return jobs
}

// sfnClient honours AWS_ENDPOINT_URL_SFN from getenv, as dynamoClient does
// for DynamoDB (the local stack serves Step Functions itself).
func sfnClient(cfg aws.Config, getenv func(string) string) *awssfn.Client {
	ep := getenv("AWS_ENDPOINT_URL_SFN")
	return awssfn.NewFromConfig(cfg, func(o *awssfn.Options) {
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

// stepFunc is a job step: the task document in and out.
type stepFunc func(context.Context, mediatrail.JobTask) (mediatrail.JobTask, error)

// step is the Lambda handler of a job step.
func step(f stepFunc, logger *slog.Logger) stepFunc {
	return func(ctx context.Context, t mediatrail.JobTask) (mediatrail.JobTask, error) {
		out, err := f(ctx, t)
		if err == nil {
			return out, nil
		}
		se := mediatrail.AsStepError(err)
		level := slog.LevelWarn
		if se.Code == mediatrail.EINTERNAL {
			level = slog.LevelError
		}
		logger.Log(ctx, level, "job step failed", "workspace", t.WorkspaceID, "job", t.JobID,
			"code", se.Code, "retryable", se.Retryable, "err", err)
		if se.Retryable {
			return out, TransientError{se}
		}
		return out, PermanentError{se}
	}
}
