package probe_test

import (
	"bytes"
	"testing"

	"github.com/mediatrail/mediatrail/shared/probe"
)

// FuzzInspect feeds arbitrary bytes as a whole object and as the head of a
// larger one: Inspect must neither panic nor fail on a reader that never fails.
func FuzzInspect(f *testing.F) {
	for _, data := range fixtures(f) {
		f.Add(data, uint32(0))
		f.Add(data, uint32(1<<20))
	}
	f.Fuzz(func(t *testing.T, data []byte, extra uint32) {
		for _, size := range []int64{int64(len(data)), int64(len(data)) + int64(extra)} {
			got, err := probe.Inspect(bytes.NewReader(data), size)
			if err != nil {
				t.Fatalf("Inspect(%d bytes, size %d): %v", len(data), size, err)
			}
			checkSane(t, got)
		}
	})
}
