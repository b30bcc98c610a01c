package mediatrail

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
)

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
