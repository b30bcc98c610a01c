package local_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/probe"
	"github.com/mediatrail/mediatrail/shared/providers/local"
)

// needTools skips the test when a tool is not installed, or fails it in CI,
// where scripts/setup.sh has installed them all.
func needTools(t *testing.T, names ...string) {
	t.Helper()
	for _, name := range names {
		if _, err := exec.LookPath(name); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is not installed: scripts/setup.sh installs it", name)
			}
			t.Skipf("%s is not installed (run scripts/setup.sh)", name)
		}
	}
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// generated is a result with its body read.
type generated struct {
	*mediatrail.MediaResult
	data []byte
	info probe.Info
}

// mustGenerate runs req and reads the result, failing the test on any error.
func mustGenerate(t *testing.T, p *local.Provider, req mediatrail.MediaRequest) generated {
	t.Helper()
	g, err := generate(t, p, req)
	if err != nil {
		t.Fatalf("%s %q: %v", req.Capability, req.Prompt, err)
	}
	return g
}

func generate(t *testing.T, p *local.Provider, req mediatrail.MediaRequest) (generated, error) {
	t.Helper()
	res, err := p.Generate(testContext(t), req)
	if err != nil {
		return generated{}, err
	}
	g := generated{MediaResult: res}
	if res.Body != nil {
		g.data, err = io.ReadAll(res.Body)
		if cerr := res.Body.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Fatal(err)
		}
		g.info, _ = probe.Inspect(bytes.NewReader(g.data), int64(len(g.data)))
	}
	return g, nil
}

// wantError checks that err is an *mediatrail.Error (directly or through a
// ProviderError) with code and a message containing each of parts.
func wantError(t *testing.T, err error, code string, parts ...string) {
	t.Helper()
	var e *mediatrail.Error
	if !errors.As(err, &e) || e.Code != code {
		t.Fatalf("error = %v, want code %s", err, code)
	}
	for _, p := range parts {
		if !strings.Contains(e.Message, p) {
			t.Errorf("message %q does not contain %q", e.Message, p)
		}
	}
}

func decode(t *testing.T, data []byte) image.Image {
	t.Helper()
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return img
}

func tts(prompt string, config map[string]any) mediatrail.MediaRequest {
	return mediatrail.MediaRequest{Capability: mediatrail.CapabilityTTS, Prompt: prompt, Config: config}
}

func stt(audio []byte, config map[string]any) mediatrail.MediaRequest {
	return mediatrail.MediaRequest{Capability: mediatrail.CapabilitySTT, Input: &mediatrail.MediaInput{Data: audio}, Config: config}
}

func imageGen(prompt string, config map[string]any) mediatrail.MediaRequest {
	return mediatrail.MediaRequest{Capability: mediatrail.CapabilityImageGen, Prompt: prompt, Config: config}
}

func imageEdit(prompt string, input []byte, config map[string]any) mediatrail.MediaRequest {
	return mediatrail.MediaRequest{Capability: mediatrail.CapabilityImageEdit, Prompt: prompt, Input: &mediatrail.MediaInput{Data: input}, Config: config}
}
