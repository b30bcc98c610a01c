package local_test

import (
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/providers/local"
	"github.com/mediatrail/mediatrail/shared/testenv"
)

// Sentences of the speech round trip. With espeak-ng 1.51's default local
// voice (en-us+klatt2, 170 words a minute) and pocketsphinx 5prealpha's en-us
// model, 43 of their 49 words come back (measured); the pangram is the
// hardest (7 of 9).
var sentences = []string{
	"the quick brown fox jumps over the lazy dog",
	"hello world this is a test",
	"please call me tomorrow morning at nine",
	"the weather is nice today and the sun is shining",
	"i would like to order a pizza with cheese",
	"we will meet at the station after lunch",
}

// minRecall is the share of the sentences' words the round trip must recover,
// with room under the measured 88% for other tool versions.
const minRecall = 0.7

func TestSpeechRoundTrip(t *testing.T) {
	needTools(t, "espeak-ng", "ffmpeg", "pocketsphinx_continuous")
	p := local.New(local.Config{})
	type outcome struct {
		found, words int
	}
	results := make([]outcome, len(sentences))
	t.Run("sentences", func(t *testing.T) {
		for i, s := range sentences {
			t.Run(strings.Join(strings.Fields(s)[:3], "_"), func(t *testing.T) {
				t.Parallel()
				start := time.Now()
				speech := mustGenerate(t, p, tts(s, nil))
				said := time.Since(start)
				text := mustGenerate(t, p, stt(speech.data, nil))
				r := testenv.WordRecall(s, text.Text)
				t.Logf("%q → %q (recall %.0f%%; tts %s, stt %s)", s, text.Text, 100*r, said.Round(time.Millisecond), (time.Since(start) - said).Round(time.Millisecond))
				words := len(strings.Fields(s))
				results[i] = outcome{int(math.Round(r * float64(words))), words}
				checkTranscript(t, text, speech.DurationSeconds)
			})
		}
	})
	found, words := 0, 0
	for _, r := range results {
		found, words = found+r.found, words+r.words
	}
	if got := float64(found) / float64(words); got < minRecall {
		t.Errorf("the round trip recovered %d of %d words (%.0f%%), want at least %.0f%%", found, words, 100*got, 100*minRecall)
	}
}

// checkTranscript checks what stt reports besides the text: timed words in
// order within the audio, segments covering them, usage in seconds.
func checkTranscript(t *testing.T, res generated, seconds float64) {
	t.Helper()
	if res.Model != local.ModelSTT || res.ContentType != "application/json" || res.Usage.Unit != mediatrail.UnitSecond ||
		math.Abs(res.Usage.Quantity-seconds) > 0.05 || math.Abs(res.DurationSeconds-seconds) > 0.05 {
		t.Errorf("result = model %q type %q usage %+v duration %v; speech lasted %v", res.Model, res.ContentType, res.Usage, res.DurationSeconds, seconds)
	}
	if len(res.Words) == 0 || len(res.Segments) == 0 {
		t.Fatalf("words %v segments %v", res.Words, res.Segments)
	}
	var texts []string
	last := 0.0
	for _, w := range res.Words {
		if w.Text == "" || strings.ContainsAny(w.Text, "<>[]()") || w.Start < last || w.End < w.Start || w.End > seconds+0.05 {
			t.Errorf("word %+v (after %v, audio %v s)", w, last, seconds)
		}
		last = w.Start
		texts = append(texts, w.Text)
	}
	if strings.Join(texts, " ") != res.Text {
		t.Errorf("words %q do not make the text %q", texts, res.Text)
	}
	if res.Segments[0].Start != res.Words[0].Start || res.Segments[len(res.Segments)-1].End != res.Words[len(res.Words)-1].End {
		t.Errorf("segments %+v do not span the words", res.Segments)
	}
}

