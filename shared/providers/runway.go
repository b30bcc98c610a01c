package providers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// Runway makes videos from text (video_gen, models gen4.5 and veo3.1) and from
// an image (video_from_image, gen4_turbo and others). Both are tasks.
//
// Config entries go into the camelCase body as Runway names them (ratio,
// duration, seed, ...). Runway bills per second of video and does not report
// the duration back, so the ProviderJobID carries the model and the duration
// asked for.
type Runway struct{ *provider }

var runway = spec{
	name: "runway", keyEnv: "RUNWAYML_API_SECRET", baseEnv: "RUNWAY_BASE_URL",
	baseURL: "https://api.dev.runwayml.com", authHeader: "Authorization", authScheme: "Bearer ",
	header: map[string]string{"X-Runway-Version": "2024-11-06"},
	caps:   []mediatrail.Capability{mediatrail.CapabilityVideoGen, mediatrail.CapabilityVideoFromImage},
}

const (
	runwayTextModel  = "gen4.5"
	runwayImageModel = "gen4_turbo"
	runwayRatio      = "1280:720"
	runwayDuration   = 5 // seconds
)

var runwayStates = map[string]mediatrail.JobState{
	"PENDING": mediatrail.JobQueued, "THROTTLED": mediatrail.JobQueued, "RUNNING": mediatrail.JobProcessing,
	"SUCCEEDED": mediatrail.JobCompleted, "FAILED": mediatrail.JobFailed, "CANCELLED": mediatrail.JobCancelled,
}

// NewRunway returns the Runway client; cfg.APIKey is an API secret.
func NewRunway(cfg Config) *Runway { return &Runway{newProvider(runway, cfg)} }

// Submit: POST /v1/text_to_video or /v1/image_to_video; 200 {id}.
func (r *Runway) Submit(ctx context.Context, req mediatrail.MediaRequest) (mediatrail.Job, error) {
	if err := r.check(req, true); err != nil {
		return mediatrail.Job{}, err
	}
	body := optionsOf(req.Config)
	duration, err := body.number("duration", runwayDuration)
	if err != nil {
		return mediatrail.Job{}, err
	}
	path, m := "/v1/text_to_video", model(req, runwayTextModel)
	if req.Capability == mediatrail.CapabilityVideoFromImage {
		path, m = "/v1/image_to_video", model(req, runwayImageModel)
		if body["promptImage"], err = r.inputURL(ctx, req.Input); err != nil {
			return mediatrail.Job{}, err
		}
	}
	if _, ok := body["ratio"]; !ok {
		body["ratio"] = runwayRatio
	}
	body["model"], body["duration"] = m, duration
	if req.Prompt != "" {
		body["promptText"] = req.Prompt
	}
	var out struct {
		ID string `json:"id"`
	}
	a, err := r.json(ctx, jsonCall(http.MethodPost, path, body), &out)
	if err != nil {
		return mediatrail.Job{}, err
	}
	if !jobIDPattern.MatchString(out.ID) {
		return mediatrail.Job{}, r.malformed(a, errors.New("no task id in the answer"))
	}
	extra := url.Values{"model": {m}, "duration": {strconv.FormatFloat(duration, 'f', -1, 64)}}
	return mediatrail.Job{ProviderJobID: jobHandle(out.ID, extra), State: mediatrail.JobQueued}, nil
}

// Status: GET /v1/tasks/{id}. Output URLs expire in 24-48 hours.
func (r *Runway) Status(ctx context.Context, handle string) (mediatrail.Job, error) {
	id, extra, err := r.parseHandle(handle)
	if err != nil {
		return mediatrail.Job{}, err
	}
	var task struct {
		Status      string   `json:"status"`
		Progress    float64  `json:"progress"`
		Output      []string `json:"output"`
		Failure     string   `json:"failure"`
		FailureCode string   `json:"failureCode"`
	}
	a, err := r.json(ctx, call{method: http.MethodGet, path: "/v1/tasks/" + id}, &task)
	if err != nil {
		return mediatrail.Job{}, err
	}
	state, ok := runwayStates[task.Status]
	if !ok {
		return mediatrail.Job{}, r.malformed(a, errors.New("unknown task status "+task.Status))
	}
	job := mediatrail.Job{ProviderJobID: handle, State: state, Progress: task.Progress}
	switch state {
	case mediatrail.JobFailed:
		job.FailureReason = task.Failure
		if task.FailureCode != "" {
			job.FailureReason += " (" + task.FailureCode + ")"
		}
	case mediatrail.JobCompleted:
		if len(task.Output) == 0 {
			return mediatrail.Job{}, r.malformed(a, errors.New("a succeeded task without output"))
		}
		seconds, _ := strconv.ParseFloat(extra.Get("duration"), 64)
		job.Progress = 1
		job.Result = &mediatrail.MediaResult{
			URL: task.Output[0], ContentType: contentTypeOf(task.Output[0], "video/mp4"),
			DurationSeconds: seconds, RequestID: id, Model: extra.Get("model"),
			Usage: mediatrail.Usage{Quantity: seconds, Unit: mediatrail.UnitVideoSecond},
		}
	}
	return job, nil
}

// Cancel: DELETE /v1/tasks/{id}; 204.
func (r *Runway) Cancel(ctx context.Context, handle string) error {
	id, _, err := r.parseHandle(handle)
	if err != nil {
		return err
	}
	_, err = r.json(ctx, call{method: http.MethodDelete, path: "/v1/tasks/" + id}, nil)
	return err
}
