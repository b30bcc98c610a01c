package dynamo_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/testenv"
)

func newJob(ws string, at time.Time) *mediatrail.MediaJob {
	return &mediatrail.MediaJob{
		ID: mediatrail.NewIDAt(at), WorkspaceID: ws, Status: mediatrail.JobQueued, Capability: mediatrail.CapabilityVideoGen,
		Provider: "runway", Model: "gen4.5", Prompt: "waves", Config: map[string]any{"duration": float64(5)},
		ExecutionID: "exec-1", TraceID: "exec-1", ProviderJobID: "task-1?duration=5", SpanID: mediatrail.NewIDAt(at),
		CallbackURL: "https://hooks.example/job?token=t", CreatedAt: at, UpdatedAt: at, DeadlineAt: at.Add(time.Hour),
	}
}

// A job's life: created with its idempotency answer, updated at the version
// read, finished once with its asset, span and counters in one transaction.
func TestJobLifecycle(t *testing.T) {
	e := newEnv(t)
	ctx := testenv.Context(t)
	now := time.Now().UTC().Truncate(time.Millisecond)
	ws := "ws-jobs"
	j := newJob(ws, now)
	claim := claimOf(ws, "key-1", now)
	if _, err := e.store.ClaimIdempotencyKey(ctx, claim); err != nil {
		t.Fatal(err)
	}
	if err := e.store.CreateJob(ctx, j, completed(claim, &mediatrail.GenerateOutput{Status: "processing", JobID: j.ID})); err != nil {
		t.Fatal(err)
	}
	checkCode(t, e.store.CreateJob(ctx, j, nil), mediatrail.ECONFLICT)
	held, err := e.store.ClaimIdempotencyKey(ctx, claimOf(ws, "key-1", now))
	if err != nil || held == nil || held.State != mediatrail.IdempotencyCompleted || held.Response.JobID != j.ID {
		t.Fatalf("claim after CreateJob: %+v %v", held, err)
	}

	got, err := e.store.FindJob(ctx, ws, j.ID)
	if err != nil || !reflect.DeepEqual(got, j) {
		t.Fatalf("FindJob = %+v (%v), want %+v", got, err, j)
	}
	_, err = e.store.FindJob(ctx, "other-ws", j.ID)
	checkCode(t, err, mediatrail.ENOTFOUND)

	stale := *got
	got.Status, got.Polls = mediatrail.JobProcessing, 1
	if err := e.store.UpdateJob(ctx, got); err != nil || got.Version != 1 {
		t.Fatalf("UpdateJob: %v (version %d)", err, got.Version)
	}
	stale.Polls = 7
	checkCode(t, e.store.UpdateJob(ctx, &stale), mediatrail.ECONFLICT) // read before the update

	a := newAsset(ws, now, func(a *mediatrail.Asset) {
		a.Type, a.ContentType, a.Provider = mediatrail.AssetVideo, "video/mp4", "runway"
	})
	sp := newSpan(ws, now, a, func(sp *mediatrail.Span) { sp.ID = j.SpanID })
	done := *got
	done.Status, done.AssetID, done.Cost = mediatrail.JobCompleted, a.ID, 0.25
	if err := e.store.FinishJob(ctx, &done, sp, a, nil); err != nil {
		t.Fatal(err)
	}
	// A duplicate finish (a retried Store) changes nothing: no second asset, no second charge.
	again := *got
	again.Status = mediatrail.JobCompleted
	checkCode(t, e.store.FinishJob(ctx, &again, sp, a, nil), mediatrail.ECONFLICT)
	cancelled := done
	cancelled.Status = mediatrail.JobCancelled
	checkCode(t, e.store.FinishJob(ctx, &cancelled, sp, nil, nil), mediatrail.ECONFLICT)

	final, err := e.store.FindJob(ctx, ws, j.ID)
	if err != nil || final.Status != mediatrail.JobCompleted || final.AssetID != a.ID || final.Version != 2 {
		t.Fatalf("final job %+v %v", final, err)
	}
	if c, want := counters(t, e, ws), wantCounters([]*mediatrail.Asset{a}); !reflect.DeepEqual(c, want) {
		t.Errorf("counters %v, want %v", c, want)
	}
	if spans := mustSpans(t, e, ws, mediatrail.SpanFilter{}); len(spans.Spans) != 1 || spans.Spans[0].ID != j.SpanID {
		t.Errorf("spans %v", spanIDs(spans.Spans))
	}
	checkCode(t, e.store.UpdateJob(ctx, final), mediatrail.EINVALID)
}