func TestSpeakFormats(t *testing.T) {
	needTools(t, "espeak-ng", "ffmpeg")
	p := local.New(local.Config{})
	const prompt = "Formats of speech."
	for _, tc := range []struct{ format, contentType string }{
		{"", "audio/wav"}, {"wav", "audio/wav"}, {"mp3", "audio/mpeg"}, {"opus", "audio/ogg"}, {"FLAC", "audio/flac"},
	} {
		t.Run(tc.contentType+" "+tc.format, func(t *testing.T) {
			t.Parallel()
			config := map[string]any{}
			if tc.format != "" {
				config["format"] = tc.format
			}
			res := mustGenerate(t, p, tts(prompt, config))
			if res.ContentType != tc.contentType || res.info.ContentType != tc.contentType {
				t.Errorf("content type %q, sniffed %q, want %q", res.ContentType, res.info.ContentType, tc.contentType)
			}
			// Probed from the bytes: the stored file's own duration.
			if res.info.DurationSeconds < 0.8 || res.info.DurationSeconds > 3 || math.Abs(res.info.DurationSeconds-res.DurationSeconds) > 0.1 {
				t.Errorf("probed %v s, reported %v s", res.info.DurationSeconds, res.DurationSeconds)
			}
			if res.Model != local.ModelTTS || res.Usage != (mediatrail.Usage{Quantity: float64(len(prompt)), Unit: mediatrail.UnitCharacter}) {
				t.Errorf("model %q usage %+v", res.Model, res.Usage)
			}
		})
	}
}

// Speed and voice change the speech; text that looks like options is spoken,
// never taken as one.
func TestSpeakOptions(t *testing.T) {
	needTools(t, "espeak-ng")
	p := local.New(local.Config{})
	const prompt = "one two three four five six seven eight"
	normal := mustGenerate(t, p, tts(prompt, nil))
	fast := mustGenerate(t, p, tts(prompt, map[string]any{"speed": 2}))
	slow := mustGenerate(t, p, tts(prompt, map[string]any{"speed": "0.5"}))
	if !(fast.info.DurationSeconds < normal.info.DurationSeconds && normal.info.DurationSeconds < slow.info.DurationSeconds) {
		t.Errorf("durations fast %v normal %v slow %v", fast.info.DurationSeconds, normal.info.DurationSeconds, slow.info.DurationSeconds)
	}
	gb := mustGenerate(t, p, tts(prompt, map[string]any{"voice": "en-gb", "pitch": 20}))
	if string(gb.data) == string(normal.data) || gb.Metadata["voice"] != "en-gb" || normal.Metadata["voice"] != local.DefaultVoice {
		t.Errorf("voice en-gb made the same speech, or metadata %v / %v", gb.Metadata, normal.Metadata)
	}
	for _, s := range []string{"-v xx --help", "--stdin -w /tmp/x.wav", "-"} {
		res := mustGenerate(t, p, tts(s, nil))
		if res.info.ContentType != "audio/wav" || res.info.DurationSeconds <= 0 {
			t.Errorf("%q: %+v", s, res.info)
		}
	}
}

func TestSpeakRejects(t *testing.T) {
	needTools(t, "espeak-ng")
	p := local.New(local.Config{})
	for _, tc := range []struct {
		name   string
		req    mediatrail.MediaRequest
		code   string
		fields string
	}{
		{"voice that is an option", tts("hi", map[string]any{"voice": "-x"}), mediatrail.EINVALID, "config.voice"},
		{"voice not installed", tts("hi", map[string]any{"voice": "xx-nowhere"}), mediatrail.EINVALID, "config.voice"},
		{"voice not a string", tts("hi", map[string]any{"voice": 3.0}), mediatrail.EINVALID, "config.voice"},
		{"speed too fast", tts("hi", map[string]any{"speed": 10.0}), mediatrail.EINVALID, "config.speed"},
		{"speed not a number", tts("hi", map[string]any{"speed": "fast"}), mediatrail.EINVALID, "config.speed"},
		{"pitch fraction", tts("hi", map[string]any{"pitch": 1.5}), mediatrail.EINVALID, "config.pitch"},
		{"format unknown", tts("hi", map[string]any{"format": "aiff"}), mediatrail.EINVALID, "config.format"},
		{"another model", mediatrail.MediaRequest{Capability: mediatrail.CapabilityTTS, Prompt: "hi", Model: "tts-1"}, mediatrail.EINVALID, "model"},
		{"video", mediatrail.MediaRequest{Capability: mediatrail.CapabilityVideoGen, Prompt: "a fox"}, mediatrail.EINVALID, "media_type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := generate(t, p, tc.req)
			var e *mediatrail.Error
			if !errors.As(err, &e) || e.Code != tc.code || e.Details["field"] != tc.fields {
				t.Fatalf("error = %#v, want %s on %s", err, tc.code, tc.fields)
			}
		})
	}
}

