package mediatrail

import (
	"context"
	"slices"
	"strings"
)

// JobFilter selects a workspace's jobs for GET /api/v1/media/jobs.
type JobFilter struct {
	// Statuses keeps jobs in any of these states; empty keeps all.
	Statuses []JobState
	// Paging: Cursor from a previous page's NextCursor; Limit 1..MaxLimit
	// (0: DefaultLimit).
	Limit  int
	Cursor string
}

// JobPage is one page of jobs, newest first.
type JobPage struct {
	Jobs       []*MediaJob
	Total      int
	Page       int // 1-based: the cursor counts the pages it leads to
	Limit      int
	NextCursor string
}

// ParseJobStatuses reads the status filter of the job list: a comma-separated
// list of job states, where "active" stands for queued and processing. ""
// keeps every state. EINVALID names the accepted values.
func ParseJobStatuses(v string) ([]JobState, error) {
	var out []JobState
	for part := range strings.SplitSeq(v, ",") {
		switch s := JobState(strings.TrimSpace(part)); s {
		case "":
		case "active":
			out = append(out, JobQueued, JobProcessing)
		case JobQueued, JobProcessing, JobCompleted, JobFailed, JobCancelled:
			out = append(out, s)
		default:
			return nil, Invalid("status", "status must be active, queued, processing, completed, failed or cancelled (comma-separated)")
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// List answers the caller's jobs matching f, newest first, as GET
// /api/v1/media/jobs shows them: without their asset or a signed URL (GET
// /api/v1/media/jobs/{id} has those). Only the caller's workspace is read.
func (s *JobService) List(ctx context.Context, ws string, f JobFilter) ([]*JobView, *JobPage, error) {
	page, err := s.Jobs.ListJobs(ctx, ws, f)
	if err != nil {
		return nil, nil, err
	}
	views := make([]*JobView, 0, len(page.Jobs))
	for _, j := range page.Jobs {
		views = append(views, summary(j))
	}
	return views, page, nil
}
