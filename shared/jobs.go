package mediatrail

import (
	"bytes"
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"strings"
	"time"

	"github.com/mediatrail/mediatrail/shared/probe"
)

// JobService runs media jobs (videos). The request path submits a job to its
// provider, records it and starts its Workflow; the workflow calls the steps
// Poll, Store, Fail and Notify, each idempotent: a step run twice, or run
// again after a crash, changes nothing more than one run. Jobs of another
// workspace do not exist for a caller (ENOTFOUND).
type JobService struct {
	// Media provides the providers, the inputs, storage, prices and the
	// idempotency keys, as for synchronous calls.
	Media    *MediaService
	Jobs     JobStore
	Workflow Workflow
	// Outputs downloads finished videos from providers' URLs (the providers'
	// own addresses or public ones), up to Config.MaxBytes.
	Outputs   Downloader
	Callbacks CallbackSender
	Config    JobConfig
}

func (s *JobService) now() time.Time       { return s.Media.now() }
func (s *JobService) logger() *slog.Logger { return s.Media.logger() }

// submit starts an asynchronous call: it resolves the input, submits the job
// to the provider, records it (completing the idempotency claim with the
// answer to replay) and starts its workflow, and answers {status:
// processing, job_id}. A request the provider refuses leaves an error span
// and releases its key, as a synchronous call does.
func (s *JobService) submit(ctx context.Context, ws string, p Provider, c Capability, in GenerateInput) (*GenerateOutput, error) {
	if s.Workflow == nil {
		return nil, Errorf(EUNAVAILABLE, "video jobs are not configured on this server (VIDEO_STATE_MACHINE_ARN is not set)")
	}
	// A callback that could only be sent unsigned is refused now rather than
	// silently never sent.
	if in.CallbackURL != "" && s.Config.CallbackSecret == "" {
		return nil, Invalid("callback_url", "callbacks are not configured on this server (CALLBACK_SIGNING_SECRET is not set)")
	}
	// A URL the policy refuses (a private address) is refused now, not
	// found out when the job ends.
	if in.CallbackURL != "" && s.Callbacks != nil {
		if err := s.Callbacks.CheckCallback(ctx, in.CallbackURL); err != nil {
			return nil, err
		}
	}
	var claim *IdempotencyRecord
	var replay *GenerateOutput
	var err error
	if in.IdempotencyKey != "" {
		if claim, replay, err = s.Media.claim(ctx, ws, c, in); err != nil || replay != nil {
			return replay, err
		}
	}
	now := s.now()
	j := &MediaJob{
		ID: NewIDAt(now), WorkspaceID: ws, Status: JobQueued, Capability: c, Provider: p.Name(), Model: in.Model,
		Prompt: in.Prompt, InputAssetID: in.InputAssetID, InputURL: withoutQuery(in.InputURL), Config: in.Config,
		ExecutionID: in.ExecutionID, AgentID: in.AgentID, ParentSpanID: in.ParentSpanID, SessionID: in.SessionID, CallbackURL: in.CallbackURL, SpanID: cmp.Or(in.spanID, NewIDAt(now)),
		ToolID: in.ToolID, CredentialID: in.credentialID,
		CreatedAt: now, UpdatedAt: now, DeadlineAt: now.Add(cmp.Or(s.Config.Deadline, DefaultJobDeadline)),
	}
	if in.CallbackURL != "" {
		j.Callback = &CallbackDelivery{Status: CallbackPending}
	}
	span := s.Media.newSpan(ws, p.Name(), c, in, j.SpanID, now)
	j.TraceID = span.TraceID
	j.RetentionDays, err = s.Media.Retention.Resolve(ctx, ws, in.RetentionDays)
	if err == nil {
		err = s.Media.providerFailed(ctx, ws, in.credentialID, s.startAtProvider(ctx, p, j, in))
	}
	if err == nil {
		done := claim.completedWith(&GenerateOutput{Status: "processing", JobID: j.ID})
		if err = s.Jobs.CreateJob(ctx, j, done); err != nil {
			s.cancelAtProvider(ctx, p, j)
		}
	}
	if err != nil {
		s.Media.recordFailure(ctx, span, claim, err)
		return nil, err
	}
	if err := s.Workflow.Start(ctx, s.task(j, "")); err != nil {
		s.logger().Error("start job workflow", "workspace", ws, "job", j.ID, "err", err)
		return nil, s.abandon(ctx, p, j, claim, Errorf(EUNAVAILABLE, "the job could not be started; try again"))
	}
	return &GenerateOutput{Status: "processing", JobID: j.ID}, nil
}

