package media

import (
	"context"
	"encoding/json"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/app"
	"github.com/mediatrail/mediatrail/shared/httpapi"
	"github.com/mediatrail/mediatrail/shared/mcp"
)

// route builds the services of the media path and serves the endpoint
// endpoint makes of them.
func route(endpoint func(*App) httpapi.Endpoint) app.Constructor[httpapi.LambdaHandler] {
	return func(ctx context.Context, e *app.Env) (httpapi.LambdaHandler, error) {
		a, err := Load(ctx, e)
		if err != nil {
			return nil, err
		}
		return e.Route(a.Store, endpoint(a)), nil
	}
}

// credentialRoute is route for the credential, tool and model functions,
// which build the credentials part only (no bucket, no Step Functions).
func credentialRoute(endpoint func(*App) httpapi.Endpoint) app.Constructor[httpapi.LambdaHandler] {
	return func(ctx context.Context, e *app.Env) (httpapi.LambdaHandler, error) {
		a, err := loadCredentials(ctx, e)
		if err != nil {
			return nil, err
		}
		return e.Route(a.Store, endpoint(a)), nil
	}
}

// generate serves the media route of capability c ("" for /media/generate).
func generate(c mediatrail.Capability) app.Constructor[httpapi.LambdaHandler] {
	return route(func(a *App) httpapi.Endpoint { return httpapi.GenerateMedia(a.Media, c) })
}

// step serves a step of the video job's state machine.
func step(f func(*mediatrail.JobService) StepHandler) app.Constructor[StepHandler] {
	return func(ctx context.Context, e *app.Env) (StepHandler, error) {
		a, err := Load(ctx, e)
		if err != nil {
			return nil, err
		}
		return app.Observe(e, Step(f(a.Jobs))), nil
	}
}

// The media routes.
var (
	// Generate serves POST /api/v1/media/generate (any capability).
	Generate = generate("")
	// TTS serves POST /api/v1/media/tts.
	TTS = generate(mediatrail.CapabilityTTS)
	// STT serves POST /api/v1/media/stt.
	STT = generate(mediatrail.CapabilitySTT)
	// ImageGen serves POST /api/v1/media/image_gen.
	ImageGen = generate(mediatrail.CapabilityImageGen)
	// ImageEdit serves POST /api/v1/media/image_edit.
	ImageEdit = generate(mediatrail.CapabilityImageEdit)
	// VideoGen serves POST /api/v1/media/video_gen.
	VideoGen = generate(mediatrail.CapabilityVideoGen)
	// VideoFromImage serves POST /api/v1/media/video_from_image.
	VideoFromImage = generate(mediatrail.CapabilityVideoFromImage)
)

// Video jobs: the routes, and the steps of the state machine
// (statemachines/video-job.asl.json).
var (
	// JobGet serves GET /api/v1/media/jobs/{id}.
	JobGet = route(func(a *App) httpapi.Endpoint { return httpapi.GetJob(a.Jobs) })
	// JobCancel serves POST /api/v1/media/jobs/{id}/cancel.
	JobCancel = route(func(a *App) httpapi.Endpoint { return httpapi.CancelJob(a.Jobs) })
	// JobList serves GET /api/v1/media/jobs.
	JobList = route(func(a *App) httpapi.Endpoint { return httpapi.ListJobs(a.Jobs) })

	VideoPoll   = step(func(j *mediatrail.JobService) StepHandler { return j.Poll })
	VideoStore  = step(func(j *mediatrail.JobService) StepHandler { return j.Store })
	VideoFail   = step(func(j *mediatrail.JobService) StepHandler { return j.Fail })
	VideoNotify = step(func(j *mediatrail.JobService) StepHandler { return j.Notify })
)

