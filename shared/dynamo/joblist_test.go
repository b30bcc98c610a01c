package dynamo_test

import (
	"slices"
	"testing"
	"time"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/testenv"
)

// ListJobs pages a workspace's jobs newest first by Query on its partition,
// filters by status, counts, and never shows another workspace's jobs nor
// the assets sharing the partition.
func TestListJobs(t *testing.T) {
	e := newEnv(t)
	ctx := testenv.Context(t)
	now := time.Now().UTC().Truncate(time.Millisecond)
	ws, other := "ws-list-jobs", "ws-list-jobs-other"
	states := []mediatrail.JobState{mediatrail.JobQueued, mediatrail.JobProcessing, mediatrail.JobCompleted, mediatrail.JobFailed, mediatrail.JobQueued}
	var all, active []string // newest first
	for i, st := range states {
		j := newJob(ws, now.Add(time.Duration(i)*time.Second))
		j.Status = st
		if err := e.store.CreateJob(ctx, j, nil); err != nil {
			t.Fatal(err)
		}
		all = append([]string{j.ID}, all...)
		if !st.Done() {
			active = append([]string{j.ID}, active...)
		}
	}
	foreign := newJob(other, now.Add(10*time.Second))
	if err := e.store.CreateJob(ctx, foreign, nil); err != nil {
		t.Fatal(err)
	}
	MustCreate(t, e.store, newAsset(ws, now.Add(20*time.Second)))

	list := func(ws string, f mediatrail.JobFilter) ([]string, *mediatrail.JobPage) {
		t.Helper()
		page, err := e.store.ListJobs(ctx, ws, f)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, j := range page.Jobs {
			if j.WorkspaceID != ws {
				t.Errorf("job %s of workspace %s listed for %s", j.ID, j.WorkspaceID, ws)
			}
			got = append(got, j.ID)
		}
		return got, page
	}
	cases := []struct {
		name     string
		statuses []mediatrail.JobState
		want     []string
	}{
		{"all", nil, all},
		{"active", []mediatrail.JobState{mediatrail.JobProcessing, mediatrail.JobQueued}, active},
		{"completed", []mediatrail.JobState{mediatrail.JobCompleted}, all[2:3]},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			f := mediatrail.JobFilter{Statuses: tc.statuses, Limit: 2}
			for pages := 1; ; pages++ {
				ids, page := list(ws, f)
				got = append(got, ids...)
				if page.Total != len(tc.want) || page.Page != pages {
					t.Errorf("page %d: total %d page %d, want %d", pages, page.Total, page.Page, len(tc.want))
				}
				if page.NextCursor == "" || pages > len(tc.want) {
					break
				}
				f.Cursor = page.NextCursor
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	for _, q := range e.rec.take() {
		if q.IndexName != nil || q.KeyConditionExpression == nil {
			t.Errorf("query %+v is not on the table's key", q)
		}
	}

	// The other workspace sees its job only, and a cursor of this one is not its.
	if got, _ := list(other, mediatrail.JobFilter{}); !slices.Equal(got, []string{foreign.ID}) {
		t.Errorf("other workspace lists %v", got)
	}
	_, page := list(ws, mediatrail.JobFilter{Limit: 1})
	_, err := e.store.ListJobs(ctx, other, mediatrail.JobFilter{Cursor: page.NextCursor})
	checkCode(t, err, mediatrail.EINVALID)
	_, err = e.store.ListJobs(ctx, ws, mediatrail.JobFilter{Limit: mediatrail.MaxLimit + 1})
	checkCode(t, err, mediatrail.EINVALID)
}