// startAtProvider resolves the input and submits the job. Providers fetch a
// video's input themselves: an input asset goes to them as a signed URL of
// our copy, a caller's URL as given once we have checked that it answers an
// image from a public address (the same policy as for synchronous inputs).
// A provider that runs here (InputBytesSubmitter: local) fetches nothing: it
// gets the input's bytes, loaded as for a synchronous call.
func (s *JobService) startAtProvider(ctx context.Context, p Provider, j *MediaJob, in GenerateInput) error {
	ctx, cancel := context.WithTimeout(ctx, s.Media.timeout())
	defer cancel()
	req := MediaRequest{Capability: j.Capability, Model: in.Model, Prompt: in.Prompt, Config: in.Config}
	if in.InputAssetID != "" || in.InputURL != "" {
		var input *MediaInput
		var err error
		if b, ok := p.(InputBytesSubmitter); ok && b.TakesInputBytes() {
			input, err = (&mediaCall{MediaService: s.Media, ws: j.WorkspaceID, in: in}).input(ctx)
			if err == nil && !strings.HasPrefix(input.ContentType, "image/") {
				err = Invalid("input_url", "the input must be an image, not %s", input.ContentType)
			}
		} else {
			input, err = s.jobInput(ctx, j.WorkspaceID, in)
		}
		if err != nil {
			return err
		}
		req.Input = input
	}
	pj, err := p.Submit(ctx, req)
	if err != nil {
		return err
	}
	j.ProviderJobID = pj.ProviderJobID
	return nil
}

// jobProvider is the client a job's later provider calls (poll, store,
// cancel) use: with the credential the job was submitted with, else the
// deployment's.
func (s *MediaService) jobProvider(ctx context.Context, j *MediaJob) (Provider, error) {
	if j.CredentialID == "" || s.Credentials == nil {
		return s.Providers.Get(j.Provider)
	}
	c, err := s.Credentials.Get(ctx, j.WorkspaceID, j.CredentialID)
	if IsNotFound(err) {
		return nil, Errorf(ECREDENTIALMISSING, "credential %s of this job was deleted", j.CredentialID).
			With("provider", j.Provider).With("credential_id", j.CredentialID)
	} else if err != nil {
		return nil, err
	}
	return s.Credentials.client(ctx, c)
}

// inputURLExpiry is how long a provider may take to fetch an input asset.
const inputURLExpiry = time.Hour

func (s *JobService) jobInput(ctx context.Context, ws string, in GenerateInput) (*MediaInput, error) {
	if in.InputAssetID != "" {
		a, err := s.Media.inputAsset(ctx, ws, in.InputAssetID)
		switch {
		case err != nil:
			return nil, err
		case a.Type != AssetImage:
			return nil, Invalid("input_asset_id", "the input must be an image, not %s", a.ContentType)
		}
		req, err := s.Media.Blobs.PresignGet(ctx, a.StorageKey, GetOptions{
			Expires: inputURLExpiry, Disposition: DispositionInline, FileName: a.FileName, ContentType: a.ContentType,
		})
		if err != nil {
			return nil, err
		}
		return &MediaInput{URL: req.URL, ContentType: a.ContentType, FileName: a.FileName}, nil
	}
	d, err := s.Media.Inputs.Download(ctx, in.InputURL)
	if err != nil {
		return nil, err
	}
	defer d.Body.Close()
	head := make([]byte, 4096)
	n, _ := io.ReadFull(d.Body, head)
	info, _ := probe.Inspect(bytes.NewReader(head[:n]), int64(n))
	if !strings.HasPrefix(info.ContentType, "image/") {
		return nil, Invalid("input_url", "input_url must answer an image, not %s", info.ContentType)
	}
	return &MediaInput{URL: in.InputURL, ContentType: info.ContentType}, nil
}

// abandon ends a job that was recorded but could not be started: failed,
// its span written, its key released (retrying runs it anew) and the
// provider's job cancelled.
func (s *JobService) abandon(ctx context.Context, p Provider, j *MediaJob, claim *IdempotencyRecord, cause *Error) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
	defer cancel()
	s.cancelAtProvider(ctx, p, j)
	j.Status, j.Error = JobFailed, &SpanFailure{Code: cause.Code, Message: cause.Message}
	if err := s.finish(ctx, j, s.endSpan(j), nil, claim); err != nil {
		s.logger().Error("record abandoned job", "workspace", j.WorkspaceID, "job", j.ID, "err", err)
	}
	return cause
}

