package mediatrail_test

import (
	"context"
	"testing"
	"time"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/memory"
)

// TestSubmitDecisions: a video request submits its job, records it and
// starts its workflow; what fails on the way leaves no running job behind.
func TestSubmitDecisions(t *testing.T) {
	for _, tc := range []struct {
		name    string
		c       mediatrail.Capability
		in      func(*testing.T, *studioSetup) mediatrail.GenerateInput
		prepare func(*studioSetup)
		code    string
		status  mediatrail.JobState // of the stored job; "" for none
		cancels int
		spans   int // failed-call spans (MediaStore) plus job spans
		input   string
	}{
		{name: "submitted and started", status: mediatrail.JobQueued},
		{name: "from an input asset: a signed URL of it", c: mediatrail.CapabilityVideoFromImage, status: mediatrail.JobQueued, input: "mem://",
			in: func(t *testing.T, x *studioSetup) mediatrail.GenerateInput {
				return mediatrail.GenerateInput{Prompt: "move", InputAssetID: x.input(t, pngBytes, "image/png").ID}
			}},
		{name: "from an input URL", c: mediatrail.CapabilityVideoFromImage, status: mediatrail.JobQueued, input: "https://in.example/a.png",
			in: func(*testing.T, *studioSetup) mediatrail.GenerateInput {
				return mediatrail.GenerateInput{Prompt: "move", InputURL: "https://in.example/a.png"}
			}},
		{name: "an input URL that is no image", c: mediatrail.CapabilityVideoFromImage, code: mediatrail.EINVALID, spans: 1,
			in: func(*testing.T, *studioSetup) mediatrail.GenerateInput {
				return mediatrail.GenerateInput{Prompt: "move", InputURL: "https://in.example/script.txt"}
			}},
		{name: "an input asset that is no image", c: mediatrail.CapabilityVideoFromImage, code: mediatrail.EINVALID, spans: 1,
			in: func(t *testing.T, x *studioSetup) mediatrail.GenerateInput {
				return mediatrail.GenerateInput{Prompt: "move", InputAssetID: x.input(t, wavBytes, "audio/wav").ID}
			}},
		{name: "provider refuses", prepare: func(x *studioSetup) { x.p.submit = &mediatrail.ProviderError{Provider: "studio", Status: 400} },
			code: mediatrail.EINVALID, spans: 1},
		{name: "workflow does not start: abandoned", prepare: func(x *studioSetup) { x.flow.err = errBoom },
			code: mediatrail.EUNAVAILABLE, status: mediatrail.JobFailed, cancels: 1, spans: 1},
		{name: "no workflow configured", prepare: func(x *studioSetup) { x.media.Jobs.Workflow = nil }, code: mediatrail.EUNAVAILABLE},
		{name: "no jobs in this function", prepare: func(x *studioSetup) { x.media.Jobs = nil }, code: mediatrail.EUNAVAILABLE},
		{name: "callback without a signing secret", prepare: func(x *studioSetup) { x.media.Jobs.Config.CallbackSecret = "" },
			in: func(*testing.T, *studioSetup) mediatrail.GenerateInput {
				return mediatrail.GenerateInput{Prompt: "p", CallbackURL: "https://hooks.example/x"}
			}, code: mediatrail.EINVALID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := newStudio()
			if tc.prepare != nil {
				tc.prepare(x)
			}
			in := mediatrail.GenerateInput{Prompt: "a wave"}
			if tc.in != nil {
				in = tc.in(t, x)
			}
			in.Provider = "studio"
			out, err := x.media.Generate(context.Background(), "ws-a", cmpOr(tc.c, mediatrail.CapabilityVideoGen), in)
			wantCode(t, err, tc.code)
			page, _ := x.jobs.ListJobs(context.Background(), "ws-a", mediatrail.JobFilter{})
			if (len(page.Jobs) == 1) != (tc.status != "") || tc.status != "" && page.Jobs[0].Status != tc.status {
				t.Fatalf("jobs %+v, want one %q", page.Jobs, tc.status)
			}
			if x.p.cancels != tc.cancels || len(x.store.Spans())+len(x.jobs.Spans) != tc.spans {
				t.Errorf("cancels %d, spans %d+%d", x.p.cancels, len(x.store.Spans()), len(x.jobs.Spans))
			}
			if tc.code != "" {
				return
			}
			if out.Status != "processing" || out.JobID != page.Jobs[0].ID || len(x.flow.started) != 1 {
				t.Errorf("answer %+v, started %v", out, x.flow.started)
			}
			if got := x.p.got[0].Input; tc.input != "" && (got == nil || got.URL[:len(tc.input)] != tc.input) {
				t.Errorf("provider input %+v", got)
			}
		})
	}
}

