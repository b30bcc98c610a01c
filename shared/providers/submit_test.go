package providers_test

import (
	"context"
	"strings"
	"testing"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/providers/fake"
)

const (
	queued     = mediatrail.JobQueued
	processing = mediatrail.JobProcessing
	completed  = mediatrail.JobCompleted
	failed     = mediatrail.JobFailed
	cancelled  = mediatrail.JobCancelled
)

// videoCases are every asynchronous (provider, capability) pair. imageURL is
// replaced by a URL on the fake.
var videoCases = []struct {
	name     string
	provider string
	req      mediatrail.MediaRequest
	create   string                            // method and path of the submit
	body     func(fake.Request) map[string]any // the part of the submit body to check
	wantBody map[string]any
	status   string // path of a status poll; {id} is the provider job id
	result   mediatrail.MediaResult
}{
	{
		name: "fal video_gen", provider: "fal", req: videoRequest(),
		create: "POST /fal-ai/pika/v2.2/text-to-video", body: fake.Request.JSON, wantBody: map[string]any{"prompt": "waves at sunset"},
		status: "/fal-ai/pika/requests/{id}/status",
		result: mediatrail.MediaResult{ContentType: "video/mp4", Model: "fal-ai/pika/v2.2/text-to-video", Usage: mediatrail.Usage{Quantity: 1, Unit: "video"}},
	},
	{
		name: "fal video_from_image", provider: "fal", req: animateRequest("imageURL"),
		create: "POST /fal-ai/pika/v2.2/image-to-video", body: fake.Request.JSON, wantBody: map[string]any{"prompt": "slow zoom", "image_url": "imageURL"},
		status: "/fal-ai/pika/requests/{id}/status",
		result: mediatrail.MediaResult{ContentType: "video/mp4", Model: "fal-ai/pika/v2.2/image-to-video", Usage: mediatrail.Usage{Quantity: 1, Unit: "video"}},
	},
	{
		name: "fal video_gen kling", provider: "fal", req: mediatrail.MediaRequest{Capability: mediatrail.CapabilityVideoGen, Model: "fal-ai/kling-video/v2/master/text-to-video", Prompt: "waves", Config: map[string]any{"duration": "5"}},
		create: "POST /fal-ai/kling-video/v2/master/text-to-video", body: fake.Request.JSON, wantBody: map[string]any{"prompt": "waves", "duration": "5"},
		status: "/fal-ai/kling-video/requests/{id}/status",
		result: mediatrail.MediaResult{ContentType: "video/mp4", Model: "fal-ai/kling-video/v2/master/text-to-video", Usage: mediatrail.Usage{Quantity: 1, Unit: "video"}},
	},
	{
		name: "pika video_gen", provider: "pika", req: mediatrail.MediaRequest{Capability: mediatrail.CapabilityVideoGen, Prompt: "waves", Config: map[string]any{"resolution": "1080p", "duration": 10}},
		create: "POST /fal-ai/pika/v2.2/text-to-video", body: fake.Request.JSON, wantBody: map[string]any{"prompt": "waves", "resolution": "1080p", "duration": 10.0},
		status: "/fal-ai/pika/requests/{id}/status",
		result: mediatrail.MediaResult{ContentType: "video/mp4", Model: "fal-ai/pika/v2.2/text-to-video", Usage: mediatrail.Usage{Quantity: 1, Unit: "video"}},
	},
	{
		name: "pika video_from_image", provider: "pika", req: animateRequest("imageURL"),
		create: "POST /fal-ai/pika/v2.2/image-to-video", body: fake.Request.JSON, wantBody: map[string]any{"prompt": "slow zoom", "image_url": "imageURL"},
		status: "/fal-ai/pika/requests/{id}/status",
		result: mediatrail.MediaResult{ContentType: "video/mp4", Model: "fal-ai/pika/v2.2/image-to-video", Usage: mediatrail.Usage{Quantity: 1, Unit: "video"}},
	},
	{
		name: "replicate video_gen", provider: "replicate", req: videoRequest(),
		create: "POST /v1/models/minimax/video-01/predictions", body: replicateInput, wantBody: map[string]any{"prompt": "waves at sunset"},
		status: "/v1/predictions/{id}",
		result: mediatrail.MediaResult{ContentType: "video/mp4", Model: "minimax/video-01", Usage: mediatrail.Usage{Quantity: 1, Unit: "video"}},
	},
	{
		name: "replicate video_from_image", provider: "replicate", req: animateRequest("imageURL"),
		create: "POST /v1/models/minimax/video-01/predictions", body: replicateInput, wantBody: map[string]any{"prompt": "slow zoom", "first_frame_image": "imageURL"},
		status: "/v1/predictions/{id}",
		result: mediatrail.MediaResult{ContentType: "video/mp4", Model: "minimax/video-01", Usage: mediatrail.Usage{Quantity: 1, Unit: "video"}},
	},
	{
		name: "runway video_gen", provider: "runway", req: videoRequest(),
		create: "POST /v1/text_to_video", body: fake.Request.JSON, wantBody: map[string]any{"model": "gen4.5", "promptText": "waves at sunset", "ratio": "1280:720", "duration": 5.0},
		status: "/v1/tasks/{id}",
		result: mediatrail.MediaResult{ContentType: "video/mp4", Model: "gen4.5", DurationSeconds: 5, Usage: mediatrail.Usage{Quantity: 5, Unit: "video_second"}},
	},
	{
		name: "runway video_from_image", provider: "runway", req: withDuration(animateRequest("imageURL"), "10"),
		create: "POST /v1/image_to_video", body: fake.Request.JSON, wantBody: map[string]any{"model": "gen4_turbo", "promptText": "slow zoom", "promptImage": "imageURL", "ratio": "1280:720", "duration": 10.0},
		status: "/v1/tasks/{id}",
		result: mediatrail.MediaResult{ContentType: "video/mp4", Model: "gen4_turbo", DurationSeconds: 10, Usage: mediatrail.Usage{Quantity: 10, Unit: "video_second"}},
	},
	{
		name: "luma video_gen", provider: "luma", req: videoRequest(),
		create: "POST /dream-machine/v1/generations/video", body: fake.Request.JSON, wantBody: map[string]any{"model": "ray-2", "prompt": "waves at sunset"},
		status: "/dream-machine/v1/generations/{id}",
		result: mediatrail.MediaResult{ContentType: "video/mp4", Model: "ray-2", Usage: mediatrail.Usage{Quantity: 1, Unit: "video"}, Metadata: map[string]any{"resolution": "720p", "duration": "5s", "aspect_ratio": "16:9"}},
	},
	{
		name: "luma video_from_image", provider: "luma", req: animateRequest("imageURL"),
		create: "POST /dream-machine/v1/generations/video", body: fake.Request.JSON,
		wantBody: map[string]any{"model": "ray-2", "prompt": "slow zoom", "keyframes": map[string]any{"frame0": map[string]any{"type": "image", "url": "imageURL"}}},
		status:   "/dream-machine/v1/generations/{id}",
		result:   mediatrail.MediaResult{ContentType: "video/mp4", Model: "ray-2", Usage: mediatrail.Usage{Quantity: 1, Unit: "video"}, Metadata: map[string]any{"resolution": "720p", "duration": "5s", "aspect_ratio": "16:9"}},
	},
}

