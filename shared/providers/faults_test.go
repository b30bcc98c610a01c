package providers_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/providers"
	"github.com/mediatrail/mediatrail/shared/providers/fake"
)

// calls are one request of each provider and each way its client reads an
// answer (streamed media, JSON, job submit).
var calls = []struct {
	name     string
	provider string
	call     func(context.Context, mediatrail.Provider) error
}{
	{"elevenlabs tts", "elevenlabs", generate(ttsRequest())},
	{"elevenlabs stt", "elevenlabs", generate(sttRequest())},
	{"deepgram stt", "deepgram", generate(sttRequest())},
	{"deepgram tts", "deepgram", generate(ttsRequest())},
	{"openai tts", "openai", generate(ttsRequest())},
	{"openai stt", "openai", generate(sttRequest())},
	{"openai image_gen", "openai", generate(imageRequest())},
	{"stability image_gen", "stability", generate(imageRequest())},
	{"fal image_gen", "fal", generate(imageRequest())},
	{"fal video_gen", "fal", submit(videoRequest())},
	{"pika video_gen", "pika", submit(videoRequest())},
	{"replicate image_gen", "replicate", generate(imageRequest())},
	{"replicate video_gen", "replicate", submit(videoRequest())},
	{"runway video_gen", "runway", submit(videoRequest())},
	{"luma video_gen", "luma", submit(videoRequest())},
}

func generate(req mediatrail.MediaRequest) func(context.Context, mediatrail.Provider) error {
	return func(ctx context.Context, p mediatrail.Provider) error {
		res, err := p.Generate(ctx, req)
		if err == nil && res.Body != nil {
			res.Body.Close()
		}
		return err
	}
}

func submit(req mediatrail.MediaRequest) func(context.Context, mediatrail.Provider) error {
	return func(ctx context.Context, p mediatrail.Provider) error {
		_, err := p.Submit(ctx, req)
		return err
	}
}

