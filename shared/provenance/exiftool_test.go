package provenance_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mediatrail/mediatrail/shared/provenance"
)

// MustTool finds an independent reader or writer installed by scripts/setup.sh.
func MustTool(tb testing.TB, name string) string {
	tb.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		tb.Skipf("%s is not installed (make setup installs it)", name)
	}
	return p
}

// MustMP4 encodes a short real video with ffmpeg (moov after mdat, the
// layout a streamed provider answer has).
func MustMP4(tb testing.TB, dir string) []byte {
	tb.Helper()
	out := filepath.Join(dir, "in.mp4")
	cmd := exec.Command(MustTool(tb, "ffmpeg"), "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=duration=1:size=64x64:rate=5",
		"-c:v", "mpeg4", "-pix_fmt", "yuv420p", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("ffmpeg: %v: %s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// TestIndependentReaders checks with exiftool that what Embed writes is
// standard XMP where readers look for it, and with ffprobe that the video
// still decodes; then that a re-encode copying the metadata keeps the record
// findable.
func TestIndependentReaders(t *testing.T) {
	exiftool := MustTool(t, "exiftool")
	dir := t.TempDir()
	for _, tc := range []struct{ name, ct, ext string }{
		{"png", "image/png", ".png"}, {"jpeg", "image/jpeg", ".jpg"}, {"mp4", "video/mp4", ".mp4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var in []byte
			if tc.ct == "video/mp4" {
				in = MustMP4(t, dir)
			} else {
				in = MustImage(t, tc.ct)
			}
			path := filepath.Join(dir, "out"+tc.ext)
			if err := os.WriteFile(path, MustEmbed(t, in, tc.ct), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := exec.Command(exiftool, "-m", "-s", "-XMP:DigitalSourceType", "-XMP:all", path).CombinedOutput()
			if err != nil {
				t.Fatalf("exiftool: %v: %s", err, got)
			}
			for _, want := range []string{provenance.DigitalSourceType, record.AssetID, record.WorkspaceID, record.SpanID} {
				if !bytes.Contains(got, []byte(want)) {
					t.Errorf("exiftool did not read %q:\n%s", want, got)
				}
			}
			if tc.ct != "video/mp4" {
				return
			}
			if b, err := exec.Command(MustTool(t, "ffprobe"), "-v", "error", "-count_frames", "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", path).CombinedOutput(); err != nil || strings.TrimSpace(string(b)) != "5" {
				t.Errorf("ffprobe frames = %q, %v; want 5", b, err)
			}
		})
	}
	// A re-encode (new bytes) drops the XMP, even ffmpeg's -map_metadata 0
	// for the MP4 uuid box; exiftool copying the XMP block back, as
	// pipelines that keep metadata do, makes the record findable again.
	for _, tc := range []struct{ name, ext string }{{"jpeg", ".jpg"}, {"png", ".png"}, {"mp4", ".mp4"}} {
		t.Run(tc.name+" re-encoded by ffmpeg, XMP block copied by exiftool", func(t *testing.T) {
			src := filepath.Join(dir, "out"+tc.ext)
			re := filepath.Join(dir, "re"+tc.ext)
			args := map[string][]string{".jpg": {"-q:v", "9"}, ".png": {"-vf", "scale=iw/2:ih/2"}, ".mp4": {"-map_metadata", "0", "-c:v", "mpeg4", "-q:v", "9"}}[tc.ext]
			cmd := append([]string{"-loglevel", "error", "-y", "-i", src}, append(args, re)...)
			if b, err := exec.Command(MustTool(t, "ffmpeg"), cmd...).CombinedOutput(); err != nil {
				t.Fatalf("ffmpeg: %v: %s", err, b)
			}
			orig, _ := os.ReadFile(src)
			if b, _ := os.ReadFile(re); bytes.Contains(b, []byte(record.AssetID)) || bytes.Equal(b, orig) {
				t.Fatal("ffmpeg kept the XMP or the bytes; this case needs a re-encode that drops it")
			}
			if b, err := exec.Command(exiftool, "-m", "-overwrite_original", "-TagsFromFile", src, "-xmp", re).CombinedOutput(); err != nil {
				t.Fatalf("exiftool: %v: %s", err, b)
			}
			b, err := os.ReadFile(re)
			if err != nil {
				t.Fatal(err)
			}
			if got, ok := provenance.Find(b); !ok || got.AssetID != record.AssetID || got.WorkspaceID != record.WorkspaceID {
				t.Errorf("Find after re-encode = %+v, %v", got, ok)
			}
		})
	}
}
