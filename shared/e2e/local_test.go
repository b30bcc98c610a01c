package e2e_test

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	_ "image/png"
	"math"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/probe"
	"github.com/mediatrail/mediatrail/shared/providers/local"
	"github.com/mediatrail/mediatrail/shared/testenv"
)

// The local provider through the HTTP API, as on a machine with no provider
// account: real espeak-ng, ffmpeg and pocketsphinx, real storage and tables.

// localSpeech is spoken and transcribed back. espeak-ng 1.51 and pocketsphinx
// 5prealpha recover 15 of its 19 words (measured).
const localSpeech = "The quick brown fox jumps over the lazy dog. The weather is nice today and the sun is shining."

// localMinRecall is the share of localSpeech's words the round trip must recover.
const localMinRecall = 0.6

// needLocalTools skips when the local provider's tools are missing, or fails
// in CI, where scripts/setup.sh has installed them.
func needLocalTools(t *testing.T) {
	t.Helper()
	for _, name := range []string{"espeak-ng", "ffmpeg", "pocketsphinx_continuous"} {
		if _, err := exec.LookPath(name); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is not installed: scripts/setup.sh installs it", name)
			}
			t.Skipf("%s is not installed (run scripts/setup.sh)", name)
		}
	}
}

// localCall makes a media call with the local provider and checks what every
// answer has: completed, an asset and a span, cost 0.
func (st *stack) localCall(t *testing.T, key, route string, body map[string]any) generated {
	t.Helper()
	body["provider"] = "local"
	r := st.do(t, "POST", "/api/v1/media/"+route, key, body)
	wantOK(t, r, http.StatusOK)
	var out generated
	r.Into(t, &out)
	if out.Status != "completed" || !mediatrail.ValidID(out.AssetID) || !mediatrail.ValidID(out.SpanID) || out.AssetURL == "" || out.Cost != 0 {
		t.Fatalf("answer = %s", r.Raw)
	}
	return out
}

// localAsset fetches the asset and its bytes through the API and the signed
// URL, checking that the record describes the bytes.
func (st *stack) localAsset(t *testing.T, key string, out generated) (mediatrail.Asset, []byte, probe.Info) {
	t.Helper()
	r := st.do(t, "GET", "/api/v1/assets/"+out.AssetID, key, nil)
	wantOK(t, r, http.StatusOK)
	var a mediatrail.Asset
	r.Into(t, &a)
	code, _, body := download(t, out.AssetURL)
	if code != http.StatusOK {
		t.Fatalf("download: status %d", code)
	}
	info, _ := probe.Inspect(bytes.NewReader(body), int64(len(body)))
	if a.Provider != "local" || a.Status != mediatrail.StatusReady || a.FileSize != int64(len(body)) || a.ContentType != out.ContentType {
		t.Errorf("asset %+v for %d bytes", a, len(body))
	}
	return a, body, info
}

