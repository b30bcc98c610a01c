package providers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// Config configures one provider client. Only APIKey is needed in production.
type Config struct {
	APIKey string
	// BaseURL replaces the provider's documented base URL (tests, proxies).
	BaseURL string
	// HTTPClient sends every request; nil means DefaultHTTPClient. Its Timeout
	// bounds each attempt, including the reading of a streamed body.
	HTTPClient *http.Client
	// Retry is the retry policy; zero fields take DefaultRetryPolicy's values.
	Retry RetryPolicy
	// PollInterval is how often Generate polls a job it waits for (fal and
	// Replicate images); 0 means DefaultPollInterval.
	PollInterval time.Duration
	// Inputs fetches a caller's input URL for the clients that send the
	// input's bytes (OpenAI, Stability), under the caller's address policy.
	// nil: those clients refuse an input URL, so no client ever fetches a
	// caller's URL with its own HTTP client. The media service hands them
	// bytes and needs none.
	Inputs mediatrail.Downloader
}

// DefaultHTTPClient is used when Config.HTTPClient is nil. Two minutes fits the
// slowest synchronous calls (long TTS, gpt-image-1).
var DefaultHTTPClient = &http.Client{Timeout: 2 * time.Minute}

// DefaultPollInterval is the wait between two polls of a job Generate waits for.
const DefaultPollInterval = time.Second

// syncWait bounds how long Generate waits for a queued job to finish, counted
// in polls so that an injected Sleep keeps the bound.
const syncWait = 5 * time.Minute

// spec is what a client knows of its provider's API before the first request.
type spec struct {
	name       string
	keyEnv     string // environment variable holding the key
	baseEnv    string // environment variable replacing baseURL
	baseURL    string
	authHeader string // header carrying the key...
	authScheme string // ...after this prefix ("Bearer ", "Token ", "Key ", "")
	header     map[string]string
	caps       []mediatrail.Capability
}

// provider is what every client shares: identity, credentials, the HTTP
// plumbing (http.go) and the answers for what a client does not do. Clients
// embed it and override Generate, or Submit, Status and Cancel.
type provider struct {
	spec
	key    string
	http   *http.Client
	retry  RetryPolicy
	poll   time.Duration
	inputs mediatrail.Downloader
}

func newProvider(s spec, cfg Config) *provider {
	p := &provider{spec: s, key: strings.TrimSpace(cfg.APIKey), http: cfg.HTTPClient, retry: cfg.Retry.withDefaults(), poll: cfg.PollInterval,
		inputs: cfg.Inputs}
	if cfg.BaseURL != "" {
		p.baseURL = strings.TrimRight(strings.TrimSpace(cfg.BaseURL), "/")
	}
	if p.http == nil {
		p.http = DefaultHTTPClient
	}
	if p.poll <= 0 {
		p.poll = DefaultPollInterval
	}
	return p
}

func (p *provider) Name() string { return p.name }

// base gives the factory the shared plumbing of any client (Factory.CheckKey).
func (p *provider) base() *provider { return p }

func (p *provider) Capabilities() []mediatrail.Capability { return slices.Clone(p.caps) }

func (p *provider) Generate(_ context.Context, req mediatrail.MediaRequest) (*mediatrail.MediaResult, error) {
	return nil, p.mismatch(req.Capability)
}

func (p *provider) Submit(_ context.Context, req mediatrail.MediaRequest) (mediatrail.Job, error) {
	return mediatrail.Job{}, p.mismatch(req.Capability)
}

func (p *provider) Status(context.Context, string) (mediatrail.Job, error) {
	return mediatrail.Job{}, mediatrail.Invalid("job_id", "provider %s runs no jobs", p.name)
}

func (p *provider) Cancel(context.Context, string) error {
	return mediatrail.Invalid("job_id", "provider %s runs no jobs", p.name)
}

