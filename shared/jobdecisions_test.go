package mediatrail_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/memory"
)

// cancelling is a video provider whose Cancel answers err and counts calls.
type cancelling struct {
	mediatrail.Provider
	err   error
	calls int
}

func (p *cancelling) Name() string { return "runway" }
func (p *cancelling) Cancel(context.Context, string) error {
	p.calls++
	return p.err
}

type oneProvider struct{ p mediatrail.Provider }

func (o oneProvider) Get(string) (mediatrail.Provider, error) { return o.p, nil }

// TestCancelDecisions: JobService.Cancel's decision table over the in-memory
// store, with concurrent steps injected before its write: the provider is asked
// once however often the write is retried, a job another step ended is
// answered as it ended, and a job that never holds still is a 409 with
// Retry-After.
func TestCancelDecisions(t *testing.T) {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	active := func() *mediatrail.MediaJob {
		return &mediatrail.MediaJob{ID: mediatrail.NewIDAt(now), WorkspaceID: "ws-a", Status: mediatrail.JobProcessing,
			Capability: mediatrail.CapabilityVideoGen, Provider: "runway", ProviderJobID: "task-1", SpanID: mediatrail.NewIDAt(now),
			CreatedAt: now.Add(-time.Minute), UpdatedAt: now.Add(-time.Minute), DeadlineAt: now.Add(time.Hour)}
	}
	moved := playWrite
	poll := func(j *mediatrail.MediaJob) { j.Polls++ }
	complete := func(j *mediatrail.MediaJob) { j.Status = mediatrail.JobCompleted }
	cancel := func(j *mediatrail.MediaJob) { j.Status = mediatrail.JobCancelled }
	for _, tc := range []struct {
		name        string
		workspace   string
		credential  string // the job's workspace credential
		providerErr error
		race        func(*memory.Jobs) func(*mediatrail.MediaJob) error
		code        string // "" for success
		status      mediatrail.JobState
		stopped     *bool
		askCalls    int
		spans       int
	}{
		{name: "cancelled at the provider", workspace: "ws-a", status: mediatrail.JobCancelled, stopped: ptr(true), askCalls: 1, spans: 1},
		{name: "provider cannot cancel", workspace: "ws-a", providerErr: mediatrail.Invalid("job_id", "no cancel"),
			status: mediatrail.JobCancelled, stopped: ptr(false), askCalls: 1, spans: 1},
		{name: "provider finished first", workspace: "ws-a", providerErr: mediatrail.Conflict("", "done"),
			status: mediatrail.JobCancelled, stopped: ptr(false), askCalls: 1, spans: 1},
		{name: "provider failure leaves the job active", workspace: "ws-a", providerErr: errors.New("connection reset"),
			code: mediatrail.EINTERNAL, askCalls: 1},
		{name: "the provider refuses the workspace's credential", workspace: "ws-a", credential: "cred-1",
			providerErr: &mediatrail.ProviderError{Provider: "runway", Status: 401, Message: "bad key"},
			code:        mediatrail.EPROVIDERAUTH, askCalls: 1},
		{name: "the provider refuses the deployment's key", workspace: "ws-a",
			providerErr: &mediatrail.ProviderError{Provider: "runway", Status: 401, Message: "bad key"},
			code:        mediatrail.EPROVIDER, askCalls: 1},
		{name: "a poll moved first: retried, provider asked once", workspace: "ws-a",
			race:   func(j *memory.Jobs) func(*mediatrail.MediaJob) error { return moved(j, 2, poll) },
			status: mediatrail.JobCancelled, stopped: ptr(true), askCalls: 1, spans: 1},
		// The first write records the request; the provider is asked after it.
		{name: "the workflow completed it before the request: the provider is not asked", workspace: "ws-a",
			race: func(j *memory.Jobs) func(*mediatrail.MediaJob) error { return moved(j, 1, complete) },
			code: mediatrail.ECONFLICT},
		{name: "the workflow completed it first", workspace: "ws-a",
			race: func(j *memory.Jobs) func(*mediatrail.MediaJob) error { return after(1, moved(j, 1, complete)) },
			code: mediatrail.ECONFLICT, askCalls: 1},
		{name: "another cancel won", workspace: "ws-a",
			race:   func(j *memory.Jobs) func(*mediatrail.MediaJob) error { return after(1, moved(j, 1, cancel)) },
			status: mediatrail.JobCancelled, stopped: ptr(true), askCalls: 1},
		{name: "never holds still", workspace: "ws-a",
			race: func(j *memory.Jobs) func(*mediatrail.MediaJob) error { return after(1, moved(j, 100, poll)) },
			code: mediatrail.ECONFLICT, askCalls: 1},
		{name: "never holds still for the request", workspace: "ws-a",
			race: func(j *memory.Jobs) func(*mediatrail.MediaJob) error { return moved(j, 100, poll) },
			code: mediatrail.ECONFLICT},
		{name: "store failure", workspace: "ws-a",
			race: func(*memory.Jobs) func(*mediatrail.MediaJob) error {
				return after(1, func(*mediatrail.MediaJob) error { return errors.New("throttled") })
			},
			code: mediatrail.EINTERNAL, askCalls: 1},
		{name: "another workspace's job", workspace: "ws-b", code: mediatrail.ENOTFOUND},
	} {
		t.Run(tc.name, func(t *testing.T) {
			jobs := &memory.Jobs{}
			j := active()
			j.CredentialID = tc.credential
			jobs.Set(j)
			if tc.race != nil {
				jobs.BeforeWrite = tc.race(jobs)
			}
			p := &cancelling{err: tc.providerErr}
			media := &mediatrail.MediaService{Providers: oneProvider{p}, Now: func() time.Time { return now }}
			svc := &mediatrail.JobService{Media: media, Jobs: jobs}

			v, err := svc.Cancel(context.Background(), tc.workspace, j.ID)
			if got := mediatrail.ErrorCode(err); got != tc.code {
				t.Fatalf("code %q (%v), want %q", got, err, tc.code)
			}
			if p.calls != tc.askCalls {
				t.Errorf("provider asked %d times, want %d", p.calls, tc.askCalls)
			}
			if len(jobs.Spans) != tc.spans {
				t.Errorf("%d spans written, want %d", len(jobs.Spans), tc.spans)
			}
			if tc.spans > 0 && (jobs.Spans[0].Status != mediatrail.SpanCancelled || jobs.Spans[0].Cost.Amount != 0) {
				t.Errorf("span %+v, want cancelled and uncharged", jobs.Spans[0])
			}
			var e *mediatrail.Error
			if strings.HasPrefix(tc.name, "never holds still") && (!errors.As(err, &e) || e.RetryAfterSeconds != 1) {
				t.Errorf("no Retry-After on %v", err)
			}
			if tc.code != "" {
				return
			}
			if v.Status != tc.status || (v.ProviderCancelled == nil) != (tc.stopped == nil) ||
				v.ProviderCancelled != nil && *v.ProviderCancelled != *tc.stopped {
				t.Errorf("view status %s, provider_cancelled %v; want %s, %v", v.Status, v.ProviderCancelled, tc.status, *tc.stopped)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// stoppedAsFailed is a provider whose Cancel stops the job, which the
// workflow then sees end: as failed, as fal reports a stopped request, or
// cancelled. onCancel runs the workflow's Fail step meanwhile.
type stoppedAsFailed struct {
	cancelling
	onCancel func()
}

func (p *stoppedAsFailed) Cancel(ctx context.Context, id string) error {
	err := p.cancelling.Cancel(ctx, id)
	p.onCancel()
	return err
}

// TestCancelRacingTheWorkflow: the workflow sees the provider's job end
// between the provider's cancel and the route's write. The job ends
// cancelled (not failed) and the route answers it, whatever state the
// provider reported; a provider that refuses the cancel withdraws the
// request, so the job's own failure is recorded as such.
func TestCancelRacingTheWorkflow(t *testing.T) {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name        string
		reported    mediatrail.JobState
		providerErr error
		code        string
		want        mediatrail.JobState
	}{
		{name: "reported failed", reported: mediatrail.JobFailed, want: mediatrail.JobCancelled},
		{name: "reported cancelled", reported: mediatrail.JobCancelled, want: mediatrail.JobCancelled},
		{name: "cancel refused, the job failed on its own", reported: mediatrail.JobFailed,
			providerErr: errors.New("connection reset"), code: mediatrail.EINTERNAL, want: mediatrail.JobFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			jobs := &memory.Jobs{}
			j := &mediatrail.MediaJob{ID: mediatrail.NewIDAt(now), WorkspaceID: "ws-a", Status: mediatrail.JobProcessing,
				Capability: mediatrail.CapabilityVideoGen, Provider: "runway", ProviderJobID: "task-1", SpanID: mediatrail.NewIDAt(now),
				CreatedAt: now.Add(-time.Minute), UpdatedAt: now.Add(-time.Minute), DeadlineAt: now.Add(time.Hour)}
			jobs.Set(j)
			p := &stoppedAsFailed{cancelling: cancelling{err: tc.providerErr}}
			media := &mediatrail.MediaService{Providers: oneProvider{p}, Now: func() time.Time { return now }}
			svc := &mediatrail.JobService{Media: media, Jobs: jobs}
			ctx := context.Background()
			fail := func() {
				task := mediatrail.JobTask{WorkspaceID: "ws-a", JobID: j.ID, Next: mediatrail.NextFail, Status: tc.reported,
					Failure: &mediatrail.SpanFailure{Code: mediatrail.EPROVIDER, Message: "Request was cancelled"}}
				if _, err := svc.Fail(ctx, task); err != nil {
					t.Error(err)
				}
			}
			if tc.providerErr == nil {
				p.onCancel = fail
			} else {
				p.onCancel = func() {}
			}
			v, err := svc.Cancel(ctx, "ws-a", j.ID)
			wantCode(t, err, tc.code)
			if tc.providerErr != nil {
				fail() // the job then fails on its own
			} else if v.Status != tc.want || v.ProviderCancelled == nil || !*v.ProviderCancelled {
				t.Fatalf("answer %+v", v)
			}
			got, _ := jobs.FindJob(ctx, "ws-a", j.ID)
			if got.Status != tc.want || len(jobs.Spans) != 1 {
				t.Errorf("job %s with %d spans, want %s and one span", got.Status, len(jobs.Spans), tc.want)
			}
		})
	}
}

// polled is a video provider whose Status answers from a script.
type polled struct {
	mediatrail.Provider
	answers []mediatrail.Job
	errs    []error
	calls   int
}

func (p *polled) Name() string { return "runway" }
func (p *polled) Status(context.Context, string) (mediatrail.Job, error) {
	i := min(p.calls, len(p.answers)-1)
	p.calls++
	return p.answers[i], p.errs[i]
}

// TestPollDecisions: what Poll says next, per provider answer, deadline and
// concurrent change of the job.
func TestPollDecisions(t *testing.T) {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	id := mediatrail.NewIDAt(now)
	running := mediatrail.Job{State: mediatrail.JobProcessing, Progress: 0.5}
	bump := endJob
	for _, tc := range []struct {
		name     string
		answers  []mediatrail.Job
		errs     []error
		deadline time.Duration
		race     func(*memory.Jobs) func(*mediatrail.MediaJob) error
		next     string
		code     string
		polls    int // the stored job's polls afterwards
	}{
		{name: "still running: wait", answers: []mediatrail.Job{running}, errs: []error{nil}, deadline: time.Hour, next: mediatrail.NextWait, polls: 1},
		{name: "completed: store", answers: []mediatrail.Job{{State: mediatrail.JobCompleted}}, errs: []error{nil}, deadline: time.Hour, next: mediatrail.NextStore},
		{name: "failed at the provider: fail", answers: []mediatrail.Job{{State: mediatrail.JobFailed, FailureReason: "nsfw"}}, errs: []error{nil}, deadline: time.Hour, next: mediatrail.NextFail},
		{name: "past the deadline: fail", answers: []mediatrail.Job{running}, errs: []error{nil}, deadline: -time.Second, next: mediatrail.NextFail},
		{name: "provider briefly down: wait", answers: []mediatrail.Job{{}}, errs: []error{&mediatrail.ProviderError{Provider: "runway", Status: 503}}, deadline: time.Hour, next: mediatrail.NextWait, polls: 1},
		{name: "provider refuses: error", answers: []mediatrail.Job{{}}, errs: []error{&mediatrail.ProviderError{Provider: "runway", Status: 400}}, deadline: time.Hour, code: mediatrail.EINVALID},
		{name: "a concurrent write: polled again", answers: []mediatrail.Job{running}, errs: []error{nil}, deadline: time.Hour,
			race: func(j *memory.Jobs) func(*mediatrail.MediaJob) error { return bump(j, 1, mediatrail.JobProcessing) }, next: mediatrail.NextWait, polls: 1},
		{name: "cancelled meanwhile: done", answers: []mediatrail.Job{running}, errs: []error{nil}, deadline: time.Hour,
			race: func(j *memory.Jobs) func(*mediatrail.MediaJob) error { return bump(j, 1, mediatrail.JobCancelled) }, next: mediatrail.NextDone},
		{name: "never holds still: retryable step error", answers: []mediatrail.Job{running}, errs: []error{nil}, deadline: time.Hour,
			race: func(j *memory.Jobs) func(*mediatrail.MediaJob) error { return bump(j, 100, mediatrail.JobProcessing) }, code: mediatrail.ECONFLICT},
	} {
		t.Run(tc.name, func(t *testing.T) {
			jobs := &memory.Jobs{}
			jobs.Set(&mediatrail.MediaJob{ID: id, WorkspaceID: "ws-a", Status: mediatrail.JobQueued, Capability: mediatrail.CapabilityVideoGen,
				Provider: "runway", ProviderJobID: "task-1", SpanID: id, CreatedAt: now.Add(-time.Minute), DeadlineAt: now.Add(tc.deadline)})
			if tc.race != nil {
				jobs.BeforeWrite = tc.race(jobs)
			}
			p := &polled{answers: tc.answers, errs: tc.errs}
			svc := &mediatrail.JobService{
				Media: &mediatrail.MediaService{Providers: oneProvider{p}, Now: func() time.Time { return now }},
				Jobs:  jobs, Config: mediatrail.JobConfig{PollInterval: 5 * time.Second, MaxPollInterval: time.Minute},
			}
			out, err := svc.Poll(context.Background(), mediatrail.JobTask{WorkspaceID: "ws-a", JobID: id})
			if got := mediatrail.ErrorCode(err); got != tc.code {
				t.Fatalf("code %q (%v), want %q", got, err, tc.code)
			}
			if tc.code == mediatrail.ECONFLICT && !mediatrail.AsStepError(err).Retryable {
				t.Error("giving up on a moving job is not retryable")
			}
			if tc.code != "" {
				return
			}
			if out.Next != tc.next {
				t.Errorf("next %q, want %q", out.Next, tc.next)
			}
			if tc.next == mediatrail.NextWait && out.WaitSeconds < 1 {
				t.Errorf("wait %d s", out.WaitSeconds)
			}
			j, _ := jobs.FindJob(context.Background(), "ws-a", id)
			if j.Polls != tc.polls {
				t.Errorf("polls %d, want %d", j.Polls, tc.polls)
			}
		})
	}
}