// finish ends job j (JobStore.FinishJob) and, once it has ended, releases
// the budget hold taken at its submission (the span written with it charged
// the job, or not) and records its outcome in the metrics.
func (s *JobService) finish(ctx context.Context, j *MediaJob, sp *Span, a *Asset, claim *IdempotencyRecord) error {
	if err := s.Jobs.FinishJob(ctx, j, sp, a, claim); err != nil {
		return err
	}
	s.Media.settle(ctx, j.WorkspaceID, j.SpanID, j.CreatedAt, j.input())
	s.Media.metrics().JobEnded(ctx, j)
	return nil
}

// cancelAtProvider asks the provider to stop a job, best effort: it runs
// even when ctx is done, and its failure (Luma cannot cancel) is only logged.
func (s *JobService) cancelAtProvider(ctx context.Context, p Provider, j *MediaJob) {
	if j.ProviderJobID == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
	defer cancel()
	if err := p.Cancel(ctx, j.ProviderJobID); err != nil && ErrorCode(err) != EINVALID {
		s.logger().Warn("cancel job at provider", "workspace", j.WorkspaceID, "job", j.ID, "provider", p.Name(), "err", err)
	}
}

// task is the workflow document of j after a step.
func (s *JobService) task(j *MediaJob, next string) JobTask {
	return JobTask{WorkspaceID: j.WorkspaceID, JobID: j.ID, Next: next, Status: j.Status, Callback: j.CallbackURL != ""}
}

// Get returns the caller's job. ENOTFOUND for an unknown id or another
// workspace's job.
func (s *JobService) Get(ctx context.Context, ws, id string) (*JobView, error) {
	j, err := s.find(ctx, ws, id)
	if err != nil {
		return nil, err
	}
	return s.view(ctx, j)
}

func (s *JobService) find(ctx context.Context, ws, id string) (*MediaJob, error) {
	if !ValidID(id) {
		return nil, Errorf(ENOTFOUND, "job not found")
	}
	return s.Jobs.FindJob(ctx, ws, id)
}

// summary is what the API says of j without reading anything else: the
// job list's rows, and view's start.
func summary(j *MediaJob) *JobView {
	v := &JobView{
		ID: j.ID, JobID: j.ID, Status: j.Status, MediaType: j.Capability, Provider: j.Provider, Model: j.Model,
		Prompt: j.Prompt, ExecutionID: j.ExecutionID, AgentID: j.AgentID, TraceID: j.TraceID, Progress: j.Progress,
		Polls: j.Polls, SpanID: j.SpanID, Cost: j.Cost, Error: j.Error, Message: j.Note, CallbackURL: withoutQuery(j.CallbackURL),
		Callback:  j.Callback,
		CreatedAt: j.CreatedAt.UTC(), UpdatedAt: j.UpdatedAt.UTC(), DeadlineAt: j.DeadlineAt.UTC(),
	}
	if !j.EndedAt.IsZero() {
		t := j.EndedAt.UTC()
		v.CompletedAt = &t
	}
	if j.Status == JobCompleted {
		v.AssetID = j.AssetID
	}
	return v
}

// view is what the API says of j: with its asset and a fresh signed URL of
// it once completed.
func (s *JobService) view(ctx context.Context, j *MediaJob) (*JobView, error) {
	v := summary(j)
	if j.Status != JobCompleted {
		return v, nil
	}
	a, err := s.Media.Assets.FindAsset(ctx, j.WorkspaceID, j.AssetID)
	switch {
	case IsNotFound(err) || err == nil && a.Status != StatusReady:
		return v, nil // deleted since
	case err != nil:
		return nil, err
	}
	v.Asset = a
	if v.AssetURL, err = s.Media.signedURL(ctx, a); err != nil {
		return nil, err
	}
	return v, nil
}

// replay answers a video request again from its idempotency record: the
// same job, as it is now.
func (s *JobService) replay(ctx context.Context, ws string, out GenerateOutput) (*GenerateOutput, error) {
	out.Replayed = true
	j, err := s.Jobs.FindJob(ctx, ws, out.JobID)
	if err != nil {
		return nil, err
	}
	v, err := s.view(ctx, j)
	if err != nil {
		return nil, err
	}
	out.Status = string(v.Status)
	if v.Status == JobQueued {
		out.Status = string(JobProcessing)
	}
	out.SpanID, out.Cost = j.SpanID, j.Cost
	if v.Asset != nil {
		out.AssetID, out.AssetURL, out.ContentType, out.Metadata = v.AssetID, v.AssetURL, v.Asset.ContentType, v.Asset.Metadata
	}
	return &out, nil
}

