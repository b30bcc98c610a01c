package mediatrail_test

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"io"
	"strings"
	"testing"
	"time"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/memory"
)

// Media the studio answers, as the probe recognises them.
var (
	pngBytes = func() []byte {
		var b bytes.Buffer
		if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 4, 3))); err != nil {
			panic(err)
		}
		return b.Bytes()
	}()
	wavBytes  = []byte("RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x40\x1f\x00\x00\x80\x3e\x00\x00\x02\x00\x10\x00data\x00\x00\x00\x00")
	webmBytes = []byte("\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04\x42\xf3\x81\x08\x42\x82\x84webm\x42\x87\x81\x04\x42\x85\x81\x02")
)

// studio is a provider of every capability whose answers the test scripts.
type studio struct {
	result  func(mediatrail.MediaRequest) (*mediatrail.MediaResult, error)
	submit  error
	status  mediatrail.Job
	cancels int
	got     []mediatrail.MediaRequest
}

func (p *studio) Name() string { return "studio" }
func (p *studio) Capabilities() []mediatrail.Capability {
	return []mediatrail.Capability{mediatrail.CapabilityTTS, mediatrail.CapabilitySTT, mediatrail.CapabilityImageGen,
		mediatrail.CapabilityImageEdit, mediatrail.CapabilityVideoGen, mediatrail.CapabilityVideoFromImage}
}
func (p *studio) Generate(_ context.Context, req mediatrail.MediaRequest) (*mediatrail.MediaResult, error) {
	p.got = append(p.got, req)
	if p.result != nil {
		return p.result(req)
	}
	switch req.Capability {
	case mediatrail.CapabilityTTS:
		return body(wavBytes, "audio/wav"), nil
	case mediatrail.CapabilitySTT:
		return &mediatrail.MediaResult{Text: "hello", DurationSeconds: 1.5}, nil
	}
	return body(pngBytes, "image/png"), nil
}
func (p *studio) Submit(_ context.Context, req mediatrail.MediaRequest) (mediatrail.Job, error) {
	p.got = append(p.got, req)
	return mediatrail.Job{ProviderJobID: "task-1", State: mediatrail.JobQueued}, p.submit
}
func (p *studio) Status(context.Context, string) (mediatrail.Job, error) { return p.status, nil }
func (p *studio) Cancel(context.Context, string) error                   { p.cancels++; return nil }
func (p *studio) Get(string) (mediatrail.Provider, error)                { return p, nil }

// ConfigKeys: the studio takes quality and size (mediatrail.ConfigKeyed).
func (p *studio) ConfigKeys(mediatrail.Capability) []string { return []string{"quality", "size"} }

func body(b []byte, ct string) *mediatrail.MediaResult {
	return &mediatrail.MediaResult{Body: io.NopCloser(bytes.NewReader(b)), ContentType: ct, RequestID: "req-1", Model: "m1",
		Metadata: map[string]any{"seed": 7, "source": "https://provider.example/x"}}
}

// fetcher is a Downloader answering fixed bodies by URL.
type fetcher map[string][]byte

func (f fetcher) Download(_ context.Context, u string) (*mediatrail.Download, error) {
	base, _, _ := strings.Cut(u, "?")
	b, ok := f[base]
	if !ok {
		return nil, mediatrail.Invalid("input_url", "unreachable")
	}
	return &mediatrail.Download{Body: io.NopCloser(bytes.NewReader(b)), Size: int64(len(b))}, nil
}

// workflow records the jobs started; err fails Start.
type workflow struct {
	started []mediatrail.JobTask
	err     error
}

func (w *workflow) Start(_ context.Context, t mediatrail.JobTask) error {
	w.started = append(w.started, t)
	return w.err
}

// studioSetup is a MediaService (with jobs) over fresh in-memory stores.
type studioSetup struct {
	media *mediatrail.MediaService
	jobs  *memory.Jobs
	flow  *workflow
	p     *studio
	store *memory.Store
	blobs *memory.Blobs
}

