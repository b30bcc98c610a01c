package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/testenv"
)

// xssPrompt would run script if the console rendered a prompt as HTML.
const xssPrompt = `<img src=x onerror=alert(1)>`

// screenshotDir receives a screenshot of each console page (git-ignored).
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(repoRoot(), ".artifacts", "console")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// browser is a headless Chromium tab on the console of a stack.
type browser struct {
	t       *testing.T
	ctx     context.Context
	base    string
	shots   string
	dialogs atomic.Int32
}

// newBrowser starts Chromium with a fresh profile and the flags that keep it
// off the network (no background requests, no QUIC, no component updates).
// Every JavaScript dialog is counted and dismissed: the console opens none.
func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is not installed: scripts/setup.sh installs it")
		}
		t.Skip("chromium is not installed (run scripts/setup.sh)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"), chromedp.Flag("mute-audio", true),
		chromedp.WindowSize(1280, 900))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(testenv.Context(t), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(cancel)
	b := &browser{t: t, ctx: ctx, base: base, shots: screenshotDir(t)}
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			b.dialogs.Add(1)
			t.Errorf("a JavaScript dialog opened: %q", ev.Message)
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	}()
	return b
}

func (b *browser) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatal(err)
	}
}

// wait polls expr in the page until it is truthy.
func (b *browser) wait(expr string) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(60*time.Second))); err != nil {
		shot, _ := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
		_ = os.WriteFile(filepath.Join(b.shots, "failed.png"), shot, 0o644)
		b.t.Fatalf("waiting for %s: %v (screenshot failed.png)", expr, err)
	}
}

// text evaluates expr to a string.
func (b *browser) text(expr string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		b.t.Fatalf("%s: %v", expr, err)
	}
	return s
}

// open moves the console to a hash route.
func (b *browser) open(hash string) {
	b.t.Helper()
	b.do(chromedp.Evaluate[chromedp.Void](fmt.Sprintf("location.hash = %q", hash)))
}

func (b *browser) screenshot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.shots, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// confirm answers the console's own confirmation dialog (a <dialog>, not a
// JavaScript one).
func (b *browser) confirm() {
	b.t.Helper()
	b.wait(`document.getElementById('confirm').open`)
	b.do(chromedp.Click(chromedp.ID("confirm-ok")))
	b.wait(`!document.getElementById('confirm').open`)
}

// consoleRun is the demo flow's execution through the API: speech, its
// transcript, an image, a video (a job through the state machine), and an
// image whose prompt is markup.
type consoleRun struct {
	exec                           string
	speech, transcript, image, xss generated
	video                          jobView
	spans                          int
}

func newConsoleRun(t *testing.T, st *stack, key string) consoleRun {
	t.Helper()
	r := consoleRun{exec: "console-" + testenv.UniqueName("run")}
	common := func(body map[string]any) map[string]any {
		body["execution_id"], body["agent_id"] = r.exec, "demo-agent"
		return body
	}
	r.speech = st.localCall(t, key, "tts", common(map[string]any{"prompt": localSpeech}))
	r.transcript = st.localCall(t, key, "stt", common(map[string]any{"input_asset_id": r.speech.AssetID}))
	r.image = st.localCall(t, key, "image_gen", common(map[string]any{"prompt": "A lighthouse at dawn", "config": map[string]any{"width": 320, "height": 180}}))
	job := st.submit(t, key, "video_gen", common(map[string]any{"provider": "local", "prompt": "A slow pan over hills",
		"config": map[string]any{"duration": 1, "width": 160, "height": 90}}))
	if r.video = st.awaitJob(t, key, job); r.video.Status != "completed" {
		t.Fatalf("video job: %+v", r.video)
	}
	r.xss = st.localCall(t, key, "image_gen", common(map[string]any{"prompt": xssPrompt, "config": map[string]any{"width": 64, "height": 64}}))
	r.spans = 5
	return r
}

// svgAsset uploads an SVG holding script, outside the run's execution.
func svgAsset(t *testing.T, st *stack, key string) string {
	t.Helper()
	body := []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(2)"><script>alert(3)</script></svg>`)
	reg := st.register(t, key, "evil.svg", "image/svg+xml", body)
	reg.put(t, body)
	return st.complete(t, key, reg.Asset.ID).ID
}