// Cancel stops the caller's job: at the provider when it can (Luma cannot:
// the job is then cancelled here only, its result discarded, and the answer
// says so), and here, where its span is written uncharged. Cancelling a
// cancelled job answers it again; a completed or failed one is ECONFLICT.
func (s *JobService) Cancel(ctx context.Context, ws, id string) (*JobView, error) {
	j, err := s.find(ctx, ws, id)
	if err != nil {
		return nil, err
	}
	// stopped says whether the provider stopped the job, once it was asked
	// (once: a retry after a concurrent change asks it no more).
	var stopped *bool
	var note string
	answer := func(j *MediaJob) (*JobView, error) {
		v, err := s.view(ctx, j)
		if err == nil {
			v.ProviderCancelled = stopped
		}
		return v, err
	}
	for range conflictAttempts {
		switch {
		case j.Status == JobCancelled:
			return answer(j) // again, or the workflow saw the provider's cancellation first
		case !j.Active():
			return nil, jobEnded(j)
		}
		if stopped == nil {
			ok, text, err := s.cancelJob(ctx, j)
			if err != nil {
				return nil, err
			}
			stopped, note = &ok, text
		}
		j.Status, j.Note, j.EndedAt = JobCancelled, note, s.now()
		err = s.finish(ctx, j, s.endSpan(j), nil, nil)
		if ErrorCode(err) == ECONFLICT {
			if j, err = s.Jobs.FindJob(ctx, ws, id); err != nil {
				return nil, err
			}
			continue // a step moved first: look again
		}
		if err != nil {
			return nil, err
		}
		return answer(j)
	}
	return nil, Conflict("", "the job is changing; try again").RetryAfter(1)
}

// cancelJob asks the provider to stop j and says what came of it.
func (s *JobService) cancelJob(ctx context.Context, j *MediaJob) (stopped bool, note string, err error) {
	p, err := s.Media.jobProvider(ctx, j)
	if err != nil {
		return false, "", err
	}
	err = p.Cancel(ctx, j.ProviderJobID)
	switch ErrorCode(err) {
	case "":
		return true, fmt.Sprintf("cancelled at provider %s", p.Name()), nil
	case EINVALID: // the provider has no cancellation (Luma)
		return false, fmt.Sprintf("provider %s cannot cancel a job: it was cancelled here only and its result will be discarded (the provider may still charge for it)", p.Name()), nil
	case ECONFLICT: // the provider finished first
		return false, fmt.Sprintf("provider %s had already finished the job: it was cancelled here and its result discarded", p.Name()), nil
	}
	return false, "", err
}

