package mediatrail_test

import (
	"testing"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// The listing's segments cover every key under the prefix exactly once:
// After < key <= Through, open at either end.
func TestPlanSegmentsCoverEveryKeyOnce(t *testing.T) {
	keys := []string{
		"workspaces/", "workspaces/.checksum-probe", "workspaces/0", "workspaces/0ws/assets/x/a.png", "workspaces/7zz",
		"workspaces/8", "workspaces/8a/x", "workspaces/Zed/x", "workspaces/a", "workspaces/demo/assets/2ouzm0/x.png",
		"workspaces/z", "workspaces/zz/x", "workspaces/~odd",
	}
	for _, n := range []int{1, 2, 3, 8, 62, 100} {
		segs := mediatrail.PlanSegments(2, n)
		var blobs []mediatrail.ReconcileSegment
		for _, s := range segs {
			if s.Kind == mediatrail.SegmentBlobs {
				blobs = append(blobs, s)
			}
		}
		if want := min(n, 62); len(blobs) != want || len(segs) != want+2 {
			t.Fatalf("%d blob segments: got %d of %d", n, len(blobs), len(segs))
		}
		for _, k := range keys {
			in := 0
			for _, s := range blobs {
				if (s.After == "" || k > s.After) && (s.Through == "" || k <= s.Through) {
					in++
				}
			}
			if in != 1 {
				t.Errorf("%d segments: key %q is in %d of them", n, k, in)
			}
		}
	}
}
