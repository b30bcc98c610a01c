package providers

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strings"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// Replicate runs models as predictions. Images (image_gen, image_edit) are
// created with "Prefer: wait" and polled on if still running when the wait ends;
// videos (video_gen, video_from_image) are jobs.
//
// The model is owner/name (the model's latest version), owner/name:version or a
// bare version id. Config entries go into the model's input as named; input_key
// names the input that receives the request's image (defaults per default model,
// else "image"). Output URLs are deleted after about an hour.
type Replicate struct{ *provider }

var replicate = spec{
	name: "replicate", keyEnv: "REPLICATE_API_TOKEN", baseEnv: "REPLICATE_BASE_URL",
	baseURL: "https://api.replicate.com/v1", authHeader: "Authorization", authScheme: "Bearer ",
	caps: []mediatrail.Capability{mediatrail.CapabilityImageGen, mediatrail.CapabilityImageEdit, mediatrail.CapabilityVideoGen, mediatrail.CapabilityVideoFromImage},
}

var (
	replicateModels = map[mediatrail.Capability]string{
		mediatrail.CapabilityImageGen:       "black-forest-labs/flux-schnell",
		mediatrail.CapabilityImageEdit:      "black-forest-labs/flux-kontext-pro",
		mediatrail.CapabilityVideoGen:       "minimax/video-01",
		mediatrail.CapabilityVideoFromImage: "minimax/video-01",
	}
	// replicateImageInputs: the input that takes the image, for the default models.
	replicateImageInputs = map[string]string{
		"black-forest-labs/flux-kontext-pro": "input_image",
		"minimax/video-01":                   "first_frame_image",
	}
	replicateModel   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*(:[0-9a-f]{64})?$`)
	replicateVersion = regexp.MustCompile(`^[0-9a-f]{64}$`)
	replicateStates  = map[string]mediatrail.JobState{
		"starting": mediatrail.JobQueued, "processing": mediatrail.JobProcessing, "succeeded": mediatrail.JobCompleted,
		"failed": mediatrail.JobFailed, "aborted": mediatrail.JobFailed, "canceled": mediatrail.JobCancelled,
	}
)

// NewReplicate returns the Replicate client; cfg.APIKey is an API token.
func NewReplicate(cfg Config) *Replicate { return &Replicate{newProvider(replicate, cfg)} }

func (r *Replicate) Generate(ctx context.Context, req mediatrail.MediaRequest) (*mediatrail.MediaResult, error) {
	if err := r.check(req, false); err != nil {
		return nil, err
	}
	job, err := r.create(ctx, req, true)
	if err != nil {
		return nil, err
	}
	return r.await(ctx, r, job)
}

func (r *Replicate) Submit(ctx context.Context, req mediatrail.MediaRequest) (mediatrail.Job, error) {
	if err := r.check(req, true); err != nil {
		return mediatrail.Job{}, err
	}
	return r.create(ctx, req, false)
}

// create: POST /models/{owner}/{name}/predictions {input}, or POST /predictions
// {version, input} for a versioned model.
func (r *Replicate) create(ctx context.Context, req mediatrail.MediaRequest, wait bool) (mediatrail.Job, error) {
	m := model(req, replicateModels[req.Capability])
	input := optionsOf(req.Config)
	key := input.text("input_key", cmp.Or(replicateImageInputs[m], "image"))
	if req.Prompt != "" {
		input["prompt"] = req.Prompt
	}
	if req.Input != nil {
		u, err := r.inputURL(ctx, req.Input)
		if err != nil {
			return mediatrail.Job{}, err
		}
		input[key] = u
	}
	var c call
	switch name, version, _ := strings.Cut(m, ":"); {
	case replicateVersion.MatchString(m):
		c = jsonCall(http.MethodPost, "/predictions", map[string]any{"version": m, "input": input})
	case !replicateModel.MatchString(m):
		return mediatrail.Job{}, mediatrail.Invalid("model", "provider replicate models are owner/name or owner/name:version, not %q", m)
	case version != "":
		c = jsonCall(http.MethodPost, "/predictions", map[string]any{"version": version, "input": input})
	default:
		c = jsonCall(http.MethodPost, "/models/"+name+"/predictions", map[string]any{"input": input})
	}
	if wait {
		c.header = map[string]string{"Prefer": "wait"}
	}
	return r.prediction(ctx, c)
}

// Status: GET /predictions/{id}.
func (r *Replicate) Status(ctx context.Context, handle string) (mediatrail.Job, error) {
	id, _, err := r.parseHandle(handle)
	if err != nil {
		return mediatrail.Job{}, err
	}
	return r.prediction(ctx, call{method: http.MethodGet, path: "/predictions/" + id})
}

// Cancel: POST /predictions/{id}/cancel. Cancelling a finished prediction
// changes nothing and is not an error.
func (r *Replicate) Cancel(ctx context.Context, handle string) error {
	id, _, err := r.parseHandle(handle)
	if err != nil {
		return err
	}
	_, err = r.json(ctx, call{method: http.MethodPost, path: "/predictions/" + id + "/cancel"}, nil)
	return err
}

// prediction sends c and reads the prediction it answers as a job. output is
// model-specific: a list of URLs (images) or one URL (video). Usage counts the
// outputs; the seconds billed by GPU time are in Metadata.predict_time.
func (r *Replicate) prediction(ctx context.Context, c call) (mediatrail.Job, error) {
	var pr struct {
		ID      string          `json:"id"`
		Model   string          `json:"model"`
		Version string          `json:"version"`
		Status  string          `json:"status"`
		Output  json.RawMessage `json:"output"`
		Error   any             `json:"error"`
		Metrics struct {
			PredictTime float64 `json:"predict_time"`
			TotalTime   float64 `json:"total_time"`
		} `json:"metrics"`
	}
	a, err := r.json(ctx, c, &pr)
	if err != nil {
		return mediatrail.Job{}, err
	}
	state, ok := replicateStates[pr.Status]
	if !ok || !jobIDPattern.MatchString(pr.ID) {
		return mediatrail.Job{}, r.malformed(a, errors.New("no prediction id or an unknown status "+pr.Status))
	}
	job := mediatrail.Job{ProviderJobID: pr.ID, State: state}
	switch state {
	case mediatrail.JobFailed:
		job.FailureReason = text(pr.Error)
	case mediatrail.JobCompleted:
		var urls []string
		if json.Unmarshal(pr.Output, &urls) != nil {
			var one string
			if json.Unmarshal(pr.Output, &one) != nil || one == "" {
				return mediatrail.Job{}, r.malformed(a, errors.New("output is neither a URL nor a list of URLs"))
			}
			urls = []string{one}
		}
		if len(urls) == 0 {
			return mediatrail.Job{}, r.malformed(a, errors.New("no output"))
		}
		res := &mediatrail.MediaResult{
			URL: urls[0], ContentType: contentTypeOf(urls[0], "application/octet-stream"), RequestID: pr.ID, Model: pr.Model,
			Usage:    mediatrail.Usage{Quantity: float64(len(urls)), Unit: mediatrail.UnitImage},
			Metadata: map[string]any{"predict_time": pr.Metrics.PredictTime, "total_time": pr.Metrics.TotalTime, "version": pr.Version},
		}
		if strings.HasPrefix(res.ContentType, "video/") {
			res.Usage = mediatrail.Usage{Quantity: 1, Unit: mediatrail.UnitVideo}
		}
		job.Result, job.Progress = res, 1
	}
	return job, nil
}