func newStudio() *studioSetup {
	_, store, blobs := assets()
	p := &studio{}
	x := &studioSetup{jobs: &memory.Jobs{Store: store}, flow: &workflow{}, p: p, store: store, blobs: blobs}
	web := fetcher{"https://in.example/a.png": pngBytes, "https://out.example/v.webm": webmBytes, "https://in.example/script.txt": []byte("read me")}
	x.media = &mediatrail.MediaService{Providers: p, Store: store, Assets: store, Blobs: blobs, Inputs: web, Outputs: web,
		Retention: &mediatrail.RetentionService{Store: store}, Now: fixedNow}
	x.media.Jobs = &mediatrail.JobService{Media: x.media, Jobs: x.jobs, Workflow: x.flow, Outputs: web,
		Config: mediatrail.JobConfig{CallbackSecret: "s3cret"}}
	return x
}

// input stores a ready input asset of the given bytes and content type.
func (x *studioSetup) input(t *testing.T, data []byte, ct string) *mediatrail.Asset {
	a := asset(t, x.store, x.blobs, "ws-a", mediatrail.StatusReady, time.Hour, false)
	a.ContentType, a.FileSize, a.Type = ct, int64(len(data)), mediatrail.AssetTypeFor(ct)
	x.store.PutAsset(a)
	x.blobs.Set(a.StorageKey, memory.Blob{Data: data, ContentType: ct})
	return a
}

// TestGenerateStoresEachCapability: a synchronous call stores its output
// under a new ready asset with its completed span, and answers a signed URL.
func TestGenerateStoresEachCapability(t *testing.T) {
	for _, tc := range []struct {
		name  string
		c     mediatrail.Capability
		in    func(*testing.T, *studioSetup) mediatrail.GenerateInput
		ct    string
		text  string
		sent  string // the prompt the provider got
		input string // the content type of the input it got
	}{
		{name: "image", c: mediatrail.CapabilityImageGen, ct: "image/png", sent: "a cat",
			in: func(*testing.T, *studioSetup) mediatrail.GenerateInput {
				return mediatrail.GenerateInput{Prompt: "a cat"}
			}},
		{name: "image edit of an asset", c: mediatrail.CapabilityImageEdit, ct: "image/png", sent: "bluer", input: "image/png",
			in: func(t *testing.T, x *studioSetup) mediatrail.GenerateInput {
				return mediatrail.GenerateInput{Prompt: "bluer", InputAssetID: x.input(t, pngBytes, "image/png").ID}
			}},
		{name: "image edit of a URL", c: mediatrail.CapabilityImageEdit, ct: "image/png", sent: "bluer", input: "image/png",
			in: func(*testing.T, *studioSetup) mediatrail.GenerateInput {
				return mediatrail.GenerateInput{Prompt: "bluer", InputURL: "https://in.example/a.png?sig=1"}
			}},
		{name: "speech", c: mediatrail.CapabilityTTS, ct: "audio/wav", sent: "hello",
			in: func(*testing.T, *studioSetup) mediatrail.GenerateInput {
				return mediatrail.GenerateInput{Prompt: "hello"}
			}},
		{name: "speech of a text file", c: mediatrail.CapabilityTTS, ct: "audio/wav", sent: "read me",
			in: func(*testing.T, *studioSetup) mediatrail.GenerateInput {
				return mediatrail.GenerateInput{InputURL: "https://in.example/script.txt"}
			}},
		{name: "transcript", c: mediatrail.CapabilitySTT, ct: "application/json", text: "hello", input: "audio/wav",
			in: func(t *testing.T, x *studioSetup) mediatrail.GenerateInput {
				return mediatrail.GenerateInput{InputAssetID: x.input(t, wavBytes, "audio/wav").ID}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := newStudio()
			in := tc.in(t, x)
			in.Provider, in.ExecutionID, in.SessionID, in.Config = "studio", "exec-1", "chat-1", map[string]any{"quality": "hd"}
			out, err := x.media.Generate(context.Background(), "ws-a", tc.c, in)
			if err != nil {
				t.Fatal(err)
			}
			if out.Status != "completed" || out.ContentType != tc.ct || out.TextOutput != tc.text || !strings.HasPrefix(out.AssetURL, "mem://") {
				t.Fatalf("answer %+v", out)
			}
			if _, ok := out.Metadata["source"]; ok {
				t.Error("a provider URL was kept in the metadata")
			}
			a := x.store.Asset("ws-a", out.AssetID)
			if a == nil || a.Status != mediatrail.StatusReady || !x.blobs.Has(a.StorageKey) || a.SpanID != out.SpanID {
				t.Fatalf("asset %+v", a)
			}
			spans := x.store.Spans()
			if len(spans) != 1 || spans[0].Status != mediatrail.SpanCompleted || spans[0].AssetID != a.ID || spans[0].TraceID != "exec-1" || spans[0].SessionID != "chat-1" {
				t.Fatalf("spans %+v", spans)
			}
			req := x.p.got[0]
			if req.Prompt != tc.sent || (req.Input == nil) != (tc.input == "") || req.Input != nil && req.Input.ContentType != tc.input {
				t.Errorf("provider got prompt %q, input %+v", req.Prompt, req.Input)
			}
		})
	}
}

