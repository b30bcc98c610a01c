package e2e_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/app"
	appmedia "github.com/mediatrail/mediatrail/shared/app/media"
	"github.com/mediatrail/mediatrail/shared/providers/fake"
	"github.com/mediatrail/mediatrail/shared/testenv"
)

// callbackSecret signs the callbacks of the video stacks.
const callbackSecret = "whsec-e2e-0b6f"

// jobView is a job as GET /api/v1/media/jobs/{id} answers it.
type jobView struct {
	ID                string            `json:"id"`
	JobID             string            `json:"job_id"`
	Status            string            `json:"status"`
	MediaType         string            `json:"media_type"`
	Provider          string            `json:"provider"`
	Model             string            `json:"model"`
	SpanID            string            `json:"span_id"`
	AssetID           string            `json:"asset_id"`
	Asset             *mediatrail.Asset `json:"asset"`
	AssetURL          string            `json:"asset_url"`
	Cost              float64           `json:"cost"`
	Error             *struct{ Code, Message string }
	Message           string `json:"message"`
	ProviderCancelled *bool  `json:"provider_cancelled"`
	Callback          *struct {
		Status        string     `json:"status"`
		Attempts      int        `json:"attempts"`
		LastError     string     `json:"last_error"`
		LastAttemptAt *time.Time `json:"last_attempt_at"`
		DeliveredAt   *time.Time `json:"delivered_at"`
	} `json:"callback"`
}

// callbacks records what a callback_url receives.
type callbacks struct {
	*httptest.Server
	mu       sync.Mutex
	received []callback
}

type callback struct {
	event, signature string
	body             []byte
}

func newCallbacks(t *testing.T) *callbacks {
	c := &callbacks{}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		c.mu.Lock()
		c.received = append(c.received, callback{r.Header.Get("X-Mediatrail-Event"), r.Header.Get(mediatrail.CallbackSignatureHeader), body})
		c.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(c.Close)
	return c
}

func (c *callbacks) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.received)
}

// await returns the callback of job, waiting for it a while.
func (c *callbacks) await(t *testing.T, job string) callback {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		for _, cb := range c.received {
			var doc struct{ Data jobView }
			if json.Unmarshal(cb.body, &doc) == nil && doc.Data.ID == job {
				c.mu.Unlock()
				return cb
			}
		}
		c.mu.Unlock()
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no callback for job %s", job)
	return callback{}
}

// newVideoStack is a stack for video jobs: callbacks signed and allowed to
// reach cb, and env over that.
func newVideoStack(t *testing.T, cb *callbacks, env map[string]string, handlers func(*stack) map[string]any) *stack {
	t.Helper()
	all := map[string]string{"MEDIA_TIMEOUT": "10s", "CALLBACK_SIGNING_SECRET": callbackSecret}
	for k, v := range env {
		all[k] = v
	}
	return newStackWith(t, stackOptions{env: all, allow: []string{strings.TrimPrefix(cb.URL, "http://")}, handlers: handlers})
}

// submit asks for a video and returns the job id of the 202 answer.
func (st *stack) submit(t *testing.T, key, route string, body map[string]any) string {
	t.Helper()
	r := st.do(t, "POST", "/api/v1/media/"+route, key, body)
	wantOK(t, r, http.StatusAccepted)
	var out struct {
		Status string `json:"status"`
		JobID  string `json:"job_id"`
	}
	r.Into(t, &out)
	if out.Status != "processing" || !mediatrail.ValidID(out.JobID) {
		t.Fatalf("answer %s", r.Raw)
	}
	return out.JobID
}

