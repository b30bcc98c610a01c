package memory

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

var (
	_ mediatrail.CleanupStore         = (*Store)(nil)
	_ mediatrail.ReconcileStore       = (*Store)(nil)
	_ mediatrail.MediaStore           = (*Store)(nil)
	_ mediatrail.SpanStore            = (*Store)(nil)
	_ mediatrail.ToolStore            = (*Store)(nil)
	_ mediatrail.RetentionStore       = (*Store)(nil)
	_ mediatrail.RecordInventory      = (*Store)(nil)
	_ mediatrail.ReconcileCheckpoints = (*Store)(nil)
)

// Store is the table in a map: asset records, spans, idempotency claims,
// media tools, workspace retention and reconciliation runs, with the
// DynamoDB adapter's contracts (see each interface in package mediatrail).
type Store struct {
	mu        sync.Mutex
	assets    map[key]*mediatrail.Asset
	spans     []*mediatrail.Span
	claims    map[key]*mediatrail.IdempotencyRecord
	tools     map[key]*mediatrail.MediaTool
	agents    map[key][]string
	retention map[string]int
	runs      map[string]*mediatrail.ReconcileRun
	cps       map[key]*mediatrail.ReconcileCheckpoint // {run, segment}
	missing   map[string][]*mediatrail.Asset
	shares    map[key]map[string]bool // {ws, owner} → users of the blob

	// Jobs, when set, are the active jobs ReconcileTablePage answers.
	Jobs *Jobs
	// Fail, when set, runs at the start of every method with the method's
	// name and no lock held: it may change the store (a concurrent writer)
	// and an error it returns is the call's (an injected failure).
	Fail func(op string) error
	// Marked lists the "span/asset" pairs MarkSpanAssetDeleted marked.
	Marked []string
}

func (s *Store) fail(op string) error {
	if s.Fail == nil {
		return nil
	}
	return s.Fail(op)
}

// lock takes the store's lock, making its maps on first use.
func (s *Store) lock() {
	s.mu.Lock()
	if s.assets == nil {
		s.assets, s.claims, s.tools, s.agents = map[key]*mediatrail.Asset{}, map[key]*mediatrail.IdempotencyRecord{}, map[key]*mediatrail.MediaTool{}, map[key][]string{}
		s.retention, s.runs, s.cps, s.missing = map[string]int{}, map[string]*mediatrail.ReconcileRun{}, map[key]*mediatrail.ReconcileCheckpoint{}, map[string][]*mediatrail.Asset{}
		s.shares = map[key]map[string]bool{}
	}
}

// PutAsset stores a as it is, as a concurrent writer would leave it.
func (s *Store) PutAsset(a *mediatrail.Asset) {
	s.lock()
	defer s.mu.Unlock()
	s.assets[key{a.WorkspaceID, a.ID}] = copyAsset(a)
}

// Asset is the stored record, nil when there is none.
func (s *Store) Asset(workspaceID, id string) *mediatrail.Asset {
	s.lock()
	defer s.mu.Unlock()
	if a, ok := s.assets[key{workspaceID, id}]; ok {
		return copyAsset(a)
	}
	return nil
}

// Spans are the spans recorded, in order.
func (s *Store) Spans() []*mediatrail.Span {
	s.lock()
	defer s.mu.Unlock()
	return slices.Clone(s.spans)
}

// Claim is the idempotency record of the key, nil when there is none.
func (s *Store) Claim(workspaceID, k string) *mediatrail.IdempotencyRecord {
	s.lock()
	defer s.mu.Unlock()
	if c, ok := s.claims[key{workspaceID, k}]; ok {
		return clone(c)
	}
	return nil
}

// SetClaim stores c as it is (another request's claim).
func (s *Store) SetClaim(c *mediatrail.IdempotencyRecord) {
	s.lock()
	defer s.mu.Unlock()
	s.claims[key{c.WorkspaceID, c.Key}] = clone(c)
}

func (s *Store) CreateAsset(_ context.Context, a *mediatrail.Asset) error {
	if err := s.fail("CreateAsset"); err != nil {
		return err
	}
	s.lock()
	defer s.mu.Unlock()
	if _, ok := s.assets[key{a.WorkspaceID, a.ID}]; ok {
		return mediatrail.Conflict("", "asset exists")
	}
	s.assets[key{a.WorkspaceID, a.ID}] = copyAsset(a)
	return nil
}