// TestGenerateFailures: a call that fails leaves an error span, no asset
// and no blob, and answers the client-facing error.
func TestGenerateFailures(t *testing.T) {
	answer := func(r *mediatrail.MediaResult, err error) func(mediatrail.MediaRequest) (*mediatrail.MediaResult, error) {
		return func(mediatrail.MediaRequest) (*mediatrail.MediaResult, error) { return r, err }
	}
	for _, tc := range []struct {
		name   string
		c      mediatrail.Capability
		in     func(*testing.T, *studioSetup) mediatrail.GenerateInput
		result func(mediatrail.MediaRequest) (*mediatrail.MediaResult, error)
		fail   func(string) error
		code   string
		spans  int
	}{
		{name: "provider refuses", result: answer(nil, &mediatrail.ProviderError{Provider: "studio", Status: 400, Message: "no"}), code: mediatrail.EINVALID, spans: 1},
		{name: "provider down", result: answer(nil, &mediatrail.ProviderError{Provider: "studio", Status: 503}), code: mediatrail.EPROVIDER, spans: 1},
		{name: "empty answer", result: answer(body(nil, "image/png"), nil), code: mediatrail.EPROVIDER, spans: 1},
		{name: "not an image", result: answer(body(wavBytes, "image/png"), nil), code: mediatrail.EPROVIDER, spans: 1},
		{name: "no media", result: answer(&mediatrail.MediaResult{}, nil), code: mediatrail.EPROVIDER, spans: 1},
		{name: "output URL unreachable", result: answer(&mediatrail.MediaResult{URL: "https://gone.example/x"}, nil), code: mediatrail.EPROVIDER, spans: 1},
		{name: "output by URL", result: answer(&mediatrail.MediaResult{URL: "https://in.example/a.png"}, nil)},
		{name: "recording fails: the blob goes", fail: failOn("RecordMedia", -1, errBoom), code: mediatrail.EINTERNAL, spans: 1},
		{name: "recording the failure fails too", fail: func(op string) error {
			if op == "RecordMedia" || op == "RecordFailure" {
				return errBoom
			}
			return nil
		}, code: mediatrail.EINTERNAL},
		{name: "input asset pending", c: mediatrail.CapabilityImageEdit, code: mediatrail.ECONFLICT, spans: 1,
			in: func(t *testing.T, x *studioSetup) mediatrail.GenerateInput {
				a := asset(t, x.store, x.blobs, "ws-a", mediatrail.StatusPending, 0, true)
				return mediatrail.GenerateInput{Prompt: "p", InputAssetID: a.ID}
			}},
		{name: "input asset deleted", c: mediatrail.CapabilityImageEdit, code: mediatrail.ENOTFOUND, spans: 1,
			in: func(t *testing.T, x *studioSetup) mediatrail.GenerateInput {
				a := asset(t, x.store, x.blobs, "ws-a", mediatrail.StatusDeleted, 0, true)
				return mediatrail.GenerateInput{Prompt: "p", InputAssetID: a.ID}
			}},
		{name: "input empty", c: mediatrail.CapabilityImageEdit, code: mediatrail.EINVALID, spans: 1,
			in: func(t *testing.T, x *studioSetup) mediatrail.GenerateInput {
				return mediatrail.GenerateInput{Prompt: "p", InputAssetID: x.input(t, nil, "image/png").ID}
			}},
		{name: "speech of an image", c: mediatrail.CapabilityTTS, code: mediatrail.EINVALID, spans: 1,
			in: func(t *testing.T, x *studioSetup) mediatrail.GenerateInput {
				return mediatrail.GenerateInput{InputAssetID: x.input(t, pngBytes, "image/png").ID}
			}},
		{name: "speech of blank text", c: mediatrail.CapabilityTTS, code: mediatrail.EINVALID, spans: 1,
			in: func(t *testing.T, x *studioSetup) mediatrail.GenerateInput {
				return mediatrail.GenerateInput{InputAssetID: x.input(t, []byte("  \n"), "text/plain").ID}
			}},
		{name: "unreachable input", c: mediatrail.CapabilityImageEdit, code: mediatrail.EINVALID, spans: 1,
			in: func(*testing.T, *studioSetup) mediatrail.GenerateInput {
				return mediatrail.GenerateInput{Prompt: "p", InputURL: "https://nowhere.example/a.png"}
			}},
		{name: "tool_id without tools", code: mediatrail.EUNAVAILABLE,
			in: func(*testing.T, *studioSetup) mediatrail.GenerateInput {
				return mediatrail.GenerateInput{Prompt: "p", ToolID: mediatrail.NewIDAt(clock)}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := newStudio()
			x.p.result = tc.result
			in := mediatrail.GenerateInput{Prompt: "a cat"}
			if tc.in != nil {
				in = tc.in(t, x)
			}
			in.Provider = "studio"
			before := len(x.blobs.Keys())
			x.store.Fail = tc.fail
			out, err := x.media.Generate(context.Background(), "ws-a", cmpOr(tc.c, mediatrail.CapabilityImageGen), in)
			wantCode(t, err, tc.code)
			x.store.Fail = nil
			spans := x.store.Spans()
			if len(spans) != max(tc.spans, map[bool]int{true: 1}[tc.code == ""]) {
				t.Fatalf("%d spans, want %d", len(spans), tc.spans)
			}
			if tc.code == "" {
				if x.store.Asset("ws-a", out.AssetID) == nil {
					t.Error("no asset")
				}
				return
			}
			if len(x.blobs.Keys()) != before {
				t.Errorf("blobs %v left", x.blobs.Keys())
			}
			if tc.spans > 0 && (spans[0].Status != mediatrail.SpanError || spans[0].Error.Code != tc.code || spans[0].AssetID != "" || spans[0].Cost.Amount != 0) {
				t.Errorf("span %+v", spans[0])
			}
		})
	}
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// TestIdempotencyDecisions: a key completed answers the first call again;
// a key in flight is a 409 with Retry-After until its lease ends, when
// another request takes it over; another request under the key is a 409.
func TestIdempotencyDecisions(t *testing.T) {
	ctx := context.Background()
	in := mediatrail.GenerateInput{Provider: "studio", Prompt: "a cat", IdempotencyKey: "k-1"}
	for _, tc := range []struct {
		name    string
		prepare func(*studioSetup, *mediatrail.GenerateOutput)
		in      mediatrail.GenerateInput
		code    string
		replay  bool
		calls   int // provider calls in all
		noURL   bool
	}{
		{name: "completed: replayed", replay: true, calls: 1},
		{name: "another request under the key", in: mediatrail.GenerateInput{Provider: "studio", Prompt: "a dog", IdempotencyKey: "k-1"},
			code: mediatrail.ECONFLICT, calls: 1},
		{name: "asset deleted since: replayed without URL", replay: true, calls: 1, noURL: true,
			prepare: func(x *studioSetup, first *mediatrail.GenerateOutput) {
				a := x.store.Asset("ws-a", first.AssetID)
				a.Status = mediatrail.StatusDeleted
				x.store.PutAsset(a)
			}},
		{name: "in flight: retry later", code: mediatrail.ECONFLICT, calls: 1, prepare: func(x *studioSetup, _ *mediatrail.GenerateOutput) {
			c := x.store.Claim("ws-a", "k-1")
			c.State, c.Response, c.LeaseUntil = mediatrail.IdempotencyPending, nil, clock.Add(time.Minute)
			x.store.SetClaim(c)
		}},
		{name: "lease over: taken over", calls: 2, prepare: func(x *studioSetup, _ *mediatrail.GenerateOutput) {
			c := x.store.Claim("ws-a", "k-1")
			c.State, c.Response, c.LeaseUntil = mediatrail.IdempotencyPending, nil, clock.Add(-time.Second)
			x.store.SetClaim(c)
		}},
		{name: "claim store fails", code: mediatrail.EINTERNAL, calls: 1, prepare: func(x *studioSetup, _ *mediatrail.GenerateOutput) {
			x.store.Fail = failOn("ClaimIdempotencyKey", 1, errBoom)
		}},
		{name: "replay cannot read the asset", code: mediatrail.EINTERNAL, calls: 1, prepare: func(x *studioSetup, _ *mediatrail.GenerateOutput) {
			x.store.Fail = failOn("FindAsset", 1, errBoom)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := newStudio()
			first, err := x.media.Generate(ctx, "ws-a", mediatrail.CapabilityImageGen, in)
			if err != nil {
				t.Fatal(err)
			}
			if tc.prepare != nil {
				tc.prepare(x, first)
			}
			again := in
			if tc.in.Prompt != "" {
				again = tc.in
			}
			out, err := x.media.Generate(ctx, "ws-a", mediatrail.CapabilityImageGen, again)
			wantCode(t, err, tc.code)
			if len(x.p.got) != tc.calls {
				t.Errorf("provider called %d times, want %d", len(x.p.got), tc.calls)
			}
			var e *mediatrail.Error
			if tc.name == "in flight: retry later" && (!errorsAs(err, &e) || e.RetryAfterSeconds != 1) {
				t.Errorf("no Retry-After: %v", err)
			}
			if tc.code != "" {
				return
			}
			if out.Replayed != tc.replay || tc.replay && out.AssetID != first.AssetID || (out.AssetURL == "") != tc.noURL {
				t.Errorf("second answer %+v (first %+v)", out, first)
			}
		})
	}
}

// A transcript too long for the idempotency record is read back from its
// asset when the call is replayed.
func TestReplayReadsLongTranscriptFromItsAsset(t *testing.T) {
	for _, tc := range []struct {
		name string
		ct   string
	}{{"json document", ""}, {"subtitles", "text/vtt"}} {
		t.Run(tc.name, func(t *testing.T) {
			x := newStudio()
			long := strings.Repeat("word ", 20<<10)
			x.p.result = func(mediatrail.MediaRequest) (*mediatrail.MediaResult, error) {
				return &mediatrail.MediaResult{Text: long, ContentType: tc.ct}, nil
			}
			in := mediatrail.GenerateInput{Provider: "studio", InputAssetID: x.input(t, wavBytes, "audio/wav").ID, IdempotencyKey: "k-2"}
			first, err := x.media.Generate(context.Background(), "ws-a", mediatrail.CapabilitySTT, in)
			if err != nil || first.TextOutput != long {
				t.Fatalf("first: %v", err)
			}
			if c := x.store.Claim("ws-a", "k-2"); c.Response.TextOutput != "" || !c.Response.TextInAsset {
				t.Fatalf("the record keeps %d bytes of text", len(c.Response.TextOutput))
			}
			out, err := x.media.Generate(context.Background(), "ws-a", mediatrail.CapabilitySTT, in)
			if err != nil || !out.Replayed || out.TextOutput != long || out.TextInAsset {
				t.Fatalf("replay: %v, %d bytes, in asset %v", err, len(out.TextOutput), out.TextInAsset)
			}
		})
	}
}
