package s3event_test

import (
	"testing"

	"github.com/mediatrail/mediatrail/shared/s3event"
)

// The event kinds the cleanup function tells apart: removals, creations,
// and neither (ignored).
func TestEventKinds(t *testing.T) {
	for _, tc := range []struct {
		name              string
		removal, creation bool
	}{
		{"ObjectRemoved:Delete", true, false},
		{"ObjectRemoved:DeleteMarkerCreated", true, false},
		{"LifecycleExpiration:Delete", true, false},
		{"LifecycleExpiration:DeleteMarkerCreated", true, false},
		{"ObjectCreated:Put", false, true},
		{"ObjectCreated:CompleteMultipartUpload", false, true},
		{"ObjectCreated:Copy", false, true},
		{"LifecycleTransition", false, false},
		{"s3:ObjectRemoved:Delete", false, false}, // versitygw's spelling, translated by the local stack
		{"s3:ObjectCreated:Put", false, false},
		{"", false, false},
	} {
		if got := s3event.IsRemoval(tc.name); got != tc.removal {
			t.Errorf("IsRemoval(%q) = %v, want %v", tc.name, got, tc.removal)
		}
		if got := s3event.IsCreation(tc.name); got != tc.creation {
			t.Errorf("IsCreation(%q) = %v, want %v", tc.name, got, tc.creation)
		}
	}
}