// activeJob records a video job that is still processing, as the state
// machine leaves one between polls (no workflow runs it here).
func activeJob(t *testing.T, st *stack, ws, exec string) *mediatrail.MediaJob {
	t.Helper()
	now := time.Now().UTC()
	j := &mediatrail.MediaJob{
		ID: mediatrail.NewIDAt(now), WorkspaceID: ws, Status: mediatrail.JobProcessing, Capability: mediatrail.CapabilityVideoGen,
		Provider: "runway", Model: "gen4.5", Prompt: "waves at night", ExecutionID: exec, TraceID: exec,
		ProviderJobID: "task-console", SpanID: mediatrail.NewIDAt(now), Polls: 3, Progress: 0.4,
		CreatedAt: now, UpdatedAt: now, DeadlineAt: now.Add(time.Hour),
	}
	if err := st.App.Store.CreateJob(testenv.Context(t), j, nil); err != nil {
		t.Fatal(err)
	}
	return j
}

// The job list is the caller's: another workspace's key sees none of them.
func TestJobListIsolation(t *testing.T) {
	t.Parallel()
	st := newStack(t, 10*time.Second)
	key, ws := st.workspace(t)
	otherKey, _ := st.workspace(t)
	j := activeJob(t, st, ws, "exec-jobs")
	list := func(key, query string) []jobView {
		t.Helper()
		r := st.do(t, "GET", "/api/v1/media/jobs?"+query, key, nil)
		wantOK(t, r, http.StatusOK)
		var out []jobView
		r.Into(t, &out)
		return out
	}
	if got := list(key, "status=active"); len(got) != 1 || got[0].ID != j.ID || got[0].Status != "processing" {
		t.Errorf("own active jobs: %+v", got)
	}
	if got := list(key, "status=completed"); len(got) != 0 {
		t.Errorf("own completed jobs: %+v", got)
	}
	if got := list(otherKey, ""); len(got) != 0 {
		t.Errorf("another workspace lists %+v", got)
	}
	wantError(t, st.do(t, "GET", "/api/v1/media/jobs/"+j.ID, otherKey, nil), http.StatusNotFound, mediatrail.ENOTFOUND)
	wantError(t, st.do(t, "GET", "/api/v1/media/jobs?status=running", key, nil), http.StatusBadRequest, mediatrail.EINVALID)
	wantError(t, st.do(t, "GET", "/api/v1/media/jobs?page=2", key, nil), http.StatusBadRequest, mediatrail.EINVALID)
	wantError(t, st.do(t, "GET", "/api/v1/media/jobs", "", nil), http.StatusUnauthorized, mediatrail.EUNAUTHENTICATED)
}