// endSpan is the one span of a job that ended without a video: failed or
// cancelled, uncharged. (Store writes the span of a completed job.)
func (s *JobService) endSpan(j *MediaJob) *Span {
	sp := s.Media.newSpan(j.WorkspaceID, j.Provider, j.Capability, j.input(), j.SpanID, j.CreatedAt)
	sp.ProviderRequestID = providerRequestID(j.ProviderJobID)
	sp.EndedAt = cmp.Or(j.EndedAt, s.now())
	sp.DurationMs = sp.EndedAt.Sub(sp.StartedAt).Milliseconds()
	sp.Cost = Cost{Currency: s.Media.prices().Currency}
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
	p, err := s.Media.jobProvider(ctx, j)
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
	p, err := s.Media.jobProvider(ctx, j)
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
	call := &mediaCall{
		MediaService: s.Media, ws: j.WorkspaceID, provider: p, capability: j.Capability, in: in,
		span:      s.Media.newSpan(j.WorkspaceID, p.Name(), j.Capability, in, j.SpanID, j.CreatedAt),
		assetID:   j.AssetID,
		outputs:   s.Outputs,
		maxBytes:  cmp.Or(s.Config.MaxBytes, DefaultMaxVideoBytes),
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
		if t.Status == JobCancelled {
			j.Status, j.Note = JobCancelled, "cancelled by the provider"
		}
		if !t.Status.Done() {
			if p, err := s.Media.jobProvider(ctx, j); err == nil {
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

// CallbackBody is what a callback delivers: the event and the job as GET
// /api/v1/media/jobs/{id} answers it.
type CallbackBody struct {
	Event string   `json:"event"` // job.completed, job.failed, job.cancelled
	Data  *JobView `json:"data"`
}

// Notify posts the ended job to its callback URL, signed: header
// X-Mediatrail-Signature: sha256=<hex HMAC-SHA256 of the body under the
// callback secret>. Delivery is at least once; the workflow retries
// failures (refused addresses and 4xx answers other than 408 and 429 are not
// retried). Every attempt is recorded on the job (JobStore.RecordCallback):
// delivered, retrying, or failed when it is not retried or was the last.
func (s *JobService) Notify(ctx context.Context, t JobTask) (JobTask, error) {
	j, err := s.load(ctx, t)
	if err != nil || j == nil {
		return s.ended(t, j), err
	}
	out := s.task(j, NextDone)
	if j.CallbackURL == "" || j.Active() {
		return out, nil
	}
	if j.Callback != nil && j.Callback.Status == CallbackDelivered {
		return out, nil // a duplicate run: delivered already
	}
	if s.Config.CallbackSecret == "" || s.Callbacks == nil {
		return t, s.recordCallback(ctx, j, &StepError{Code: EUNAVAILABLE, Message: "callbacks are not configured on this server (CALLBACK_SIGNING_SECRET is not set)"})
	}
	v, err := s.view(ctx, j)
	if err != nil {
		return t, err
	}
	v.Callback = nil // what the receiver is being told is its own delivery
	body, err := json.Marshal(CallbackBody{Event: "job." + string(j.Status), Data: v})
	if err != nil {
		return t, err
	}
	status, err := postCallback(ctx, s.Callbacks, s.Config.CallbackSecret, j.CallbackURL, "job."+string(j.Status), body,
		map[string]string{"X-Mediatrail-Job-Id": j.ID})
	var failure *StepError
	switch {
	case ErrorCode(err) == EINVALID:
		failure = &StepError{Code: EINVALID, Message: ErrorMessage(err), Err: err}
	case err != nil:
		failure = &StepError{Code: EUNAVAILABLE, Message: "the callback URL could not be reached", Retryable: true, Err: err}
	case status < 200 || status >= 300:
		retry := status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500
		failure = &StepError{Code: EUNPROCESSABLE, Message: fmt.Sprintf("the callback URL answered HTTP %d", status), Retryable: retry}
	}
	if err := s.recordCallback(ctx, j, failure); err != nil {
		return t, err
	}
	return out, nil
}

// recordCallback records an attempt to deliver j's callback, which failed
// unless failure is nil, and returns failure (nil when delivered). A failure
// of the recording itself is logged only: the delivery matters more than
// its record.
func (s *JobService) recordCallback(ctx context.Context, j *MediaJob, failure *StepError) error {
	now := s.now()
	d := &CallbackDelivery{Status: CallbackDelivered, LastAttemptAt: &now}
	if j.Callback != nil {
		d.Attempts = j.Callback.Attempts
	}
	d.Attempts++
	switch {
	case failure == nil:
		d.DeliveredAt = &now
	case failure.Retryable && d.Attempts < MaxCallbackAttempts:
		d.Status, d.LastError = CallbackRetrying, failure.Message
	default:
		d.Status, d.LastError = CallbackFailed, failure.Message
	}
	if err := s.Jobs.RecordCallback(ctx, j.WorkspaceID, j.ID, d); err != nil {
		s.logger().Error("record callback delivery", "workspace", j.WorkspaceID, "job", j.ID, "err", err)
	}
	if failure == nil {
		return nil
	}
	return failure
}

// postCallback posts the JSON body of event to rawURL through sender, signed
// under secret (SignCallback) with the event named in X-Mediatrail-Event and
// extra headers: the one way every signed callback leaves the server (job
// results, budget alerts).
func postCallback(ctx context.Context, sender CallbackSender, secret, rawURL, event string, body []byte, extra map[string]string) (int, error) {
	header := map[string]string{
		"Content-Type":          "application/json",
		CallbackSignatureHeader: SignCallback(secret, body),
		"X-Mediatrail-Event":    event,
	}
	maps.Copy(header, extra)
	return sender.Post(ctx, rawURL, header, body)
}

// SignCallback is the X-Mediatrail-Signature value of body:
// "sha256=" + hex HMAC-SHA256(secret, body). Receivers compute the same over
// the raw body and compare in constant time.
func SignCallback(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}
