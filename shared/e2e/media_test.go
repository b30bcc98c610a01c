package e2e_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/provenance"
	"github.com/mediatrail/mediatrail/shared/providers/fake"
)

const prompt = "Hello from mediatrail." // 22 characters

// media is one media call and what must come of it.
type media struct {
	name     string
	provider string
	route    string // capability route under /api/v1/media/
	body     map[string]any

	contentType   string
	data          []byte // the bytes the fake produced; nil for transcripts
	width, height int
	seconds       float64 // media duration; -1: positive, any value
	model         string
	cost          float64
}

func (m media) request(st *stack, exec string) map[string]any {
	body := map[string]any{"provider": m.provider, "execution_id": exec, "agent_id": "agent-e2e"}
	for k, v := range m.body {
		if s, ok := v.(string); ok && strings.HasPrefix(s, "/") && k == "input_url" {
			v = st.inputs.URL + s
		}
		body[k] = v
	}
	return body
}

var (
	speak      = map[string]any{"prompt": prompt}
	transcribe = map[string]any{"input_url": "/audio.wav"}
	draw       = map[string]any{"prompt": "a red fox in the snow"}
	edit       = map[string]any{"prompt": "make it night", "input_url": "/image.png"}
	with       = func(base map[string]any, kv ...any) map[string]any {
		out := map[string]any{}
		for k, v := range base {
			out[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			out[kv[i].(string)] = kv[i+1]
		}
		return out
	}
	falMegapixels = 64 * 48 / 1e6
)

// Every (provider, capability) pair this server supports synchronously.
var supported = []media{
	{name: "elevenlabs tts", provider: "elevenlabs", route: "tts", body: speak, contentType: "audio/mpeg", data: fake.MP3(), seconds: -1, model: "eleven_multilingual_v2", cost: 22 * 0.00018},
	{name: "deepgram tts", provider: "deepgram", route: "tts", body: speak, contentType: "audio/mpeg", data: fake.MP3(), seconds: -1, model: "aura-2-thalia-en", cost: 22 * 0.00003},
	{name: "openai tts", provider: "openai", route: "tts", body: speak, contentType: "audio/mpeg", data: fake.MP3(), seconds: -1, model: "tts-1", cost: 22 * 0.000015},
	{name: "elevenlabs stt", provider: "elevenlabs", route: "stt", body: transcribe, contentType: "application/json", seconds: fake.TranscriptSeconds, model: "scribe_v1", cost: fake.TranscriptSeconds * 0.0000611},
	{name: "deepgram stt", provider: "deepgram", route: "stt", body: transcribe, contentType: "application/json", seconds: fake.TranscriptSeconds, model: "nova-3", cost: fake.TranscriptSeconds * 0.00007167},
	{name: "openai stt", provider: "openai", route: "stt", body: transcribe, contentType: "application/json", seconds: fake.TranscriptSeconds, model: "whisper-1", cost: fake.TranscriptSeconds * 0.0001},
	{name: "openai image_gen (a URL answer)", provider: "openai", route: "image_gen", body: draw, contentType: "image/png", data: fake.PNG(), width: 64, height: 48, model: "dall-e-3", cost: 0.04},
	{name: "stability image_gen", provider: "stability", route: "image_gen", body: draw, contentType: "image/png", data: fake.PNG(), width: 64, height: 48, model: "stable-image-core", cost: 0.03},
	{name: "fal image_gen", provider: "fal", route: "image_gen", body: draw, contentType: "image/png", data: fake.PNG(), width: 64, height: 48, model: "fal-ai/flux/dev", cost: falMegapixels * 0.025},
	{name: "replicate image_gen", provider: "replicate", route: "image_gen", body: draw, contentType: "image/png", data: fake.PNG(), width: 64, height: 48, model: "black-forest-labs/flux-schnell", cost: 0.003},
	{name: "openai image_edit (base64 answer)", provider: "openai", route: "image_edit", body: edit, contentType: "image/png", data: fake.PNG(), width: 64, height: 48, model: "gpt-image-1", cost: 0.042},
	{name: "stability image_edit", provider: "stability", route: "image_edit", body: edit, contentType: "image/png", data: fake.PNG(), width: 64, height: 48, model: "inpaint", cost: 0.03},
	{name: "fal image_edit", provider: "fal", route: "image_edit", body: edit, contentType: "image/png", data: fake.PNG(), width: 64, height: 48, model: "fal-ai/flux/dev/image-to-image", cost: falMegapixels * 0.025},
	{name: "replicate image_edit", provider: "replicate", route: "image_edit", body: with(edit, "model", "black-forest-labs/flux-dev"), contentType: "image/png", data: fake.PNG(), width: 64, height: 48, model: "black-forest-labs/flux-dev", cost: 0.025},
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestMediaEveryProviderAndCapability(t *testing.T) {
	t.Parallel()
	st := newStack(t, 10*time.Second)
	cases := map[string]media{}
	for _, m := range supported {
		cases[m.name] = m
	}
	concurrently(t, cases, func(t *testing.T, m media) {
		key, _ := st.workspace(t)
		out := st.generate(t, key, m, "exec-"+m.provider)
		st.checkProduced(t, key, m, out)
	})
}

// generate makes the call and checks the answer against m.
func (st *stack) generate(t *testing.T, key string, m media, exec string) generated {
	t.Helper()
	r := st.do(t, "POST", "/api/v1/media/"+m.route, key, m.request(st, exec))
	wantOK(t, r, http.StatusOK)
	var out generated
	r.Into(t, &out)
	if out.Status != "completed" || !mediatrail.ValidID(out.AssetID) || !mediatrail.ValidID(out.SpanID) || out.AssetURL == "" {
		t.Fatalf("answer = %s", r.Raw)
	}
	if out.ContentType != m.contentType || !near(out.Cost, m.cost) {
		t.Errorf("content type %q cost %v, want %q %v", out.ContentType, out.Cost, m.contentType, m.cost)
	}
	st.noProviderURL(t, "answer", r.Raw)
	return out
}

// noProviderURL fails when text holds the address of any fake: provider URLs
// never leave the service.
func (st *stack) noProviderURL(t *testing.T, what, text string) {
	t.Helper()
	for name, f := range st.fakes {
		if strings.Contains(text, f.URL) {
			t.Errorf("%s holds the %s URL %s: %s", what, name, f.URL, text)
		}
	}
}

// checkProduced checks the asset (record, bytes through its signed URL,
// metadata) and the span of a completed call.
func (st *stack) checkProduced(t *testing.T, key string, m media, out generated) {
	t.Helper()
	r := st.do(t, "GET", "/api/v1/assets/"+out.AssetID, key, nil)
	wantOK(t, r, http.StatusOK)
	st.noProviderURL(t, "asset", r.Raw)
	var a mediatrail.Asset
	r.Into(t, &a)
	code, header, body := download(t, out.AssetURL)
	if code != http.StatusOK {
		t.Fatalf("download: status %d", code)
	}
	sum := sha256.Sum256(body)
	if a.Status != mediatrail.StatusReady || a.ContentType != m.contentType || a.FileSize != int64(len(body)) ||
		a.SHA256 != hex.EncodeToString(sum[:]) || a.SpanID != out.SpanID || a.Provider != m.provider || a.Model != m.model {
		t.Errorf("asset = %+v (downloaded %d bytes)", a, len(body))
	}
	if got := header.Get("Content-Type"); !strings.HasPrefix(got, m.contentType) {
		t.Errorf("download content type %q", got)
	}
	if m.data != nil && string(body) != string(MustEmbed(t, m.data, m.contentType, provenanceOf(&a))) {
		t.Errorf("downloaded %d bytes, not what the fake produced (%d bytes)", len(body), len(m.data))
	}
	if m.data == nil {
		var doc struct {
			Text  string            `json:"text"`
			Words []mediatrail.Word `json:"words"`
		}
		if err := json.Unmarshal(body, &doc); err != nil || doc.Text != fake.Transcript || len(doc.Words) == 0 || out.TextOutput != fake.Transcript {
			t.Errorf("transcript %s (%v), text_output %q", body, err, out.TextOutput)
		}
	}
	md := a.Metadata
	if w, _ := md["width"].(float64); int(w) != m.width {
		t.Errorf("width %v, want %d", md["width"], m.width)
	}
	if h, _ := md["height"].(float64); int(h) != m.height {
		t.Errorf("height %v, want %d", md["height"], m.height)
	}
	secs, _ := md["duration_seconds"].(float64)
	if m.seconds < 0 && secs <= 0 || m.seconds >= 0 && !near(secs, m.seconds) {
		t.Errorf("duration_seconds %v, want %v", md["duration_seconds"], m.seconds)
	}

	spans, page := st.spans(t, key, "execution_id="+a.ExecutionID)
	if len(spans) != 1 || page.Total != 1 {
		t.Fatalf("spans = %+v", spans)
	}
	sp := spans[0]
	if sp.ID != out.SpanID || sp.Status != "completed" || sp.Provider != m.provider || sp.Model != m.model ||
		sp.MediaType != m.route || sp.AssetID != out.AssetID || sp.ContentType != m.contentType ||
		sp.AssetURL != "/api/v1/assets/"+out.AssetID || sp.OutputURL != sp.AssetURL+"/signed-url" ||
		!near(sp.Cost, m.cost) || !near(sp.CostDetail.Amount, m.cost) || !sp.CostDetail.Priced || sp.CostDetail.Currency != "USD" ||
		sp.DurationMs < 0 || sp.Kind != string(mediatrail.Capability(m.route).SpanKind()) {
		t.Errorf("span = %+v", sp)
	}
	if m.seconds > 0 && !near(sp.MediaDurationSeconds, m.seconds) {
		t.Errorf("span media duration %v, want %v", sp.MediaDurationSeconds, m.seconds)
	}
	raw := st.do(t, "GET", "/api/v1/traces?execution_id="+a.ExecutionID, key, nil).Raw
	st.noProviderURL(t, "span", raw)
}

// failure is a provider fault and the answer it must produce.
type failure struct {
	name   string
	fault  func(f *fake.Server)
	status int
	code   string // "" for a success after retries
	check  func(t *testing.T, r reply)
}

// One representative call per provider for the failure table.
var failing = map[string]media{
	"elevenlabs": supported[0], // tts: a streamed answer
	"deepgram":   supported[4], // stt: a JSON answer, input fetched by us
	"openai":     supported[6], // image_gen: JSON with the image's URL
	"stability":  supported[7], // image_gen: a streamed image
	"fal":        supported[8], // image_gen: the queue
	"replicate":  supported[9], // image_gen: a prediction
}

var failures = []failure{
	{name: "400", fault: func(f *fake.Server) { f.Fail(1, f.Error(400, "invalid_request", "that prompt is not allowed")) },
		status: 400, code: mediatrail.EINVALID, check: func(t *testing.T, r reply) {
			if !strings.Contains(r.Error.Message, "that prompt is not allowed") {
				t.Errorf("message %q does not pass the provider's reason on", r.Error.Message)
			}
		}},
	{name: "401", fault: func(f *fake.Server) {
		f.Fail(1, f.Error(401, "invalid_api_key", "Incorrect API key provided: "+fake.Key))
	}, status: 502, code: mediatrail.EPROVIDER, check: func(t *testing.T, r reply) {
		if strings.Contains(r.Raw, fake.Key) || !strings.Contains(r.Error.Message, "credentials") {
			t.Errorf("answer %s", r.Raw)
		}
	}},
	{name: "429 then success", fault: func(f *fake.Server) { f.Fail(1, f.RateLimit(time.Second)) }, status: 200},
	{name: "500 then success", fault: func(f *fake.Server) { f.Fail(1, f.Error(500, "server_error", "boom")) }, status: 200},
	{name: "500 on every attempt", fault: func(f *fake.Server) { f.Fail(4, f.Error(500, "server_error", "boom")) }, status: 502, code: mediatrail.EPROVIDER},
	{name: "malformed JSON", fault: func(f *fake.Server) { f.Fail(1, fake.Fault{Malformed: true}) }, status: 502, code: mediatrail.EPROVIDER},
	// Every attempt breaks off (the client tries four times).
	{name: "truncated body", fault: func(f *fake.Server) { f.Fail(4, fake.Fault{Truncate: true}) }, status: 502, code: mediatrail.EPROVIDER},
}

func TestMediaProviderFailures(t *testing.T) {
	t.Parallel()
	st := newStack(t, 10*time.Second)
	// Providers at once; each provider's faults in turn, on its own fake.
	concurrently(t, failing, func(t *testing.T, m media) {
		f := st.fakes[m.provider]
		for _, fl := range failures {
			t.Run(fl.name, func(t *testing.T) {
				fl.fault(f)
				started := time.Now()
				st.checkFailure(t, m, fl.status, fl.code, fl.check)
				if strings.HasPrefix(fl.name, "429") && time.Since(started) < time.Second {
					t.Errorf("answered after %s: Retry-After was not honoured", time.Since(started))
				}
			})
		}
	})
}

// checkFailure makes m's call in a fresh workspace and checks the answer: a
// success, or the error envelope with no asset, no object and an error span.
func (st *stack) checkFailure(t *testing.T, m media, status int, code string, check func(*testing.T, reply)) reply {
	t.Helper()
	key, ws := st.workspace(t)
	r := st.do(t, "POST", "/api/v1/media/"+m.route, key, m.request(st, "exec-fail"))
	spans, _ := st.spans(t, key, "")
	if code == "" {
		wantOK(t, r, status)
		if len(spans) != 1 || spans[0].Status != "completed" {
			t.Errorf("spans = %+v", spans)
		}
		return r
	}
	wantError(t, r, status, code)
	st.noProviderURL(t, "error", r.Raw)
	if check != nil {
		check(t, r)
	}
	assets := st.do(t, "GET", "/api/v1/assets", key, nil)
	if assets.Meta == nil || assets.Meta.Total != 0 || string(assets.Data) != "[]" {
		t.Errorf("assets after a failure: %s", assets.Raw)
	}
	if objs := st.objects(t, ws); len(objs) != 0 {
		t.Errorf("objects after a failure: %v", objs)
	}
	if len(spans) != 1 || spans[0].Status != "error" || spans[0].Error == nil || spans[0].Error.Code != code ||
		spans[0].AssetID != "" || spans[0].Cost != 0 || spans[0].Provider != m.provider {
		t.Errorf("spans = %+v", spans)
	}
	return r
}

// A provider that keeps rate limiting past the retries: 429 with Retry-After.
func TestMediaRateLimitedAfterRetries(t *testing.T) {
	t.Parallel()
	st := newStack(t, 10*time.Second)
	f := st.fakes["openai"]
	f.Fail(4, f.RateLimit(time.Second))
	r := st.checkFailure(t, failing["openai"], http.StatusTooManyRequests, mediatrail.ERATELIMITED, nil)
	if r.Header.Get("Retry-After") != "1" {
		t.Errorf("Retry-After = %q", r.Header.Get("Retry-After"))
	}
	if n := apiRequests(f, "/images/generations"); n != 4 {
		t.Errorf("the fake saw %d requests, want 4 attempts", n)
	}
}

// A provider that does not answer within MEDIA_TIMEOUT: 504.
func TestMediaProviderTimeout(t *testing.T) {
	t.Parallel()
	st := newStack(t, time.Second)
	concurrently(t, failing, func(t *testing.T, m media) {
		st.fakes[m.provider].Fail(1, fake.Fault{Delay: 10 * time.Second})
		started := time.Now()
		st.checkFailure(t, m, http.StatusGatewayTimeout, mediatrail.ETIMEOUT, nil)
		if d := time.Since(started); d > 5*time.Second {
			t.Errorf("answered after %s", d)
		}
	})
}

// input_url reaches public addresses only, after DNS and on every redirect;
// refused inputs are 400 and no provider hears of them.
func TestMediaInputURLsAreSSRFSafe(t *testing.T) {
	t.Parallel()
	st := newStack(t, 10*time.Second)
	key, ws := st.workspace(t)
	f := st.fakes["openai"]
	internal := f.URL // a real service on loopback, not listed as an input server
	port := internal[strings.LastIndex(internal, ":"):]
	for _, u := range []string{
		internal + "/v1/models",
		"http://[::1]" + port + "/",
		"http://localhost" + port + "/",
		"http://10.0.0.1/audio.wav",
		"http://172.16.0.1/audio.wav",
		"http://192.168.1.1/audio.wav",
		"http://169.254.169.254/latest/meta-data/",
		"http://0.0.0.0" + port + "/",
		"http://[::ffff:127.0.0.1]" + port + "/",
		"file:///etc/passwd",
		"gopher://127.0.0.1:70/_stats",
		"ftp://example.com/a.wav",
		st.inputs.URL + "/redirect?to=" + internal + "/v1/models",
		st.inputs.URL + "/redirect?to=http://169.254.169.254/latest/meta-data/",
	} {
		t.Run(u, func(t *testing.T) {
			r := st.do(t, "POST", "/api/v1/media/stt", key, map[string]any{"provider": "openai", "input_url": u})
			wantError(t, r, http.StatusBadRequest, mediatrail.EINVALID)
		})
	}
	if n := len(f.Requests()); n != 0 {
		t.Errorf("the provider saw %d requests", n)
	}
	if objs := st.objects(t, ws); len(objs) != 0 {
		t.Errorf("objects: %v", objs)
	}
}

// A repeated idempotency key answers the first result, with one provider call,
// one span and one charge; the key with another body is a conflict; a repeat
// while the first runs is a conflict with Retry-After.
func TestMediaIdempotency(t *testing.T) {
	t.Parallel()
	st := newStack(t, 10*time.Second)
	key, _ := st.workspace(t)
	f := st.fakes["openai"]
	body := map[string]any{"provider": "openai", "prompt": prompt, "execution_id": "exec-idem", "idempotency_key": "call-1"}

	first := st.do(t, "POST", "/api/v1/media/tts", key, body)
	wantOK(t, first, http.StatusOK)
	second := st.do(t, "POST", "/api/v1/media/tts", key, body)
	wantOK(t, second, http.StatusOK)
	var a, b generated
	first.Into(t, &a)
	second.Into(t, &b)
	if b.AssetID != a.AssetID || b.SpanID != a.SpanID || b.Cost != a.Cost || b.ContentType != a.ContentType || b.AssetURL == "" {
		t.Errorf("replay %+v, first %+v", b, a)
	}
	if second.Header.Get("Idempotent-Replayed") != "true" || first.Header.Get("Idempotent-Replayed") != "" {
		t.Errorf("Idempotent-Replayed: first %q, second %q", first.Header.Get("Idempotent-Replayed"), second.Header.Get("Idempotent-Replayed"))
	}
	if code, _, data := download(t, b.AssetURL); code != http.StatusOK || string(data) != string(fake.MP3()) {
		t.Errorf("replayed asset_url: status %d", code)
	}
	if n := apiRequests(f, "/audio/speech"); n != 1 {
		t.Errorf("the provider saw %d speech requests, want 1", n)
	}
	if spans, _ := st.spans(t, key, "execution_id=exec-idem"); len(spans) != 1 {
		t.Errorf("%d spans, want 1", len(spans))
	}
	sum := st.summary(t, key, "execution_id=exec-idem")
	if sum.Count != 1 || !near(sum.Cost, a.Cost) {
		t.Errorf("summary %+v, want one call costing %v", sum, a.Cost)
	}

	other := map[string]any{"provider": "openai", "prompt": "another text", "idempotency_key": "call-1"}
	wantError(t, st.do(t, "POST", "/api/v1/media/tts", key, other), http.StatusConflict, mediatrail.ECONFLICT)

	// Keys are per workspace: another workspace's "call-1" is its own.
	keyB, _ := st.workspace(t)
	var c generated
	r := st.do(t, "POST", "/api/v1/media/tts", keyB, body)
	wantOK(t, r, http.StatusOK)
	r.Into(t, &c)
	if c.AssetID == a.AssetID {
		t.Errorf("workspace B got workspace A's answer")
	}

	// A duplicate while the first is still running.
	f.Fail(1, fake.Fault{Delay: 2 * time.Second})
	slow := map[string]any{"provider": "openai", "prompt": prompt, "idempotency_key": "call-2"}
	var wg sync.WaitGroup
	var running reply
	before := apiRequests(f, "/audio/speech")
	wg.Go(func() { running = st.do(t, "POST", "/api/v1/media/tts", key, slow) })
	// The first holds the key once the provider has its request (the claim
	// comes before the call): wait for that, not for a guessed time.
	for deadline := time.Now().Add(10 * time.Second); apiRequests(f, "/audio/speech") == before; {
		if time.Now().After(deadline) {
			t.Fatal("the first request never reached the provider")
		}
		time.Sleep(5 * time.Millisecond) // a poll interval, bounded by the deadline
	}
	dup := st.do(t, "POST", "/api/v1/media/tts", key, slow)
	wantError(t, dup, http.StatusConflict, mediatrail.ECONFLICT)
	if dup.Header.Get("Retry-After") == "" {
		t.Errorf("a duplicate in flight has no Retry-After")
	}
	wg.Wait()
	wantOK(t, running, http.StatusOK)
	wantOK(t, st.do(t, "POST", "/api/v1/media/tts", key, slow), http.StatusOK)
	if n := apiRequests(f, "/audio/speech"); n != 3 {
		t.Errorf("the provider saw %d speech requests, want 3", n)
	}

	// A failed call releases its key: the retry runs again.
	f.Fail(1, f.Error(400, "invalid_request", "no"))
	failed := map[string]any{"provider": "openai", "prompt": prompt, "idempotency_key": "call-3"}
	wantError(t, st.do(t, "POST", "/api/v1/media/tts", key, failed), http.StatusBadRequest, mediatrail.EINVALID)
	wantOK(t, st.do(t, "POST", "/api/v1/media/tts", key, failed), http.StatusOK)
}

// summary is GET /api/v1/traces/summary.
type summary struct {
	mediatrail.SpanTotals
	Currency    string                           `json:"currency"`
	ByProvider  map[string]mediatrail.SpanTotals `json:"by_provider"`
	ByMediaType map[string]mediatrail.SpanTotals `json:"by_media_type"`
	TotalTraces int                              `json:"total_traces"`
	TotalCost   float64                          `json:"total_cost"`
}

func (st *stack) summary(t *testing.T, key, query string) summary {
	t.Helper()
	r := st.do(t, "GET", "/api/v1/traces/summary?"+query, key, nil)
	wantOK(t, r, http.StatusOK)
	var s summary
	r.Into(t, &s)
	return s
}

// Spans, summaries and inputs of one workspace are invisible to another.
func TestMediaWorkspaceIsolation(t *testing.T) {
	t.Parallel()
	st := newStack(t, 10*time.Second)
	keyA, _ := st.workspace(t)
	keyB, _ := st.workspace(t)
	image := st.generate(t, keyA, supported[9], "exec-a")

	spans, _ := st.spans(t, keyA, "")
	if len(spans) != 1 {
		t.Fatalf("A's spans: %+v", spans)
	}
	for _, q := range []string{"", "execution_id=exec-a", "trace_id=" + spans[0].TraceID, "kind=image"} {
		if got, m := st.spans(t, keyB, q); len(got) != 0 || m.Total != 0 {
			t.Errorf("B sees %d spans of A with %q", len(got), q)
		}
		if s := st.summary(t, keyB, q); s.Count != 0 || s.Cost != 0 {
			t.Errorf("B's summary with %q: %+v", q, s)
		}
	}
	// B cannot use A's asset as an input: it does not exist for B.
	r := st.do(t, "POST", "/api/v1/media/image_edit", keyB, map[string]any{"provider": "stability", "prompt": "x", "input_asset_id": image.AssetID})
	wantError(t, r, http.StatusNotFound, mediatrail.ENOTFOUND)
	if n := apiRequests(st.fakes["stability"], "/edit/"); n != 0 {
		t.Errorf("the provider saw %d edit requests", n)
	}
}

// Outputs become inputs by asset id; a text file can be spoken; the SDK's
// generic route dispatches on media_type; deleting an asset keeps its span.
func TestMediaChains(t *testing.T) {
	t.Parallel()
	st := newStack(t, 10*time.Second)
	key, _ := st.workspace(t)

	speech := st.generate(t, key, supported[2], "exec-chain")
	heard := st.generate(t, key, media{
		provider: "deepgram", route: "stt", body: map[string]any{"input_asset_id": speech.AssetID},
		contentType: "application/json", model: "nova-3", cost: fake.TranscriptSeconds * 0.00007167,
	}, "exec-chain")
	if heard.TextOutput != fake.Transcript {
		t.Errorf("text_output %q", heard.TextOutput)
	}
	if got := st.fakes["deepgram"].Requests(); len(got) != 1 || string(got[0].Body) != string(fake.MP3()) {
		t.Errorf("deepgram did not hear the speech asset")
	}

	drawn := st.generate(t, key, supported[8], "exec-chain")
	st.generate(t, key, media{
		provider: "stability", route: "image_edit", body: map[string]any{"prompt": "night", "input_asset_id": drawn.AssetID},
		contentType: "image/png", model: "inpaint", cost: 0.03,
	}, "exec-chain")
	if got := st.fakes["stability"].Requests(); len(got) != 1 {
		t.Errorf("stability requests: %d", len(got))
	} else if _, files := got[0].Form(); !drawnImage(t, files["image"].Data, drawn.AssetID) {
		t.Errorf("stability did not get the drawn image")
	}

	// TTS of a text file: the characters spoken are the file's.
	st.generate(t, key, media{
		provider: "openai", route: "tts", body: map[string]any{"input_url": st.inputs.URL + "/script.txt"},
		contentType: "audio/mpeg", model: "tts-1", cost: float64(len(script)) * 0.000015,
	}, "exec-chain")
	if got := st.fakes["openai"].Requests(); len(got) != 2 || got[1].JSON()["input"] != script {
		t.Errorf("openai did not speak the script: %d requests", len(got))
	}

	// The SDK's route. Videos run as jobs (video_test.go); here the SDK's
	// alias is only checked like any video request: an image is required.
	r := st.do(t, "POST", "/api/v1/media/generate", key, map[string]any{"provider": "replicate", "media_type": "image_gen", "prompt": "a boat"})
	wantOK(t, r, http.StatusOK)
	wantError(t, st.do(t, "POST", "/api/v1/media/generate", key, map[string]any{"provider": "fal", "media_type": "video_from_img", "prompt": "a boat"}),
		http.StatusBadRequest, mediatrail.EINVALID)
	wantError(t, st.do(t, "POST", "/api/v1/media/tts", key, map[string]any{"provider": "fal", "prompt": "hi"}),
		http.StatusBadRequest, mediatrail.EINVALID)

	// The summary adds every call up, by provider and by media type.
	sum := st.summary(t, key, "execution_id=exec-chain")
	if sum.Count != 5 || sum.Errors != 0 || sum.ByProvider["openai"].Count != 2 || sum.ByMediaType["stt"].Count != 1 ||
		sum.TotalTraces != 5 || !near(sum.TotalCost, sum.Cost) || sum.Currency != "USD" {
		t.Errorf("summary %+v", sum)
	}
	today := time.Now().UTC().Format("2006-01-02")
	if s := st.summary(t, key, "date_from="+today+"&date_to="+today); s.Count != 6 {
		t.Errorf("today's summary counts %d calls, want 6", s.Count)
	}
	if s := st.summary(t, key, "date_to=2020-01-01"); s.Count != 0 {
		t.Errorf("summary before 2020: %+v", s)
	}

	// Deleting an asset keeps its span, marked.
	if r := st.do(t, "DELETE", "/api/v1/assets/"+speech.AssetID, key, nil); r.Status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.Status, r.Raw)
	}
	spans, _ := st.spans(t, key, "kind=speech&execution_id=exec-chain")
	var marked bool
	for _, sp := range spans {
		if sp.ID == speech.SpanID {
			marked = sp.AssetDeleted && sp.Status == "completed" && sp.AssetID == speech.AssetID
		}
	}
	if !marked || len(spans) != 3 {
		t.Errorf("spans after delete: %+v", spans)
	}
	if s := st.summary(t, key, "execution_id=exec-chain"); s.Count != 5 || !near(s.Cost, sum.Cost) {
		t.Errorf("summary after delete %+v", s)
	}
}

// drawnImage tells whether b is the fake's PNG as stored for the asset id:
// with that asset's provenance embedded.
func drawnImage(t *testing.T, b []byte, assetID string) bool {
	rec, ok := provenance.Find(b)
	return ok && rec.AssetID == assetID && string(b) == string(MustEmbed(t, fake.PNG(), "image/png", rec))
}