func replicateInput(r fake.Request) map[string]any {
	input, _ := r.JSON()["input"].(map[string]any)
	return input
}

func withDuration(r mediatrail.MediaRequest, d string) mediatrail.MediaRequest {
	r.Config = map[string]any{"duration": d}
	return r
}

// setUp points the case's image at the fake and its expectations at the job.
func setUpVideo(e env, req mediatrail.MediaRequest, wantBody map[string]any) (mediatrail.MediaRequest, map[string]any) {
	imageURL := e.fake.FileURL("still.png")
	if req.Input != nil {
		in := *req.Input
		in.URL = imageURL
		req.Input = &in
	}
	replaced := map[string]any{}
	for k, v := range wantBody {
		switch v := v.(type) {
		case string:
			replaced[k] = strings.ReplaceAll(v, "imageURL", imageURL)
		case map[string]any:
			replaced[k] = map[string]any{"frame0": map[string]any{"type": "image", "url": imageURL}}
		default:
			replaced[k] = v
		}
	}
	return req, replaced
}

// TestSubmitWalk submits every video pair and polls it through
// queued → queued → processing → completed, checking the submit, the poll URL
// and the result, whose URL serves the fake's MP4.
func TestSubmitWalk(t *testing.T) {
	for _, tt := range videoCases {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.provider)
			req, wantBody := setUpVideo(e, tt.req, tt.wantBody)
			job, err := e.p.Submit(context.Background(), req)
			if err != nil {
				t.Fatalf("Submit: %v", err)
			}
			if !strings.HasPrefix(job.ProviderJobID, fakeJobID) {
				t.Errorf("ProviderJobID = %q, want the provider's id %s first", job.ProviderJobID, fakeJobID)
			}
			states, job := walk(t, e.p, job)
			wantEqual(t, "states", states, []mediatrail.JobState{queued, queued, processing, completed})

			reqs := e.fake.Requests()
			wantEqual(t, "submit", reqs[0].Method+" "+reqs[0].Path, tt.create)
			wantEqual(t, "submit body", tt.body(reqs[0]), wantBody)
			wantEqual(t, "status poll", reqs[1].Path, strings.ReplaceAll(tt.status, "{id}", fakeJobID))

			res := job.Result
			if res == nil {
				t.Fatal("completed job without a result")
			}
			wantEqual(t, "progress", job.Progress, 1.0)
			wantEqual(t, "request id", res.RequestID, fakeJobID)
			got := mediatrail.MediaResult{ContentType: res.ContentType, Model: res.Model, DurationSeconds: res.DurationSeconds, Usage: res.Usage}
			if tt.result.Metadata != nil {
				got.Metadata = res.Metadata
			}
			wantEqual(t, "result", got, tt.result)
			ct, data := mustGet(t, res.URL)
			wantEqual(t, "video", data, fake.MP4())
			wantEqual(t, "video content type", ct, "video/mp4")

			// A finished job answers the same again.
			again, err := e.p.Status(context.Background(), job.ProviderJobID)
			if err != nil {
				t.Fatalf("Status after completion: %v", err)
			}
			wantEqual(t, "state again", again.State, completed)
		})
	}
}