// awaitJob polls the job until it has ended.
func (st *stack) awaitJob(t *testing.T, key, id string) jobView {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		v := st.job(t, key, id)
		if v.Status != "queued" && v.Status != "processing" {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s still %s", id, v.Status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (st *stack) job(t *testing.T, key, id string) jobView {
	t.Helper()
	r := st.do(t, "GET", "/api/v1/media/jobs/"+id, key, nil)
	wantOK(t, r, http.StatusOK)
	st.noProviderURL(t, "job", r.Raw)
	var v jobView
	r.Into(t, &v)
	return v
}

// uploads lists the unfinished multipart uploads under the workspace.
func (st *stack) uploads(t *testing.T, ws string) []string {
	t.Helper()
	out, err := st.s3.ListMultipartUploads(testenv.Context(t), &awss3.ListMultipartUploadsInput{
		Bucket: aws.String(st.bucket), Prefix: aws.String("workspaces/" + ws + "/"),
	})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, u := range out.Uploads {
		keys = append(keys, aws.ToString(u.Key))
	}
	return keys
}

// videoCase is one provider's video job and what must come of it.
type videoCase struct {
	provider, route string
	body            map[string]any // prompt is set per case
	video           fake.Video
	model           string
	cost            float64
	check           func(t *testing.T, st *stack, submit fake.Request)
}

// Every provider's videos, through the template's state machine: the job
// walks queued → running → succeeded at the fake, the video is streamed into
// the bucket and probed (its moov box at the end), and the asset and the
// span are recorded and charged once.
func TestVideoJobsEveryProvider(t *testing.T) {
	t.Parallel()
	cb := newCallbacks(t)
	st := newVideoStack(t, cb, nil, nil)
	key, ws := st.workspace(t)
	image := st.generate(t, key, supported[6], "exec-image") // an input asset: openai image_gen
	bigger := fake.Video{Payload: 3 << 20, Seconds: 7.5, Width: 640, Height: 360}

	cases := map[string]videoCase{
		"runway video_gen": {provider: "runway", route: "video_gen", model: "gen4.5", cost: 5 * 0.12, video: fake.DefaultVideo},
		"runway video_from_image (input asset)": {provider: "runway", route: "video_from_image", body: map[string]any{"input_asset_id": image.AssetID},
			model: "gen4_turbo", cost: 5 * 0.05, video: fake.DefaultVideo,
			check: func(t *testing.T, st *stack, submit fake.Request) {
				// Providers fetch inputs themselves: a signed URL of our copy.
				if u := submit.JSON()["promptImage"].(string); !strings.HasPrefix(u, st.Config.S3URL+"/"+st.bucket+"/workspaces/") || !strings.Contains(u, "X-Amz-Signature") {
					t.Errorf("promptImage %q", u)
				}
			}},
		"luma video_gen": {provider: "luma", route: "video_gen", model: "ray-2", cost: 0.71, video: bigger},
		"luma video_from_image (input URL, keyframe frame0)": {provider: "luma", route: "video_from_image", body: map[string]any{"input_url": "/image.png"},
			model: "ray-2", cost: 0.71, video: fake.DefaultVideo,
			check: func(t *testing.T, st *stack, submit fake.Request) {
				frame0 := submit.JSON()["keyframes"].(map[string]any)["frame0"].(map[string]any)
				if frame0["type"] != "image" || frame0["url"] != st.inputs.URL+"/image.png" {
					t.Errorf("frame0 %v", frame0)
				}
			}},
		"pika via fal": {provider: "pika", route: "video_gen", model: "fal-ai/pika/v2.2/text-to-video", cost: 0.20, video: bigger},
		"a fal video model (kling)": {provider: "fal", route: "video_gen", body: map[string]any{"model": "fal-ai/kling-video/v2/master/text-to-video"},
			model: "fal-ai/kling-video/v2/master/text-to-video", cost: 5 * 0.28, video: fake.DefaultVideo},
		"replicate video_gen": {provider: "replicate", route: "video_gen", model: "minimax/video-01", cost: 0.50, video: bigger},
	}
	concurrently(t, cases, func(t *testing.T, c videoCase) {
		prompt := "e2e video: " + t.Name()
		f := st.fakes[map[string]string{"pika": "fal"}[c.provider]]
		if f == nil {
			f = st.fakes[c.provider]
		}
		f.PlanPrompt(prompt, fake.JobPlan{Queued: 1, Running: 2, Video: &c.video})
		body := map[string]any{"provider": c.provider, "prompt": prompt, "execution_id": "exec-" + c.provider + "-" + c.route, "agent_id": "agent-video"}
		for k, v := range c.body {
			if s, ok := v.(string); ok && strings.HasPrefix(s, "/") {
				v = st.inputs.URL + s
			}
			body[k] = v
		}
		id := st.submit(t, key, c.route, body)
		v := st.awaitJob(t, key, id)
		if v.Status != "completed" || v.Asset == nil || v.AssetID != v.Asset.ID || v.AssetURL == "" || v.MediaType != c.route || v.Provider != c.provider {
			t.Fatalf("job %+v", v)
		}
		if !near(v.Cost, c.cost) {
			t.Errorf("job cost %v, want %v", v.Cost, c.cost)
		}
		st.checkVideo(t, key, v, c)

		var submit fake.Request
		for _, r := range f.Requests() {
			if r.Method == http.MethodPost && (r.JSON()["prompt"] == prompt || r.JSON()["promptText"] == prompt ||
				r.JSON()["input"] != nil && r.JSON()["input"].(map[string]any)["prompt"] == prompt) {
				submit = r
			}
		}
		if submit.Method == "" {
			t.Fatal("the fake received no submission")
		}
		if c.check != nil {
			c.check(t, st, submit)
		}
	})
	if n := len(st.uploads(t, ws)); n != 0 {
		t.Errorf("%d unfinished uploads left", n)
	}
	if n := cb.count(); n != 0 {
		t.Errorf("callbacks without a callback_url: %d", n)
	}
}

// checkVideo checks the asset (record, bytes through its signed URL, probed
// duration and size) and the one span of a completed video job.
func (st *stack) checkVideo(t *testing.T, key string, v jobView, c videoCase) {
	t.Helper()
	a := v.Asset
	want := MustEmbed(t, c.video.Bytes(), "video/mp4", provenanceOf(a))
	sum := sha256.Sum256(want)
	if a.Type != mediatrail.AssetVideo || a.ContentType != "video/mp4" || a.FileSize != int64(len(want)) || a.SHA256 != hex.EncodeToString(sum[:]) ||
		a.SpanID != v.SpanID || a.Provider != c.provider || a.Model != c.model || a.Status != mediatrail.StatusReady || !strings.HasSuffix(a.FileName, ".mp4") {
		t.Errorf("asset %+v", a)
	}
	md := a.Metadata
	if md["duration_seconds"] != c.video.Seconds || md["width"] != float64(c.video.Width) || md["height"] != float64(c.video.Height) {
		t.Errorf("probed metadata %v, want %v s %dx%d", md, c.video.Seconds, c.video.Width, c.video.Height)
	}
	code, _, body := download(t, v.AssetURL)
	if got := sha256.Sum256(body); code != http.StatusOK || got != sum {
		t.Errorf("download: %d, %d bytes", code, len(body))
	}
	spans, page := st.spans(t, key, "execution_id="+a.ExecutionID)
	if len(spans) != 1 || page.Total != 1 {
		t.Fatalf("spans %+v", spans)
	}
	sp := spans[0]
	if sp.ID != v.SpanID || sp.Status != "completed" || sp.Kind != "video" || sp.MediaType != c.route || sp.AssetID != a.ID ||
		sp.Provider != c.provider || sp.Model != c.model || !near(sp.Cost, c.cost) || sp.CostDetail.Priced != (c.cost > 0) ||
		sp.MediaDurationSeconds != c.video.Seconds || sp.ContentType != "video/mp4" {
		t.Errorf("span %+v", sp)
	}
}

// The SDK's route runs videos too (the alias video_from_img included), and
// an idempotency key answers the same job again: no second submission, no
// second charge.
func TestVideoJobIdempotentOnTheSDKRoute(t *testing.T) {
	t.Parallel()
	cb := newCallbacks(t)
	st := newVideoStack(t, cb, nil, nil)
	key, _ := st.workspace(t)
	const prompt = "e2e video: idempotent"
	st.fakes["replicate"].PlanPrompt(prompt, fake.DefaultPlan)
	body := map[string]any{"provider": "replicate", "media_type": "video_from_img", "prompt": prompt,
		"input_url": st.inputs.URL + "/image.png", "idempotency_key": "idem-video-1", "execution_id": "exec-idem"}

	id := st.submit(t, key, "generate", body)
	again := st.do(t, "POST", "/api/v1/media/generate", key, body)
	var replay struct {
		JobID string `json:"job_id"`
	}
	again.Into(t, &replay)
	if replay.JobID != id || again.Header.Get("Idempotent-Replayed") != "true" || again.Status != http.StatusAccepted && again.Status != http.StatusOK {
		t.Fatalf("replay %d %s", again.Status, again.Raw)
	}
	v := st.awaitJob(t, key, id)
	if v.Status != "completed" || v.MediaType != "video_from_image" {
		t.Fatalf("job %+v", v)
	}
	done := st.do(t, "POST", "/api/v1/media/generate", key, body)
	wantOK(t, done, http.StatusOK)
	var out generated
	done.Into(t, &out)
	if out.Status != "completed" || out.AssetID != v.AssetID || out.SpanID != v.SpanID || out.AssetURL == "" {
		t.Errorf("replay after completion: %s", done.Raw)
	}
	if n := apiRequests(st.fakes["replicate"], "/models/minimax/video-01/predictions"); n != 1 {
		t.Errorf("%d submissions for one idempotency key", n)
	}
	other := map[string]any{}
	for k, val := range body {
		other[k] = val
	}
	other["prompt"] = "something else"
	wantError(t, st.do(t, "POST", "/api/v1/media/generate", key, other), http.StatusConflict, mediatrail.ECONFLICT)
	if spans, _ := st.spans(t, key, "kind=video"); len(spans) != 1 {
		t.Errorf("%d spans, want 1", len(spans))
	}
}

// What ends a job otherwise: the provider's failure, a cancel (at the
// provider, or here only for Luma), another workspace's reach; and the
// signed callback of each ending.
func TestVideoJobFailuresAndCancel(t *testing.T) {
	t.Parallel()
	cb := newCallbacks(t)
	st := newVideoStack(t, cb, nil, nil)
	key, ws := st.workspace(t)
	otherKey, _ := st.workspace(t)
	runway, luma, fal := st.fakes["runway"], st.fakes["luma"], st.fakes["fal"]

	t.Run("provider failure", func(t *testing.T) {
		for name, c := range map[string]struct {
			f        *fake.Server
			provider string
			plan     fake.JobPlan
		}{
			"runway":    {runway, "runway", fake.JobPlan{Queued: 1, Running: 1, Failure: "the prompt was flagged", FailureCode: "SAFETY.INPUT.TEXT"}},
			"fal":       {fal, "pika", fake.JobPlan{Running: 1, Failure: "prompt too long"}},
			"luma":      {luma, "luma", fake.JobPlan{Running: 1, Failure: "generation failed"}},
			"fal 5xx":   {fal, "fal", fake.JobPlan{Running: 1, Failure: "worker crashed", FailureCode: "internal_server_error"}},
			"replicate": {st.fakes["replicate"], "replicate", fake.JobPlan{Queued: 1, Failure: "CUDA out of memory"}},
		} {
			t.Run(name, func(t *testing.T) {
				prompt := "e2e failure: " + name
				c.f.PlanPrompt(prompt, c.plan)
				body := map[string]any{"provider": c.provider, "prompt": prompt, "execution_id": "exec-fail-" + strings.ReplaceAll(name, " ", "-"),
					"callback_url": cb.URL + "/hooks?token=secret-token"}
				if c.provider == "fal" {
					body["model"] = "fal-ai/kling-video/v2/master/text-to-video"
				}
				id := st.submit(t, key, "video_gen", body)
				v := st.awaitJob(t, key, id)
				if v.Status != "failed" || v.Error == nil || v.Error.Code != mediatrail.EUNPROCESSABLE || !strings.Contains(v.Error.Message, c.plan.Failure) ||
					v.Asset != nil || v.Cost != 0 {
					t.Errorf("job %+v", v)
				}
				spans, _ := st.spans(t, key, "execution_id="+body["execution_id"].(string))
				if len(spans) != 1 || spans[0].Status != "error" || spans[0].Cost != 0 || spans[0].Error == nil || spans[0].ID != v.SpanID {
					t.Errorf("spans %+v", spans)
				}
				got := cb.await(t, id)
				if got.event != "job.failed" || got.signature != mediatrail.SignCallback(callbackSecret, got.body) {
					t.Errorf("callback %q %q", got.event, got.signature)
				}
				if strings.Contains(string(got.body), "secret-token") {
					t.Errorf("the callback repeats the callback URL's query: %s", got.body)
				}
			})
		}
	})

	t.Run("cancel", func(t *testing.T) {
		for name, c := range map[string]struct {
			f         *fake.Server
			provider  string
			cancelled bool
			call      func(fake.Request) bool // the provider's cancel request
		}{
			"runway stops it":    {runway, "runway", true, requestTo(http.MethodDelete, "/v1/tasks/", "")},
			"pika stops it":      {fal, "pika", true, requestTo(http.MethodPut, "/fal-ai/pika/requests/", "/cancel")},
			"replicate stops it": {st.fakes["replicate"], "replicate", true, requestTo(http.MethodPost, "/v1/predictions/", "/cancel")},
			"luma cannot":        {luma, "luma", false, nil},
		} {
			t.Run(name, func(t *testing.T) {
				prompt := "e2e cancel: " + name
				c.f.PlanPrompt(prompt, fake.JobPlan{Running: fake.Forever})
				id := st.submit(t, key, "video_gen", map[string]any{"provider": c.provider, "prompt": prompt, "callback_url": cb.URL + "/hooks"})
				for deadline := time.Now().Add(30 * time.Second); st.job(t, key, id).Status != "processing"; {
					if time.Now().After(deadline) {
						t.Fatalf("job %s never started processing", id)
					}
					time.Sleep(20 * time.Millisecond) // poll interval, bounded by the deadline
				}
				wantError(t, st.do(t, "POST", "/api/v1/media/jobs/"+id+"/cancel", otherKey, nil), http.StatusNotFound, mediatrail.ENOTFOUND)
				r := st.do(t, "POST", "/api/v1/media/jobs/"+id+"/cancel", key, nil)
				wantOK(t, r, http.StatusOK)
				var v jobView
				r.Into(t, &v)
				if v.Status != "cancelled" || v.ProviderCancelled == nil || *v.ProviderCancelled != c.cancelled || v.Message == "" {
					t.Fatalf("cancel answer %s", r.Raw)
				}
				if !c.cancelled && !strings.Contains(v.Message, "cannot cancel") {
					t.Errorf("luma's cancel does not say so: %q", v.Message)
				}
				if c.call != nil && !slicesContainsFunc(c.f.Requests(), c.call) {
					t.Errorf("no cancel request at the provider")
				}
				// Again: the same answer; the workflow sees it and ends.
				wantOK(t, st.do(t, "POST", "/api/v1/media/jobs/"+id+"/cancel", key, nil), http.StatusOK)
				if got := cb.await(t, id); got.event != "job.cancelled" {
					t.Errorf("callback event %q", got.event)
				}
				if v := st.job(t, key, id); v.Status != "cancelled" {
					t.Errorf("job after the workflow: %+v", v)
				}
			})
		}
	})

	t.Run("cancel after completion", func(t *testing.T) {
		const prompt = "e2e cancel: too late"
		runway.PlanPrompt(prompt, fake.JobPlan{})
		id := st.submit(t, key, "video_gen", map[string]any{"provider": "runway", "prompt": prompt})
		if v := st.awaitJob(t, key, id); v.Status != "completed" {
			t.Fatalf("job %+v", v)
		}
		wantError(t, st.do(t, "POST", "/api/v1/media/jobs/"+id+"/cancel", key, nil), http.StatusConflict, mediatrail.ECONFLICT)
		// Another workspace sees no such job.
		wantError(t, st.do(t, "GET", "/api/v1/media/jobs/"+id, otherKey, nil), http.StatusNotFound, mediatrail.ENOTFOUND)
		wantError(t, st.do(t, "GET", "/api/v1/media/jobs/not-a-job", key, nil), http.StatusNotFound, mediatrail.ENOTFOUND)
	})

	t.Run("completed callback", func(t *testing.T) {
		const prompt = "e2e callback: completed"
		runway.PlanPrompt(prompt, fake.DefaultPlan)
		id := st.submit(t, key, "video_gen", map[string]any{"provider": "runway", "prompt": prompt, "callback_url": cb.URL + "/hooks"})
		v := st.awaitJob(t, key, id)
		got := cb.await(t, id)
		var doc struct {
			Event string
			Data  jobView
		}
		if err := json.Unmarshal(got.body, &doc); err != nil || doc.Event != "job.completed" || got.event != doc.Event ||
			doc.Data.Status != "completed" || doc.Data.AssetID != v.AssetID || doc.Data.AssetURL == "" || doc.Data.Asset == nil {
			t.Errorf("callback %s (%v)", got.body, err)
		}
		if got.signature != mediatrail.SignCallback(callbackSecret, got.body) || mediatrail.SignCallback("other", got.body) == got.signature {
			t.Errorf("signature %q", got.signature)
		}
	})

	t.Run("refused requests", func(t *testing.T) {
		for name, body := range map[string]map[string]any{
			"callback on a synchronous call": {"provider": "openai", "prompt": "x", "callback_url": cb.URL},
			"callback not http":              {"provider": "runway", "prompt": "x", "callback_url": "file:///etc/passwd"},
		} {
			route := "video_gen"
			if body["provider"] == "openai" {
				route = "tts"
			}
			if r := st.do(t, "POST", "/api/v1/media/"+route, key, body); r.Status != http.StatusBadRequest {
				t.Errorf("%s: %d %s", name, r.Status, r.Raw)
			}
		}
		wantError(t, st.do(t, "POST", "/api/v1/media/video_from_image", key, map[string]any{"provider": "runway", "input_asset_id": mediatrail.NewID()}),
			http.StatusNotFound, mediatrail.ENOTFOUND)
	})

	if n := len(st.uploads(t, ws)); n != 0 {
		t.Errorf("%d unfinished uploads left", n)
	}
}

func slicesContainsFunc[T any](s []T, f func(T) bool) bool {
	for _, v := range s {
		if f(v) {
			return true
		}
	}
	return false
}

// requestTo matches a request by method, path prefix and suffix.
func requestTo(method, prefix, suffix string) func(fake.Request) bool {
	return func(r fake.Request) bool {
		return r.Method == method && strings.HasPrefix(r.Path, prefix) && strings.HasSuffix(r.Path, suffix)
	}
}

// deadlineCase is a provider whose job outlives its deadline.
type deadlineCase struct {
	provider, fake, model string
	cancelled             func(fake.Request) bool // the provider's cancel request; nil for Luma
}

// A job still running at its deadline is failed (timeout) and cancelled at
// its provider (Luma's runs on: it cannot be cancelled).
func TestVideoJobDeadline(t *testing.T) {
	t.Parallel()
	cb := newCallbacks(t)
	st := newVideoStack(t, cb, map[string]string{"VIDEO_JOB_DEADLINE": "2s"}, nil)
	key, _ := st.workspace(t)
	concurrently(t, map[string]deadlineCase{
		"runway":            {"runway", "runway", "", requestTo(http.MethodDelete, "/v1/tasks/", "")},
		"luma":              {"luma", "luma", "", nil},
		"pika via fal":      {"pika", "fal", "", requestTo(http.MethodPut, "/fal-ai/pika/requests/", "/cancel")},
		"a fal video model": {"fal", "fal", "fal-ai/kling-video/v2/master/text-to-video", requestTo(http.MethodPut, "/fal-ai/kling-video/requests/", "/cancel")},
		"replicate":         {"replicate", "replicate", "", requestTo(http.MethodPost, "/v1/predictions/", "/cancel")},
	}, func(t *testing.T, c deadlineCase) {
		prompt := "e2e deadline: " + t.Name()
		f := st.fakes[c.fake]
		f.PlanPrompt(prompt, fake.JobPlan{Queued: 1, Running: fake.Forever})
		start := time.Now()
		id := st.submit(t, key, "video_gen", map[string]any{"provider": c.provider, "prompt": prompt, "model": c.model})
		v := st.awaitJob(t, key, id)
		if v.Status != "failed" || v.Error == nil || v.Error.Code != mediatrail.ETIMEOUT || time.Since(start) < 2*time.Second {
			t.Fatalf("job %+v after %s", v, time.Since(start))
		}
		if c.cancelled != nil && !slicesContainsFunc(f.Requests(), c.cancelled) {
			t.Errorf("the provider's job was not cancelled")
		}
	})
}

// crashingDownloader makes the first video download crash the function
// after `after` bytes, as a Lambda killed mid-upload would: by then the
// multipart upload has begun, and nothing aborts it.
type crashingDownloader struct {
	mediatrail.Downloader
	after   int64
	crashes atomic.Int32
}

func (d *crashingDownloader) Download(ctx context.Context, rawURL string) (*mediatrail.Download, error) {
	dl, err := d.Downloader.Download(ctx, rawURL)
	if err == nil && d.crashes.Add(1) == 1 {
		dl.Body = &crashingBody{ReadCloser: dl.Body, left: d.after}
	}
	return dl, err
}

type crashingBody struct {
	io.ReadCloser
	left int64
}

func (b *crashingBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		panic("injected crash in the middle of the upload")
	}
	n, err := b.ReadCloser.Read(p[:min(int64(len(p)), b.left)])
	b.left -= int64(n)
	return n, err
}

