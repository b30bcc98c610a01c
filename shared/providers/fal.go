package providers

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// Fal runs models on fal's queue: submit, poll the status, fetch the result.
// Images (image_gen, image_edit) are waited for within Generate; videos
// (video_gen, video_from_image) are jobs. Pika is served the same way (NewPika).
//
// The model is the fal model id (fal-ai/flux/dev, fal-ai/pika/v2.2/text-to-video,
// ...). Config entries go into the model's input as named; input_key names the
// input that receives the request's image (default image_url). The ProviderJobID
// carries the model id, which status, result and cancel URLs need.
type Fal struct {
	*provider
	models map[mediatrail.Capability]string
	prefix string // models this provider may run
}

var (
	falSpec = spec{
		name: "fal", keyEnv: "FAL_KEY", baseEnv: "FAL_BASE_URL",
		baseURL: "https://queue.fal.run", authHeader: "Authorization", authScheme: "Key ",
		caps: []mediatrail.Capability{mediatrail.CapabilityImageGen, mediatrail.CapabilityImageEdit, mediatrail.CapabilityVideoGen, mediatrail.CapabilityVideoFromImage},
	}
	pikaSpec = spec{
		name: "pika", keyEnv: "FAL_KEY", baseEnv: "FAL_BASE_URL",
		baseURL: "https://queue.fal.run", authHeader: "Authorization", authScheme: "Key ",
		caps: []mediatrail.Capability{mediatrail.CapabilityVideoGen, mediatrail.CapabilityVideoFromImage},
	}
	falModels = map[mediatrail.Capability]string{
		mediatrail.CapabilityImageGen:       "fal-ai/flux/dev",
		mediatrail.CapabilityImageEdit:      "fal-ai/flux/dev/image-to-image",
		mediatrail.CapabilityVideoGen:       "fal-ai/pika/v2.2/text-to-video",
		mediatrail.CapabilityVideoFromImage: "fal-ai/pika/v2.2/image-to-video",
	}
)

// NewFal returns the fal client; cfg.BaseURL, when set, replaces the queue base.
func NewFal(cfg Config) *Fal { return &Fal{provider: newProvider(falSpec, cfg), models: falModels} }

// NewPika serves Pika, which has no direct API, through fal: it runs only fal's
// Pika models (fal-ai/pika/...) and bills as provider "pika".
func NewPika(cfg Config) *Fal {
	return &Fal{provider: newProvider(pikaSpec, cfg), models: falModels, prefix: "fal-ai/pika/"}
}

func (f *Fal) Generate(ctx context.Context, req mediatrail.MediaRequest) (*mediatrail.MediaResult, error) {
	if err := f.check(req, false); err != nil {
		return nil, err
	}
	job, err := f.submit(ctx, req)
	if err != nil {
		return nil, err
	}
	return f.await(ctx, f, job)
}

func (f *Fal) Submit(ctx context.Context, req mediatrail.MediaRequest) (mediatrail.Job, error) {
	if err := f.check(req, true); err != nil {
		return mediatrail.Job{}, err
	}
	return f.submit(ctx, req)
}

// submit: POST /{model} with the input; 200 {status: IN_QUEUE, request_id, ...}.
func (f *Fal) submit(ctx context.Context, req mediatrail.MediaRequest) (mediatrail.Job, error) {
	m := model(req, f.models[req.Capability])
	if _, err := f.app(m); err != nil {
		return mediatrail.Job{}, err
	}
	input := optionsOf(req.Config)
	key := input.text("input_key", "image_url")
	if req.Prompt != "" {
		input["prompt"] = req.Prompt
	}
	if req.Input != nil {
		u, err := f.inputURL(ctx, req.Input)
		if err != nil {
			return mediatrail.Job{}, err
		}
		input[key] = u
	}
	var out struct {
		RequestID string `json:"request_id"`
	}
	a, err := f.json(ctx, jsonCall(http.MethodPost, "/"+m, input), &out)
	if err != nil {
		return mediatrail.Job{}, err
	}
	if !jobIDPattern.MatchString(out.RequestID) {
		return mediatrail.Job{}, f.malformed(a, errors.New("no request_id in the answer"))
	}
	return mediatrail.Job{ProviderJobID: jobHandle(out.RequestID, url.Values{"model": {m}}), State: mediatrail.JobQueued}, nil
}

