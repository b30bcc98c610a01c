package main

import (
	"bytes"
	"context"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/mediatrail/mediatrail/internal/localstack"
	"github.com/mediatrail/mediatrail/shared/testenv"
)

// TestLoad is `make load` in small: two short phases at a low rate against an
// in-process stack on the test emulators, beside the no-op function, then
// the GetItem floor after each, and the check that every acknowledged asset is
// listed and downloads with its SHA-256.
func TestLoad(t *testing.T) {
	ctx := testenv.Context(t)
	s3cfg, _ := testenv.S3(t)
	spaces := newSpaces()
	keys := map[string]string{}
	for _, ws := range spaces {
		ws.ID = testenv.UniqueName(ws.ID)
		keys[ws.Key] = ws.ID
	}
	_, file, _, _ := runtime.Caller(0)
	r := filepath.Join(filepath.Dir(file), "..", "..")
	s, err := localstack.Start(ctx, localstack.Options{
		Root: r, Runtime: localstack.RuntimeInProcess, APIKeys: keys,
		Emulators: &localstack.Emulators{
			DynamoDBURL: testenv.Endpoint(t, testenv.EnvDynamoDB),
			S3URL:       s3cfg.Endpoint, S3AccessKey: s3cfg.AccessKey, S3SecretKey: s3cfg.SecretKey,
			KMSURL: testenv.Endpoint(t, testenv.EnvKMS),
		},
		Table: testenv.Table(t, "load"), Bucket: testenv.UniqueName("load"),
	})
	if err != nil {
		t.Fatalf("start stack: %v", err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	noop, err := startNoop(ctx, r, s.Runtime, 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(noop.Close)

	var out bytes.Buffer
	rep, err := run(ctx, options{
		API: s.URL, NoopURL: noop.URL, Spaces: spaces, Runtime: string(s.Runtime),
		Duration: 2 * time.Second, Clients: []int{1, 2}, Rate: 25,
		Table: newTable(s.Config.DynamoDBURL, s.Table, 2), Floor: 300 * time.Millisecond,
	}, &out)
	t.Logf("load output:\n%s", out.String())
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.Err(); err != nil {
		t.Fatal(err)
	}
	if len(rep.Phases) != 2 {
		t.Fatalf("%d phases, want 2", len(rep.Phases))
	}
	for _, route := range []string{routeNoop, routeList, routeRegister, routePut, routeComplete} {
		if m := rep.Phases[0].Routes[route]; m == nil || m.Requests == 0 {
			t.Errorf("phase 1 sent no %s", route)
		}
	}
	if got := rep.Verify; got.Acknowledged == 0 || got.Checked == 0 || got.Checked+got.Deleted != got.Acknowledged {
		t.Errorf("verification %+v: want acknowledged assets, each checked or deleted", got)
	}
	for i, p := range rep.Phases {
		for name, f := range map[string]*floor{"floor": p.Floor, "probe": p.Probe} {
			if f == nil || f.Requests == 0 || f.Errors != 0 || f.P99 <= 0 {
				t.Errorf("phase %d: %s %+v, want GetItems timed without failures", i+1, name, f)
			}
		}
	}
	for _, want := range []string{"p99", "gateway + runtime overhead", "DynamoDB Local floor", "DynamoDB Local during the phase", "ok: nothing lost"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
}
