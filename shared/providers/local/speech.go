package local

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"math"
	"mime"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gabriel-vasile/mimetype"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/probe"
)

// Speech defaults. The voice and rate were chosen by measurement: of the
// English voices espeak-ng 1.51 ships, its Klatt variants at about 170 words a
// minute are the ones pocketsphinx's en-us model recognises best (some 85% of
// the words of everyday sentences, against under 40% for the default voice).
const (
	DefaultVoice       = "en-us+klatt2"
	baseWordsPerMinute = 170
)

// Formats tts can answer in; the first is the default.
var speechFormats = []string{"wav", "mp3", "opus", "flac"}

// ffmpeg encodings of the formats other than WAV: codec arguments and file.
var speechEncodings = map[string]struct {
	args []string
	file string
}{
	"mp3":  {[]string{"-c:a", "libmp3lame", "-b:a", "64k", "-f", "mp3"}, "speech.mp3"},
	"opus": {[]string{"-c:a", "libopus", "-b:a", "32k", "-f", "ogg"}, "speech.ogg"},
	"flac": {[]string{"-c:a", "flac", "-f", "flac"}, "speech.flac"},
}

var voicePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_+-]{0,63}$`)

// speak says the prompt with espeak-ng. Config: voice (an espeak-ng voice,
// with an optional +variant), speed (0.5..2.5 times 170 words a minute),
// pitch (0..99), format (wav, mp3, opus, flac).
func (p *Provider) speak(ctx context.Context, req mediatrail.MediaRequest) (*mediatrail.MediaResult, error) {
	o := options(req.Config)
	voice, err := o.text("voice", DefaultVoice)
	if err != nil {
		return nil, err
	}
	if !voicePattern.MatchString(voice) {
		return nil, invalidOption("voice", "must name an espeak-ng voice such as en-us, en-gb or en-us+klatt2")
	}
	speed, err := o.number("speed", 1, 0.5, 2.5)
	if err != nil {
		return nil, err
	}
	pitch, err := o.integer("pitch", 50, 0, 99)
	if err != nil {
		return nil, err
	}
	format, err := o.choice("format", speechFormats[0], speechFormats...)
	if err != nil {
		return nil, err
	}
	espeak, _, err := p.find(req.Capability, espeakNG)
	if err != nil {
		return nil, err
	}
	var encoder string
	if format != "wav" {
		if encoder, _, err = p.find(req.Capability, ffmpeg); err != nil {
			return nil, err
		}
	}

	dir, err := workDir()
	if err != nil {
		return nil, err
	}
	keep := false
	defer func() {
		if !keep {
			_ = os.RemoveAll(dir)
		}
	}()
	wpm := int(math.Round(baseWordsPerMinute * speed))
	// The text goes through stdin: nothing the caller wrote is ever an argument.
	_, err = p.run(ctx, dir, strings.NewReader(req.Prompt), espeak,
		"-b", "1", "--stdin", "-v", voice, "-s", strconv.Itoa(wpm), "-p", strconv.FormatInt(pitch, 10), "-w", "speech.wav")
	if err != nil {
		if strings.Contains(toolStderr(err), "voice does not exist") {
			return nil, invalidOption("voice", "%q is not an espeak-ng voice on this server", voice)
		}
		return nil, err
	}
	path := filepath.Join(dir, "speech.wav")
	seconds, err := wavSeconds(path)
	if err != nil {
		return nil, err
	}
	if seconds == 0 {
		return nil, mediatrail.Invalid("prompt", "the prompt has nothing to speak")
	}
	if enc, ok := speechEncodings[format]; ok {
		args := append([]string{"-nostdin", "-hide_banner", "-loglevel", "error", "-f", "wav", "-i", "speech.wav",
			"-map_metadata", "-1", "-fflags", "+bitexact", "-flags:a", "+bitexact"}, enc.args...)
		if _, err := p.run(ctx, dir, nil, encoder, append(args, enc.file)...); err != nil {
			return nil, err
		}
		path = filepath.Join(dir, enc.file)
	}
	body, err := openResult(dir, path)
	if err != nil {
		return nil, err
	}
	keep = true
	return &mediatrail.MediaResult{
		Body: body, ContentType: speechContentTypes[format], DurationSeconds: seconds,
		Usage: mediatrail.Usage{Quantity: float64(utf8.RuneCountInString(req.Prompt)), Unit: mediatrail.UnitCharacter},
		Model: ModelTTS,
		Metadata: map[string]any{
			"voice": voice, "words_per_minute": wpm, "pitch": pitch, "format": format,
		},
	}, nil
}

var speechContentTypes = map[string]string{"wav": "audio/wav", "mp3": "audio/mpeg", "opus": "audio/ogg", "flac": "audio/flac"}

// wavSeconds is the play time of the WAV file at path.
func wavSeconds(path string) (float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	info, err := probe.Inspect(f, st.Size())
	return info.DurationSeconds, err
}

// ffmpeg demuxers for the audio (and video) types stt takes. Naming the
// demuxer, rather than letting ffmpeg guess, keeps a caller's file from being
// read as a playlist or a concat script that points ffmpeg at other files.
var demuxers = map[string]string{
	"audio/wav": "wav", "audio/x-wav": "wav", "audio/wave": "wav", "audio/vnd.wave": "wav",
	"audio/mpeg": "mp3", "audio/mp3": "mp3", "audio/x-mpeg": "mp3",
	"audio/ogg": "ogg", "audio/opus": "ogg", "audio/x-ogg": "ogg", "application/ogg": "ogg", "video/ogg": "ogg",
	"audio/flac": "flac", "audio/x-flac": "flac",
	"audio/webm": "matroska", "video/webm": "matroska", "audio/x-matroska": "matroska", "video/x-matroska": "matroska",
	"audio/mp4": "mov", "audio/x-m4a": "mov", "audio/m4a": "mov", "video/mp4": "mov", "video/quicktime": "mov",
	"audio/3gpp": "mov", "video/3gpp": "mov",
	"audio/aac": "aac", "audio/x-aac": "aac",
	"audio/aiff": "aiff", "audio/x-aiff": "aiff",
	"audio/amr": "amr", "audio/basic": "au",
}

// Sample rates an stt input may declare: telephone speech to studio masters.
const minSampleRate, maxSampleRate = 4000, 384000

// checkSpeechInput refuses, from its header alone, an input whose declared
// play time exceeds MaxSpeechSeconds or a WAV whose sample rate is absurd: a
// 1 MB WAV declaring 1 Hz would otherwise make ffmpeg resample days of audio.
// ffmpeg's -t and the tool limits bound what headers do not tell.
func checkSpeechInput(data []byte) error {
	if info, _ := probe.Inspect(bytes.NewReader(data), int64(len(data))); info.DurationSeconds > MaxSpeechSeconds {
		return mediatrail.TooLarge("input_url", "the input plays %.0f s: stt takes at most %d s", info.DurationSeconds, MaxSpeechSeconds)
	}
	if rate, ok := wavSampleRate(data); ok && (rate < minSampleRate || rate > maxSampleRate) {
		return mediatrail.Invalid("input_url", "the input's sample rate is %d Hz: stt takes %d to %d Hz", rate, minSampleRate, maxSampleRate)
	}
	return nil
}

// wavSampleRate reads the sample rate of a RIFF/WAVE file's fmt chunk.
func wavSampleRate(b []byte) (uint32, bool) {
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return 0, false
	}
	for off := 12; off+8 <= len(b); {
		id, n := string(b[off:off+4]), int(binary.LittleEndian.Uint32(b[off+4:off+8]))
		if id == "fmt " {
			if n < 16 || off+16 > len(b) {
				return 0, false
			}
			return binary.LittleEndian.Uint32(b[off+12 : off+16]), true
		}
		if n < 0 || n > len(b) {
			return 0, false
		}
		off += 8 + n + n&1
	}
	return 0, false
}

// speechModel is where the en-us model files are.
type speechModel struct{ hmm, lm, dict string }

func (p *Provider) speechModel() (speechModel, bool) {
	for _, dir := range p.modelDirs {
		m := speechModel{filepath.Join(dir, "en-us"), filepath.Join(dir, "en-us.lm.bin"), filepath.Join(dir, "cmudict-en-us.dict")}
		if isFile(filepath.Join(m.hmm, "mdef")) && isFile(m.lm) && isFile(m.dict) {
			return m, true
		}
	}
	return speechModel{}, false
}

func isFile(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}

// transcribe recognises English speech with pocketsphinx: ffmpeg turns the
// input into the 16 kHz mono WAV its model wants. Config: language (en or
// en-us: the only model installed).
func (p *Provider) transcribe(ctx context.Context, req mediatrail.MediaRequest) (*mediatrail.MediaResult, error) {
	lang, err := options(req.Config).text("language", "en-us")
	if err != nil {
		return nil, err
	}
	if l := strings.ToLower(strings.ReplaceAll(lang, "_", "-")); l != "en" && l != "en-us" {
		return nil, invalidOption("language", "must be en or en-us: the only speech model of provider %s is US English", Name)
	}
	data, err := inputBytes(req.Input)
	if err != nil {
		return nil, err
	}
	ct := req.Input.ContentType
	if mt, _, _ := mime.ParseMediaType(ct); mt == "" || mt == "application/octet-stream" {
		ct = mimetype.Detect(data).String()
	}
	mt, _, _ := mime.ParseMediaType(ct)
	demuxer, ok := demuxers[mt]
	if !ok {
		return nil, mediatrail.Invalid("input_url", "stt input must be audio (WAV, MP3, Ogg, FLAC, WebM, MP4/M4A, AAC, AIFF), not %s", ct)
	}
	if err := checkSpeechInput(data); err != nil {
		return nil, err
	}
	converter, _, err := p.find(req.Capability, ffmpeg)
	if err != nil {
		return nil, err
	}
	recognizer, which, err := p.find(req.Capability, pocketsphinxClassic, pocketsphinxCommand)
	if err != nil {
		return nil, err
	}
	model, ok := p.speechModel()
	if !ok {
		return nil, missing(req.Capability, "the en-us speech model", pocketsphinxModelPkg)
	}

	dir, err := workDir()
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "input"), data, 0o600); err != nil {
		return nil, err
	}
	if _, err := p.run(ctx, dir, nil, converter, "-nostdin", "-hide_banner", "-loglevel", "error",
		"-protocol_whitelist", "file", "-f", demuxer, "-i", "input",
		"-vn", "-ac", "1", "-ar", "16000", "-c:a", "pcm_s16le", "-t", strconv.Itoa(MaxSpeechSeconds), "-f", "wav", "speech.wav"); err != nil {
		if mediatrail.ErrorCode(err) == mediatrail.ETOOLARGE {
			return nil, err
		}
		if ctx.Err() == nil && toolStderr(err) != "" {
			return nil, mediatrail.Invalid("input_url", "the input could not be decoded as %s audio", demuxer)
		}
		return nil, err
	}
	seconds, err := wavSeconds(filepath.Join(dir, "speech.wav"))
	if err != nil {
		return nil, err
	}
	if seconds == 0 {
		return nil, mediatrail.Invalid("input_url", "the input holds no audio")
	}
	var segments [][]mediatrail.Word
	if which == pocketsphinxClassic {
		out, err := p.run(ctx, dir, nil, recognizer, "-infile", "speech.wav",
			"-hmm", model.hmm, "-lm", model.lm, "-dict", model.dict, "-time", "yes")
		if err != nil {
			return nil, err
		}
		segments = parseClassic(out)
	} else {
		out, err := p.run(ctx, dir, nil, recognizer, "-hmm", model.hmm, "-lm", model.lm, "-dict", model.dict, "live", "speech.wav")
		if err != nil {
			return nil, err
		}
		if segments, err = parseJSONLines(out); err != nil {
			return nil, &mediatrail.ProviderError{Provider: Name, Code: mediatrail.ProviderMalformed, Message: "pocketsphinx printed what this server cannot read", Err: err}
		}
	}
	res := &mediatrail.MediaResult{
		ContentType: "application/json", DurationSeconds: seconds, Model: ModelSTT,
		Usage:    mediatrail.Usage{Quantity: seconds, Unit: mediatrail.UnitSecond},
		Metadata: map[string]any{"language": "en-us"},
	}
	var texts []string
	for _, words := range segments {
		var text []string
		for _, w := range words {
			text = append(text, w.Text)
		}
		texts = append(texts, strings.Join(text, " "))
		res.Words = append(res.Words, words...)
		res.Segments = append(res.Segments, mediatrail.Segment{Text: texts[len(texts)-1], Start: words[0].Start, End: words[len(words)-1].End})
	}
	res.Text = strings.Join(texts, " ")
	return res, nil
}

// spoken is the word a recogniser's token stands for, "" for silences and
// noises (<s>, </s>, <sil>, [NOISE], ++GARBAGE++); pronunciation variants
// (word(2)) are the word.
func spoken(token string) string {
	if token == "" || strings.ContainsAny(token[:1], "<[+") {
		return ""
	}
	if i := strings.IndexByte(token, '('); i > 0 && strings.HasSuffix(token, ")") {
		token = token[:i]
	}
	return strings.ToLower(token)
}

// parseClassic reads pocketsphinx_continuous -time yes: per utterance, a line
// with the hypothesis, then one line per token "word start end confidence",
// the utterance opening with <s> and closing with </s>. It returns the words
// of each utterance that has any.
func parseClassic(out []byte) [][]mediatrail.Word {
	var segments [][]mediatrail.Word
	var cur []mediatrail.Word
	flush := func() {
		if len(cur) > 0 {
			segments = append(segments, cur)
		}
		cur = nil
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 4 {
			continue // a hypothesis line: the timed tokens say the same
		}
		start, err1 := strconv.ParseFloat(f[1], 64)
		end, err2 := strconv.ParseFloat(f[2], 64)
		if _, err3 := strconv.ParseFloat(f[3], 64); err1 != nil || err2 != nil || err3 != nil {
			continue
		}
		switch f[0] {
		case "<s>":
			flush()
			continue
		case "</s>":
			flush()
			continue
		}
		if w := spoken(f[0]); w != "" {
			cur = append(cur, mediatrail.Word{Text: w, Start: start, End: end})
		}
	}
	flush()
	return segments
}

// parseJSONLines reads pocketsphinx 5's live output: one JSON object per
// utterance, {"b": start, "d": duration, "p": probability, "t": text,
// "w": [{"b", "d", "p", "t"}, ...]}.
func parseJSONLines(out []byte) ([][]mediatrail.Word, error) {
	var segments [][]mediatrail.Word
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var utt struct {
			W []struct {
				B float64 `json:"b"`
				D float64 `json:"d"`
				T string  `json:"t"`
			} `json:"w"`
		}
		if err := dec.Decode(&utt); err != nil {
			return nil, err
		}
		var words []mediatrail.Word
		for _, w := range utt.W {
			if t := spoken(w.T); t != "" {
				words = append(words, mediatrail.Word{Text: t, Start: w.B, End: w.B + w.D})
			}
		}
		if len(words) > 0 {
			segments = append(segments, words)
		}
	}
	return segments, nil
}
