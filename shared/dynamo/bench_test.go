package dynamo_test

import (
	"testing"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/dynamo"
	"github.com/mediatrail/mediatrail/shared/testenv"
)

// BenchmarkListDepth shows that a cursor page costs the same at any depth: one
// workspace of 10,000 ready assets, the first page of 20 against a page of 20
// after ~9,000 items. deep/first is the ratio of their times.
func BenchmarkListDepth(b *testing.B) {
	const n, depth, limit = 10000, 9000, 20
	ctx := testenv.Context(b)
	client, table := MustTable(b)
	if err := dynamo.SeedAssets(ctx, client, table, "ws-bench", n); err != nil {
		b.Fatal(err)
	}
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