// Store crashes in the middle of a multipart upload; the state machine runs
// it again, which aborts the crashed upload and stores the video once: one
// asset, one object, no unfinished upload, one charge.
func TestVideoStoreCrashMidUpload(t *testing.T) {
	t.Parallel()
	cb := newCallbacks(t)
	var store *crashingDownloader
	var invocations atomic.Int32
	st := newVideoStack(t, cb, nil, func(st *stack) map[string]any {
		var once sync.Once
		var h lambda.Handler
		return map[string]any{"VideoStoreFunction": func(ctx context.Context, ev json.RawMessage) (json.RawMessage, error) {
			invocations.Add(1)
			once.Do(func() {
				env := st.FunctionEnv("VideoStoreFunction")
				e, err := app.Load(context.WithoutCancel(ctx), func(k string) string { return env[k] })
				if err != nil {
					panic(err)
				}
				a, err := appmedia.Load(context.WithoutCancel(ctx), e)
				if err != nil {
					panic(err)
				}
				store = &crashingDownloader{Downloader: a.Jobs.Outputs, after: 12 << 20}
				a.Jobs.Outputs = store
				h = lambda.NewHandler(appmedia.Step(a.Jobs.Store))
			})
			return h.Invoke(ctx, ev)
		}}
	})
	key, ws := st.workspace(t)
	video := fake.Video{Payload: 20 << 20, Seconds: 12, Width: 1920, Height: 1080}
	const prompt = "e2e crash"
	st.fakes["runway"].PlanPrompt(prompt, fake.JobPlan{Queued: 1, Running: 1, Video: &video})

	id := st.submit(t, key, "video_gen", map[string]any{"provider": "runway", "prompt": prompt, "execution_id": "exec-crash"})
	v := st.awaitJob(t, key, id)
	if v.Status != "completed" || store == nil || store.crashes.Load() != 2 || invocations.Load() != 2 {
		t.Fatalf("job %+v; downloads %v, Store invocations %d", v, store, invocations.Load())
	}
	st.checkVideo(t, key, v, videoCase{provider: "runway", route: "video_gen", model: "gen4.5", cost: 5 * 0.12, video: video})
	if keys := st.objects(t, ws); len(keys) != 1 || keys[0] != v.Asset.StorageKey {
		t.Errorf("objects %v, want only %s", keys, v.Asset.StorageKey)
	}
	if ups := st.uploads(t, ws); len(ups) != 0 {
		t.Errorf("unfinished uploads %v", ups)
	}
	r := st.do(t, "GET", "/api/v1/assets?type=video", key, nil)
	wantOK(t, r, http.StatusOK)
	if r.Meta == nil || r.Meta.Total != 1 {
		t.Errorf("video assets: %s", r.Raw)
	}
	sum := st.do(t, "GET", "/api/v1/traces/summary", key, nil)
	var s struct{ Count int }
	sum.Into(t, &s)
	if s.Count != 1 {
		t.Errorf("spans: %s", sum.Raw)
	}
}
