package probe_test

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/mediatrail/mediatrail/shared/probe"
)

// TestInspectAgainstFFprobe encodes real files with ffmpeg (and espeak-ng) at
// test time and checks Inspect against the dimensions asked of the encoder and
// the duration ffprobe reports. It is skipped where the tools are missing.
func TestInspectAgainstFFprobe(t *testing.T) {
	if testing.Short() {
		t.Skip("encodes files with ffmpeg")
	}
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Skip("ffmpeg not installed")
	}
	ffprobe, err := exec.LookPath("ffprobe")
	if err != nil {
		t.Skip("ffprobe not installed")
	}
	espeak, _ := exec.LookPath("espeak-ng")
	dir := t.TempDir()

	tone := "sine=frequency=440:duration=2.5"
	pictures := "testsrc=size=160x90:rate=25:duration=2"
	for _, tc := range []struct {
		file        string
		cmd         []string // run with the output path appended; "-" means write stdout to it
		contentType string
		width       int
		height      int
	}{
		{"pcm.wav", []string{ffmpeg, "-f", "lavfi", "-i", tone, "-ar", "22050"}, "audio/wav", 0, 0},
		{"piped.wav", []string{ffmpeg, "-f", "lavfi", "-i", tone, "-f", "wav", "-"}, "audio/wav", 0, 0},
		{"vbr.mp3", []string{ffmpeg, "-f", "lavfi", "-i", tone, "-c:a", "libmp3lame", "-q:a", "4"}, "audio/mpeg", 0, 0},
		{"cbr.mp3", []string{ffmpeg, "-f", "lavfi", "-i", tone, "-c:a", "libmp3lame", "-b:a", "128k"}, "audio/mpeg", 0, 0},
		{"untagged.mp3", []string{ffmpeg, "-f", "lavfi", "-i", tone, "-c:a", "libmp3lame", "-b:a", "64k", "-write_xing", "0", "-id3v2_version", "0"}, "audio/mpeg", 0, 0},
		{"tone.flac", []string{ffmpeg, "-f", "lavfi", "-i", tone}, "audio/flac", 0, 0},
		{"opus.ogg", []string{ffmpeg, "-f", "lavfi", "-i", tone, "-c:a", "libopus"}, "audio/ogg", 0, 0},
		{"vorbis.ogg", []string{ffmpeg, "-f", "lavfi", "-i", tone, "-c:a", "libvorbis"}, "audio/ogg", 0, 0},
		{"tone.m4a", []string{ffmpeg, "-f", "lavfi", "-i", tone, "-c:a", "aac"}, "audio/x-m4a", 0, 0},
		{"moov-last.mp4", []string{ffmpeg, "-f", "lavfi", "-i", pictures, "-f", "lavfi", "-i", tone, "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest"}, "video/mp4", 160, 90},
		{"faststart.mp4", []string{ffmpeg, "-f", "lavfi", "-i", pictures, "-c:v", "libx264", "-pix_fmt", "yuv420p", "-movflags", "+faststart"}, "video/mp4", 160, 90},
		{"clip.mov", []string{ffmpeg, "-f", "lavfi", "-i", pictures, "-c:v", "mpeg4"}, "video/quicktime", 160, 90},
		{"clip.webm", []string{ffmpeg, "-f", "lavfi", "-i", pictures, "-c:v", "libvpx", "-b:v", "200k"}, "video/webm", 160, 90},
		{"clip.mkv", []string{ffmpeg, "-f", "lavfi", "-i", pictures, "-c:v", "mpeg4"}, "video/matroska", 160, 90},
		{"lossy.webp", []string{ffmpeg, "-f", "lavfi", "-i", "testsrc=size=37x21", "-frames:v", "1", "-c:v", "libwebp"}, "image/webp", 37, 21},
		{"lossless.webp", []string{ffmpeg, "-f", "lavfi", "-i", "testsrc=size=37x21", "-frames:v", "1", "-c:v", "libwebp", "-lossless", "1"}, "image/webp", 37, 21},
		{"animated.webp", []string{ffmpeg, "-f", "lavfi", "-i", "testsrc=size=37x21:duration=1", "-c:v", "libwebp_anim", "-loop", "0"}, "image/webp", 37, 21},
		{"frame.png", []string{ffmpeg, "-f", "lavfi", "-i", "testsrc=size=37x21", "-frames:v", "1"}, "image/png", 37, 21},
		{"frame.jpg", []string{ffmpeg, "-f", "lavfi", "-i", "testsrc=size=37x21", "-frames:v", "1"}, "image/jpeg", 37, 21},
		{"speech.wav", []string{espeak, "-w"}, "audio/wav", 0, 0},
		{"speech-stdout.wav", []string{espeak, "--stdout", "-"}, "audio/wav", 0, 0},
	} {
		t.Run(tc.file, func(t *testing.T) {
			if tc.cmd[0] == "" {
				t.Skip("espeak-ng not installed")
			}
			path := filepath.Join(dir, tc.file)
			encode(t, tc.cmd, path)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			got, err := probe.Inspect(bytes.NewReader(data), int64(len(data)))
			if err != nil {
				t.Fatalf("Inspect: %v", err)
			}
			want := probe.Info{ContentType: tc.contentType, Extension: got.Extension, Width: tc.width, Height: tc.height}
			// Opus durations differ by the pre-skip, which ffprobe counts and Inspect does not.
			if d := probedDuration(t, ffprobe, path); math.Abs(got.DurationSeconds-d) < 0.01 {
				want.DurationSeconds = got.DurationSeconds
			} else {
				want.DurationSeconds = d
			}
			if got != want {
				t.Errorf("Inspect = %+v, want %+v", got, want)
			}
		})
	}
}

// encode runs cmd with path appended, or with "-" replaced by a redirect of its
// standard output to path. espeak-ng commands get a sentence to speak.
func encode(t *testing.T, cmd []string, path string) {
	t.Helper()
	args := append([]string(nil), cmd[1:]...)
	if strings.HasSuffix(cmd[0], "ffmpeg") {
		args = append([]string{"-v", "error", "-y"}, args...)
	}
	toStdout := args[len(args)-1] == "-"
	if toStdout {
		args = args[:len(args)-1]
		if strings.HasSuffix(cmd[0], "ffmpeg") {
			args = append(args, "pipe:1")
		}
	} else {
		args = append(args, path)
	}
	if strings.HasSuffix(cmd[0], "espeak-ng") {
		args = append(args, "mediatrail probes stored media without decoding it")
	}
	c := exec.Command(cmd[0], args...)
	var stderr bytes.Buffer
	c.Stderr = &stderr
	if toStdout {
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		c.Stdout = f
	}
	if err := c.Run(); err != nil {
		if strings.Contains(stderr.String(), "Unknown encoder") {
			t.Skipf("encoder missing: %s", stderr.String())
		}
		t.Fatalf("%s: %v\n%s", c, err, stderr.String())
	}
}

// probedDuration is ffprobe's container duration, 0 when it reports none.
func probedDuration(t *testing.T, ffprobe, path string) float64 {
	t.Helper()
	out, err := exec.Command(ffprobe, "-v", "error", "-show_entries", "format=duration", "-of", "json", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	var probed struct {
		Format struct {
			Duration string `json:"duration"`
		} `json:"format"`
	}
	if err := json.Unmarshal(out, &probed); err != nil {
		t.Fatalf("ffprobe output %q: %v", out, err)
	}
	d, err := strconv.ParseFloat(probed.Format.Duration, 64)
	if err != nil {
		return 0
	}
	return d
}
