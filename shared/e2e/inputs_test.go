package e2e_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/providers/fake"
)

// spanByID finds span id among the spans of execution exec.
func (st *stack) spanByID(t *testing.T, key, exec, id string) map[string]any {
	t.Helper()
	r := st.do(t, "GET", "/api/v1/traces?execution_id="+exec, key, nil)
	wantOK(t, r, http.StatusOK)
	var spans []map[string]any
	r.Into(t, &spans)
	for _, sp := range spans {
		if sp["id"] == id {
			return sp
		}
	}
	t.Fatalf("no span %s in %s", id, r.Raw)
	return nil
}

// The SDK has no input_asset_id: an input_url naming the caller's own asset
// (asset://{id}, or a signed URL we issued) chains stt, image_edit and
// video_from_image without a public file server. The asset is read from
// storage, never fetched; the span and the output record the input asset.
// Another workspace's asset is 404 (never its bytes), a pending upload 409.
func TestMediaInputsNameOwnAssets(t *testing.T) {
	t.Parallel()
	cb := newCallbacks(t)
	st := newVideoStack(t, cb, nil, nil)
	key, _ := st.workspace(t)
	otherKey, _ := st.workspace(t)
	const exec = "exec-own-inputs"

	speech := st.generate(t, key, supported[2], exec) // openai tts
	heard := st.generate(t, key, media{
		provider: "deepgram", route: "stt", body: map[string]any{"input_url": "asset://" + speech.AssetID},
		contentType: "application/json", model: "nova-3", cost: fake.TranscriptSeconds * 0.00007167,
	}, exec)
	if got := st.fakes["deepgram"].Requests(); len(got) != 1 || string(got[0].Body) != string(fake.MP3()) {
		t.Errorf("deepgram did not hear the speech asset")
	}
	// The signed URL of the speech, as the SDK's answer carries it.
	heardAgain := st.generate(t, key, media{
		provider: "openai", route: "stt", body: map[string]any{"input_url": speech.AssetURL},
		contentType: "application/json", model: "whisper-1", cost: fake.TranscriptSeconds * 0.0001,
	}, exec)
	for _, out := range []generated{heard, heardAgain} {
		if sp := st.spanByID(t, key, exec, out.SpanID); sp["input_asset_id"] != speech.AssetID || sp["input_url"] != nil {
			t.Errorf("span of the transcript: input_asset_id %v, input_url %v", sp["input_asset_id"], sp["input_url"])
		}
		if out.Metadata["input_asset_id"] != speech.AssetID {
			t.Errorf("the transcript's metadata does not name its input: %v", out.Metadata)
		}
	}

	drawn := st.generate(t, key, supported[6], exec) // openai image_gen
	signed := st.do(t, "GET", "/api/v1/assets/"+drawn.AssetID+"/signed-url?expires_in=60", key, nil)
	wantOK(t, signed, http.StatusOK)
	var link struct{ URL string }
	signed.Into(t, &link)
	st.generate(t, key, media{
		provider: "stability", route: "image_edit", body: map[string]any{"prompt": "night", "input_url": link.URL},
		contentType: "image/png", model: "inpaint", cost: 0.03,
	}, exec)
	if got := st.fakes["stability"].Requests(); len(got) != 1 {
		t.Errorf("stability requests: %d", len(got))
	} else if _, files := got[0].Form(); !drawnImage(t, files["image"].Data, drawn.AssetID) {
		t.Errorf("stability did not get the drawn image")
	}

	// A video from the image: the provider fetches a fresh signed URL of
	// our copy, as for input_asset_id.
	const prompt = "e2e video: from asset://"
	st.fakes["runway"].PlanPrompt(prompt, fake.DefaultPlan)
	id := st.submit(t, key, "generate", map[string]any{"provider": "runway", "media_type": "video_from_img", "prompt": prompt,
		"input_url": "asset://" + drawn.AssetID, "execution_id": exec})
	if v := st.awaitJob(t, key, id); v.Status != "completed" {
		t.Fatalf("job %+v", v)
	}
	var submitted bool
	for _, r := range st.fakes["runway"].Requests() {
		if r.Method == http.MethodPost && r.JSON()["promptText"] == prompt {
			u, _ := r.JSON()["promptImage"].(string)
			submitted = strings.HasPrefix(u, st.Config.S3URL+"/"+st.bucket+"/workspaces/") && strings.Contains(u, drawn.AssetID)
		}
	}
	if !submitted {
		t.Errorf("runway did not get a signed URL of the drawn image")
	}

	// Another workspace names the same asset: 404, by id or by URL, and no
	// provider is called.
	before := len(st.fakes["openai"].Requests())
	for _, u := range []string{"asset://" + speech.AssetID, speech.AssetURL} {
		wantError(t, st.do(t, "POST", "/api/v1/media/stt", otherKey, map[string]any{"provider": "openai", "input_url": u}),
			http.StatusNotFound, mediatrail.ENOTFOUND)
	}
	wantError(t, st.do(t, "POST", "/api/v1/media/stt", key, map[string]any{"provider": "openai", "input_url": "asset://" + mediatrail.NewID()}),
		http.StatusNotFound, mediatrail.ENOTFOUND)
	// A pending upload: 409.
	reg := st.do(t, "POST", "/api/v1/assets", key, map[string]any{"file_name": "take.wav", "content_type": "audio/wav", "size": 4,
		"sha256": "88d4266fd4e6338d13b845fcf289579d209c897823b9217da3e161936f031589"})
	wantOK(t, reg, http.StatusCreated)
	var pending struct{ Asset struct{ ID string } }
	reg.Into(t, &pending)
	wantError(t, st.do(t, "POST", "/api/v1/media/stt", key, map[string]any{"provider": "openai", "input_url": "asset://" + pending.Asset.ID}),
		http.StatusConflict, mediatrail.ECONFLICT)
	if n := len(st.fakes["openai"].Requests()); n != before {
		t.Errorf("refused inputs reached openai: %d requests", n-before)
	}
	wantError(t, st.do(t, "POST", "/api/v1/media/stt", key, map[string]any{"provider": "openai", "input_url": "asset://not-an-id"}),
		http.StatusBadRequest, mediatrail.EINVALID)
}