// TestFaults scripts every documented failure against every call: each ends in
// the right client error, with the provider's request id, the right number of
// attempts and waits, and no API key in the text.
func TestFaults(t *testing.T) {
	type want struct {
		code         string // mediatrail error code; "" means success
		providerCode string // ProviderError.Code
		status       int
		attempts     int
		sleeps       []time.Duration
		requestID    string // "" when no answer arrived; N stands for the fake's name
		message      string // in the client-facing message
		retryAfter   int    // RetryAfterSeconds
	}
	const (
		halfBase = 250 * time.Millisecond // the tests' jitter picks half of the 500 ms ceiling
		any2xx   = -2                     // status: whatever success status the call answers
	)
	tests := []struct {
		name    string
		faults  func(*fake.Server)
		timeout time.Duration
		want    want
	}{
		{
			name:   "400",
			faults: func(s *fake.Server) { s.Fail(1, s.Error(400, "invalid_request", "prompt is too long")) },
			want:   want{code: mediatrail.EINVALID, status: 400, attempts: 1, requestID: "N-req-0001", message: "rejected the request: prompt is too long"},
		},
		{
			name:   "422",
			faults: func(s *fake.Server) { s.Fail(1, s.Error(422, "text", "field required")) },
			want:   want{code: mediatrail.EUNPROCESSABLE, status: 422, attempts: 1, requestID: "N-req-0001", message: "field required"},
		},
		{
			name: "401 quoting the key",
			faults: func(s *fake.Server) {
				s.Fail(1, s.Error(401, "invalid_api_key", "Incorrect API key provided: "+fake.Key))
			},
			want: want{code: mediatrail.EPROVIDER, status: 401, attempts: 1, requestID: "N-req-0001", message: "rejected credentials"},
		},
		{
			name:   "403",
			faults: func(s *fake.Server) { s.Fail(1, s.Error(403, "forbidden", "key disabled")) },
			want:   want{code: mediatrail.EPROVIDER, status: 403, attempts: 1, requestID: "N-req-0001", message: "rejected credentials"},
		},
		{
			name:   "429 then success",
			faults: func(s *fake.Server) { s.Fail(1, s.RateLimit(2*time.Second)) },
			want:   want{attempts: 2, sleeps: []time.Duration{2 * time.Second}},
		},
		{
			name:   "429 exhausted",
			faults: func(s *fake.Server) { s.Fail(4, s.RateLimit(3*time.Second)) },
			want: want{code: mediatrail.ERATELIMITED, status: 429, attempts: 4, sleeps: []time.Duration{3 * time.Second, 3 * time.Second, 3 * time.Second},
				requestID: "N-req-0004", message: "rate limiting", retryAfter: 3},
		},
		{
			name:   "500 then success",
			faults: func(s *fake.Server) { s.Fail(1, s.Error(500, "server_error", "boom")) },
			want:   want{attempts: 2, sleeps: []time.Duration{halfBase}},
		},
		{
			name:   "503 exhausted",
			faults: func(s *fake.Server) { s.Fail(4, s.Error(503, "overloaded", "try later")) },
			want: want{code: mediatrail.EPROVIDER, status: 503, attempts: 4, sleeps: []time.Duration{halfBase, 2 * halfBase, 4 * halfBase},
				requestID: "N-req-0004", message: "failed"},
		},
		{
			name:   "malformed JSON",
			faults: func(s *fake.Server) { s.Fail(4, fake.Fault{Malformed: true}) },
			want:   want{code: mediatrail.EPROVIDER, providerCode: mediatrail.ProviderMalformed, status: 200, attempts: 1, requestID: "N-req-0001", message: "failed"},
		},
		{
			name:   "truncated body",
			faults: func(s *fake.Server) { s.Fail(4, fake.Fault{Truncate: true}) },
			want: want{code: mediatrail.EPROVIDER, providerCode: mediatrail.ProviderTruncated, status: any2xx, attempts: 4, sleeps: []time.Duration{halfBase, 2 * halfBase, 4 * halfBase},
				requestID: "N-req-0004", message: "failed"},
		},
		{
			name:   "truncated once",
			faults: func(s *fake.Server) { s.Fail(1, fake.Fault{Truncate: true}) },
			want:   want{attempts: 2, sleeps: []time.Duration{halfBase}},
		},
		{
			name:   "timeout",
			faults: func(s *fake.Server) { s.Fail(4, fake.Fault{Delay: 5 * time.Second}) },
			// Long enough for every attempt to reach the fake on a loaded
			// machine (each is counted there), far below the fault's delay.
			timeout: 200 * time.Millisecond,
			want: want{code: mediatrail.ETIMEOUT, providerCode: mediatrail.ProviderTimeout, attempts: 4, sleeps: []time.Duration{halfBase, 2 * halfBase, 4 * halfBase},
				message: "did not answer in time"},
		},
	}
	for _, c := range calls {
		for _, tt := range tests {
			t.Run(c.name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				var opts []option
				if tt.timeout != 0 {
					opts = append(opts, withTimeout(tt.timeout))
				}
				e := newEnv(t, c.provider, opts...)
				tt.faults(e.fake)
				err := c.call(context.Background(), e.p)

				w := tt.want
				w.requestID = strings.ReplaceAll(w.requestID, "N-", fakeFor(c.provider)+"-")
				attempts := 0
				for _, r := range e.fake.Requests() {
					if r.Path == e.fake.Requests()[0].Path {
						attempts++
					}
				}
				got := want{attempts: attempts, sleeps: e.clock.Sleeps()}
				if err != nil {
					assertNoKey(t, err)
					pe := providerError(t, err)
					var ce *mediatrail.Error
					if !errors.As(err, &ce) {
						t.Fatalf("no *mediatrail.Error in %v", err)
					}
					got.code, got.status, got.requestID, got.retryAfter = ce.Code, pe.Status, pe.RequestID, ce.RetryAfterSeconds
					if w.status == any2xx && pe.Status/100 == 2 {
						got.status = any2xx
					}
					if w.providerCode != "" {
						got.providerCode = pe.Code
					}
					if strings.Contains(ce.Message, w.message) {
						got.message = w.message
					} else {
						got.message = ce.Message
					}
					wantEqual[any](t, "details.provider", ce.Details["provider"], c.provider)
				}
				wantEqual(t, "outcome", got, w)
			})
		}
	}
}

// TestQuota: an exhausted account is EQUOTA and is not retried, whatever the
// status it comes with.
func TestQuota(t *testing.T) {
	tests := []struct {
		provider string
		status   int
		code     string
	}{
		{"openai", http.StatusTooManyRequests, "insufficient_quota"},
		{"elevenlabs", http.StatusUnauthorized, "quota_exceeded"},
		{"replicate", http.StatusPaymentRequired, "Payment required"},
	}
	for _, tt := range tests {
		t.Run(tt.provider, func(t *testing.T) {
			e := newEnv(t, tt.provider)
			e.fake.Fail(4, e.fake.Error(tt.status, tt.code, "You exceeded your current quota"))
			req := ttsRequest()
			if tt.provider == "replicate" {
				req = imageRequest()
			}
			_, err := e.p.Generate(context.Background(), req)
			wantEqual(t, "code", mediatrail.ErrorCode(err), mediatrail.EQUOTA)
			wantEqual(t, "attempts", len(e.fake.Requests()), 1)
		})
	}
}