// The review console in headless Chromium against the local stack: sign in,
// the gallery of an execution, an image, audio that plays, a transcript, the
// run's timeline, a delete that marks the span, jobs with cancel, usage with
// a budget alert, a cleanup dry run; a prompt holding markup stays text and opens no dialog.
func TestConsoleInBrowser(t *testing.T) {
	needLocalTools(t)
	st := newStack(t, 60*time.Second)
	b := newBrowser(t, st.URL)
	key, ws := st.workspace(t)
	run := newConsoleRun(t, st, key)
	job := activeJob(t, st, ws, run.exec)
	svg := svgAsset(t, st, key)

	// The console's own answers: the page (where /console redirects) never
	// cached, with its CSP.
	resp, err := http.Get(st.URL + "/console")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "no-cache" || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'self'") {
		t.Fatalf("GET /console: %d %v", resp.StatusCode, resp.Header)
	}

	t.Log("sign in: a wrong key is refused with a clear message")
	b.do(chromedp.Navigate(st.URL + "/console"))
	b.wait(`!document.getElementById('signin').hidden`)
	b.do(chromedp.SendKeys(chromedp.ID("apikey"), "not-a-key"), chromedp.Click(chromedp.CSS(`#signin-form button`)))
	b.wait(`document.getElementById('signin-error').textContent.includes('not accepted')`)
	b.screenshot("signin")
	b.do(chromedp.SendKeys(chromedp.ID("apikey"), key), chromedp.Click(chromedp.CSS(`#signin-form button`)))
	b.wait(`document.querySelectorAll('.gallery .card').length > 0`)
	if got := b.text(`sessionStorage.getItem('mediatrail.apiKey')`); got != key {
		t.Errorf("sessionStorage holds %q", got)
	}

	t.Log("gallery of the execution: thumbnails, poster, audio icon")
	b.open("#/assets?execution_id=" + run.exec)
	b.wait(fmt.Sprintf(`document.querySelectorAll('.gallery .card').length === %d`, run.spans))
	b.wait(`[...document.querySelectorAll('.gallery img')].length === 2 && [...document.querySelectorAll('.gallery img')].every(i => i.complete && i.naturalWidth > 0)`)
	b.wait(`document.querySelector('.gallery video') && document.querySelector('.gallery video').readyState >= 1`)
	b.wait(`document.querySelector('.gallery .icon.audio') !== null`)
	b.screenshot("gallery")
	if got := b.text(fmt.Sprintf(`document.querySelector('.card[data-id=%q] img').alt`, run.xss.AssetID)); got != xssPrompt {
		t.Errorf("alt text %q, want the prompt", got)
	}

	t.Log("an image")
	b.open("#/asset/" + run.image.AssetID)
	b.wait(`document.querySelector('img.preview') && document.querySelector('img.preview').naturalWidth === 320`)
	if got := b.text(`[...document.querySelectorAll('.fields dt')].map(d => d.textContent + '=' + d.nextElementSibling.textContent).join('|')`); !strings.Contains(got, "Dimensions=320 × 180") || !strings.Contains(got, "Execution="+run.exec) || !strings.Contains(got, "Cost=0 USD") {
		t.Errorf("fields: %s", got)
	}
	b.screenshot("asset-image")

	t.Log("a prompt holding markup is text")
	b.open("#/asset/" + run.xss.AssetID)
	b.wait(`document.querySelector('img.preview') !== null`)
	prompt := b.text(`[...document.querySelectorAll('.fields dt')].find(d => d.textContent === 'Prompt').nextElementSibling.textContent`)
	if prompt != xssPrompt {
		t.Errorf("prompt shown as %q", prompt)
	}
	if n := b.text(`String(document.querySelectorAll('img[src="x"]').length)`); n != "0" {
		t.Errorf("%s image elements made from the prompt", n)
	}

	t.Log("an SVG is offered as a download, never rendered")
	b.open("#/asset/" + svg)
	b.wait(`document.querySelector('.preview-box .note') !== null`)
	if n := b.text(`String(document.querySelectorAll('.preview-box img, .preview-box object, .preview-box iframe, .preview-box embed, .preview-box svg').length)`); n != "0" {
		t.Errorf("%s elements render the SVG", n)
	}

	t.Log("a signed link with a chosen expiry")
	b.open("#/asset/" + run.video.AssetID)
	b.wait(`document.querySelector('video.preview') && document.querySelector('video.preview').readyState >= 1`)
	b.do(chromedp.SetValue(chromedp.CSS(`select[aria-label="Link expiry"]`), "3600"),
		chromedp.Click(chromedp.CSS(`.actions button:nth-of-type(2)`)))
	b.wait(`document.querySelector('input.link').value !== ''`)
	if link := b.text(`document.querySelector('input.link').value`); !strings.Contains(link, "X-Amz-Expires=3600") || !strings.Contains(link, "/"+st.bucket+"/") {
		t.Errorf("signed link %s", link)
	}
	b.screenshot("asset-video")

	t.Log("audio plays")
	b.open("#/asset/" + run.speech.AssetID)
	b.wait(`document.querySelector('audio.preview') !== null`)
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector('audio.preview').play()`, chromedp.EvalAwaitPromise)); err != nil {
		t.Fatalf("play: %v", err)
	}
	b.wait(`document.querySelector('audio.preview').duration > 0 && document.querySelector('audio.preview').currentTime > 0`)
	b.screenshot("asset-audio")

	t.Log("a transcript: its words highlighted while the source audio plays")
	b.open("#/asset/" + run.transcript.AssetID)
	b.wait(`document.querySelectorAll('.transcript .word').length > 5 && document.querySelector('.transcript audio') !== null`)
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector('.transcript audio').play()`, chromedp.EvalAwaitPromise)); err != nil {
		t.Fatalf("play the source: %v", err)
	}
	b.wait(`document.querySelector('.transcript .word.current') !== null`) // the word being spoken
	b.screenshot("asset-transcript")

	t.Log("runs and the run's timeline")
	b.open("#/runs")
	b.wait(fmt.Sprintf(`[...document.querySelectorAll('table.runs a')].some(a => a.textContent === %q)`, run.exec))
	b.screenshot("runs")
	b.do(chromedp.Click(chromedp.CSS(fmt.Sprintf(`table.runs a[href="#/run/%s"]`, run.exec))))
	b.wait(fmt.Sprintf(`document.querySelectorAll('.timeline li.span').length === %d`, run.spans))
	if n := b.text(`String(document.querySelectorAll('.timeline .deleted').length)`); n != "0" {
		t.Errorf("%s spans marked deleted before any delete", n)
	}
	b.screenshot("run")

	t.Log("delete an asset: its span is marked deleted")
	b.open("#/asset/" + run.image.AssetID)
	b.wait(`document.querySelector('img.preview') !== null`)
	b.do(chromedp.Click(chromedp.CSS(`.actions button.danger`)))
	b.confirm()
	b.wait(`location.hash.startsWith('#/assets')`)
	wantError(t, st.do(t, "GET", "/api/v1/assets/"+run.image.AssetID, key, nil), http.StatusNotFound, mediatrail.ENOTFOUND)
	b.open("#/run/" + run.exec)
	b.wait(fmt.Sprintf(`document.querySelector('li[data-span=%q] .deleted')?.textContent === 'asset deleted'`, run.image.SpanID))
	b.screenshot("run-deleted")

	t.Log("jobs: the active one, cancelled")
	b.open("#/jobs")
	b.wait(fmt.Sprintf(`document.querySelector('tr[data-job=%q]') !== null`, job.ID))
	if got := b.text(fmt.Sprintf(`document.querySelector('tr[data-job=%q]').textContent`, job.ID)); !strings.Contains(got, "processing") || !strings.Contains(got, "40%") {
		t.Errorf("job row: %s", got)
	}
	b.screenshot("jobs")
	b.do(chromedp.Click(chromedp.CSS(fmt.Sprintf(`tr[data-job=%q] button`, job.ID))))
	b.confirm()
	b.wait(fmt.Sprintf(`document.querySelector('tr[data-job=%q]') === null`, job.ID))
	if v := st.job(t, key, job.ID); v.Status != "cancelled" {
		t.Errorf("job after cancel: %s", v.Status)
	}

	t.Log("usage, under the budget alert a priced call crossed")
	wantOK(t, st.do(t, "PUT", "/api/v1/workspace/budget", key, map[string]any{"monthly_usd": 1.25 * imagePrice}), http.StatusOK)
	wantOK(t, st.do(t, "POST", "/api/v1/media/image_gen", key, map[string]any{"provider": "openai", "model": "dall-e-3", "prompt": "a lighthouse"}), http.StatusOK)
	b.open("#/usage")
	b.wait(`document.querySelectorAll('svg.chart').length === 4 && [...document.querySelectorAll('svg.chart .chart-label')].some(l => l.textContent === 'local')`)
	b.wait(`document.querySelector('section.alerts li[data-limit="monthly_usd"][data-threshold="80"]') !== null`)
	if got := b.text(`document.querySelector('section.alerts li').textContent`); !strings.Contains(got, "80%") || !strings.Contains(got, "Monthly budget") || !strings.Contains(got, "0.0400 USD spent of 0.0500 USD") {
		t.Errorf("budget alert shown as %q", got)
	}
	b.screenshot("usage")

	t.Log("cleanup: a dry run removes nothing")
	b.open("#/cleanup")
	b.wait(`document.querySelector('form[aria-label="Cleanup filters"]') !== null && document.getElementById('retention-days') !== null`)
	b.do(chromedp.SetValue(chromedp.CSS(`form[aria-label="Cleanup filters"] input[name=execution_id]`), run.exec),
		chromedp.Click(chromedp.CSS(`form[aria-label="Cleanup filters"] button[type=submit]`)))
	remaining := run.spans - 1
	b.wait(fmt.Sprintf(`document.querySelectorAll('.cleanup-list tbody tr').length === %d`, remaining))
	b.screenshot("cleanup")
	r := st.do(t, "GET", "/api/v1/assets?execution_id="+run.exec, key, nil)
	wantOK(t, r, http.StatusOK)
	var left []json.RawMessage
	r.Into(t, &left)
	if len(left) != remaining {
		t.Errorf("%d assets after the dry run, want %d", len(left), remaining)
	}

	t.Log("bulk delete from the gallery")
	b.open("#/assets?execution_id=" + run.exec)
	b.wait(fmt.Sprintf(`document.querySelectorAll('.gallery .card').length === %d`, remaining))
	for _, id := range []string{run.xss.AssetID, run.transcript.AssetID} {
		b.do(chromedp.Click(chromedp.CSS(fmt.Sprintf(`.card[data-id=%q] input[type=checkbox]`, id))))
	}
	b.do(chromedp.Click(chromedp.CSS(`.toolbar button.danger`)))
	b.confirm()
	b.wait(fmt.Sprintf(`document.querySelectorAll('.gallery .card').length === %d`, remaining-2))
	for _, id := range []string{run.xss.AssetID, run.transcript.AssetID} {
		wantError(t, st.do(t, "GET", "/api/v1/assets/"+id, key, nil), http.StatusNotFound, mediatrail.ENOTFOUND)
	}

	if n := b.dialogs.Load(); n != 0 {
		t.Errorf("%d JavaScript dialogs opened", n)
	}
}