// The SDK README's media_type words run their capability; asset listings
// read them as the type of what they make; config keys a provider does not
// take are refused, naming the allowed ones.
func TestMediaTypeAliasesAndConfigKeys(t *testing.T) {
	t.Parallel()
	st := newStack(t, 10*time.Second)
	key, _ := st.workspace(t)
	for alias, want := range map[string]string{"audio": "audio/mpeg", "speech": "audio/mpeg", "image": "image/png"} {
		body := map[string]any{"provider": "openai", "media_type": alias, "prompt": "a lighthouse"}
		r := st.do(t, "POST", "/api/v1/media/generate", key, body)
		wantOK(t, r, http.StatusOK)
		var out generated
		r.Into(t, &out)
		if out.ContentType != want || out.Metadata["media_type"] == alias {
			t.Errorf("media_type %s: %s", alias, r.Raw)
		}
	}
	r := st.do(t, "POST", "/api/v1/media/generate", key, map[string]any{"provider": "openai", "media_type": "transcription", "input_url": st.inputs.URL + "/audio.wav"})
	wantOK(t, r, http.StatusOK)
	for query, n := range map[string]int{"media_type=speech": 2, "media_type=tts": 2, "media_type=transcription": 1, "type=text&media_type=stt": 1, "media_type=image": 1} {
		r := st.do(t, "GET", "/api/v1/assets?"+query, key, nil)
		wantOK(t, r, http.StatusOK)
		if r.Meta == nil || r.Meta.Total != n {
			t.Errorf("assets?%s: %s", query, r.Raw)
		}
	}
	wantError(t, st.do(t, "GET", "/api/v1/assets?type=audio&media_type=image", key, nil), http.StatusBadRequest, mediatrail.EINVALID)
	models := st.do(t, "GET", "/api/v1/media-models?media_type=transcription&provider=deepgram", key, nil)
	wantOK(t, models, http.StatusOK)
	var list []struct {
		MediaType string `json:"media_type"`
	}
	models.Into(t, &list)
	if len(list) == 0 || list[0].MediaType != "stt" {
		t.Errorf("media models for transcription: %s", models.Raw)
	}

	before := len(st.fakes["openai"].Requests())
	bad := st.do(t, "POST", "/api/v1/media/tts", key, map[string]any{"provider": "openai", "prompt": "hi", "config": map[string]any{"voise": "nova"}})
	wantError(t, bad, http.StatusBadRequest, mediatrail.EINVALID)
	field, _ := bad.Error.Details["field"].(string)
	allowed, _ := bad.Error.Details["allowed"].([]any)
	if field != "config.voise" || !strings.Contains(bad.Error.Message, "voice") || len(allowed) == 0 {
		t.Errorf("unknown config key: %s", bad.Raw)
	}
	wantError(t, st.do(t, "POST", "/api/v1/media/image_gen", key, map[string]any{"provider": "stability", "prompt": "a fox", "config": map[string]any{"voice_id": "x"}}),
		http.StatusBadRequest, mediatrail.EINVALID)
	wantOK(t, st.do(t, "POST", "/api/v1/media/tts", key, map[string]any{"provider": "openai", "prompt": "hi", "config": map[string]any{"voice": "nova", "speed": 1.25}}), http.StatusOK)
	if n := len(st.fakes["openai"].Requests()); n != before+1 {
		t.Errorf("openai requests: %d, want 1 (the refused call sends nothing)", n-before)
	}
}