func TestLocalProvider(t *testing.T) {
	t.Parallel()
	needLocalTools(t)
	st := newStack(t, 20*time.Second)
	key, _ := st.workspace(t)
	const execID = "exec-local"

	// Speech: espeak-ng's WAV, its duration probed from the stored bytes.
	start := time.Now()
	speech := st.localCall(t, key, "tts", map[string]any{"prompt": localSpeech, "execution_id": execID})
	ttsTook := time.Since(start)
	a, _, info := st.localAsset(t, key, speech)
	secs, _ := a.Metadata["duration_seconds"].(float64)
	if speech.ContentType != "audio/wav" || a.Model != local.ModelTTS || info.ContentType != "audio/wav" ||
		info.DurationSeconds < 3 || math.Abs(info.DurationSeconds-secs) > 0.01 || a.Metadata["voice"] != local.DefaultVoice {
		t.Errorf("speech asset %+v, probed %+v", a, info)
	}

	// The speech, transcribed back from the stored asset.
	start = time.Now()
	text := st.localCall(t, key, "stt", map[string]any{"input_asset_id": speech.AssetID, "execution_id": execID})
	sttTook := time.Since(start)
	r := testenv.WordRecall(localSpeech, text.TextOutput)
	t.Logf("%q → %q: recall %.0f%% (tts %s, stt %s through the API)", localSpeech, text.TextOutput, 100*r, ttsTook.Round(time.Millisecond), sttTook.Round(time.Millisecond))
	if r < localMinRecall {
		t.Errorf("the round trip recovered %.0f%% of the words, want at least %.0f%%", 100*r, 100*localMinRecall)
	}
	ta, doc, _ := st.localAsset(t, key, text)
	var transcript struct {
		Text            string            `json:"text"`
		DurationSeconds float64           `json:"duration_seconds"`
		Words           []mediatrail.Word `json:"words"`
		Segments        []mediatrail.Segment
	}
	if err := json.Unmarshal(doc, &transcript); err != nil || transcript.Text != text.TextOutput || len(transcript.Words) < 10 ||
		len(transcript.Segments) == 0 || math.Abs(transcript.DurationSeconds-secs) > 0.05 || ta.Model != local.ModelSTT || ta.ContentType != "application/json" {
		t.Errorf("transcript %s (%v), asset %+v", doc, err, ta)
	}
	if last := transcript.Words[len(transcript.Words)-1]; last.End <= transcript.Words[0].Start || last.End > secs+0.05 {
		t.Errorf("word times %+v … %+v in %v s", transcript.Words[0], last, secs)
	}

	// An image, through the SDK's generic route: sized, seeded, deterministic.
	draw := func(seed int) (generated, mediatrail.Asset, []byte, probe.Info) {
		out := st.localCall(t, key, "generate", map[string]any{"media_type": "image_gen", "prompt": "A lighthouse at dawn",
			"config": map[string]any{"width": 320, "height": 200, "seed": seed}, "execution_id": execID})
		a, body, info := st.localAsset(t, key, out)
		return out, a, body, info
	}
	img, ia, pngBytes, info := draw(7)
	if img.ContentType != "image/png" || info.Width != 320 || info.Height != 200 || ia.Metadata["width"] != 320.0 || ia.Metadata["height"] != 200.0 || ia.Model != local.ModelImageGen {
		t.Errorf("image asset %+v, probed %+v", ia, info)
	}
	// Stored bytes differ by the embedded provenance (each asset has its
	// own id), so determinism is judged on the pixels.
	if _, _, again, _ := draw(7); !bytes.Equal(MustPixels(t, again), MustPixels(t, pngBytes)) {
		t.Error("the same prompt and seed made a different image")
	}
	if _, _, other, _ := draw(8); bytes.Equal(MustPixels(t, other), MustPixels(t, pngBytes)) {
		t.Error("another seed made the same image")
	}

	// An edit of that image: grayscale, a quarter turn, a resize, checked by pixel.
	edited := st.localCall(t, key, "image_edit", map[string]any{"prompt": "grayscale, rotate 90, resize 100x160", "input_asset_id": img.AssetID, "execution_id": execID})
	ea, body, info := st.localAsset(t, key, edited)
	if info.Width != 100 || info.Height != 160 || ea.Model != local.ModelImageEdit {
		t.Errorf("edited asset %+v, probed %+v", ea, info)
	}
	src, _, err1 := image.Decode(bytes.NewReader(pngBytes))
	dst, _, err2 := image.Decode(bytes.NewReader(body))
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	// The source's top-left corner is the result's top-right; all of it is gray.
	corner := color.GrayModel.Convert(src.At(2, 2)).(color.Gray).Y
	got := color.NRGBAModel.Convert(dst.At(98, 1)).(color.NRGBA)
	if got.R != got.G || got.G != got.B || math.Abs(float64(got.R)-float64(corner)) > 12 {
		t.Errorf("edited corner %v, source corner's gray %d", got, corner)
	}

	// An operation it does not know: 400 listing the ones it does, and an error span.
	bad := st.do(t, "POST", "/api/v1/media/image_edit", key, map[string]any{"provider": "local", "prompt": "make it pop", "input_asset_id": img.AssetID, "execution_id": "exec-local-bad"})
	wantError(t, bad, http.StatusBadRequest, mediatrail.EINVALID)
	for _, op := range []string{`"make"`, "grayscale", "invert", "blur", "sharpen", "rotate", "flip", "resize", "crop"} {
		if !strings.Contains(bad.Error.Message, op) {
			t.Errorf("message %q does not name %s", bad.Error.Message, op)
		}
	}
	if spans, _ := st.spans(t, key, "execution_id=exec-local-bad"); len(spans) != 1 || spans[0].Status != "error" || spans[0].Error == nil || spans[0].Error.Code != mediatrail.EINVALID {
		t.Errorf("spans of the refused edit: %+v", spans)
	}

	// Every call is on the books: priced, at no cost.
	spans, page := st.spans(t, key, "execution_id="+execID)
	if len(spans) != 6 || page.Total != 6 {
		t.Fatalf("%d spans (total %d), want 6", len(spans), page.Total)
	}
	for _, sp := range spans {
		if sp.Provider != "local" || sp.Status != "completed" || sp.Cost != 0 || !sp.CostDetail.Priced || sp.CostDetail.Amount != 0 || sp.CostDetail.Currency != "USD" {
			t.Errorf("span %+v", sp)
		}
	}
	// Ids order spans to the second only: find the speech's by its type.
	var tts []span
	for _, sp := range spans {
		if sp.MediaType == "tts" {
			tts = append(tts, sp)
		}
	}
	if len(tts) != 1 || tts[0].CostDetail.Unit != mediatrail.UnitCharacter || tts[0].MediaDurationSeconds != secs {
		t.Errorf("tts spans %+v", tts)
	}
}
