package memory

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

var _ mediatrail.JobStore = (*Jobs)(nil)

// Jobs is a mediatrail.JobStore. Its hooks run inside the call, before the
// write is checked, so a hook can play a concurrent step that moves first.
type Jobs struct {
	mu   sync.Mutex
	jobs map[key]*mediatrail.MediaJob

	// BeforeWrite, when set, runs at the start of every UpdateJob and
	// FinishJob with the job to write; it may change the store (through Set),
	// and an error it returns is the call's.
	BeforeWrite func(j *mediatrail.MediaJob) error
	// Spans are the spans FinishJob wrote, in order.
	Spans []*mediatrail.Span
	// Store, when set, holds what the table's transactions change with a
	// job: CreateJob completes the idempotency claim there, FinishJob writes
	// the job's asset and releases its claim.
	Store *Store
}

type key struct{ workspaceID, id string }

// Set stores j as it is (no version check), as a concurrent writer would
// leave it.
func (s *Jobs) Set(j *mediatrail.MediaJob) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.jobs == nil {
		s.jobs = map[key]*mediatrail.MediaJob{}
	}
	s.jobs[key{j.WorkspaceID, j.ID}] = clone(j)
}

// CreateJob stores a new job; ECONFLICT if it exists. done completes its
// claim in Store, when set.
func (s *Jobs) CreateJob(_ context.Context, j *mediatrail.MediaJob, done *mediatrail.IdempotencyRecord) error {
	if _, err := s.FindJob(context.Background(), j.WorkspaceID, j.ID); err == nil {
		return mediatrail.Conflict("", "job exists")
	}
	if s.Store != nil && done != nil {
		if err := s.Store.complete(done); err != nil {
			return err
		}
	}
	s.Set(j)
	return nil
}

// FindJob returns a copy of the job; ENOTFOUND in any other workspace.
func (s *Jobs) FindJob(_ context.Context, workspaceID, id string) (*mediatrail.MediaJob, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, ok := s.jobs[key{workspaceID, id}]
	if !ok {
		return nil, mediatrail.NotFound("", "job not found")
	}
	return clone(j), nil
}

// UpdateJob replaces an active job at j.Version and increments j.Version.
func (s *Jobs) UpdateJob(_ context.Context, j *mediatrail.MediaJob) error {
	return s.write(j)
}

// FinishJob ends an active job at j.Version and records sp; with Store set,
// it writes a and releases the claim release (unless taken over).
func (s *Jobs) FinishJob(_ context.Context, j *mediatrail.MediaJob, sp *mediatrail.Span, a *mediatrail.Asset, release *mediatrail.IdempotencyRecord) error {
	if err := s.write(j); err != nil {
		return err
	}
	if s.Store != nil {
		s.Store.finishJob(a, release)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Spans = append(s.Spans, sp)
	return nil
}

// write is the conditional write both updates share.
func (s *Jobs) write(j *mediatrail.MediaJob) error {
	if s.BeforeWrite != nil {
		if err := s.BeforeWrite(j); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.jobs[key{j.WorkspaceID, j.ID}]
	if !ok || !cur.Active() || cur.Version != j.Version {
		return mediatrail.Conflict("", "the job changed")
	}
	j.Version++
	s.jobs[key{j.WorkspaceID, j.ID}] = clone(j)
	return nil
}

// ListJobs returns every job of the workspace in one page (no paging).
func (s *Jobs) ListJobs(_ context.Context, workspaceID string, _ mediatrail.JobFilter) (*mediatrail.JobPage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	page := &mediatrail.JobPage{Page: 1}
	for k, j := range s.jobs {
		if k.workspaceID == workspaceID {
			page.Jobs = append(page.Jobs, clone(j))
		}
	}
	page.Total, page.Limit = len(page.Jobs), len(page.Jobs)
	return page, nil
}

// clone copies j deeply (through JSON, as the table stores it), so that no
// caller shares the stored value.
func clone[T any](v *T) *T {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // the domain's types always marshal
	}
	out := new(T)
	if err := json.Unmarshal(b, out); err != nil {
		panic(err)
	}
	return out
}

var _ mediatrail.JobInventory = (*Jobs)(nil)

// EachActiveJob visits every active job of every workspace, in id order.
func (s *Jobs) EachActiveJob(_ context.Context, visit func(*mediatrail.MediaJob) error) error {
	s.mu.Lock()
	var active []*mediatrail.MediaJob
	for _, j := range s.jobs {
		if j.Active() {
			active = append(active, clone(j))
		}
	}
	s.mu.Unlock()
	slices.SortFunc(active, func(a, b *mediatrail.MediaJob) int { return strings.Compare(a.ID, b.ID) })
	for _, j := range active {
		if err := visit(j); err != nil {
			return err
		}
	}
	return nil
}

// RecordCallback replaces the job's callback record; its version stays.
func (s *Jobs) RecordCallback(_ context.Context, workspaceID, id string, d *mediatrail.CallbackDelivery) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, ok := s.jobs[key{workspaceID, id}]
	if !ok {
		return mediatrail.NotFound("", "job not found")
	}
	j.Callback = clone(d)
	return nil
}
