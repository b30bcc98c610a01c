// Command mediabench measures the peak memory of each media function of the
// local provider for the largest input it admits, next to the function's
// MemorySize in template.yaml. Each case runs in a child process of its own
// with AWS_LAMBDA_FUNCTION_MEMORY_SIZE set as Lambda sets it (so the caps and
// the Go memory limit the function derives from it apply), and prints:
//
//	function  MemorySize  input  Go peak RSS  largest tool peak RSS  sum
//
// The Go peak is the child's own peak RSS (VmHWM); the tool peak is the
// largest getrusage reports for its tool processes (ffmpeg, espeak-ng,
// pocketsphinx), which Linux makes at least the spawning process's RSS at
// that moment, so it over-counts; the sum of both is a ceiling of the
// function's peak. The bench fails when a ceiling exceeds the MemorySize.
//
//	make bench-media        (go run ./cmd/mediabench)
package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mediatrail/mediatrail/internal/localstack"
	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/app"
	"github.com/mediatrail/mediatrail/shared/providers/local"
)

const mb = 1 << 20

// benchCase is one function's heaviest admitted call.
type benchCase struct {
	function string // logical id in template.yaml
	input    string // what the largest admitted input is
	run      func(ctx context.Context, p *local.Provider, dir string, memory int64) error
	// prepare writes the input into dir (in the parent: not measured).
	prepare func(dir string, memory int64) error
}

// maxSide is the side of the largest square image a function with memory
// bytes admits (local's cap: memory/2 over 16 bytes a pixel).
func maxSide(memory int64) int {
	return int(math.Sqrt(float64(min(local.MaxImagePixels, memory/2/16))))
}

var cases = []benchCase{
	{
		function: "MediaImageEditFunction",
		input:    "16-bit PNG at the pixel cap; sharpen 10, blur 100, rotate 90 (the op cap)",
		prepare:  func(dir string, memory int64) error { return writePNG16(dir, maxSide(memory)) },
		run: func(ctx context.Context, p *local.Provider, dir string, _ int64) error {
			return generate(ctx, p, dir, mediatrail.CapabilityImageEdit, "sharpen 10, blur 100, rotate 90")
		},
	},
	{
		function: "MediaVideoFromImageFunction",
		input:    "16-bit PNG at the pixel cap, decoded and scaled at submission",
		prepare:  func(dir string, memory int64) error { return writePNG16(dir, maxSide(memory)) },
		run: func(ctx context.Context, p *local.Provider, dir string, _ int64) error {
			data, err := os.ReadFile(filepath.Join(dir, "input"))
			if err != nil {
				return err
			}
			_, err = p.Submit(ctx, mediatrail.MediaRequest{Capability: mediatrail.CapabilityVideoFromImage,
				Input: &mediatrail.MediaInput{Data: data}, Config: map[string]any{"width": 1280, "height": 720, "duration": 10}})
			return err
		},
	},
	{
		function: "VideoStoreFunction",
		input:    "video_gen 1280x720, 10 s rendered by ffmpeg",
		run: func(ctx context.Context, p *local.Provider, _ string, _ int64) error {
			job, err := p.Submit(ctx, mediatrail.MediaRequest{Capability: mediatrail.CapabilityVideoGen, Prompt: "a lighthouse",
				Config: map[string]any{"width": 1280, "height": 720, "duration": 10}})
			if err != nil {
				return err
			}
			if job, err = p.Status(ctx, job.ProviderJobID); err != nil {
				return err
			}
			defer job.Result.Body.Close()
			_, err = io.Copy(io.Discard, job.Result.Body)
			return err
		},
	},
	{
		function: "MediaSttFunction",
		input:    "WAV of 600 s (the play-time cap), 16 kHz mono",
		prepare: func(dir string, _ int64) error {
			return os.WriteFile(filepath.Join(dir, "input"), toneWAV(16000, local.MaxSpeechSeconds), 0o600)
		},
		run: func(ctx context.Context, p *local.Provider, dir string, _ int64) error {
			return generate(ctx, p, dir, mediatrail.CapabilitySTT, "")
		},
	},
	{
		function: "MediaTtsFunction",
		input:    "32 KiB prompt (the cap) at speed 2.5, MP3",
		run: func(ctx context.Context, p *local.Provider, _ string, _ int64) error {
			prompt := strings.Repeat("The quick brown fox jumps over the lazy dog. ", mediatrail.MaxPromptBytes/45)
			res, err := p.Generate(ctx, mediatrail.MediaRequest{Capability: mediatrail.CapabilityTTS, Prompt: prompt,
				Config: map[string]any{"speed": 2.5, "format": "mp3"}})
			return drain(res, err)
		},
	},
	{
		function: "MediaImageGenFunction",
		input:    "image_gen 2048x2048 PNG (the size cap)",
		run: func(ctx context.Context, p *local.Provider, _ string, _ int64) error {
			res, err := p.Generate(ctx, mediatrail.MediaRequest{Capability: mediatrail.CapabilityImageGen, Prompt: "a lighthouse at dawn",
				Config: map[string]any{"width": 2048, "height": 2048}})
			return drain(res, err)
		},
	},
}

// result is what a child reports.
type result struct {
	GoPeakKiB   int64   `json:"go_peak_kib"`
	ToolPeakKiB int64   `json:"tool_peak_kib"`
	Seconds     float64 `json:"seconds"`
	Error       string  `json:"error,omitempty"`
}