// TestModeration: a refused prompt or a withheld output is EUNPROCESSABLE.
func TestModeration(t *testing.T) {
	t.Run("stability 403 content_moderation", func(t *testing.T) {
		e := newEnv(t, "stability")
		e.fake.Fail(1, e.fake.Error(403, "content_moderation", "Your request was flagged by our content moderation system"))
		_, err := e.p.Generate(context.Background(), imageRequest())
		wantEqual(t, "code", mediatrail.ErrorCode(err), mediatrail.EUNPROCESSABLE)
		wantEqual(t, "request id from the body", providerError(t, err).RequestID, "stability-req-0001")
	})
	t.Run("stability CONTENT_FILTERED", func(t *testing.T) {
		e := newEnv(t, "stability")
		e.fake.Fail(1, fake.Fault{Status: 200, Header: http.Header{"Content-Type": {"image/png"}, "Finish-Reason": {"CONTENT_FILTERED"}}, Body: fake.PNG()})
		_, err := e.p.Generate(context.Background(), imageRequest())
		wantEqual(t, "code", mediatrail.ErrorCode(err), mediatrail.EUNPROCESSABLE)
		wantEqual(t, "provider code", providerError(t, err).Code, mediatrail.ProviderFiltered)
	})
	t.Run("openai content_policy_violation", func(t *testing.T) {
		e := newEnv(t, "openai")
		e.fake.Fail(1, e.fake.Error(400, "content_policy_violation", "Your request was rejected by our safety system"))
		_, err := e.p.Generate(context.Background(), imageRequest())
		wantEqual(t, "code", mediatrail.ErrorCode(err), mediatrail.EUNPROCESSABLE)
	})
	t.Run("fal image failed", func(t *testing.T) {
		e := newEnv(t, "fal")
		e.fake.PlanJobs(fake.JobPlan{Failure: "image_url: could not download"})
		_, err := e.p.Generate(context.Background(), imageRequest())
		wantEqual(t, "code", mediatrail.ErrorCode(err), mediatrail.EUNPROCESSABLE)
		wantEqual(t, "message", mediatrail.ErrorMessage(err), "provider fal could not produce the media: prompt: image_url: could not download")
	})
}

// TestErrorShapes: the other documented error bodies still yield the
// provider's message and request id.
func TestErrorShapes(t *testing.T) {
	tests := []struct {
		name, provider string
		fault          fake.Fault
		wantCode       string
		wantMsg        string
		wantRequestID  string
	}{
		{
			name: "deepgram category form", provider: "deepgram",
			fault:    fake.Fault{Status: 400, Body: []byte(`{"category":"INVALID_QUERY_PARAMETER","message":"model nova-9 does not exist","details":"","request_id":"dg-body-id"}`)},
			wantCode: "INVALID_QUERY_PARAMETER", wantMsg: "model nova-9 does not exist", wantRequestID: "deepgram-req-0001",
		},
		{
			name: "replicate throttled", provider: "replicate",
			fault:    fake.Fault{Status: 429, Header: http.Header{"Retry-After": {"0"}}, Body: []byte(`{"detail":"Request was throttled. Expected available in 1 second."}`)},
			wantCode: "", wantMsg: "Request was throttled. Expected available in 1 second.", wantRequestID: "replicate-req-0001",
		},
		{
			name: "fal infrastructure", provider: "fal",
			fault:    fake.Fault{Status: 504, Header: http.Header{"X-Fal-Error-Type": {"request_timeout"}}, Body: []byte(`{"detail":"Request timed out"}`)},
			wantCode: "request_timeout", wantMsg: "Request timed out", wantRequestID: "fal-req-0001",
		},
		{
			name: "plain text", provider: "luma",
			fault:    fake.Fault{Status: 502, Body: []byte("<html>Bad Gateway</html>")},
			wantCode: "", wantMsg: "<html>Bad Gateway</html>", wantRequestID: "luma-req-0001",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.provider, func(c *providers.Config) { c.Retry.MaxAttempts = 1 })
			e.fake.Fail(1, tt.fault)
			var err error
			if tt.provider == "luma" {
				_, err = e.p.Submit(context.Background(), videoRequest())
			} else {
				_, err = e.p.Generate(context.Background(), map[string]mediatrail.MediaRequest{"deepgram": sttRequest(), "replicate": imageRequest(), "fal": imageRequest()}[tt.provider])
			}
			pe := providerError(t, err)
			wantEqual(t, "code", pe.Code, tt.wantCode)
			wantEqual(t, "message", pe.Message, tt.wantMsg)
			wantEqual(t, "request id", pe.RequestID, tt.wantRequestID)
		})
	}
}

// TestRetryAfterDate: a Retry-After given as an HTTP date is waited out
// relative to the policy's clock.
func TestRetryAfterDate(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	e := newEnv(t, "replicate", func(c *providers.Config) { c.Retry.Now = func() time.Time { return now } })
	e.fake.Fail(1, fake.Fault{Status: 429, Header: http.Header{"Retry-After": {now.Add(4 * time.Second).Format(http.TimeFormat)}}, Body: []byte(`{"detail":"Request was throttled."}`)})
	if _, err := e.p.Submit(context.Background(), videoRequest()); err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "sleeps", e.clock.Sleeps(), []time.Duration{4 * time.Second})
}