// A repeated video request under its idempotency key answers the same job.
func TestSubmitReplaysItsJob(t *testing.T) {
	x := newStudio()
	in := mediatrail.GenerateInput{Provider: "studio", Prompt: "a wave", IdempotencyKey: "v-1"}
	first, err := x.media.Generate(context.Background(), "ws-a", mediatrail.CapabilityVideoGen, in)
	if err != nil {
		t.Fatal(err)
	}
	again, err := x.media.Generate(context.Background(), "ws-a", mediatrail.CapabilityVideoGen, in)
	if err != nil || !again.Replayed || again.JobID != first.JobID || again.Status != "processing" || len(x.p.got) != 1 {
		t.Fatalf("replay %+v, %v (provider called %d times)", again, err, len(x.p.got))
	}
}

// running stores an active job of the studio, with a callback.
func (x *studioSetup) running(t *testing.T) *mediatrail.MediaJob {
	t.Helper()
	id := mediatrail.NewIDAt(clock.Add(-time.Minute))
	j := &mediatrail.MediaJob{ID: id, WorkspaceID: "ws-a", Status: mediatrail.JobProcessing, Capability: mediatrail.CapabilityVideoGen,
		Provider: "studio", Prompt: "a wave", ProviderJobID: "task-1", SpanID: id, CallbackURL: "https://hooks.example/x?t=1",
		CreatedAt: clock.Add(-time.Minute), DeadlineAt: clock.Add(time.Hour)}
	x.jobs.Set(j)
	return j
}

func task(j *mediatrail.MediaJob) mediatrail.JobTask {
	return mediatrail.JobTask{WorkspaceID: j.WorkspaceID, JobID: j.ID}
}

// TestStoreStep: the finished video is copied under the job's asset, the
// job completes with it, and a rerun, a cancel meanwhile or an unfinished
// provider job are each answered without a second copy.
func TestStoreStep(t *testing.T) {
	done := mediatrail.Job{State: mediatrail.JobCompleted, Result: &mediatrail.MediaResult{URL: "https://out.example/v.webm", RequestID: "r-9"}}
	for _, tc := range []struct {
		name   string
		status mediatrail.Job
		race   func(*memory.Jobs) func(*mediatrail.MediaJob) error
		next   string
		code   string
		job    mediatrail.JobState
		blob   bool // the job's object is stored afterwards
	}{
		{name: "stored", status: done, next: mediatrail.NextDone, job: mediatrail.JobCompleted, blob: true},
		{name: "provider not finished", status: mediatrail.Job{State: mediatrail.JobProcessing}, code: mediatrail.EUNPROCESSABLE, job: mediatrail.JobProcessing},
		{name: "output unreachable", status: mediatrail.Job{State: mediatrail.JobCompleted, Result: &mediatrail.MediaResult{URL: "https://gone.example/v"}},
			code: mediatrail.EPROVIDER, job: mediatrail.JobProcessing},
		{name: "cancelled before the copy", status: done, next: mediatrail.NextDone, job: mediatrail.JobCancelled,
			race: func(jobs *memory.Jobs) func(*mediatrail.MediaJob) error {
				return endJob(jobs, 1, mediatrail.JobCancelled)
			}},
		{name: "cancelled during the copy: the copy goes", status: done, next: mediatrail.NextDone, job: mediatrail.JobCancelled,
			race: func(jobs *memory.Jobs) func(*mediatrail.MediaJob) error {
				return after(1, endJob(jobs, 1, mediatrail.JobCancelled))
			}},
		{name: "a concurrent write after the copy", status: done, code: mediatrail.ECONFLICT, job: mediatrail.JobProcessing, blob: true,
			race: func(jobs *memory.Jobs) func(*mediatrail.MediaJob) error {
				return after(1, endJob(jobs, 1, mediatrail.JobProcessing))
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := newStudio()
			j := x.running(t)
			x.p.status = tc.status
			if tc.race != nil {
				x.jobs.BeforeWrite = tc.race(x.jobs)
			}
			out, err := x.media.Jobs.Store(context.Background(), task(j))
			wantCode(t, err, tc.code)
			if err == nil && out.Next != tc.next {
				t.Errorf("next %q, want %q", out.Next, tc.next)
			}
			now, _ := x.jobs.FindJob(context.Background(), "ws-a", j.ID)
			if now.Status != tc.job || (now.StorageKey != "" && x.blobs.Has(now.StorageKey)) != tc.blob {
				t.Fatalf("job %s, key %q stored %v", now.Status, now.StorageKey, x.blobs.Has(now.StorageKey))
			}
			if tc.job != mediatrail.JobCompleted {
				return
			}
			// Completed: a rerun does nothing, and the job reads with its asset.
			if again, err := x.media.Jobs.Store(context.Background(), task(j)); err != nil || again.Next != mediatrail.NextDone {
				t.Errorf("rerun: %+v, %v", again, err)
			}
			v, err := x.media.Jobs.Get(context.Background(), "ws-a", j.ID)
			if err != nil || v.Asset == nil || v.AssetURL == "" || v.Asset.ContentType != "video/webm" || v.CompletedAt == nil {
				t.Fatalf("view %+v, %v", v, err)
			}
			if len(x.jobs.Spans) != 1 || x.jobs.Spans[0].Status != mediatrail.SpanCompleted || x.jobs.Spans[0].ProviderRequestID != "r-9" {
				t.Errorf("spans %+v", x.jobs.Spans)
			}
		})
	}
}