// TestSubmitFailure: a job that fails ends failed with the provider's reason.
func TestSubmitFailure(t *testing.T) {
	tests := []struct {
		provider string
		plan     fake.JobPlan
		want     string
	}{
		{"fal", fake.JobPlan{Running: 1, Failure: "prompt violates the content policy"}, "prompt: prompt violates the content policy"},
		{"fal", fake.JobPlan{Failure: "Request timed out", FailureCode: "request_timeout"}, "Request timed out"},
		{"pika", fake.JobPlan{Failure: "bad duration"}, "prompt: bad duration"},
		{"replicate", fake.JobPlan{Queued: 1, Running: 1, Failure: "CUDA out of memory"}, "CUDA out of memory"},
		{"runway", fake.JobPlan{Queued: 2, Failure: "Prompt flagged", FailureCode: "SAFETY.INPUT.TEXT"}, "Prompt flagged (SAFETY.INPUT.TEXT)"},
		{"luma", fake.JobPlan{Running: 2, Failure: "400: prompt not allowed"}, "400: prompt not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.provider+" "+tt.want, func(t *testing.T) {
			e := newEnv(t, tt.provider)
			e.fake.PlanJobs(tt.plan)
			job, err := e.p.Submit(context.Background(), videoRequest())
			if err != nil {
				t.Fatalf("Submit: %v", err)
			}
			states, job := walk(t, e.p, job)
			wantEqual(t, "final state", states[len(states)-1], failed)
			wantEqual(t, "polls", len(states), 1+tt.plan.Queued+tt.plan.Running+1)
			wantEqual(t, "reason", job.FailureReason, tt.want)
			wantEqual(t, "result", job.Result, (*mediatrail.MediaResult)(nil))
		})
	}
}