func main() {
	child := flag.String("case", "", "internal: run one case in this process")
	dir := flag.String("dir", "", "internal: the case's input directory")
	template := flag.String("template", "template.yaml", "the SAM template whose MemorySize values apply")
	flag.Parse()
	if *child != "" {
		os.Exit(runChild(*child, *dir))
	}
	if err := runParent(*template); err != nil {
		fmt.Fprintln(os.Stderr, "mediabench:", err)
		os.Exit(1)
	}
}

func runParent(templatePath string) error {
	tpl, err := localstack.LoadTemplate(templatePath)
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	fmt.Printf("%-28s %10s %12s %12s %12s  %s\n", "function", "MemorySize", "Go peak", "tool peak", "sum", "largest admitted input")
	failed := false
	for _, c := range cases {
		fn, ok := tpl.Functions[c.function]
		if !ok {
			return fmt.Errorf("%s is not in %s", c.function, templatePath)
		}
		memory := int64(fn.MemorySize) * mb
		dir, err := os.MkdirTemp("", "mediabench-*")
		if err != nil {
			return err
		}
		if c.prepare != nil {
			if err := c.prepare(dir, memory); err != nil {
				return err
			}
		}
		cmd := exec.Command(self, "-case", c.function, "-dir", dir)
		cmd.Env = append(os.Environ(), "AWS_LAMBDA_FUNCTION_MEMORY_SIZE="+strconv.Itoa(fn.MemorySize))
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		_ = os.RemoveAll(dir)
		var r result
		if jerr := json.Unmarshal(out, &r); jerr != nil || err != nil {
			return fmt.Errorf("%s: %v %v: %s", c.function, err, jerr, out)
		}
		if r.Error != "" {
			return fmt.Errorf("%s: %s", c.function, r.Error)
		}
		goPeak := r.GoPeakKiB << 10
		tool := r.ToolPeakKiB << 10
		mark := ""
		if goPeak+tool > memory {
			mark, failed = "  OVER", true
		}
		fmt.Printf("%-28s %7d MB %9.0f MiB %9.0f MiB %9.0f MiB  %s (%.1f s)%s\n", c.function, fn.MemorySize,
			float64(goPeak)/mb, float64(tool)/mb, float64(goPeak+tool)/mb, c.input, r.Seconds, mark)
	}
	if failed {
		return fmt.Errorf("a function peaked above its MemorySize")
	}
	return nil
}

// runChild runs one case as its function would: with the memory limit Load
// sets and the local provider's defaults for this MemorySize.
func runChild(name, dir string) int {
	app.LimitMemory(os.Getenv)
	var r result
	for _, c := range cases {
		if c.function != name {
			continue
		}
		start := time.Now()
		mem, _ := strconv.ParseInt(os.Getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"), 10, 64)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		p := local.New(local.Config{ToolTimeout: 10 * time.Minute})
		if err := c.run(ctx, p, dir, mem*mb); err != nil {
			r.Error = err.Error()
		}
		cancel()
		r.Seconds = time.Since(start).Seconds()
		r.GoPeakKiB = vmHWM()
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru); err == nil {
			r.ToolPeakKiB = ru.Maxrss
		}
	}
	_ = json.NewEncoder(os.Stdout).Encode(r)
	return 0
}

// vmHWM is this process's peak RSS in KiB (VmHWM of /proc/self/status: of
// its own address space since exec, unlike getrusage, which also counts the
// parent's peak at fork).
func vmHWM() int64 {
	b, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kib, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kib
		}
	}
	return 0
}

func generate(ctx context.Context, p *local.Provider, dir string, c mediatrail.Capability, prompt string) error {
	data, err := os.ReadFile(filepath.Join(dir, "input"))
	if err != nil {
		return err
	}
	res, err := p.Generate(ctx, mediatrail.MediaRequest{Capability: c, Prompt: prompt, Input: &mediatrail.MediaInput{Data: data}})
	return drain(res, err)
}

// drain reads a result's body, as the media service streams it to storage.
func drain(res *mediatrail.MediaResult, err error) error {
	if err != nil {
		return err
	}
	if res.Body != nil {
		defer res.Body.Close()
		_, err = io.Copy(io.Discard, res.Body)
	}
	return err
}

// writePNG16 writes a side x side 16-bit RGBA PNG (the decode that costs
// most: 8 bytes a pixel) to dir/input.
func writePNG16(dir string, side int) error {
	img := image.NewNRGBA64(image.Rect(0, 0, side, side))
	for y := range side {
		for x := range side {
			img.SetNRGBA64(x, y, color.NRGBA64{R: uint16(x * 7), G: uint16(y * 5), B: uint16(x ^ y), A: 0xffff})
		}
	}
	var b bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&b, img); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "input"), b.Bytes(), 0o600)
}

// toneWAV is seconds of a 440 Hz tone, 16-bit mono at rate Hz.
func toneWAV(rate, seconds int) []byte {
	n := rate * seconds
	b := make([]byte, 44+2*n)
	copy(b, "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(36+2*n))
	copy(b[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(b[16:], 16)
	binary.LittleEndian.PutUint16(b[20:], 1)
	binary.LittleEndian.PutUint16(b[22:], 1)
	binary.LittleEndian.PutUint32(b[24:], uint32(rate))
	binary.LittleEndian.PutUint32(b[28:], uint32(rate*2))
	binary.LittleEndian.PutUint16(b[32:], 2)
	binary.LittleEndian.PutUint16(b[34:], 16)
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], uint32(2*n))
	for i := range n {
		v := int16(8000 * math.Sin(2*math.Pi*440*float64(i)/float64(rate)))
		binary.LittleEndian.PutUint16(b[44+2*i:], uint16(v))
	}
	return b
}
