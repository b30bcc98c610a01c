package mediatrail

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"time"
)

// load reads the job of a step. A missing job (never created, or removed)
// ends the workflow: there is nothing left to do.
func (s *JobService) load(ctx context.Context, t JobTask) (*MediaJob, error) {
	if !ValidRef(t.WorkspaceID) || !ValidID(t.JobID) {
		return nil, &StepError{Code: EINVALID, Message: "the task names no valid workspace and job"}
	}
	j, err := s.Jobs.FindJob(ctx, t.WorkspaceID, t.JobID)
	if IsNotFound(err) {
		s.logger().Warn("job step for a missing job", "workspace", t.WorkspaceID, "job", t.JobID)
		return nil, nil
	}
	return j, err
}

// ended answers a step whose job has ended or is gone.
func (s *JobService) ended(t JobTask, j *MediaJob) JobTask {
	if j == nil {
		t.Next, t.Status = NextDone, ""
		return t
	}
	return s.task(j, NextDone)
}

// Poll asks the provider how the job is doing and says what comes next:
// wait (with a growing interval), store, fail (the provider failed, or the
// deadline passed) or done (the job ended meanwhile, e.g. cancelled). A
// provider that is briefly unavailable is asked again after the next wait.
func (s *JobService) Poll(ctx context.Context, t JobTask) (JobTask, error) {
	j, err := s.load(ctx, t)
	if err != nil || j == nil || !j.Active() {
		return s.ended(t, j), err
	}
	p, err := s.jobProvider(ctx, j)
	if err != nil {
		return t, err
	}
	for range conflictAttempts {
		pj, err := p.Status(ctx, j.ProviderJobID)
		now := s.now()
		switch {
		case err != nil && AsStepError(err).Retryable:
			s.logger().Warn("poll job", "workspace", j.WorkspaceID, "job", j.ID, "provider", p.Name(), "err", err)
		case err != nil:
			return t, err
		case pj.State == JobCompleted:
			return s.task(j, NextStore), nil
		case pj.State.Done():
			out := s.task(j, NextFail)
			out.Status = pj.State
			reason := cmp.Or(pj.FailureReason, "the job ended "+string(pj.State))
			ce := (&ProviderError{Provider: p.Name(), Code: ProviderJobFailed, Message: reason, RequestID: providerRequestID(j.ProviderJobID)}).ClientError()
			out.Failure = &SpanFailure{Code: ce.Code, Message: ce.Message}
			return out, nil
		default:
			if pj.State == JobProcessing {
				j.Status = JobProcessing
			}
			j.Progress = max(j.Progress, pj.Progress)
		}
		if !now.Before(j.DeadlineAt) {
			out := s.task(j, NextFail)
			out.Failure = &SpanFailure{Code: ETIMEOUT, Message: fmt.Sprintf("the job did not finish within %s", j.DeadlineAt.Sub(j.CreatedAt).Round(time.Second))}
			return out, nil
		}
		wait := s.Config.PollWait(j.Polls, now, j.DeadlineAt)
		j.Polls++
		j.UpdatedAt = now
		err = s.Jobs.UpdateJob(ctx, j)
		if ErrorCode(err) == ECONFLICT {
			// Cancelled (or otherwise moved) meanwhile: look again.
			if j, err = s.load(ctx, t); err != nil || j == nil || !j.Active() {
				return s.ended(t, j), err
			}
			continue
		}
		if err != nil {
			return t, err
		}
		out := s.task(j, NextWait)
		out.WaitSeconds = wait
		return out, nil
	}
	return t, errMoving
}

// conflictAttempts bounds how often a step reads its job again after a
// concurrent change; errMoving says it gave up (the workflow retries).
const conflictAttempts = 5

var errMoving = &StepError{Code: ECONFLICT, Message: "the job kept changing during the step", Retryable: true}