func (s *Store) FindAsset(_ context.Context, workspaceID, id string) (*mediatrail.Asset, error) {
	if err := s.fail("FindAsset"); err != nil {
		return nil, err
	}
	if a := s.Asset(workspaceID, id); a != nil {
		return a, nil
	}
	return nil, mediatrail.NotFound("", "asset not found")
}

// ListAssets answers the matching assets newest first; the cursor is the
// last id of the previous page.
func (s *Store) ListAssets(_ context.Context, workspaceID string, f mediatrail.AssetFilter) (*mediatrail.AssetPage, error) {
	if err := s.fail("ListAssets"); err != nil {
		return nil, err
	}
	s.lock()
	defer s.mu.Unlock()
	var out []*mediatrail.Asset
	for k, a := range s.assets {
		if k.workspaceID == workspaceID && matches(a, f) && (f.Cursor == "" || a.ID < f.Cursor) {
			out = append(out, copyAsset(a))
		}
	}
	slices.SortFunc(out, func(a, b *mediatrail.Asset) int { return strings.Compare(b.ID, a.ID) })
	page := &mediatrail.AssetPage{Total: len(out), Page: max(f.Page, 1), Limit: f.Limit}
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
		page.NextCursor = out[len(out)-1].ID
	}
	page.Assets = out
	return page, nil
}

func matches(a *mediatrail.Asset, f mediatrail.AssetFilter) bool {
	return a.Status == cmp.Or(f.Status, mediatrail.StatusReady) &&
		(f.Type == "" || a.Type == f.Type) && (f.Provider == "" || a.Provider == f.Provider) &&
		(f.ExecutionID == "" || a.ExecutionID == f.ExecutionID) && (f.AgentID == "" || a.AgentID == f.AgentID) &&
		(f.CreatedAfter.IsZero() || a.CreatedAt.After(f.CreatedAfter)) && (f.CreatedBefore.IsZero() || a.CreatedAt.Before(f.CreatedBefore))
}

// change applies to the asset of workspaceID and id, under the lock, what
// edit decides; it answers the asset as it was.
func (s *Store) change(op, workspaceID, id string, edit func(a *mediatrail.Asset) error) (*mediatrail.Asset, error) {
	if err := s.fail(op); err != nil {
		return nil, err
	}
	s.lock()
	defer s.mu.Unlock()
	a, ok := s.assets[key{workspaceID, id}]
	if !ok {
		return nil, mediatrail.NotFound("", "asset not found")
	}
	was := copyAsset(a)
	if err := edit(a); err != nil {
		return nil, err
	}
	return was, nil
}

func (s *Store) MarkAssetReady(ctx context.Context, workspaceID, id string, size int64, sha256 string, at time.Time, share *mediatrail.BlobShare) (*mediatrail.Asset, error) {
	var now *mediatrail.Asset
	_, err := s.change("MarkAssetReady", workspaceID, id, func(a *mediatrail.Asset) error {
		switch a.Status {
		case mediatrail.StatusDeleted:
			return mediatrail.NotFound("", "asset not found")
		case mediatrail.StatusReady:
			return mediatrail.Conflict("", "asset is not pending")
		}
		if share != nil {
			if err := s.join(share, id); err != nil {
				return err
			}
			a.StorageKey, a.Deduplicated = share.Key, true
		}
		a.Status, a.FileSize, a.SHA256, a.UpdatedAt = mediatrail.StatusReady, size, sha256, at
		now = copyAsset(a)
		return nil
	})
	return now, err
}

func (s *Store) MarkAssetDeleted(_ context.Context, workspaceID, id string, at time.Time) (*mediatrail.Asset, error) {
	return s.change("MarkAssetDeleted", workspaceID, id, func(a *mediatrail.Asset) error {
		if a.Status == mediatrail.StatusDeleted {
			return mediatrail.NotFound("", "asset not found")
		}
		a.Status, a.UpdatedAt = mediatrail.StatusDeleted, at
		return nil
	})
}

func (s *Store) ExpireUpload(_ context.Context, workspaceID, id string, at time.Time) (*mediatrail.Asset, error) {
	return s.change("ExpireUpload", workspaceID, id, func(a *mediatrail.Asset) error {
		switch {
		case a.Status == mediatrail.StatusDeleted:
			return mediatrail.NotFound("", "asset not found")
		case a.Status != mediatrail.StatusPending || !a.UploadExpiresAt.Before(at):
			return mediatrail.Conflict("", "upload not expired")
		}
		a.Status, a.UpdatedAt = mediatrail.StatusDeleted, at
		return nil
	})
}

