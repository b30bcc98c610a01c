package dynamo_test

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/mediatrail/mediatrail/internal/seed"
	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/dynamo"
	"github.com/mediatrail/mediatrail/shared/testenv"
)

// benchCount is the size of a benchmark's large workspace: the environment
// variable name, else def (100,000: the figure; smaller values make
// a quick run on a busy machine).
func benchCount(b *testing.B, name string, def int) int {
	b.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1000 {
		b.Fatalf("%s=%q: want a count of at least 1000", name, v)
	}
	return n
}

// BenchmarkListDepth shows that a cursor page costs the same at any depth: one
// workspace of BENCH_ASSETS (default 100,000) ready assets, the first page of
// 20 against a page of 20 after 90% of them. deep/first is the ratio of their
// times.
func BenchmarkListDepth(b *testing.B) {
	const limit = 20
	n := benchCount(b, "BENCH_ASSETS", 100_000)
	depth := n * 9 / 10
	ctx := testenv.Context(b)
	client, table := MustTable(b)
	start := time.Now()
	if err := seed.Assets(ctx, client, table, "ws-bench", n); err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d assets in %s", n, time.Since(start).Round(time.Second))
	store := dynamo.New(client, table)

	f := mediatrail.AssetFilter{Limit: mediatrail.MaxLimit}
	for walked := 0; walked < depth; {
		p := MustList(b, store, "ws-bench", f)
		walked += len(p.Assets)
		f.Cursor = p.NextCursor
	}
	deep := mediatrail.AssetFilter{Limit: limit, Cursor: f.Cursor}
	if p := MustList(b, store, "ws-bench", deep); len(p.Assets) != limit || p.Total != n {
		b.Fatalf("deep page: %d assets, total %d; want %d, %d", len(p.Assets), p.Total, limit, n)
	}

	for range 20 { // warm the connections and the emulator's caches alike
		MustList(b, store, "ws-bench", mediatrail.AssetFilter{Limit: limit})
		MustList(b, store, "ws-bench", deep)
	}

	var firstNs float64
	b.Run("first_page", func(b *testing.B) {
		for b.Loop() {
			MustList(b, store, "ws-bench", mediatrail.AssetFilter{Limit: limit})
		}
		firstNs = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})
	b.Run("deep_page", func(b *testing.B) {
		for b.Loop() {
			MustList(b, store, "ws-bench", deep)
		}
		if firstNs > 0 {
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/firstNs, "deep/first")
		}
	})
}

// BenchmarkTraceSummary shows that a summary costs the same whatever the
// number of spans: a workspace of 100 spans against one of BENCH_SPANS
// (default 100,000), both spread over the same three days up to now, summed
// whole (the workspace's counters) and over those UTC days (the day
// counters: as many in both). large/small is the ratio of their times.
func BenchmarkTraceSummary(b *testing.B) {
	const small, period = 100, 3 * 24 * time.Hour
	large := benchCount(b, "BENCH_SPANS", 100_000)
	ctx := testenv.Context(b)
	client, table := MustTable(b)
	for ws, n := range map[string]int{"ws-small": small, "ws-large": large} {
		start := time.Now()
		if err := seed.Spans(ctx, client, table, ws, n, period); err != nil {
			b.Fatal(err)
		}
		b.Logf("seeded %d spans in %s", n, time.Since(start).Round(time.Second))
	}
	svc := &mediatrail.TraceService{Spans: dynamo.New(client, table), Currency: "USD"}
	now := time.Now()
	days := mediatrail.SpanFilter{From: mediatrail.Day(now.Add(-period)), To: mediatrail.Day(now).AddDate(0, 0, 1).Add(-time.Nanosecond)}

	summary := func(b *testing.B, ws string, f mediatrail.SpanFilter, want int) {
		sum, err := svc.Summary(ctx, ws, f)
		if err != nil {
			b.Fatal(err)
		}
		if sum.Count != want {
			b.Fatalf("summary of %s counts %d spans, want %d", ws, sum.Count, want)
		}
	}
	for _, tc := range []struct {
		name string
		f    mediatrail.SpanFilter
	}{{"all", mediatrail.SpanFilter{}}, {"days", days}} {
		var smallNs float64
		for _, size := range []struct {
			ws   string
			want int
		}{{"ws-small", small}, {"ws-large", large}} {
			for range 20 { // warm the connections and the emulator's caches alike
				summary(b, size.ws, tc.f, size.want)
			}
			b.Run(tc.name+"/"+size.ws, func(b *testing.B) {
				for b.Loop() {
					summary(b, size.ws, tc.f, size.want)
				}
				ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
				if size.want == small {
					smallNs = ns
				} else if smallNs > 0 {
					b.ReportMetric(ns/smallNs, "large/small")
				}
			})
		}
	}
}