// Store copies the finished video into storage under the job's asset id
// (fixed by the first attempt), probes it, and records the asset, the
// completed span and the job in one transaction. A retry after a crash first
// aborts the multipart upload the crash left behind and then writes the same
// object again; a retry after success, or a duplicate run, finds the job
// completed and does nothing.
func (s *JobService) Store(ctx context.Context, t JobTask) (JobTask, error) {
	j, err := s.load(ctx, t)
	if err != nil || j == nil || !j.Active() {
		return s.ended(t, j), err
	}
	p, err := s.jobProvider(ctx, j)
	if err != nil {
		return t, err
	}
	pj, err := p.Status(ctx, j.ProviderJobID)
	switch {
	case err != nil:
		return t, err
	case pj.State != JobCompleted || pj.Result == nil:
		return t, &StepError{Code: EUNPROCESSABLE, Message: fmt.Sprintf("the provider's job is %s, not completed", pj.State)}
	}
	in := j.input()
	j.AssetID = cmp.Or(j.AssetID, NewIDAt(s.now())) // kept by claimStorage with the key
	outputs := s.Outputs
	if outputs == nil {
		outputs = s.Media.Outputs
	}
	call := &mediaCall{
		ws: j.WorkspaceID, provider: p, capability: j.Capability, in: in,
		span: newSpan(j.WorkspaceID, p.Name(), j.Capability, in, j.SpanID, j.CreatedAt),
		now:  s.now, blobs: s.Media.Blobs, settings: s.Media.Settings, prices: s.prices(),
		outputs:   outputs,
		maxBytes:  cmp.Or(s.Config.MaxBytes, DefaultMaxVideoBytes),
		assetID:   j.AssetID,
		retention: j.RetentionDays,
		beforePut: func(ctx context.Context, key string) error {
			return s.claimStorage(ctx, j, key)
		},
	}
	call.span.TraceID = j.TraceID
	call.span.Model = cmp.Or(pj.Result.Model, j.Model)
	call.span.ProviderRequestID = pj.Result.RequestID
	sctx, cancel := context.WithTimeout(ctx, cmp.Or(s.Config.StoreTimeout, DefaultStoreTimeout))
	defer cancel()
	req := MediaRequest{Capability: j.Capability, Model: j.Model, Prompt: j.Prompt, Config: j.Config}
	if err := call.store(sctx, req, pj.Result); err != nil {
		switch {
		case ErrorCode(err) == ECONFLICT: // changed (cancelled?) while claiming its storage
			now, ferr := s.load(ctx, t)
			if ferr == nil && now != nil && now.Active() {
				ferr = errMoving
			}
			return s.ended(t, now), ferr
		case ErrorCode(err) == EINTERNAL && sctx.Err() != nil:
			return t, &StepError{Code: ETIMEOUT, Message: "the video could not be copied in time", Retryable: true, Err: err}
		}
		return t, err
	}
	call.span.Status = SpanCompleted
	call.span.EndedAt = s.now()
	call.span.DurationMs = call.span.EndedAt.Sub(call.span.StartedAt).Milliseconds()
	j.Status, j.Progress, j.Cost, j.EndedAt, j.UpdatedAt = JobCompleted, 1, call.span.Cost.Amount, call.span.EndedAt, call.span.EndedAt
	j.Model = call.span.Model

	fctx, fcancel := context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
	defer fcancel()
	err = s.finish(fctx, j, call.span, call.asset, nil)
	if ErrorCode(err) != ECONFLICT {
		if err != nil {
			return t, err // the object stays under the job's key: a retry overwrites it, Fail removes it
		}
		return s.task(j, NextDone), nil
	}
	// Someone else moved first: a duplicate Store completed the job (same
	// asset, same object: keep it), or the job was cancelled (drop the copy).
	now, err := s.Jobs.FindJob(fctx, j.WorkspaceID, j.ID)
	switch {
	case err != nil:
		return t, err
	case now.Active():
		return t, errMoving
	case now.Status != JobCompleted || now.AssetID != j.AssetID:
		s.removeStored(fctx, now)
	}
	return s.task(now, NextDone), nil
}

// claimStorage fixes the job's asset id and object key before the first byte
// is uploaded, and aborts what an earlier, crashed attempt left under the key.
func (s *JobService) claimStorage(ctx context.Context, j *MediaJob, key string) error {
	if j.StorageKey != "" && j.StorageKey != key {
		s.removeStored(ctx, j) // an earlier attempt chose another name: its leftovers go
	}
	if j.StorageKey != key {
		j.StorageKey, j.UpdatedAt = key, s.now()
		if err := s.Jobs.UpdateJob(ctx, j); err != nil {
			return err
		}
	}
	n, err := s.Media.Blobs.AbortUploads(ctx, key)
	if n > 0 {
		s.logger().Info("aborted a crashed upload", "workspace", j.WorkspaceID, "job", j.ID, "key", key, "uploads", n)
	}
	return err
}