// TestCancel: a running job cancelled ends cancelled (fal, which has no such
// state, reports the cancellation as a failure); Luma cannot cancel.
func TestCancel(t *testing.T) {
	tests := []struct {
		provider  string
		wantState mediatrail.JobState
		wantCall  string
	}{
		{"fal", failed, "PUT /fal-ai/pika/requests/" + fakeJobID + "/cancel"},
		{"pika", failed, "PUT /fal-ai/pika/requests/" + fakeJobID + "/cancel"},
		{"replicate", cancelled, "POST /v1/predictions/" + fakeJobID + "/cancel"},
		{"runway", cancelled, "DELETE /v1/tasks/" + fakeJobID},
	}
	for _, tt := range tests {
		t.Run(tt.provider, func(t *testing.T) {
			e := newEnv(t, tt.provider)
			ctx := context.Background()
			job, err := e.p.Submit(ctx, videoRequest())
			if err != nil {
				t.Fatalf("Submit: %v", err)
			}
			if err := e.p.Cancel(ctx, job.ProviderJobID); err != nil {
				t.Fatalf("Cancel: %v", err)
			}
			reqs := e.fake.Requests()
			wantEqual(t, "cancel request", reqs[1].Method+" "+reqs[1].Path, tt.wantCall)
			job, err = e.p.Status(ctx, job.ProviderJobID)
			if err != nil {
				t.Fatalf("Status: %v", err)
			}
			wantEqual(t, "state", job.State, tt.wantState)
		})
	}

	t.Run("luma cannot", func(t *testing.T) {
		e := newEnv(t, "luma")
		job, err := e.p.Submit(context.Background(), videoRequest())
		if err != nil {
			t.Fatalf("Submit: %v", err)
		}
		err = e.p.Cancel(context.Background(), job.ProviderJobID)
		wantEqual(t, "code", mediatrail.ErrorCode(err), mediatrail.EINVALID)
		wantEqual(t, "message", mediatrail.ErrorMessage(err), "provider luma cannot cancel a generation")
		wantEqual(t, "requests", len(e.fake.Requests()), 1)
	})

	t.Run("finished", func(t *testing.T) {
		for _, tt := range []struct {
			provider string
			want     string
		}{{"fal", mediatrail.ECONFLICT}, {"replicate", ""}} {
			e := newEnv(t, tt.provider)
			e.fake.PlanJobs(fake.JobPlan{})
			job, err := e.p.Submit(context.Background(), videoRequest())
			if err != nil {
				t.Fatalf("Submit: %v", err)
			}
			walk(t, e.p, job)
			err = e.p.Cancel(context.Background(), job.ProviderJobID)
			wantEqual(t, tt.provider+" cancel of a finished job", mediatrail.ErrorCode(err), tt.want)
		}
	})
}

// TestJobHandles: Status and Cancel refuse ids that are not theirs, and
// synchronous providers run no jobs; nothing reaches the provider.
func TestJobHandles(t *testing.T) {
	tests := []struct {
		provider, handle string
	}{
		{"runway", "../../v1/organization"},
		{"runway", ""},
		{"replicate", "abc/def"},
		{"fal", fakeJobID},                           // no model
		{"fal", fakeJobID + "?model=..%2F..%2Fx"},    // not a model path
		{"pika", fakeJobID + "?model=fal-ai%2Fflux"}, // not a Pika model
		{"openai", "anything"},
	}
	for _, tt := range tests {
		t.Run(tt.provider+" "+tt.handle, func(t *testing.T) {
			e := newEnv(t, tt.provider)
			_, err := e.p.Status(context.Background(), tt.handle)
			wantEqual(t, "Status code", mediatrail.ErrorCode(err), mediatrail.EINVALID)
			err = e.p.Cancel(context.Background(), tt.handle)
			wantEqual(t, "Cancel code", mediatrail.ErrorCode(err), mediatrail.EINVALID)
			wantEqual(t, "requests", len(e.fake.Requests()), 0)
		})
	}
}