// mismatch explains why c cannot go through the method it was sent to. A
// capability sent to the wrong method is this service's mistake (the media
// service picks the method from the capability), so it is internal: a 500 that
// names no method to the client, never a validation_error.
func (p *provider) mismatch(c mediatrail.Capability) error {
	switch {
	case !slices.Contains(p.caps, c):
		return mediatrail.UnsupportedCapability(p.name, c)
	case c.Async():
		return fmt.Errorf("providers: %s runs as a provider job: call Submit, not Generate", c)
	}
	return fmt.Errorf("providers: %s is synchronous: call Generate, not Submit", c)
}

// check admits a request to Generate (async false) or Submit (async true): a
// capability the provider runs that way, a valid request, a configured key.
func (p *provider) check(req mediatrail.MediaRequest, async bool) error {
	if !slices.Contains(p.caps, req.Capability) || req.Capability.Async() != async {
		return p.mismatch(req.Capability)
	}
	if err := req.Validate(); err != nil {
		return err
	}
	return p.configured()
}

// configured fails when the provider has no key. The provider stays registered
// so that the error names the missing setting instead of calling it unknown.
func (p *provider) configured() error {
	if p.key == "" {
		return mediatrail.Errorf(mediatrail.EUNAVAILABLE, "provider %s is not configured on this server (%s is not set)", p.name, p.keyEnv)
	}
	return nil
}

// redact removes the key from text that came from the provider; some providers
// quote the key they refused.
func (p *provider) redact(s string) string {
	if p.key == "" {
		return s
	}
	return strings.ReplaceAll(s, p.key, "[redacted]")
}

// model is the request's model or the provider's default for the capability.
func model(req mediatrail.MediaRequest, def string) string {
	if m := strings.TrimSpace(req.Model); m != "" {
		return m
	}
	return def
}

var jobIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)

// jobHandle makes a ProviderJobID: the provider's job id, then what Status needs
// and the provider does not report back, as a query (id?model=...).
func jobHandle(id string, extra url.Values) string {
	if len(extra) == 0 {
		return id
	}
	return id + "?" + extra.Encode()
}

// parseHandle undoes jobHandle. The id becomes a URL path segment, so anything
// but a plain token is refused.
func (p *provider) parseHandle(handle string) (string, url.Values, error) {
	id, query, _ := strings.Cut(handle, "?")
	extra, err := url.ParseQuery(query)
	if err != nil || !jobIDPattern.MatchString(id) {
		return "", nil, mediatrail.Invalid("job_id", "%q is not a %s job id", handle, p.name)
	}
	if err := p.configured(); err != nil {
		return "", nil, err
	}
	return id, extra, nil
}

// await polls job through jobs.Status until it is done and returns its result.
// It gives up after syncWait, or when ctx ends, cancelling the job so that it
// stops costing money.
func (p *provider) await(ctx context.Context, jobs mediatrail.Provider, job mediatrail.Job) (*mediatrail.MediaResult, error) {
	var err error
	for polls := 0; !job.State.Done(); polls++ {
		if polls >= int(syncWait/p.poll) || p.retry.Sleep(ctx, p.poll) != nil {
			stop, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			_ = jobs.Cancel(stop, job.ProviderJobID)
			cancel()
			return nil, &mediatrail.ProviderError{Provider: p.name, Code: mediatrail.ProviderTimeout, Message: "the job did not finish in time", RequestID: job.ProviderJobID, Err: ctx.Err()}
		}
		if job, err = jobs.Status(ctx, job.ProviderJobID); err != nil {
			return nil, err
		}
	}
	if job.State == mediatrail.JobCompleted {
		return job.Result, nil
	}
	reason := job.FailureReason
	if reason == "" {
		reason = fmt.Sprintf("the job ended %s", job.State)
	}
	return nil, &mediatrail.ProviderError{Provider: p.name, Code: mediatrail.ProviderJobFailed, Message: p.redact(reason), RequestID: job.ProviderJobID}
}