// Workspace credentials, media tools, agents' tools and media models.
var (
	CredentialList    = credentialRoute(func(a *App) httpapi.Endpoint { return httpapi.ListCredentials(a.Credentials) })
	CredentialGet     = credentialRoute(func(a *App) httpapi.Endpoint { return httpapi.GetCredential(a.Credentials) })
	CredentialCreate  = credentialRoute(func(a *App) httpapi.Endpoint { return httpapi.CreateCredential(a.Credentials) })
	CredentialUpdate  = credentialRoute(func(a *App) httpapi.Endpoint { return httpapi.UpdateCredential(a.Credentials) })
	CredentialDelete  = credentialRoute(func(a *App) httpapi.Endpoint { return httpapi.DeleteCredential(a.Credentials) })
	CredentialDefault = credentialRoute(func(a *App) httpapi.Endpoint { return httpapi.SetDefaultCredential(a.Credentials) })
	CredentialCheck   = credentialRoute(func(a *App) httpapi.Endpoint { return httpapi.CheckCredential(a.Credentials) })
	ToolList          = credentialRoute(func(a *App) httpapi.Endpoint { return httpapi.ListTools(a.Tools) })
	ToolGet           = credentialRoute(func(a *App) httpapi.Endpoint { return httpapi.GetTool(a.Tools) })
	ToolCreate        = credentialRoute(func(a *App) httpapi.Endpoint { return httpapi.CreateTool(a.Tools) })
	ToolUpdate        = credentialRoute(func(a *App) httpapi.Endpoint { return httpapi.UpdateTool(a.Tools) })
	ToolDelete        = credentialRoute(func(a *App) httpapi.Endpoint { return httpapi.DeleteTool(a.Tools) })
	AgentToolsGet     = credentialRoute(func(a *App) httpapi.Endpoint { return httpapi.GetAgentTools(a.Tools) })
	AgentToolsSet     = credentialRoute(func(a *App) httpapi.Endpoint { return httpapi.SetAgentTools(a.Tools) })
	ModelList         = credentialRoute(func(a *App) httpapi.Endpoint { return httpapi.ListMediaModels(a.Models) })
)

// MCP serves POST /mcp: the media tools over MCP, on the same services as the
// HTTP API's routes.
func MCP(ctx context.Context, e *app.Env) (httpapi.LambdaHandler, error) {
	a, err := Load(ctx, e)
	if err != nil {
		return nil, err
	}
	s := &mcp.Server{Keys: a.Store, Media: a.Media, Jobs: a.Jobs, Assets: a.Assets, Traces: a.Traces, Logger: e.Logger,
		Tools: mcp.AttachedTools(a.Tools)}
	return s.Handler(), nil
}

// Reconcile serves the steps of the reconcile state machine
// (statemachines/reconcile.asl.json: {"step": "plan"|"page"|"finish", ...},
// mediatrail.ReconcileStep) and, for an event without a step, runs one whole
// reconciliation in this invocation and answers its report ({"dry_run":
// true}: events/reconcile-dry-run.json only reports).
func Reconcile(ctx context.Context, e *app.Env) (func(context.Context, json.RawMessage) (any, error), error) {
	a, err := Load(ctx, e)
	if err != nil {
		return nil, err
	}
	r := a.Reconciler
	return app.Observe(e, func(ctx context.Context, event json.RawMessage) (any, error) {
		var step mediatrail.ReconcileStep
		if err := json.Unmarshal(event, &step); err != nil {
			return nil, mediatrail.Invalid("event", "malformed reconcile event")
		}
		switch step.Step {
		case "plan":
			return r.Plan(ctx, step.Execution, step.Options)
		case "page":
			if step.Segment == nil {
				return nil, mediatrail.Invalid("segment", "a page names its segment")
			}
			return r.Page(ctx, step.RunID, *step.Segment)
		case "finish":
			return r.Finish(ctx, step.RunID)
		case "":
			var opts mediatrail.ReconcileOptions
			if err := json.Unmarshal(event, &opts); err != nil {
				return nil, mediatrail.Invalid("event", "malformed reconcile event")
			}
			return r.Run(ctx, opts)
		}
		return nil, mediatrail.Invalid("step", "step must be plan, page or finish")
	}), nil
}