func (s *Store) PurgeAsset(_ context.Context, workspaceID, id string) error {
	if err := s.fail("PurgeAsset"); err != nil {
		return err
	}
	s.lock()
	defer s.mu.Unlock()
	if a, ok := s.assets[key{workspaceID, id}]; ok && a.Status == mediatrail.StatusReady {
		return mediatrail.Conflict("", "asset is ready")
	}
	delete(s.assets, key{workspaceID, id})
	return nil
}

// EachAssetRecord visits every record of every workspace, in id order.
func (s *Store) EachAssetRecord(ctx context.Context, visit func(*mediatrail.Asset) error) error {
	if err := s.fail("EachAssetRecord"); err != nil {
		return err
	}
	for _, a := range s.allAssets() {
		if err := visit(a); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) allAssets() []*mediatrail.Asset {
	s.lock()
	defer s.mu.Unlock()
	var out []*mediatrail.Asset
	for _, a := range s.assets {
		out = append(out, copyAsset(a))
	}
	slices.SortFunc(out, func(a, b *mediatrail.Asset) int { return strings.Compare(a.ID, b.ID) })
	return out
}

func (s *Store) FindAssets(ctx context.Context, refs []mediatrail.AssetRef) (map[mediatrail.AssetRef]*mediatrail.Asset, error) {
	if err := s.fail("FindAssets"); err != nil {
		return nil, err
	}
	out := map[mediatrail.AssetRef]*mediatrail.Asset{}
	for _, r := range refs {
		if a := s.Asset(r.WorkspaceID, r.ID); a != nil {
			out[r] = a
		}
	}
	return out, nil
}

// ReconcileTablePage answers every record and active job in segment 0's
// one page; the other segments are empty.
func (s *Store) ReconcileTablePage(ctx context.Context, segment, total int, token string) ([]*mediatrail.Asset, []*mediatrail.MediaJob, string, error) {
	if err := s.fail("ReconcileTablePage"); err != nil || segment != 0 {
		return nil, nil, "", err
	}
	var jobs []*mediatrail.MediaJob
	if s.Jobs != nil {
		if err := s.Jobs.EachActiveJob(ctx, func(j *mediatrail.MediaJob) error { jobs = append(jobs, j); return nil }); err != nil {
			return nil, nil, "", err
		}
	}
	return s.allAssets(), jobs, "", nil
}

// StartReconcileRun stores run unless one with its id exists, and answers
// the stored one.
func (s *Store) StartReconcileRun(_ context.Context, run *mediatrail.ReconcileRun) (*mediatrail.ReconcileRun, error) {
	if err := s.fail("StartReconcileRun"); err != nil {
		return nil, err
	}
	s.lock()
	defer s.mu.Unlock()
	if _, ok := s.runs[run.ID]; !ok {
		s.runs[run.ID] = clone(run)
	}
	return clone(s.runs[run.ID]), nil
}

func (s *Store) FindReconcileRun(_ context.Context, id string) (*mediatrail.ReconcileRun, error) {
	if err := s.fail("FindReconcileRun"); err != nil {
		return nil, err
	}
	s.lock()
	defer s.mu.Unlock()
	r, ok := s.runs[id]
	if !ok {
		return nil, mediatrail.NotFound("", "reconcile run not found")
	}
	return clone(r), nil
}

// ReconcileCheckpoint answers the segment's checkpoint, a fresh one when
// none was saved.
func (s *Store) ReconcileCheckpoint(_ context.Context, runID, segment string) (*mediatrail.ReconcileCheckpoint, error) {
	if err := s.fail("ReconcileCheckpoint"); err != nil {
		return nil, err
	}
	s.lock()
	defer s.mu.Unlock()
	if cp, ok := s.cps[key{runID, segment}]; ok {
		return clone(cp), nil
	}
	return &mediatrail.ReconcileCheckpoint{RunID: runID, Segment: segment}, nil
}

func (s *Store) SaveReconcileCheckpoint(_ context.Context, cp *mediatrail.ReconcileCheckpoint, missing []*mediatrail.Asset) error {
	if err := s.fail("SaveReconcileCheckpoint"); err != nil {
		return err
	}
	s.lock()
	defer s.mu.Unlock()
	s.cps[key{cp.RunID, cp.Segment}] = clone(cp)
	s.missing[cp.RunID] = append(s.missing[cp.RunID], missing...)
	return nil
}

func (s *Store) ReconcileCheckpoints(_ context.Context, runID string) ([]*mediatrail.ReconcileCheckpoint, error) {
	if err := s.fail("ReconcileCheckpoints"); err != nil {
		return nil, err
	}
	s.lock()
	defer s.mu.Unlock()
	var out []*mediatrail.ReconcileCheckpoint
	for k, cp := range s.cps {
		if k.workspaceID == runID {
			out = append(out, clone(cp))
		}
	}
	slices.SortFunc(out, func(a, b *mediatrail.ReconcileCheckpoint) int { return strings.Compare(a.Segment, b.Segment) })
	return out, nil
}

func (s *Store) EachMissingBlobCandidate(_ context.Context, runID string, visit func(*mediatrail.Asset) error) error {
	if err := s.fail("EachMissingBlobCandidate"); err != nil {
		return err
	}
	s.lock()
	missing := slices.Clone(s.missing[runID])
	s.mu.Unlock()
	for _, a := range missing {
		if err := visit(a); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) FinishReconcileRun(_ context.Context, runID string, rep *mediatrail.ReconcileReport) error {
	if err := s.fail("FinishReconcileRun"); err != nil {
		return err
	}
	s.lock()
	defer s.mu.Unlock()
	s.runs[runID].Report = clone(rep)
	return nil
}

// ClaimIdempotencyKey stores claim unless a live record holds the key (its
// ClaimedAt is the clock).
func (s *Store) ClaimIdempotencyKey(_ context.Context, claim *mediatrail.IdempotencyRecord) (*mediatrail.IdempotencyRecord, error) {
	if err := s.fail("ClaimIdempotencyKey"); err != nil {
		return nil, err
	}
	s.lock()
	defer s.mu.Unlock()
	k := key{claim.WorkspaceID, claim.Key}
	if cur, ok := s.claims[k]; ok && claim.ClaimedAt.Before(cur.ExpiresAt) &&
		(cur.State == mediatrail.IdempotencyCompleted || claim.ClaimedAt.Before(cur.LeaseUntil)) {
		return clone(cur), nil
	}
	s.claims[k] = clone(claim)
	return nil, nil
}

// FindIdempotencyKey returns the key's record, if any.
func (s *Store) FindIdempotencyKey(_ context.Context, workspaceID, k string) (*mediatrail.IdempotencyRecord, error) {
	s.lock()
	defer s.mu.Unlock()
	if cur, ok := s.claims[key{workspaceID, k}]; ok {
		return clone(cur), nil
	}
	return nil, nil
}

// held reports whether done's token still holds its pending claim.
func (s *Store) held(done *mediatrail.IdempotencyRecord) bool {
	cur, ok := s.claims[key{done.WorkspaceID, done.Key}]
	return ok && cur.Token == done.Token && cur.State == mediatrail.IdempotencyPending
}

func (s *Store) RecordMedia(_ context.Context, a *mediatrail.Asset, sp *mediatrail.Span, done *mediatrail.IdempotencyRecord, share *mediatrail.BlobShare) error {
	if err := s.fail("RecordMedia"); err != nil {
		return err
	}
	s.lock()
	defer s.mu.Unlock()
	if done != nil && !s.held(done) {
		return mediatrail.Conflict("", "the claim is no longer held")
	}
	if share != nil {
		if err := s.join(share, a.ID); err != nil {
			return err
		}
	}
	s.assets[key{a.WorkspaceID, a.ID}] = copyAsset(a)
	s.spans = append(s.spans, clone(sp))
	if done != nil {
		s.claims[key{done.WorkspaceID, done.Key}] = clone(done)
	}
	return nil
}

// complete stores done, the completion of a claim its token still holds.
func (s *Store) complete(done *mediatrail.IdempotencyRecord) error {
	s.lock()
	defer s.mu.Unlock()
	if !s.held(done) {
		return mediatrail.Conflict("", "the claim is no longer held")
	}
	s.claims[key{done.WorkspaceID, done.Key}] = clone(done)
	return nil
}

// finishJob writes a job's asset (when it has one) and releases its claim
// (when its token still holds it).
func (s *Store) finishJob(a *mediatrail.Asset, release *mediatrail.IdempotencyRecord) {
	s.lock()
	defer s.mu.Unlock()
	if a != nil {
		s.assets[key{a.WorkspaceID, a.ID}] = copyAsset(a)
	}
	if release != nil && s.held(release) {
		delete(s.claims, key{release.WorkspaceID, release.Key})
	}
}

func (s *Store) RecordFailure(_ context.Context, sp *mediatrail.Span, claim *mediatrail.IdempotencyRecord) error {
	if err := s.fail("RecordFailure"); err != nil {
		return err
	}
	s.lock()
	defer s.mu.Unlock()
	s.spans = append(s.spans, clone(sp))
	if claim != nil && s.held(claim) {
		delete(s.claims, key{claim.WorkspaceID, claim.Key})
	}
	return nil
}

// AddSpan records sp as a media call would.
func (s *Store) AddSpan(sp *mediatrail.Span) {
	s.lock()
	defer s.mu.Unlock()
	s.spans = append(s.spans, clone(sp))
}

// spansOf are the workspace's spans that keep says to, newest first.
func (s *Store) spansOf(workspaceID string, keep func(*mediatrail.Span) bool) []*mediatrail.Span {
	s.lock()
	defer s.mu.Unlock()
	var out []*mediatrail.Span
	for _, sp := range slices.Backward(s.spans) {
		if sp.WorkspaceID == workspaceID && keep(sp) {
			out = append(out, clone(sp))
		}
	}
	return out
}

// inFilter reports whether sp matches f's filters (paging ignored).
func inFilter(f mediatrail.SpanFilter) func(*mediatrail.Span) bool {
	return func(sp *mediatrail.Span) bool {
		return (f.ExecutionID == "" || sp.ExecutionID == f.ExecutionID) && (f.TraceID == "" || sp.TraceID == f.TraceID) &&
			(f.Kind == "" || sp.Kind == f.Kind) && (f.From.IsZero() || !sp.StartedAt.Before(f.From)) && (f.To.IsZero() || !sp.StartedAt.After(f.To)) &&
			(f.Status == "" || sp.Status == f.Status) && (f.Provider == "" || sp.Provider == f.Provider) &&
			(f.MediaType == "" || sp.MediaType == f.MediaType) && (f.Model == "" || sp.Model == f.Model) &&
			(f.AgentID == "" || sp.AgentID == f.AgentID) && (f.SessionID == "" || sp.SessionID == f.SessionID)
	}
}

// ListSpans answers every matching span in one page.
func (s *Store) ListSpans(_ context.Context, workspaceID string, f mediatrail.SpanFilter) (*mediatrail.SpanPage, error) {
	if err := s.fail("ListSpans"); err != nil {
		return nil, err
	}
	spans := s.spansOf(workspaceID, inFilter(f))
	return &mediatrail.SpanPage{Spans: spans, Total: len(spans), Page: max(f.Page, 1), Limit: f.Limit}, nil
}

func (s *Store) EachSpan(_ context.Context, workspaceID string, f mediatrail.SpanFilter, visit func(*mediatrail.Span) error) error {
	if err := s.fail("EachSpan"); err != nil {
		return err
	}
	for _, sp := range s.spansOf(workspaceID, inFilter(f)) {
		if err := visit(sp); err != nil {
			return err
		}
	}
	return nil
}

// SpanUsage answers one counter per span in scope (the table keeps one per
// day, provider, media type and model; their sums are the same).
func (s *Store) SpanUsage(_ context.Context, workspaceID string, scope mediatrail.UsageScope) ([]mediatrail.SpanUsage, error) {
	if err := s.fail("SpanUsage"); err != nil {
		return nil, err
	}
	var out []mediatrail.SpanUsage
	for _, sp := range s.spansOf(workspaceID, func(sp *mediatrail.Span) bool {
		day := mediatrail.Day(sp.StartedAt)
		return (scope.ExecutionID == "" || sp.ExecutionID == scope.ExecutionID) &&
			(scope.FromDay.IsZero() || !day.Before(scope.FromDay)) && (scope.ToDay.IsZero() || !day.After(scope.ToDay))
	}) {
		out = append(out, mediatrail.UsageOf(sp))
	}
	return out, nil
}

func (s *Store) MarkSpanAssetDeleted(_ context.Context, workspaceID, spanID, assetID string, at time.Time) error {
	if err := s.fail("MarkSpanAssetDeleted"); err != nil {
		return err
	}
	s.lock()
	defer s.mu.Unlock()
	s.Marked = append(s.Marked, spanID+"/"+assetID)
	return nil
}

// PutTool creates (ECONFLICT if it exists) or replaces (ENOTFOUND if it
// does not) a media tool.
func (s *Store) PutTool(_ context.Context, t *mediatrail.MediaTool, create bool) error {
	if err := s.fail("PutTool"); err != nil {
		return err
	}
	s.lock()
	defer s.mu.Unlock()
	_, exists := s.tools[key{t.WorkspaceID, t.ID}]
	switch {
	case create && exists:
		return mediatrail.Conflict("", "media tool exists")
	case !create && !exists:
		return mediatrail.NotFound("", "media tool not found")
	}
	s.tools[key{t.WorkspaceID, t.ID}] = clone(t)
	return nil
}

func (s *Store) FindTool(_ context.Context, workspaceID, id string) (*mediatrail.MediaTool, error) {
	if err := s.fail("FindTool"); err != nil {
		return nil, err
	}
	s.lock()
	defer s.mu.Unlock()
	t, ok := s.tools[key{workspaceID, id}]
	if !ok {
		return nil, mediatrail.NotFound("", "media tool not found")
	}
	return clone(t), nil
}

func (s *Store) ListTools(_ context.Context, workspaceID string) ([]*mediatrail.MediaTool, error) {
	if err := s.fail("ListTools"); err != nil {
		return nil, err
	}
	s.lock()
	defer s.mu.Unlock()
	out := []*mediatrail.MediaTool{}
	for k, t := range s.tools {
		if k.workspaceID == workspaceID {
			out = append(out, clone(t))
		}
	}
	slices.SortFunc(out, func(a, b *mediatrail.MediaTool) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

func (s *Store) DeleteTool(_ context.Context, workspaceID, id string) error {
	if err := s.fail("DeleteTool"); err != nil {
		return err
	}
	s.lock()
	defer s.mu.Unlock()
	if _, ok := s.tools[key{workspaceID, id}]; !ok {
		return mediatrail.NotFound("", "media tool not found")
	}
	delete(s.tools, key{workspaceID, id})
	return nil
}

func (s *Store) AgentToolIDs(_ context.Context, workspaceID, agentID string) ([]string, error) {
	if err := s.fail("AgentToolIDs"); err != nil {
		return nil, err
	}
	s.lock()
	defer s.mu.Unlock()
	return slices.Clone(s.agents[key{workspaceID, agentID}]), nil
}

func (s *Store) SetAgentToolIDs(_ context.Context, workspaceID, agentID string, ids []string, _ time.Time) error {
	if err := s.fail("SetAgentToolIDs"); err != nil {
		return err
	}
	s.lock()
	defer s.mu.Unlock()
	s.agents[key{workspaceID, agentID}] = slices.Clone(ids)
	return nil
}

func (s *Store) WorkspaceRetention(_ context.Context, workspaceID string) (int, bool, error) {
	if err := s.fail("WorkspaceRetention"); err != nil {
		return 0, false, err
	}
	s.lock()
	defer s.mu.Unlock()
	days, ok := s.retention[workspaceID]
	return days, ok, nil
}

func (s *Store) SetWorkspaceRetention(_ context.Context, workspaceID string, days int, _ time.Time) error {
	if err := s.fail("SetWorkspaceRetention"); err != nil {
		return err
	}
	s.lock()
	defer s.mu.Unlock()
	s.retention[workspaceID] = days
	return nil
}

// copyAsset copies a (clone would drop UploadExpiresAt, which JSON omits).
func copyAsset(a *mediatrail.Asset) *mediatrail.Asset {
	c := *a
	c.Metadata = maps.Clone(a.Metadata)
	return &c
}

// GetSpan answers span id of the workspace; ENOTFOUND if it has none.
func (s *Store) GetSpan(_ context.Context, workspaceID, id string) (*mediatrail.Span, error) {
	if err := s.fail("GetSpan"); err != nil {
		return nil, err
	}
	if spans := s.spansOf(workspaceID, func(sp *mediatrail.Span) bool { return sp.ID == id }); len(spans) > 0 {
		return spans[0], nil
	}
	return nil, mediatrail.Errorf(mediatrail.ENOTFOUND, "span not found")
}
