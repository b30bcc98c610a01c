package mediatrail_test

import (
	"context"
	"errors"
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
// store, with concurrent steps injected at FinishJob: the provider is asked
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
	// moved plays another step's write of the job before Cancel's.
	moved := func(jobs *memory.Jobs, times int, change func(*mediatrail.MediaJob)) func(*mediatrail.MediaJob) error {
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
	poll := func(j *mediatrail.MediaJob) { j.Polls++ }
	complete := func(j *mediatrail.MediaJob) { j.Status = mediatrail.JobCompleted }
	cancel := func(j *mediatrail.MediaJob) { j.Status = mediatrail.JobCancelled }
	for _, tc := range []struct {
		name        string
		workspace   string
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
		{name: "a poll moved first: retried, provider asked once", workspace: "ws-a",
			race:   func(j *memory.Jobs) func(*mediatrail.MediaJob) error { return moved(j, 2, poll) },
			status: mediatrail.JobCancelled, stopped: ptr(true), askCalls: 1, spans: 1},
		{name: "the workflow completed it first", workspace: "ws-a",
			race: func(j *memory.Jobs) func(*mediatrail.MediaJob) error { return moved(j, 1, complete) },
			code: mediatrail.ECONFLICT, askCalls: 1},
		{name: "another cancel won", workspace: "ws-a",
			race:   func(j *memory.Jobs) func(*mediatrail.MediaJob) error { return moved(j, 1, cancel) },
			status: mediatrail.JobCancelled, stopped: ptr(true), askCalls: 1},
		{name: "never holds still", workspace: "ws-a",
			race: func(j *memory.Jobs) func(*mediatrail.MediaJob) error { return moved(j, 100, poll) },
			code: mediatrail.ECONFLICT, askCalls: 1},
		{name: "store failure", workspace: "ws-a",
			race: func(*memory.Jobs) func(*mediatrail.MediaJob) error {
				return func(*mediatrail.MediaJob) error { return errors.New("throttled") }
			},
			code: mediatrail.EINTERNAL, askCalls: 1},
		{name: "another workspace's job", workspace: "ws-b", code: mediatrail.ENOTFOUND},
	} {
		t.Run(tc.name, func(t *testing.T) {
			jobs := &memory.Jobs{}
			j := active()
			jobs.Set(j)
			if tc.race != nil {
				jobs.BeforeFinish = tc.race(jobs)
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
			if tc.name == "never holds still" && (!errors.As(err, &e) || e.RetryAfterSeconds != 1) {
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