// A callback_url the address policy refuses is a 400 at submission; each
// delivery attempt is recorded on the job, which GET /media/jobs/{id}
// shows: a receiver that fails once gets the callback at the second attempt.
func TestCallbackValidatedAndRecorded(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	calls := 0
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		if n == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(receiver.Close)
	st := newStackWith(t, stackOptions{env: map[string]string{"MEDIA_TIMEOUT": "10s", "CALLBACK_SIGNING_SECRET": callbackSecret},
		allow: []string{strings.TrimPrefix(receiver.URL, "http://")}})
	key, _ := st.workspace(t)

	submissions := len(st.fakes["runway"].Requests())
	for _, u := range []string{"http://10.0.0.7/hooks", "http://169.254.169.254/latest", "http://127.0.0.1:1/hooks", "http://[::1]/hooks"} {
		r := st.do(t, "POST", "/api/v1/media/video_gen", key, map[string]any{"provider": "runway", "prompt": "x", "callback_url": u})
		wantError(t, r, http.StatusBadRequest, mediatrail.EINVALID)
		if r.Error.Details["field"] != "callback_url" {
			t.Errorf("%s: %s", u, r.Raw)
		}
	}
	if n := len(st.fakes["runway"].Requests()); n != submissions {
		t.Errorf("refused callbacks reached runway: %d requests", n-submissions)
	}

	const prompt = "e2e callback: recorded"
	st.fakes["runway"].PlanPrompt(prompt, fake.DefaultPlan)
	id := st.submit(t, key, "video_gen", map[string]any{"provider": "runway", "prompt": prompt, "callback_url": receiver.URL + "/hooks?token=t"})
	if v := st.job(t, key, id); v.Callback == nil {
		t.Errorf("no callback record on the job")
	}
	st.awaitJob(t, key, id)
	deadline := time.Now().Add(30 * time.Second)
	var v jobView
	for v = st.job(t, key, id); v.Callback == nil || v.Callback.Status != "delivered"; v = st.job(t, key, id) {
		if time.Now().After(deadline) {
			t.Fatalf("callback never delivered: %+v", v.Callback)
		}
		time.Sleep(50 * time.Millisecond) // poll interval, bounded by the deadline
	}
	if c := v.Callback; c.Attempts != 2 || c.LastError != "" || c.DeliveredAt == nil || c.LastAttemptAt == nil {
		t.Errorf("callback %+v", c)
	}
	mu.Lock()
	defer mu.Unlock()
	if calls != 2 {
		t.Errorf("the receiver was called %d times, want 2", calls)
	}
}
