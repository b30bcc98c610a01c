package mediatrail_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/memory"
)

// scriptedCallbacks answers each Post with the next of its answers: an
// HTTP status, or an error.
type scriptedCallbacks struct {
	answers []any
	posts   int
}

func (c *scriptedCallbacks) Post(context.Context, string, map[string]string, []byte) (int, error) {
	a := c.answers[min(c.posts, len(c.answers)-1)]
	c.posts++
	if err, ok := a.(error); ok {
		return 0, err
	}
	return a.(int), nil
}

func (c *scriptedCallbacks) CheckCallback(context.Context, string) error { return nil }

// Every delivery attempt is recorded on the job: retrying while the
// workflow will try again, delivered with its time, failed when the URL is
// refused, answers a 4xx, or the last attempt fails. A duplicate run after
// delivery posts nothing.
func TestNotifyRecordsEveryAttempt(t *testing.T) {
	now := time.Date(2026, 12, 6, 2, 0, 0, 0, time.UTC)
	refused := mediatrail.Invalid("callback_url", "callback_url must point to a public internet address")
	unreachable := errors.New("connection refused")
	for _, tt := range []struct {
		name     string
		answers  []any
		runs     int
		status   string
		attempts int
		lastErr  string
		stepErr  bool // the last run fails its step
	}{
		{"delivered at once", []any{204}, 1, mediatrail.CallbackDelivered, 1, "", false},
		{"a 503, then delivered", []any{503, 200}, 2, mediatrail.CallbackDelivered, 2, "", false},
		{"unreachable, retried", []any{unreachable}, 1, mediatrail.CallbackRetrying, 1, "the callback URL could not be reached", true},
		{"a 404 is final", []any{404}, 1, mediatrail.CallbackFailed, 1, "the callback URL answered HTTP 404", true},
		{"a refused address is final", []any{refused}, 1, mediatrail.CallbackFailed, 1, refused.Message, true},
		{"the last attempt fails", []any{500}, mediatrail.MaxCallbackAttempts, mediatrail.CallbackFailed, mediatrail.MaxCallbackAttempts, "the callback URL answered HTTP 500", true},
		{"a duplicate run after delivery", []any{204, 500}, 3, mediatrail.CallbackDelivered, 1, "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			jobs := &memory.Jobs{}
			j := &mediatrail.MediaJob{ID: mediatrail.NewIDAt(now), WorkspaceID: "ws-a", Status: mediatrail.JobFailed,
				Capability: mediatrail.CapabilityVideoGen, Provider: "runway", CallbackURL: "https://hooks.example/x?token=t",
				Callback: &mediatrail.CallbackDelivery{Status: mediatrail.CallbackPending}, SpanID: mediatrail.NewIDAt(now),
				Error: &mediatrail.SpanFailure{Code: "unprocessable", Message: "flagged"}, CreatedAt: now, UpdatedAt: now, DeadlineAt: now.Add(time.Hour)}
			jobs.Set(j)
			cb := &scriptedCallbacks{answers: tt.answers}
			svc := &mediatrail.JobService{Media: &mediatrail.MediaService{Now: func() time.Time { return now }}, Jobs: jobs,
				Callbacks: cb, Config: mediatrail.JobConfig{CallbackSecret: "s"}}
			task := mediatrail.JobTask{WorkspaceID: j.WorkspaceID, JobID: j.ID, Next: mediatrail.NextDone, Callback: true}
			var err error
			for range tt.runs {
				_, err = svc.Notify(context.Background(), task)
			}
			if (err != nil) != tt.stepErr {
				t.Errorf("last run: %v", err)
			}
			got, ferr := jobs.FindJob(context.Background(), j.WorkspaceID, j.ID)
			if ferr != nil {
				t.Fatal(ferr)
			}
			d := got.Callback
			if d == nil || d.Status != tt.status || d.Attempts != tt.attempts || d.LastError != tt.lastErr ||
				d.LastAttemptAt == nil || (d.DeliveredAt != nil) != (tt.status == mediatrail.CallbackDelivered) {
				t.Errorf("callback %s", describe(d))
			}
			if got.Version != j.Version || got.Status != j.Status {
				t.Errorf("the job changed beyond its callback: %+v", got)
			}
			view, verr := svc.Get(context.Background(), j.WorkspaceID, j.ID)
			if verr != nil || view.Callback == nil || view.Callback.Status != tt.status {
				t.Errorf("the job's view: %v %v", view, verr)
			}
		})
	}
}

func describe(d *mediatrail.CallbackDelivery) string {
	if d == nil {
		return "none"
	}
	return fmt.Sprintf("%+v", *d)
}