func TestTranscribeInputs(t *testing.T) {
	needTools(t, "espeak-ng", "ffmpeg", "pocketsphinx_continuous")
	p := local.New(local.Config{})
	const s = "hello world this is a test"
	mp3 := mustGenerate(t, p, tts(s, map[string]any{"format": "mp3"}))
	t.Run("mp3 sniffed from the bytes", func(t *testing.T) {
		res := mustGenerate(t, p, stt(mp3.data, map[string]any{"language": "en"}))
		if r := testenv.WordRecall(s, res.Text); r < 0.5 {
			t.Errorf("mp3 input: %q (recall %.0f%%)", res.Text, 100*r)
		}
	})
	t.Run("silence", func(t *testing.T) {
		res := mustGenerate(t, p, stt(silence(2), nil))
		if res.DurationSeconds != 2 || res.Usage.Quantity != 2 {
			t.Errorf("duration %v usage %+v", res.DurationSeconds, res.Usage)
		}
	})
	for _, tc := range []struct {
		name  string
		req   mediatrail.MediaRequest
		code  string
		parts []string
	}{
		{"text", stt([]byte("just some text, not audio"), nil), mediatrail.EINVALID, []string{"stt input must be audio", "text/plain"}},
		{"an image", stt(pngOf(solid(4, 4, red)), nil), mediatrail.EINVALID, []string{"image/png"}},
		{"corrupt wav", stt(append([]byte("RIFF\x24\x00\x00\x00WAVEfmt "), make([]byte, 64)...), nil), mediatrail.EINVALID, []string{"could not be decoded"}},
		{"labelled audio, not audio", mediatrail.MediaRequest{Capability: mediatrail.CapabilitySTT,
			Input: &mediatrail.MediaInput{Data: []byte("#EXTM3U\n#EXT-X-TARGETDURATION:1\nfile:///etc/passwd\n"), ContentType: "audio/mpeg"}},
			mediatrail.EINVALID, []string{"could not be decoded as mp3"}},
		{"french", stt(mp3.data, map[string]any{"language": "fr"}), mediatrail.EINVALID, []string{"en-us"}},
		{"a URL", mediatrail.MediaRequest{Capability: mediatrail.CapabilitySTT, Input: &mediatrail.MediaInput{URL: "https://example.com/a.wav"}},
			mediatrail.EINVALID, []string{"not a URL"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := generate(t, p, tc.req)
			wantError(t, err, tc.code, tc.parts...)
		})
	}
}

// silence is a WAV of n seconds of 16 kHz mono silence.
func silence(n int) []byte {
	data := make([]byte, n*32000)
	h := []byte("RIFF\x00\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x80\x3e\x00\x00\x00\x7d\x00\x00\x02\x00\x10\x00data\x00\x00\x00\x00")
	le := func(b []byte, v int) { b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24) }
	le(h[4:], 36+len(data))
	le(h[40:], len(data))
	return append(h, data...)
}

// A server without the tools answers EUNAVAILABLE naming the Debian package.
func TestMissingTools(t *testing.T) {
	installed := func(except ...string) func(string) (string, error) {
		return func(name string) (string, error) {
			for _, e := range except {
				if name == e {
					return "", errors.New("not found")
				}
			}
			return "/usr/bin/" + name, nil
		}
	}
	model := t.TempDir()
	for _, tc := range []struct {
		name    string
		cfg     local.Config
		req     mediatrail.MediaRequest
		pkg     string
		message string
	}{
		{"tts", local.Config{LookPath: installed("espeak-ng")}, tts("hi", nil), "espeak-ng", "espeak-ng is not installed"},
		{"tts mp3", local.Config{LookPath: installed("ffmpeg")}, tts("hi", map[string]any{"format": "mp3"}), "ffmpeg", "ffmpeg is not installed"},
		{"stt recogniser", local.Config{LookPath: installed("pocketsphinx_continuous", "pocketsphinx")}, stt(silence(1), nil), "pocketsphinx", "pocketsphinx_continuous is not installed"},
		{"stt converter", local.Config{LookPath: installed("ffmpeg")}, stt(silence(1), nil), "ffmpeg", "ffmpeg is not installed"},
		{"stt model", local.Config{LookPath: installed(), SpeechModelDirs: []string{model}}, stt(silence(1), nil), "pocketsphinx-en-us", "en-us speech model is not installed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := generate(t, local.New(tc.cfg), tc.req)
			wantError(t, err, mediatrail.EUNAVAILABLE, tc.message, "Debian package "+tc.pkg, "apt-get install "+tc.pkg)
		})
	}
	// Images need no tool.
	mustGenerate(t, local.New(local.Config{LookPath: installed("espeak-ng", "ffmpeg", "pocketsphinx_continuous", "pocketsphinx")}), imageGen("no tools", nil))
}

