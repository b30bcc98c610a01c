package obs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/obs"
)

// lines decodes the JSON lines of buf.
func lines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not a JSON line: %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

type credentials struct {
	Name   string `json:"name"`
	APIKey string `json:"api_key"`
	Nested struct {
		Token string `json:"token"`
	} `json:"nested"`
}

// Secrets are masked wherever they sit: by attribute name at the top, inside
// groups (inline and WithGroup) and inside structs and maps, and by value in
// strings, errors and the message. What is not a secret stays as it was.
func TestRedactingLogger(t *testing.T) {
	const secret = "sk-live-0123456789"
	c := credentials{Name: "main", APIKey: secret}
	c.Nested.Token = secret
	for _, tc := range []struct {
		name string
		log  func(*slog.Logger)
		keep []string // what must still be there
	}{
		{"top-level key", func(l *slog.Logger) { l.Info("m", "api_key", secret) }, []string{`"api_key":"[REDACTED]"`}},
		{"header-style key", func(l *slog.Logger) { l.Info("m", "X-Api-Key", secret) }, []string{`"X-Api-Key":"[REDACTED]"`}},
		{"camel-case key, not a string", func(l *slog.Logger) { l.Info("m", "sessionToken", []byte(secret)) }, nil},
		{"inline group", func(l *slog.Logger) {
			l.Info("m", slog.Group("req", slog.String("authorization", "Bearer "+secret), slog.String("path", "/api/v1/assets")))
		}, []string{`"path":"/api/v1/assets"`}},
		{"nested groups", func(l *slog.Logger) {
			l.Info("m", slog.Group("a", slog.Group("b", slog.String("signature", secret))))
		}, nil},
		{"WithGroup and WithAttrs", func(l *slog.Logger) {
			l.WithGroup("provider").With("secret", secret, "name", "openai").Info("m")
		}, []string{`"name":"openai"`}},
		{"struct", func(l *slog.Logger) { l.Info("m", "credential", c) }, []string{`"name":"main"`}},
		{"map", func(l *slog.Logger) {
			l.Info("m", "env", map[string]string{"OPENAI_API_KEY": secret, "MEDIA_TIMEOUT": "20s"})
		},
			[]string{`"MEDIA_TIMEOUT":"20s"`}},
		{"error value", func(l *slog.Logger) {
			l.Error("m", "err", errors.New("GET https://s3/k?X-Amz-Signature="+secret))
		}, []string{"X-Amz-Signature="}},
		{"message", func(l *slog.Logger) { l.Info("key is x-api-key: " + secret) }, nil},
		{"object keys are not secrets", func(l *slog.Logger) {
			l.Info("m", "key", "workspaces/demo/assets/a/f.txt", "credential_id", "cred1")
		}, []string{`"key":"workspaces/demo/assets/a/f.txt"`, `"credential_id":"cred1"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			tc.log(obs.NewLogger(&buf))
			out := buf.String()
			if strings.Contains(out, secret) || strings.Contains(out, "c2stbGl2ZS0wMTIzNDU2Nzg5") {
				t.Errorf("secret logged: %s", out)
			}
			for _, k := range tc.keep {
				if !strings.Contains(out, k) {
					t.Errorf("lost %s: %s", k, out)
				}
			}
			lines(t, &buf) // still JSON
		})
	}
}

// One line per request or invocation, with the outcome and what the work
// annotated; the level follows the outcome.
func TestSpanLine(t *testing.T) {
	for _, tc := range []struct {
		name  string
		o     obs.Outcome
		level string
		want  map[string]any
	}{
		{"success", obs.Outcome{Status: 200}, "INFO", map[string]any{"status": 200.0}},
		{"client error", obs.Outcome{Status: 404, ErrorCode: mediatrail.ENOTFOUND, Err: mediatrail.Errorf(mediatrail.ENOTFOUND, "asset not found")},
			"WARN", map[string]any{"status": 404.0, "error_code": "not_found"}},
		{"server error keeps its cause", obs.Outcome{Status: 500, ErrorCode: mediatrail.EINTERNAL, Err: errors.New("dynamo: throttled")},
			"ERROR", map[string]any{"status": 500.0, "error_code": "internal", "err": "dynamo: throttled"}},
		{"failed invocation", obs.Outcome{ErrorCode: mediatrail.EINTERNAL, Err: errors.New("boom")}, "ERROR", map[string]any{"error_code": "internal"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-1"})
			ctx, span := obs.Begin(ctx, obs.NewLogger(&buf), obs.MsgRequest, slog.String(obs.KeyRoute, "GET /api/v1/assets"))
			obs.Annotate(ctx, slog.String(obs.KeyWorkspace, "ws-a"), slog.String(obs.KeyProvider, "first"))
			obs.Annotate(ctx, slog.String(obs.KeyProvider, "openai"))
			span.End(ctx, tc.o)
			got := lines(t, &buf)
			if len(got) != 1 {
				t.Fatalf("%d lines, want 1", len(got))
			}
			l := got[0]
			want := map[string]any{"msg": "request", "level": tc.level, "route": "GET /api/v1/assets", "request_id": "req-1",
				"workspace": "ws-a", "provider": "openai"}
			for k, v := range tc.want {
				want[k] = v
			}
			for k, v := range want {
				if l[k] != v {
					t.Errorf("%s = %v, want %v (%v)", k, l[k], v, l)
				}
			}
			if _, ok := l["latency_ms"].(float64); !ok {
				t.Errorf("no latency_ms: %v", l)
			}
		})
	}
}

func TestInvocation(t *testing.T) {
	var buf bytes.Buffer
	f := obs.Invocation(obs.NewLogger(&buf), "VideoPollFunction", func(ctx context.Context, n int) (int, error) {
		obs.Annotate(ctx, slog.String(obs.KeyWorkspace, "ws-a"))
		if n < 0 {
			return 0, mediatrail.Errorf(mediatrail.ETIMEOUT, "too slow")
		}
		return n * 2, nil
	})
	if got, err := f(context.Background(), 2); got != 4 || err != nil {
		t.Fatalf("f(2) = %d, %v", got, err)
	}
	if _, err := f(context.Background(), -1); mediatrail.ErrorCode(err) != mediatrail.ETIMEOUT {
		t.Fatalf("f(-1) err = %v", err)
	}
	got := lines(t, &buf)
	if len(got) != 2 {
		t.Fatalf("%d lines, want 2", len(got))
	}
	for i, want := range []map[string]any{
		{"msg": "invocation", "function": "VideoPollFunction", "workspace": "ws-a", "outcome": "ok", "level": "INFO"},
		{"msg": "invocation", "function": "VideoPollFunction", "workspace": "ws-a", "outcome": "error", "level": "WARN", "error_code": "timeout"},
	} {
		for k, v := range want {
			if got[i][k] != v {
				t.Errorf("line %d: %s = %v, want %v", i, k, got[i][k], v)
			}
		}
	}
}

// emfLine is the part of an EMF line CloudWatch reads.
type emfLine struct {
	AWS struct {
		Timestamp         int64
		CloudWatchMetrics []struct {
			Namespace  string
			Dimensions [][]string
			Metrics    []struct{ Name, Unit string }
		}
	} `json:"_aws"`
}

// parseEMF checks every line against the EMF specification's rules and
// returns the lines as maps with their directive.
func parseEMF(t *testing.T, buf *bytes.Buffer) ([]map[string]any, []emfLine) {
	t.Helper()
	raw := lines(t, buf)
	var parsed []emfLine
	for _, m := range raw {
		b, _ := json.Marshal(m)
		var l emfLine
		if err := json.Unmarshal(b, &l); err != nil {
			t.Fatal(err)
		}
		if l.AWS.Timestamp <= 0 || len(l.AWS.CloudWatchMetrics) != 1 {
			t.Fatalf("bad _aws: %s", b)
		}
		d := l.AWS.CloudWatchMetrics[0]
		if d.Namespace != obs.Namespace || len(d.Dimensions) == 0 || len(d.Metrics) == 0 {
			t.Fatalf("bad directive: %s", b)
		}
		for _, set := range d.Dimensions {
			for _, dim := range set {
				if _, ok := m[dim].(string); !ok {
					t.Errorf("dimension %s has no string value: %s", dim, b)
				}
			}
		}
		for _, mt := range d.Metrics {
			if _, ok := m[mt.Name].(float64); !ok {
				t.Errorf("metric %s has no number: %s", mt.Name, b)
			}
		}
		parsed = append(parsed, l)
	}
	return raw, parsed
}

func TestRecorder(t *testing.T) {
	ok := &mediatrail.Span{Provider: "openai", MediaType: mediatrail.CapabilityTTS, Model: "tts-1", DurationMs: 840,
		Cost: mediatrail.Cost{Amount: 0.015, Currency: "USD"}}
	failed := &mediatrail.Span{Provider: "runway", MediaType: mediatrail.CapabilityVideoGen, DurationMs: 120,
		Error: &mediatrail.SpanFailure{Code: mediatrail.EPROVIDER}}
	job := &mediatrail.MediaJob{Provider: "luma", Status: mediatrail.JobFailed, Capability: mediatrail.CapabilityVideoGen}
	rep := &mediatrail.ReconcileReport{Found: map[mediatrail.FindingKind]int{mediatrail.FindingStuckJob: 2}, HeldBack: true, Failed: 1}

	for _, tc := range []struct {
		name   string
		record func(context.Context, *obs.Recorder)
		// want: per line, the metric values and dimension values
		want []map[string]any
		dims [][]string // dimension sets of the first line
	}{
		{"provider call", func(ctx context.Context, r *obs.Recorder) { r.ProviderCall(ctx, ok) },
			[]map[string]any{{"ProviderCalls": 1.0, "ProviderErrors": 0.0, "ProviderLatency": 840.0, "ProviderCost": 0.015, "Provider": "openai", "Capability": "tts"}},
			[][]string{{"Provider", "Capability"}, {}}},
		{"failed provider call", func(ctx context.Context, r *obs.Recorder) { r.ProviderCall(ctx, failed) },
			[]map[string]any{{"ProviderCalls": 1.0, "ProviderErrors": 1.0, "ErrorCode": "provider_error", "Provider": "runway", "Capability": "video_gen"}},
			[][]string{{"Provider", "Capability"}, {}}},
		{"job", func(ctx context.Context, r *obs.Recorder) { r.JobEnded(ctx, job) },
			[]map[string]any{{"JobsEnded": 1.0, "Status": "failed", "Provider": "luma"}},
			[][]string{{"Status"}, {"Provider", "Status"}}},
		{"reconciliation", func(ctx context.Context, r *obs.Recorder) { r.Reconciled(ctx, rep) },
			[]map[string]any{
				{"Kind": "orphan_blob", "ReconcileFindings": 0.0}, {"Kind": "missing_blob", "ReconcileFindings": 0.0},
				{"Kind": "expired_upload", "ReconcileFindings": 0.0}, {"Kind": "unfinished_delete", "ReconcileFindings": 0.0},
				{"Kind": "stuck_job", "ReconcileFindings": 2.0},
				{"ReconcileHeldBack": 1.0, "ReconcileRepairFailures": 1.0},
			},
			[][]string{{"Kind"}, {}}},
		{"dry-run reconciliation writes nothing", func(ctx context.Context, r *obs.Recorder) {
			r.Reconciled(ctx, &mediatrail.ReconcileReport{DryRun: true, HeldBack: true})
		}, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			r := obs.NewRecorder(&buf, slog.New(slog.DiscardHandler))
			r.EMF.Now = func() time.Time { return time.UnixMilli(1764950400000) }
			tc.record(context.Background(), r)
			raw, parsed := parseEMF(t, &buf)
			if len(raw) != len(tc.want) {
				t.Fatalf("%d lines, want %d: %s", len(raw), len(tc.want), buf.String())
			}
			for i, want := range tc.want {
				for k, v := range want {
					if raw[i][k] != v {
						t.Errorf("line %d: %s = %v, want %v", i, k, raw[i][k], v)
					}
				}
				for _, m := range parsed[i].AWS.CloudWatchMetrics[0].Metrics {
					if !emitted(m.Name, m.Unit) {
						t.Errorf("line %d: metric %s %s is not in obs.Metrics", i, m.Name, m.Unit)
					}
				}
			}
			if tc.dims != nil {
				got, _ := json.Marshal(parsed[0].AWS.CloudWatchMetrics[0].Dimensions)
				want, _ := json.Marshal(tc.dims)
				if !bytes.Equal(got, want) {
					t.Errorf("dimensions %s, want %s", got, want)
				}
			}
		})
	}
}

func emitted(name, unit string) bool {
	for _, m := range obs.Metrics {
		if m.Name == name && m.Unit == unit {
			return true
		}
	}
	return false
}

// A provider call made while serving a request names its provider in that
// request's log line.
func TestRecorderAnnotatesRequest(t *testing.T) {
	var logs, metrics bytes.Buffer
	ctx, span := obs.Begin(context.Background(), obs.NewLogger(&logs), obs.MsgRequest)
	obs.NewRecorder(&metrics, nil).ProviderCall(ctx, &mediatrail.Span{Provider: "elevenlabs", MediaType: mediatrail.CapabilityTTS})
	span.End(ctx, obs.Outcome{Status: 201})
	if l := lines(t, &logs); len(l) != 1 || l[0]["provider"] != "elevenlabs" {
		t.Errorf("request line %v, want provider elevenlabs", l)
	}
}