var falModel = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)+$`)

// app is the model's app id: owner/app, after the namespace for namespaced ids
// (workflows/owner/app). Status, result and cancel URLs use it WITHOUT the model's
// subpath: fal-ai/flux/requests/ID, never fal-ai/flux/dev/requests/ID.
func (f *Fal) app(m string) (string, error) {
	parts := strings.Split(m, "/")
	n := 2
	if parts[0] == "workflows" || parts[0] == "comfy" {
		n = 3
	}
	if !falModel.MatchString(m) || len(parts) < n || !strings.HasPrefix(m, f.prefix) {
		return "", mediatrail.Invalid("model", "provider %s has no model %q", f.name, m)
	}
	return strings.Join(parts[:n], "/"), nil
}

// Status: GET /{app}/requests/{id}/status. IN_QUEUE and IN_PROGRESS map to
// queued and processing. COMPLETED has no failure flag: the result GET either
// answers the output or, for a failed job, a 4xx (422 validation) or an error
// with an error type (X-Fal-Error-Type), which become a failed job.
func (f *Fal) Status(ctx context.Context, handle string) (mediatrail.Job, error) {
	id, app, m, err := f.job(handle)
	if err != nil {
		return mediatrail.Job{}, err
	}
	var st struct {
		Status  string `json:"status"`
		Metrics struct {
			InferenceTime float64 `json:"inference_time"`
		} `json:"metrics"`
	}
	c := call{method: http.MethodGet, path: "/" + app + "/requests/" + id + "/status", query: url.Values{"logs": {"1"}}}
	a, err := f.json(ctx, c, &st)
	if err != nil {
		return mediatrail.Job{}, err
	}
	job := mediatrail.Job{ProviderJobID: handle}
	switch st.Status {
	case "IN_QUEUE":
		job.State = mediatrail.JobQueued
		return job, nil
	case "IN_PROGRESS":
		job.State = mediatrail.JobProcessing
		return job, nil
	case "COMPLETED":
	default:
		return mediatrail.Job{}, f.malformed(a, errors.New("unknown status "+st.Status))
	}

	var out struct {
		Images          []falFile `json:"images"`
		Image           *falFile  `json:"image"`
		Video           *falFile  `json:"video"`
		Seed            any       `json:"seed"`
		HasNSFWConcepts []bool    `json:"has_nsfw_concepts"`
	}
	a, err = f.json(ctx, call{method: http.MethodGet, path: "/" + app + "/requests/" + id}, &out)
	var pe *mediatrail.ProviderError
	switch {
	case errors.As(err, &pe) && (pe.Status == 400 || pe.Status == 422 || pe.Status >= 500 && pe.Code != ""):
		job.State, job.FailureReason = mediatrail.JobFailed, pe.Message
		return job, nil
	case err != nil:
		return mediatrail.Job{}, err
	}
	res := &mediatrail.MediaResult{RequestID: id, Model: m, Metadata: map[string]any{}}
	if st.Metrics.InferenceTime > 0 {
		res.Metadata["inference_time"] = st.Metrics.InferenceTime
	}
	if out.Image != nil {
		out.Images = append(out.Images, *out.Image)
	}
	switch {
	case out.Video != nil && out.Video.URL != "":
		res.URL, res.ContentType = out.Video.URL, cmp.Or(out.Video.ContentType, contentTypeOf(out.Video.URL, "video/mp4"))
		res.Usage = mediatrail.Usage{Quantity: 1, Unit: mediatrail.UnitVideo}
		res.Metadata["file_size"] = out.Video.FileSize
	case len(out.Images) > 0 && out.Images[0].URL != "":
		if len(out.HasNSFWConcepts) > 0 && !slices.Contains(out.HasNSFWConcepts, false) {
			job.State, job.FailureReason = mediatrail.JobFailed, "the output was withheld by content moderation"
			return job, nil
		}
		img := out.Images[0]
		res.URL, res.ContentType = img.URL, cmp.Or(img.ContentType, contentTypeOf(img.URL, "image/jpeg"))
		res.Width, res.Height = img.Width, img.Height
		res.Usage = mediatrail.Usage{Quantity: float64(len(out.Images)), Unit: mediatrail.UnitImage}
		megapixels := 0.0
		for _, i := range out.Images {
			megapixels += float64(i.Width*i.Height) / 1e6
		}
		res.Metadata["megapixels"] = megapixels
		if out.Seed != nil {
			res.Metadata["seed"] = out.Seed
		}
	default:
		return mediatrail.Job{}, f.malformed(a, errors.New("no image or video in the result"))
	}
	job.State, job.Progress, job.Result = mediatrail.JobCompleted, 1, res
	return job, nil
}

// falFile is a file in a fal result.
type falFile struct {
	URL         string `json:"url"`
	ContentType string `json:"content_type"`
	FileSize    int64  `json:"file_size"`
	Width       int    `json:"width"`
	Height      int    `json:"height"`
}

// Cancel: PUT /{app}/requests/{id}/cancel. A job that already finished answers
// 400 ALREADY_COMPLETED, which is ECONFLICT.
func (f *Fal) Cancel(ctx context.Context, handle string) error {
	id, app, _, err := f.job(handle)
	if err != nil {
		return err
	}
	_, err = f.json(ctx, call{method: http.MethodPut, path: "/" + app + "/requests/" + id + "/cancel"}, nil)
	if pe := (*mediatrail.ProviderError)(nil); errors.As(err, &pe) && pe.Code == "ALREADY_COMPLETED" {
		return mediatrail.Errorf(mediatrail.ECONFLICT, "the job has already finished")
	}
	return err
}

// job reads a handle: the request id, the app id and the model.
func (f *Fal) job(handle string) (id, app, m string, err error) {
	id, extra, err := f.parseHandle(handle)
	if err != nil {
		return "", "", "", err
	}
	m = extra.Get("model")
	if app, err = f.app(m); err != nil {
		return "", "", "", mediatrail.Invalid("job_id", "%q is not a %s job id", handle, f.name)
	}
	return id, app, m, nil
}
