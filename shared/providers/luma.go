package providers

import (
	"context"
	"errors"
	"maps"
	"net/http"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// Luma (Dream Machine) makes videos from text (video_gen) and from an image
// (video_from_image: keyframes.frame0). Both are generations; Luma cannot
// cancel one.
//
// Config entries go into the body as Luma names them (aspect_ratio, resolution,
// duration "5s"|"9s", loop, ...). The image must be a URL: Luma fetches it and
// takes no bytes.
type Luma struct{ *provider }

var luma = spec{
	name: "luma", keyEnv: "LUMAAI_API_KEY", baseEnv: "LUMA_BASE_URL",
	baseURL: "https://api.lumalabs.ai/dream-machine/v1", authHeader: "Authorization", authScheme: "Bearer ",
	caps: []mediatrail.Capability{mediatrail.CapabilityVideoGen, mediatrail.CapabilityVideoFromImage},
}

const lumaModel = "ray-2"

var lumaStates = map[string]mediatrail.JobState{
	"queued": mediatrail.JobQueued, "dreaming": mediatrail.JobProcessing,
	"completed": mediatrail.JobCompleted, "failed": mediatrail.JobFailed,
}

// NewLuma returns the Luma client.
func NewLuma(cfg Config) *Luma { return &Luma{newProvider(luma, cfg)} }

// Submit: POST /generations/video; 201 Generation.
func (l *Luma) Submit(ctx context.Context, req mediatrail.MediaRequest) (mediatrail.Job, error) {
	if err := l.check(req, true); err != nil {
		return mediatrail.Job{}, err
	}
	body := optionsOf(req.Config)
	body["model"] = model(req, lumaModel)
	if req.Prompt != "" {
		body["prompt"] = req.Prompt
	}
	if req.Input != nil {
		if req.Input.URL == "" {
			return mediatrail.Job{}, mediatrail.Invalid("input_url", "provider luma needs the image as a URL")
		}
		keyframes := map[string]any{}
		if kf, ok := body["keyframes"].(map[string]any); ok {
			maps.Copy(keyframes, kf)
		}
		keyframes["frame0"] = map[string]any{"type": "image", "url": req.Input.URL}
		body["keyframes"] = keyframes
	}
	return l.generation(ctx, jsonCall(http.MethodPost, "/generations/video", body))
}

// Status: GET /generations/{id}.
func (l *Luma) Status(ctx context.Context, handle string) (mediatrail.Job, error) {
	id, _, err := l.parseHandle(handle)
	if err != nil {
		return mediatrail.Job{}, err
	}
	return l.generation(ctx, call{method: http.MethodGet, path: "/generations/" + id})
}

// Cancel: Luma has no cancellation (its DELETE removes a generation's record).
func (l *Luma) Cancel(ctx context.Context, handle string) error {
	if _, _, err := l.parseHandle(handle); err != nil {
		return err
	}
	return mediatrail.Invalid("job_id", "provider luma cannot cancel a generation")
}

// generation sends c and reads the Generation it answers as a job. Luma bills
// per video; the resolution and duration it was asked for go into Metadata.
func (l *Luma) generation(ctx context.Context, c call) (mediatrail.Job, error) {
	var g struct {
		ID            string `json:"id"`
		State         string `json:"state"`
		FailureReason string `json:"failure_reason"`
		Model         string `json:"model"`
		Assets        struct {
			Video string `json:"video"`
		} `json:"assets"`
		Request map[string]any `json:"request"`
	}
	a, err := l.json(ctx, c, &g)
	if err != nil {
		return mediatrail.Job{}, err
	}
	state, ok := lumaStates[g.State]
	if !ok || !jobIDPattern.MatchString(g.ID) {
		return mediatrail.Job{}, l.malformed(a, errors.New("no generation id or an unknown state "+g.State))
	}
	job := mediatrail.Job{ProviderJobID: g.ID, State: state}
	switch state {
	case mediatrail.JobFailed:
		job.FailureReason = g.FailureReason
	case mediatrail.JobCompleted:
		if g.Assets.Video == "" {
			return mediatrail.Job{}, l.malformed(a, errors.New("a completed generation without a video"))
		}
		res := &mediatrail.MediaResult{
			URL: g.Assets.Video, ContentType: contentTypeOf(g.Assets.Video, "video/mp4"), RequestID: g.ID, Model: g.Model,
			Usage: mediatrail.Usage{Quantity: 1, Unit: mediatrail.UnitVideo}, Metadata: map[string]any{},
		}
		for _, k := range []string{"resolution", "duration", "aspect_ratio"} {
			if v, ok := g.Request[k]; ok {
				res.Metadata[k] = v
			}
		}
		job.Result, job.Progress = res, 1
	}
	return job, nil
}