// removeStored deletes the object and any unfinished upload under the
// job's key, unless the job completed with it.
func (s *JobService) removeStored(ctx context.Context, j *MediaJob) {
	if j.StorageKey == "" || j.Status == JobCompleted {
		return
	}
	if _, err := s.Media.Blobs.AbortUploads(ctx, j.StorageKey); err != nil {
		s.logger().Error("abort uploads of a failed job", "job", j.ID, "key", j.StorageKey, "err", err)
	}
	if err := s.Media.Blobs.Delete(ctx, j.StorageKey); err != nil {
		s.logger().Error("remove the object of a failed job", "job", j.ID, "key", j.StorageKey, "err", err)
	}
}

// Fail ends the job as failed (or cancelled, when its provider cancelled
// it): the reason Poll found, or the error of the step that gave up. A job
// that may still run at its provider (deadline passed, a step failed) is
// cancelled there; whatever a Store attempt left in storage is removed.
func (s *JobService) Fail(ctx context.Context, t JobTask) (JobTask, error) {
	for range conflictAttempts {
		j, err := s.load(ctx, t)
		if err != nil || j == nil || !j.Active() {
			return s.ended(t, j), err
		}
		failure := t.Failure
		if failure == nil && t.Caught != nil {
			failure = t.Caught.Failure()
		}
		j.Error = cmp.Or(failure, &SpanFailure{Code: EINTERNAL, Message: "the job failed"})
		j.Status = JobFailed
		switch {
		case j.CancelRequested && t.Status.Done():
			// The provider's job ended after the cancel route asked it to
			// stop (a provider without a cancelled state reports it failed).
			j.Status, j.Note = JobCancelled, "cancelled on request: the provider stopped the job"
		case t.Status == JobCancelled:
			j.Status, j.Note = JobCancelled, "cancelled by the provider"
		}
		if !t.Status.Done() {
			if p, err := s.jobProvider(ctx, j); err == nil {
				s.cancelAtProvider(ctx, p, j)
			}
		}
		s.removeStored(ctx, j)
		j.EndedAt, j.UpdatedAt = s.now(), s.now()
		err = s.finish(ctx, j, s.endSpan(j), nil, nil)
		if ErrorCode(err) == ECONFLICT {
			continue // moved meanwhile: look again
		}
		if err != nil {
			return t, err
		}
		return s.task(j, NextDone), nil
	}
	return t, errMoving
}

// finish ends job j (JobStore.FinishJob) and, once it has ended, releases
// the budget hold taken at its submission (the span written with it charged
// the job, or not) and records its outcome in the metrics.
func (s *JobService) finish(ctx context.Context, j *MediaJob, sp *Span, a *Asset, claim *IdempotencyRecord) error {
	if err := s.Jobs.FinishJob(ctx, j, sp, a, claim); err != nil {
		return err
	}
	settle(ctx, s.Media.Budget, j.WorkspaceID, j.SpanID, j.CreatedAt, j.input())
	s.metrics().JobEnded(ctx, j)
	return nil
}

// endSpan is the one span of a job that ended without a video: failed or
// cancelled, uncharged. (Store writes the span of a completed job.)
func (s *JobService) endSpan(j *MediaJob) *Span {
	sp := newSpan(j.WorkspaceID, j.Provider, j.Capability, j.input(), j.SpanID, j.CreatedAt)
	sp.ProviderRequestID = providerRequestID(j.ProviderJobID)
	sp.EndedAt = cmp.Or(j.EndedAt, s.now())
	sp.DurationMs = sp.EndedAt.Sub(sp.StartedAt).Milliseconds()
	sp.Cost = Cost{Currency: s.prices().Currency}
	switch j.Status {
	case JobCancelled:
		sp.Status, sp.Error = SpanCancelled, &SpanFailure{Code: "cancelled", Message: j.Note}
	default:
		sp.Status, sp.Error = SpanError, j.Error
	}
	return sp
}

// providerRequestID is the provider's own job id, without what the client
// added to the handle.
func providerRequestID(handle string) string {
	id, _, _ := strings.Cut(handle, "?")
	return id
}

// task is the workflow document of j after a step.
func (s *JobService) task(j *MediaJob, next string) JobTask {
	return JobTask{WorkspaceID: j.WorkspaceID, JobID: j.ID, Next: next, Status: j.Status, Callback: j.CallbackURL != ""}
}
