package main

import (
	"bytes"
	"context"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/mediatrail/mediatrail/internal/localstack"
	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/probe"
	"github.com/mediatrail/mediatrail/shared/testenv"
)

// TestDemo is `make demo` against an in-process stack (waits skipped): all
// six calls are spans of the execution, and the stored files are what was
// asked for, as probed from their bytes.
func TestDemo(t *testing.T) {
	for _, name := range []string{"espeak-ng", "ffmpeg", "pocketsphinx_continuous"} {
		if _, err := exec.LookPath(name); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is not installed: scripts/setup.sh installs it", name)
			}
			t.Skipf("%s is not installed (run scripts/setup.sh)", name)
		}
	}
	ctx := testenv.Context(t)
	s3cfg, _ := testenv.S3(t)
	_, file, _, _ := runtime.Caller(0)
	s, err := localstack.Start(ctx, localstack.Options{
		Root: filepath.Join(filepath.Dir(file), "..", ".."), Runtime: localstack.RuntimeInProcess, SkipWaits: true,
		APIKeys: map[string]string{"key-demo-test": testenv.UniqueName("ws")},
		Emulators: &localstack.Emulators{
			DynamoDBURL: testenv.Endpoint(t, testenv.EnvDynamoDB),
			S3URL:       s3cfg.Endpoint, S3AccessKey: s3cfg.AccessKey, S3SecretKey: s3cfg.SecretKey,
			KMSURL: testenv.Endpoint(t, testenv.EnvKMS),
		},
		Table: testenv.Table(t, "demo"), Bucket: testenv.UniqueName("demo"),
	})
	if err != nil {
		t.Fatalf("start stack: %v", err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })

	c := &client{base: s.URL, key: "key-demo-test", http: &http.Client{Timeout: 2 * time.Minute}}
	exec := "demo-test-" + time.Now().UTC().Format("150405.000000")
	var out bytes.Buffer
	rep, err := demo(ctx, c, options{ExecutionID: exec, JobTimeout: 2 * time.Minute, PollEvery: 100 * time.Millisecond}, &out)
	t.Logf("demo output:\n%s", out.String())
	if err != nil {
		t.Fatalf("demo: %v", err)
	}
	for _, want := range []string{"trace summary", "assets:", "video_from_image"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}

	// Six spans of the execution, one per media type, each completed with its asset.
	var spans []mediatrail.Span
	if err := c.call(ctx, "GET", "/api/v1/traces?execution_id="+exec, nil, http.StatusOK, &spans); err != nil {
		t.Fatal(err)
	}
	byType := map[mediatrail.Capability]mediatrail.Span{}
	for _, sp := range spans {
		byType[sp.MediaType] = sp
		if sp.ExecutionID != exec || sp.AgentID != "demo-agent" || sp.Provider != "local" || sp.Status != mediatrail.SpanCompleted || sp.AssetID == "" || sp.Cost.Amount != 0 {
			t.Errorf("span %+v", sp)
		}
	}
	if len(spans) != 6 || len(byType) != 6 {
		t.Fatalf("%d spans over %d media types, want 6 of 6", len(spans), len(byType))
	}

	// The stored files, probed.
	if len(rep.Assets) != 6 {
		t.Fatalf("%d assets, want 6", len(rep.Assets))
	}
	for _, m := range rep.Assets {
		if sp := byType[mediatrail.Capability(m.Step)]; sp.AssetID != m.Asset.ID {
			t.Errorf("%s: span asset %s, demo asset %s", m.Step, sp.AssetID, m.Asset.ID)
		}
		resp, err := http.Get(m.SignedURL)
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || int64(len(data)) != m.Asset.FileSize {
			t.Fatalf("%s: GET signed URL: %d, %d bytes (asset says %d), %v", m.Step, resp.StatusCode, len(data), m.Asset.FileSize, err)
		}
		info, _ := probe.Inspect(bytes.NewReader(data), int64(len(data)))
		switch m.Step {
		case "tts":
			if !strings.HasPrefix(info.ContentType, "audio/") || info.DurationSeconds <= 0.5 {
				t.Errorf("tts: probed %+v", info)
			}
		case "stt":
			if !strings.Contains(string(data), "demo") && !strings.Contains(string(data), "machine") && !strings.Contains(string(data), "hello") {
				t.Errorf("stt: transcript %s", data)
			}
		case "image_gen", "image_edit":
			if !strings.HasPrefix(info.ContentType, "image/") || info.Width != demoVideoWidth || info.Height != demoVideoHeight {
				t.Errorf("%s: probed %+v, want %dx%d", m.Step, info, demoVideoWidth, demoVideoHeight)
			}
		case "video_gen", "video_from_image":
			want := float64(demoVideoGenSeconds)
			if m.Step == "video_from_image" {
				want = demoVideoFromImageSeconds
			}
			if info.ContentType != "video/mp4" || info.Width != demoVideoWidth || info.Height != demoVideoHeight || math.Abs(info.DurationSeconds-want) > 0.1 {
				t.Errorf("%s: probed %+v, want video/mp4 %dx%d %gs", m.Step, info, demoVideoWidth, demoVideoHeight, want)
			}
			if sp := byType[mediatrail.Capability(m.Step)]; math.Abs(sp.MediaDurationSeconds-want) > 0.1 {
				t.Errorf("%s: span media duration %g", m.Step, sp.MediaDurationSeconds)
			}
		}
	}
}