// A job that could not be started ends failed and gives its key back.
func TestFinishJobReleasesClaim(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	now := time.Now().UTC()
	ws := "ws-release"
	j := newJob(ws, now)
	claim := claimOf(ws, "key-2", now)
	if _, err := e.store.ClaimIdempotencyKey(ctx, claim); err != nil {
		t.Fatal(err)
	}
	if err := e.store.CreateJob(ctx, j, completed(claim, &mediatrail.GenerateOutput{JobID: j.ID})); err != nil {
		t.Fatal(err)
	}
	j.Status, j.Error = mediatrail.JobFailed, &mediatrail.SpanFailure{Code: mediatrail.EUNAVAILABLE, Message: "not started"}
	sp := newSpan(ws, now, nil, func(sp *mediatrail.Span) { sp.ID, sp.Status = j.SpanID, mediatrail.SpanError })
	if err := e.store.FinishJob(ctx, j, sp, nil, claim); err != nil {
		t.Fatal(err)
	}
	if held, err := e.store.ClaimIdempotencyKey(ctx, claimOf(ws, "key-2", now)); err != nil || held != nil {
		t.Errorf("the key was not released: %+v %v", held, err)
	}
	if c := counters(t, e, ws); len(c) != 0 {
		t.Errorf("a failed job counted assets: %v", c)
	}
}

// Reconciliation enumerates the active jobs of every workspace, and nothing
// else: not ended jobs, not assets, spans or settings.
func TestEnumerateActiveJobs(t *testing.T) {
	e := newEnv(t)
	ctx := testenv.Context(t)
	now := time.Now().UTC().Truncate(time.Millisecond)
	var active []string
	for i := range 60 {
		j := newJob([]string{"ws-a", "ws-b", "ws-c"}[i%3], now.Add(time.Duration(i)*time.Second))
		switch i % 4 {
		case 0:
			j.Status = mediatrail.JobQueued
		case 1:
			j.Status = mediatrail.JobProcessing
		case 2:
			j.Status = mediatrail.JobCompleted
		case 3:
			j.Status = []mediatrail.JobState{mediatrail.JobFailed, mediatrail.JobCancelled}[i/4%2]
		}
		if j.Active() {
			active = append(active, j.ID)
		}
		if err := e.store.CreateJob(ctx, j, nil); err != nil {
			t.Fatal(err)
		}
	}
	MustCreate(t, e.store, newAsset("ws-a", now))

	var seen []string
	err := e.store.EachActiveJob(ctx, func(j *mediatrail.MediaJob) error {
		if !j.Active() || j.WorkspaceID == "" || j.CreatedAt.IsZero() {
			t.Errorf("visited %+v", j)
		}
		seen = append(seen, j.ID)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(seen)
	slices.Sort(active)
	if !slices.Equal(seen, active) {
		t.Errorf("visited %d jobs, want the %d active ones", len(seen), len(active))
	}
	stop := errors.New("stop")
	n := 0
	if err := e.store.EachActiveJob(ctx, func(*mediatrail.MediaJob) error { n++; return stop }); err != stop || n != 1 {
		t.Errorf("visit error: %v after %d visits", err, n)
	}
}

// RecordCallback sets the callback record alone: the version other writers
// condition on stays; another workspace's or an unknown job is ENOTFOUND.
func TestRecordCallback(t *testing.T) {
	e := newEnv(t)
	ctx := testenv.Context(t)
	now := time.Now().UTC().Truncate(time.Millisecond)
	j := newJob("ws-callback", now)
	j.CallbackURL, j.Callback = "https://hooks.example/x", &mediatrail.CallbackDelivery{Status: mediatrail.CallbackPending}
	if err := e.store.CreateJob(ctx, j, nil); err != nil {
		t.Fatal(err)
	}
	d := &mediatrail.CallbackDelivery{Status: mediatrail.CallbackDelivered, Attempts: 2, LastAttemptAt: &now, DeliveredAt: &now}
	if err := e.store.RecordCallback(ctx, j.WorkspaceID, j.ID, d); err != nil {
		t.Fatal(err)
	}
	got, err := e.store.FindJob(ctx, j.WorkspaceID, j.ID)
	if err != nil || !reflect.DeepEqual(got.Callback, d) || got.Version != j.Version || got.Status != j.Status {
		t.Fatalf("job after RecordCallback: %+v (%v)", got, err)
	}
	checkCode(t, e.store.RecordCallback(ctx, "other-ws", j.ID, d), mediatrail.ENOTFOUND)
	checkCode(t, e.store.RecordCallback(ctx, j.WorkspaceID, mediatrail.NewID(), d), mediatrail.ENOTFOUND)
}