// A tool that overruns its time is stopped and reported as a timeout.
func TestToolTimeout(t *testing.T) {
	needTools(t, "espeak-ng")
	p := local.New(local.Config{ToolTimeout: time.Millisecond})
	_, err := generate(t, p, tts(strings.Repeat("a long text to say. ", 200), nil))
	var pe *mediatrail.ProviderError
	if !errors.As(err, &pe) || pe.Code != mediatrail.ProviderTimeout || mediatrail.ErrorCode(err) != mediatrail.ETIMEOUT {
		t.Fatalf("error = %v, want a provider timeout", err)
	}
}

// Work directories go away: after a result is read and closed, and after a failure.
func TestTemporaryFilesRemoved(t *testing.T) {
	needTools(t, "espeak-ng", "ffmpeg", "pocketsphinx_continuous")
	dir := t.TempDir()
	t.Setenv("TMPDIR", dir)
	p := local.New(local.Config{})
	speech := mustGenerate(t, p, tts("clean up after yourself", map[string]any{"format": "mp3"}))
	mustGenerate(t, p, stt(speech.data, nil))
	_, err := generate(t, p, tts("hi", map[string]any{"voice": "xx-nowhere"}))
	wantError(t, err, mediatrail.EINVALID)
	_, err = generate(t, p, stt([]byte("RIFF????WAVEjunkjunkjunk"), nil))
	wantError(t, err, mediatrail.EINVALID)
	if left, _ := filepath.Glob(filepath.Join(dir, "*", "*")); len(left) != 0 { // work dirs under the process dir
		t.Errorf("left in TMPDIR: %v", left)
	}
}

func TestParseRecogniserOutput(t *testing.T) {
	classic := "hello world\n<s> 0.000 0.020 0.999900\nhello 0.030 0.290 0.356\n<sil> 0.300 0.400 0.8\nworld(2) 0.410 0.650 0.69\n</s> 0.660 0.900 1.0\n" +
		"\n<s> 1.000 1.100 1.0\n[NOISE] 1.100 1.200 1.0\n</s> 1.200 1.300 1.0\n" +
		"again\n<s> 3.670 3.740 0.9998\nAgain 3.750 3.890 0.64\n</s> 3.900 4.000 1.0\n"
	want := [][]mediatrail.Word{
		{{Text: "hello", Start: 0.03, End: 0.29}, {Text: "world", Start: 0.41, End: 0.65}},
		{{Text: "again", Start: 3.75, End: 3.89}},
	}
	if got := local.ParseClassic([]byte(classic)); !equalWords(got, want) {
		t.Errorf("classic: %+v", got)
	}
	// pocketsphinx 5: one JSON object per utterance.
	lines := `{"b":0.000,"d":0.900,"p":0.5,"t":"hello world","w":[{"b":0.000,"d":0.020,"p":1.0,"t":"<s>"},{"b":0.030,"d":0.260,"p":0.3,"t":"hello"},{"b":0.410,"d":0.240,"p":0.7,"t":"world(2)"},{"b":0.660,"d":0.240,"p":1.0,"t":"</s>"}]}
{"b":1.000,"d":0.300,"p":1.0,"t":"","w":[{"b":1.000,"d":0.300,"p":1.0,"t":"<sil>"}]}
{"b":3.670,"d":0.330,"p":0.9,"t":"again","w":[{"b":3.750,"d":0.140,"p":0.6,"t":"again"}]}
`
	got, err := local.ParseJSONLines([]byte(lines))
	if err != nil || !equalWords(got, want) {
		t.Errorf("json lines: %+v, %v", got, err)
	}
	if _, err := local.ParseJSONLines([]byte(`{"w":[`)); err == nil {
		t.Error("truncated JSON parsed")
	}
}

func equalWords(a, b [][]mediatrail.Word) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for j := range a[i] {
			x, y := a[i][j], b[i][j]
			if x.Text != y.Text || math.Abs(x.Start-y.Start) > 1e-9 || math.Abs(x.End-y.End) > 1e-9 {
				return false
			}
		}
	}
	return true
}