// playWrite is a BeforeWrite hook that plays, times times, another step's
// write of the job: change applied, version bumped.
func playWrite(jobs *memory.Jobs, times int, change func(*mediatrail.MediaJob)) func(*mediatrail.MediaJob) error {
	return func(j *mediatrail.MediaJob) error {
		if times == 0 {
			return nil
		}
		times--
		cur, err := jobs.FindJob(context.Background(), j.WorkspaceID, j.ID)
		if err != nil {
			return err
		}
		change(cur)
		cur.Version++
		jobs.Set(cur)
		return nil
	}
}

// endJob is playWrite leaving the job in status st.
func endJob(jobs *memory.Jobs, times int, st mediatrail.JobState) func(*mediatrail.MediaJob) error {
	return playWrite(jobs, times, func(j *mediatrail.MediaJob) { j.Status = st })
}

// after lets skip writes through before hook runs.
func after(skip int, hook func(*mediatrail.MediaJob) error) func(*mediatrail.MediaJob) error {
	return func(j *mediatrail.MediaJob) error {
		if skip > 0 {
			skip--
			return nil
		}
		return hook(j)
	}
}

// TestFailStep: a failing job is cancelled at its provider unless it ended
// there, loses what a Store attempt left, and ends failed (or cancelled).
func TestFailStep(t *testing.T) {
	for _, tc := range []struct {
		name    string
		task    func(mediatrail.JobTask) mediatrail.JobTask
		ended   bool
		race    func(*memory.Jobs) func(*mediatrail.MediaJob) error
		code    string
		status  mediatrail.JobState
		errCode string
		cancels int
	}{
		{name: "deadline passed", task: func(t mediatrail.JobTask) mediatrail.JobTask {
			t.Failure = &mediatrail.SpanFailure{Code: mediatrail.ETIMEOUT, Message: "late"}
			return t
		}, status: mediatrail.JobFailed, errCode: mediatrail.ETIMEOUT, cancels: 1},
		{name: "a step gave up", task: func(t mediatrail.JobTask) mediatrail.JobTask {
			t.Caught = &mediatrail.TaskFailure{Error: "States.Timeout"}
			return t
		}, status: mediatrail.JobFailed, cancels: 1},
		{name: "the provider failed it", task: func(t mediatrail.JobTask) mediatrail.JobTask { t.Status = mediatrail.JobFailed; return t },
			status: mediatrail.JobFailed, errCode: mediatrail.EINTERNAL},
		{name: "the provider cancelled it", task: func(t mediatrail.JobTask) mediatrail.JobTask { t.Status = mediatrail.JobCancelled; return t },
			status: mediatrail.JobCancelled, errCode: mediatrail.EINTERNAL},
		{name: "ended meanwhile", ended: true, status: mediatrail.JobCompleted},
		{name: "moved once: failed after a second look", status: mediatrail.JobFailed, errCode: mediatrail.EINTERNAL, cancels: 2,
			race: func(jobs *memory.Jobs) func(*mediatrail.MediaJob) error {
				return endJob(jobs, 1, mediatrail.JobProcessing)
			}},
		{name: "never holds still", code: mediatrail.ECONFLICT, status: mediatrail.JobProcessing, cancels: 5,
			race: func(jobs *memory.Jobs) func(*mediatrail.MediaJob) error {
				return endJob(jobs, 100, mediatrail.JobProcessing)
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := newStudio()
			j := x.running(t)
			j.StorageKey = mediatrail.StorageKeyFor("ws-a", mediatrail.NewIDAt(clock), "video.webm")
			if tc.ended {
				j.Status = mediatrail.JobCompleted
			}
			x.jobs.Set(j)
			x.blobs.Set(j.StorageKey, memory.Blob{Data: webmBytes})
			x.jobs.BeforeWrite = nil
			if tc.race != nil {
				x.jobs.BeforeWrite = tc.race(x.jobs)
			}
			in := task(j)
			if tc.task != nil {
				in = tc.task(in)
			}
			out, err := x.media.Jobs.Fail(context.Background(), in)
			wantCode(t, err, tc.code)
			now, _ := x.jobs.FindJob(context.Background(), "ws-a", j.ID)
			if now.Status != tc.status || x.p.cancels != tc.cancels {
				t.Fatalf("job %s, cancels %d", now.Status, x.p.cancels)
			}
			if tc.code != "" || tc.ended {
				return
			}
			if out.Next != mediatrail.NextDone || !out.Callback || now.Error == nil || tc.errCode != "" && now.Error.Code != tc.errCode || x.blobs.Has(j.StorageKey) {
				t.Errorf("answer %+v, error %+v, object left %v", out, now.Error, x.blobs.Has(j.StorageKey))
			}
		})
	}
}

