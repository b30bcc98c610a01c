package mediatrail

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
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
	// idempotency keys, as for synchronous calls: jobs read its exported
	// configuration, with the same defaults, and never its unexported
	// methods.
	Media    *MediaService
	Jobs     JobStore
	Workflow Workflow
	// Outputs downloads finished videos from providers' URLs (the providers'
	// own addresses or public ones), up to Config.MaxBytes.
	Outputs   Downloader
	Callbacks CallbackSender
	Config    JobConfig
}

func (s *JobService) now() time.Time         { return utcNow(s.Media.Now) }
func (s *JobService) logger() *slog.Logger   { return cmp.Or(s.Media.Logger, slog.Default()) }
func (s *JobService) metrics() Metrics       { return metricsOrNone(s.Media.Metrics) }
func (s *JobService) prices() *PriceTable    { return pricesOr(s.Media.Prices) }
func (s *JobService) timeout() time.Duration { return mediaTimeout(s.Media.Timeout) }

// recorder and inputs build, from Media's configuration, the pieces jobs
// share with synchronous calls.
func (s *JobService) recorder() callRecorder {
	return callRecorder{store: s.Media.Store, now: s.now, prices: s.prices(), logger: s.logger(), lease: s.timeout() + leaseMargin}
}

func (s *JobService) inputs() inputLoader {
	return inputLoader{assets: s.Media.Assets, blobs: s.Media.Blobs, urls: s.Media.Inputs}
}

// Submit starts an asynchronous call: it resolves the input, submits the job
// to the provider, records it (completing the idempotency claim with the
// answer to replay) and starts its workflow, and answers {status:
// processing, job_id}. A request the provider refuses leaves an error span
// and releases its key, as a synchronous call does. It is MediaService's
// step after the checks every call shares (tools, budget, idempotency):
// clients call MediaService.Generate.
func (s *JobService) Submit(ctx context.Context, ws string, p Provider, c Capability, in GenerateInput) (*GenerateOutput, error) {
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
	var err error
	if in.IdempotencyKey != "" {
		var held *GenerateOutput
		if claim, held, err = s.recorder().claim(ctx, ws, c, in); err != nil {
			return nil, err
		} else if held != nil {
			return s.Replay(ctx, ws, *held) // the same job, as it is now
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
	span := newSpan(ws, p.Name(), c, in, j.SpanID, now)
	j.TraceID = span.TraceID
	j.RetentionDays, err = s.Media.Retention.Resolve(ctx, ws, in.RetentionDays)
	if err == nil {
		err = providerFailed(ctx, s.Media.Credentials, ws, in.credentialID, s.startAtProvider(ctx, p, j, in))
	}
	if err == nil {
		done := claim.completedWith(&GenerateOutput{Status: "processing", JobID: j.ID})
		if err = s.Jobs.CreateJob(ctx, j, done); err != nil {
			s.cancelAtProvider(ctx, p, j)
		}
	}
	if err != nil {
		s.recorder().recordFailure(ctx, span, claim, err)
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
	ctx, cancel := context.WithTimeout(ctx, s.timeout())
	defer cancel()
	req := MediaRequest{Capability: j.Capability, Model: in.Model, Prompt: in.Prompt, Config: in.Config}
	if in.InputAssetID != "" || in.InputURL != "" {
		var input *MediaInput
		var err error
		if b, ok := p.(InputBytesSubmitter); ok && b.TakesInputBytes() {
			input, err = s.inputs().load(ctx, j.WorkspaceID, in)
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
func (s *JobService) jobProvider(ctx context.Context, j *MediaJob) (Provider, error) {
	creds := s.Media.Credentials
	if j.CredentialID == "" || creds == nil {
		return s.Media.Providers.Get(j.Provider)
	}
	c, err := creds.Get(ctx, j.WorkspaceID, j.CredentialID)
	if IsNotFound(err) {
		return nil, Errorf(ECREDENTIALMISSING, "credential %s of this job was deleted", j.CredentialID).
			With("provider", j.Provider).With("credential_id", j.CredentialID)
	} else if err != nil {
		return nil, err
	}
	return creds.client(ctx, c)
}

// inputURLExpiry is how long a provider may take to fetch an input asset.
const inputURLExpiry = time.Hour

func (s *JobService) jobInput(ctx context.Context, ws string, in GenerateInput) (*MediaInput, error) {
	inputs := s.inputs()
	if in.InputAssetID != "" {
		a, err := inputs.asset(ctx, ws, in.InputAssetID)
		switch {
		case err != nil:
			return nil, err
		case a.Type != AssetImage:
			return nil, Invalid("input_asset_id", "the input must be an image, not %s", a.ContentType)
		}
		req, err := inputs.blobs.PresignGet(ctx, a.StorageKey, GetOptions{
			Expires: inputURLExpiry, Disposition: DispositionInline, FileName: a.FileName, ContentType: a.ContentType,
		})
		if err != nil {
			return nil, err
		}
		return &MediaInput{URL: req.URL, ContentType: a.ContentType, FileName: a.FileName}, nil
	}
	d, err := inputs.urls.Download(ctx, in.InputURL)
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
	if v.AssetURL, err = signedURL(ctx, s.Media.Blobs, a); err != nil {
		return nil, err
	}
	return v, nil
}

// Replay answers a video request again from its idempotency record (out, the
// answer stored when it was submitted): the same job, as it is now.
func (s *JobService) Replay(ctx context.Context, ws string, out GenerateOutput) (*GenerateOutput, error) {
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
			if !j.CancelRequested {
				if err := s.requestCancel(ctx, j, true); ErrorCode(err) == ECONFLICT {
					if j, err = s.Jobs.FindJob(ctx, ws, id); err != nil {
						return nil, err
					}
					continue
				} else if err != nil {
					return nil, err
				}
			}
			ok, text, err := s.cancelJob(ctx, j)
			if err != nil {
				// The job goes on: the request is withdrawn, so that its
				// own outcome is recorded as it comes.
				if werr := s.requestCancel(ctx, j, false); werr != nil && ErrorCode(werr) != ECONFLICT {
					s.logger().Error("withdraw cancel request", "workspace_id", ws, "job_id", id, "err", werr)
				}
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

// requestCancel records (or withdraws) a cancel request on active job j.
// ECONFLICT when the job moved since it was read.
func (s *JobService) requestCancel(ctx context.Context, j *MediaJob, on bool) error {
	j.CancelRequested, j.UpdatedAt = on, s.now()
	return s.Jobs.UpdateJob(ctx, j)
}

// cancelJob asks the provider to stop j and says what came of it.
func (s *JobService) cancelJob(ctx context.Context, j *MediaJob) (stopped bool, note string, err error) {
	p, err := s.jobProvider(ctx, j)
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
	// A refused workspace credential is the caller's to fix (424), as for
	// the call that started the job.
	return false, "", providerFailed(ctx, s.Media.Credentials, j.WorkspaceID, j.CredentialID, err)
}
