package mediatrail_test

import (
	"slices"
	"testing"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

func TestParseJobStatuses(t *testing.T) {
	cases := []struct {
		in   string
		want []mediatrail.JobState
		ok   bool
	}{
		{"", nil, true},
		{"active", []mediatrail.JobState{mediatrail.JobProcessing, mediatrail.JobQueued}, true},
		{"failed, cancelled,failed", []mediatrail.JobState{mediatrail.JobCancelled, mediatrail.JobFailed}, true},
		{"active,queued", []mediatrail.JobState{mediatrail.JobProcessing, mediatrail.JobQueued}, true},
		{"running", nil, false},
	}
	for _, tc := range cases {
		got, err := mediatrail.ParseJobStatuses(tc.in)
		if (err == nil) != tc.ok || !slices.Equal(got, tc.want) {
			t.Errorf("%q: %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}