// poster is a CallbackSender answering a fixed status or error.
type poster struct {
	status int
	err    error
	got    map[string]string
}

func (p *poster) Post(_ context.Context, _ string, h map[string]string, _ []byte) (int, error) {
	p.got = h
	return p.status, p.err
}

func (p *poster) CheckCallback(context.Context, string) error { return nil }

// TestNotifyStep: the callback is posted signed once the job ended; what
// the receiver answers decides whether the workflow retries.
func TestNotifyStep(t *testing.T) {
	for _, tc := range []struct {
		name      string
		status    int
		err       error
		active    bool
		noSender  bool
		code      string
		retryable bool
	}{
		{name: "delivered", status: 204},
		{name: "job still running: nothing sent", active: true},
		{name: "receiver down: retried", status: 503, code: mediatrail.EUNPROCESSABLE, retryable: true},
		{name: "receiver throttles: retried", status: 429, code: mediatrail.EUNPROCESSABLE, retryable: true},
		{name: "receiver refuses: not retried", status: 404, code: mediatrail.EUNPROCESSABLE},
		{name: "address refused: not retried", err: mediatrail.Invalid("callback_url", "private address"), code: mediatrail.EINVALID},
		{name: "unreachable: retried", err: errBoom, code: mediatrail.EUNAVAILABLE, retryable: true},
		{name: "no sender configured", noSender: true, code: mediatrail.EUNAVAILABLE},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := newStudio()
			j := x.running(t)
			if !tc.active {
				j.Status, j.EndedAt = mediatrail.JobFailed, clock
				x.jobs.Set(j)
			}
			p := &poster{status: tc.status, err: tc.err}
			if !tc.noSender {
				x.media.Jobs.Callbacks = p
			}
			out, err := x.media.Jobs.Notify(context.Background(), task(j))
			wantCode(t, err, tc.code)
			if err != nil {
				if mediatrail.AsStepError(err).Retryable != tc.retryable {
					t.Errorf("retryable %v, want %v", !tc.retryable, tc.retryable)
				}
				return
			}
			if out.Next != mediatrail.NextDone || (p.got == nil) != tc.active {
				t.Errorf("answer %+v, headers %v", out, p.got)
			}
			if !tc.active && p.got["X-Mediatrail-Event"] != "job.failed" {
				t.Errorf("headers %v", p.got)
			}
		})
	}
}

// Steps for a job that is gone (or never was) end the workflow.
func TestStepsOfMissingJob(t *testing.T) {
	x := newStudio()
	t0 := mediatrail.JobTask{WorkspaceID: "ws-a", JobID: mediatrail.NewIDAt(clock)}
	for name, step := range map[string]func(context.Context, mediatrail.JobTask) (mediatrail.JobTask, error){
		"poll": x.media.Jobs.Poll, "store": x.media.Jobs.Store, "fail": x.media.Jobs.Fail, "notify": x.media.Jobs.Notify,
	} {
		if out, err := step(context.Background(), t0); err != nil || out.Next != mediatrail.NextDone {
			t.Errorf("%s: %+v, %v", name, out, err)
		}
		if _, err := step(context.Background(), mediatrail.JobTask{WorkspaceID: "ws a", JobID: "x"}); mediatrail.ErrorCode(err) != mediatrail.EINVALID {
			t.Errorf("%s of a malformed task: %v", name, err)
		}
	}
}
