package main

import (
	"bytes"
	"strings"
	"testing"
)

// What `make run` shows of each kind of line the functions write.
func TestRequestView(t *testing.T) {
	const (
		request  = `[AssetListFunction] {"time":"2026-12-05T19:20:01.5Z","level":"INFO","msg":"request","request_id":"r1","route":"GET /api/v1/assets","method":"GET","path":"/api/v1/assets","workspace":"demo","status":200,"latency_ms":12}`
		notFound = `[AssetGetFunction] {"time":"2026-12-05T19:20:01.5Z","level":"WARN","msg":"request","method":"GET","path":"/api/v1/assets/x","workspace":"demo","status":404,"latency_ms":3,"error_code":"not_found","err":"mediatrail: not_found: asset not found"}`
		internal = `[MediaTtsFunction] {"time":"2026-12-05T19:20:01.5Z","level":"ERROR","msg":"request","method":"POST","path":"/api/v1/media/tts","workspace":"demo","provider":"local","status":500,"latency_ms":40,"error_code":"internal","err":"dynamo: throttled"}`
		step     = `[VideoPollFunction] {"time":"2026-12-05T19:20:01.5Z","level":"INFO","msg":"invocation","function":"VideoPollFunction","latency_ms":7,"workspace":"demo","outcome":"ok"}`
		warning  = `[CleanupFunction] {"time":"2026-12-05T19:20:01.5Z","level":"WARN","msg":"blob removed","key":"workspaces/demo/a"}`
		emf      = `[MediaTtsFunction] {"_aws":{"Timestamp":1,"CloudWatchMetrics":[]},"ProviderCalls":1}`
		start    = `[AssetListFunction] START RequestId: 1b2c Version: $LATEST`
		report   = `[AssetListFunction] REPORT RequestId: 1b2c Init Duration: 1.2 ms Duration: 3.4 ms`
		plain    = `[interpreter] listening on 127.0.0.1:4000`
	)
	for _, tc := range []struct {
		name    string
		line    string
		verbose bool
		shown   bool
		want    []string // in order
		not     []string
	}{
		{"request", request, false, true, []string{"GET", "/api/v1/assets", "200", "12ms", "demo"}, []string{"{", "r1"}},
		{"client error: code, no cause", notFound, false, true, []string{"/api/v1/assets/x", "404", "not_found"}, []string{"asset not found"}},
		{"server error: code and cause", internal, false, true, []string{"POST", "500", "40ms", "demo local", "internal dynamo: throttled"}, nil},
		{"invocation", step, false, true, []string{"VideoPollFunction", "ok", "7ms", "demo"}, nil},
		{"other log line", warning, false, true, []string{"WARN", "CleanupFunction", "blob removed", "key=workspaces/demo/a"}, []string{"{"}},
		{"metrics hidden", emf, false, false, nil, nil},
		{"START hidden", start, false, false, nil, nil},
		{"REPORT hidden", report, false, false, nil, nil},
		{"plain text kept", plain, false, true, []string{plain}, nil},
		{"VERBOSE: START shown", start, true, true, []string{start}, nil},
		{"VERBOSE: metrics shown", emf, true, true, []string{emf}, nil},
		{"VERBOSE: request raw", request, true, true, []string{request}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			v := &requestView{w: &out, verbose: tc.verbose}
			// Written in two pieces: the view waits for whole lines.
			_, _ = v.Write([]byte(tc.line[:10]))
			_, _ = v.Write([]byte(tc.line[10:] + "\n"))
			got := out.String()
			if shown := got != ""; shown != tc.shown {
				t.Fatalf("shown = %v: %q", shown, got)
			}
			if strings.Count(got, "\n") > 1 {
				t.Errorf("more than one line: %q", got)
			}
			rest := got
			for _, w := range tc.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("%q lacks %q (in order)", got, w)
				}
				rest = rest[i+len(w):]
			}
			for _, n := range tc.not {
				if strings.Contains(got, n) {
					t.Errorf("%q holds %q", got, n)
				}
			}
			if strings.Contains(got, "\x1b[") {
				t.Errorf("colour without a terminal: %q", got)
			}
		})
	}
}

// Colour marks the status: green 2xx, yellow 4xx, red 5xx.
func TestRequestViewColour(t *testing.T) {
	for status, colour := range map[string]string{"200": "\x1b[32m200", "404": "\x1b[33m404", "500": "\x1b[31m500"} {
		var out bytes.Buffer
		v := &requestView{w: &out, colour: true}
		_, _ = v.Write([]byte(`{"level":"INFO","msg":"request","method":"GET","path":"/p","status":` + status + "}\n"))
		if !strings.Contains(out.String(), colour) {
			t.Errorf("%s: %q lacks %q", status, out.String(), colour)
		}
	}
}
