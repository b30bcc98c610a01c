package local_test

import (
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/providers/local"
)

// wav is a PCM WAV header declaring rate Hz, 8-bit mono, followed by n
// bytes (samples) of silence.
func wav(rate uint32, n int) []byte {
	b := make([]byte, 44+n)
	copy(b, "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(36+n))
	copy(b[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(b[16:], 16)
	binary.LittleEndian.PutUint16(b[20:], 1) // PCM
	binary.LittleEndian.PutUint16(b[22:], 1) // mono
	binary.LittleEndian.PutUint32(b[24:], rate)
	binary.LittleEndian.PutUint32(b[28:], rate) // byte rate
	binary.LittleEndian.PutUint16(b[32:], 1)    // block align
	binary.LittleEndian.PutUint16(b[34:], 8)    // bits
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], uint32(n))
	for i := 44; i < len(b); i++ {
		b[i] = 128
	}
	return b
}

// A 1 MB WAV declaring 1 Hz × 1M samples (11 days) drove ffmpeg to 800 MB
// and 3.4 GB of temp disk; it and its kin are refused from the header, in
// well under a second, before any tool runs.
func TestSecurity_STTRefusesAbsurdWAVBeforeDecoding(t *testing.T) {
	needTools(t, "ffmpeg", "pocketsphinx_continuous")
	p := local.New(local.Config{})
	for _, tc := range []struct {
		name string
		data []byte
		code string
	}{
		{"1 Hz x 1M samples", wav(1, 1<<20), mediatrail.ETOOLARGE},
		{"11 minutes at 8 kHz", wav(8000, 8000*660), mediatrail.ETOOLARGE},
		{"100 samples at 1 Hz", wav(1, 100), mediatrail.EINVALID},
		{"1 GHz", wav(1_000_000_000, 1000), mediatrail.EINVALID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, err := generate(t, p, stt(tc.data, nil))
			wantError(t, err, tc.code)
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("refused after %s: something decoded the input", d)
			}
		})
	}
}

// Tools run under a per-process file-size limit: a tool that would write
// more working data than allowed is stopped and the call answers 413, with
// its temporary directory gone.
func TestSecurity_ToolFileLimit(t *testing.T) {
	needTools(t, "espeak-ng")
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	p := local.New(local.Config{ToolFileBytes: 64 << 10})
	_, err := generate(t, p, tts(strings.Repeat("a long sentence to speak. ", 40), nil))
	wantError(t, err, mediatrail.ETOOLARGE)
	if left, _ := filepath.Glob(filepath.Join(tmp, "*", "*")); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}

// The largest image a function decodes follows from its MemorySize, checked
// from the header before any pixel is decoded (the headers here have no pixel
// data: decoding would answer "corrupt", not 413).
func TestSecurity_ImageCapsFollowMemorySize(t *testing.T) {
	needTools(t, "ffmpeg")
	const mb = 1 << 20
	for _, tc := range []struct {
		name   string
		memory int64
		req    mediatrail.MediaRequest
		parts  []string
	}{
		{"video_from_image 6324x6324 at 512 MB", 512 * mb, videoFromImage(hugePNG(6324, 6324), nil), []string{"6324x6324", "16.8 megapixels"}},
		{"image_edit 40 MP at 1024 MB", 1024 * mb, imageEdit("invert", hugePNG(8000, 5000), nil), []string{"8000x5000", "33.6 megapixels"}},
		{"image_edit 40 MP at 512 MB", 512 * mb, imageEdit("invert", hugePNG(8000, 5000), nil), []string{"16.8 megapixels"}},
		{"20 steps over 12 MP", 1024 * mb, imageEdit(strings.Repeat("blur 50, ", 20), hugePNG(4000, 3000), nil), []string{"20 operations", "megapixel-operations"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := local.New(local.Config{MemoryBytes: tc.memory})
			var err error
			if tc.req.Capability == mediatrail.CapabilityVideoFromImage {
				_, err = p.Submit(testContext(t), tc.req)
			} else {
				_, err = generate(t, p, tc.req)
			}
			wantError(t, err, mediatrail.ETOOLARGE, tc.parts...)
		})
	}
}

// A killed function leaves its work directory behind; the next process
// removes the directories of processes that are gone at start, keeps those of
// live ones, and puts every piece of work under its own directory.
func TestSecurity_StaleWorkDirsRemovedAtStart(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	// A process that has exited: its pid is free (until reused, which would
	// only keep its directory one more start).
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	dead := filepath.Join(tmp, "mediatrail-local-"+strconv.Itoa(cmd.Process.Pid), "work-1")
	alive := filepath.Join(tmp, "mediatrail-local-1", "work-1") // init never exits
	for _, d := range []string{dead, alive} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "speech.wav"), make([]byte, 1<<10), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	local.New(local.Config{})
	if _, err := os.Stat(filepath.Dir(dead)); !os.IsNotExist(err) {
		t.Errorf("the dead process's directory is still there (%v)", err)
	}
	if _, err := os.Stat(alive); err != nil {
		t.Errorf("a live process's directory was removed: %v", err)
	}
}
