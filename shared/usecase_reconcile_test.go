package mediatrail_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/memory"
)

// world is a bucket and a table with one of each finding next to healthy
// records and blobs, and a Reconciler over them.
type world struct {
	r     *mediatrail.Reconciler
	store *memory.Store
	blobs *memory.Blobs
	jobs  *memory.Jobs
	// want are the findings a run reports, by kind.
	want map[mediatrail.FindingKind]int
	// stuck is the stuck job's id; gone the records and keys a repair removes.
	stuck       string
	goneRecords []*mediatrail.Asset
	goneKeys    []string
}

func newWorld(t *testing.T, missing int) *world {
	as, store, blobs := assets()
	jobs := &memory.Jobs{}
	store.Jobs = jobs
	media := &mediatrail.MediaService{Providers: oneProvider{&cancelling{}}, Now: fixedNow}
	w := &world{store: store, blobs: blobs, jobs: jobs, want: map[mediatrail.FindingKind]int{}}
	w.r = &mediatrail.Reconciler{Assets: as, Store: store, Blobs: blobs, Jobs: &mediatrail.JobService{Media: media, Jobs: jobs},
		ActiveJobs: jobs, Concurrency: 2, TableSegments: 2, BlobSegments: 3, Now: fixedNow}
	old, fresh := 2*time.Hour, time.Minute
	// Healthy: ready with blob, fresh tombstone, open upload, young orphan, a foreign object.
	for range 3 {
		asset(t, store, blobs, "ws-a", mediatrail.StatusReady, old, true)
	}
	asset(t, store, blobs, "ws-a", mediatrail.StatusDeleted, fresh, true)
	asset(t, store, blobs, "ws-b", mediatrail.StatusPending, fresh, false)
	blobs.Set(mediatrail.StorageKeyFor("ws-a", mediatrail.NewIDAt(clock), "young.png"), memory.Blob{Data: []byte("y"), Modified: clock.Add(-fresh)})
	blobs.Set("workspaces/.checksum-probe", memory.Blob{Data: []byte("p")})
	// One of each finding.
	a := asset(t, store, blobs, "ws-a", mediatrail.StatusDeleted, old, true)
	w.goneRecords, w.goneKeys = append(w.goneRecords, a), append(w.goneKeys, a.StorageKey)
	a = asset(t, store, blobs, "ws-b", mediatrail.StatusPending, old, true)
	w.goneRecords, w.goneKeys = append(w.goneRecords, a), append(w.goneKeys, a.StorageKey)
	for range missing {
		w.goneRecords = append(w.goneRecords, asset(t, store, blobs, "ws-b", mediatrail.StatusReady, old, false))
	}
	orphan := mediatrail.StorageKeyFor("ws-c", mediatrail.NewIDAt(clock.Add(-old)), "orphan.png")
	blobs.Set(orphan, memory.Blob{Data: []byte("o"), Modified: clock.Add(-old)})
	w.goneKeys = append(w.goneKeys, orphan)
	w.stuck = mediatrail.NewIDAt(clock.Add(-mediatrail.WorkflowTimeout - old))
	jobs.Set(&mediatrail.MediaJob{ID: w.stuck, WorkspaceID: "ws-a", Status: mediatrail.JobProcessing, Capability: mediatrail.CapabilityVideoGen,
		Provider: "runway", ProviderJobID: "task-1", SpanID: w.stuck, CreatedAt: clock.Add(-mediatrail.WorkflowTimeout - old)})
	running := mediatrail.NewIDAt(clock)
	jobs.Set(&mediatrail.MediaJob{ID: running, WorkspaceID: "ws-a", Status: mediatrail.JobProcessing, Capability: mediatrail.CapabilityVideoGen,
		Provider: "runway", SpanID: running, CreatedAt: clock.Add(-fresh)})
	w.want = map[mediatrail.FindingKind]int{mediatrail.FindingOrphanBlob: 1, mediatrail.FindingMissingBlob: missing,
		mediatrail.FindingExpiredUpload: 1, mediatrail.FindingUnfinishedDelete: 1, mediatrail.FindingStuckJob: 1}
	return w
}

// snapshot is what a run may change: the blobs and the records.
func (w *world) snapshot() string {
	var recs []string
	for _, a := range w.goneRecords {
		recs = append(recs, fmt.Sprint(w.store.Asset(a.WorkspaceID, a.ID) != nil))
	}
	j, _ := w.jobs.FindJob(context.Background(), "ws-a", w.stuck)
	return fmt.Sprint(w.blobs.Keys(), recs, j.Status)
}

// fanOut runs the reconcile state machine's steps: Plan, every segment's
// pages, Finish.
func fanOut(t *testing.T, r *mediatrail.Reconciler, opts mediatrail.ReconcileOptions) (*mediatrail.ReconcileReport, error) {
	t.Helper()
	ctx := context.Background()
	plan, err := r.Plan(ctx, "exec-1", opts)
	if err != nil {
		return nil, err
	}
	for _, seg := range append(plan.Table, plan.Blobs...) {
		for pages := 0; ; pages++ {
			if pages > 10 {
				t.Fatalf("segment %s never done", seg.ID())
			}
			p, err := r.Page(ctx, plan.RunID, seg)
			if err != nil {
				return nil, err
			}
			if p.Done {
				break
			}
		}
	}
	return r.Finish(ctx, plan.RunID)
}

type runner func(*testing.T, *mediatrail.Reconciler, mediatrail.ReconcileOptions) (*mediatrail.ReconcileReport, error)

func oneRun(_ *testing.T, r *mediatrail.Reconciler, opts mediatrail.ReconcileOptions) (*mediatrail.ReconcileReport, error) {
	return r.Run(context.Background(), opts)
}

var runners = map[string]runner{"one run": oneRun, "fan-out": fanOut}

// TestReconcileFindsAndRepairs: the single run and the state machine's
// fan-out find the same, a dry run changes nothing, a real run repairs each
// finding once and a second run finds nothing.
func TestReconcileFindsAndRepairs(t *testing.T) {
	for name, run := range runners {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t, 2)
			before := w.snapshot()
			dry, err := run(t, w.r, mediatrail.ReconcileOptions{DryRun: true, RunID: "dry"})
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(dry.Found, w.want) || dry.Repaired != 0 || dry.Failed != 0 || w.snapshot() != before {
				t.Fatalf("dry run found %v (repaired %d, failed %d), want %v; changed: %v", dry.Found, dry.Repaired, dry.Failed, w.want, w.snapshot() != before)
			}
			if dry.ForeignKeys != 1 || dry.JobsScanned != 2 || dry.RecordsScanned != 9 {
				t.Errorf("scanned %d records, %d jobs, %d foreign keys", dry.RecordsScanned, dry.JobsScanned, dry.ForeignKeys)
			}
			rep, err := run(t, w.r, mediatrail.ReconcileOptions{RunID: "real"})
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(rep.Found, w.want) || rep.Repaired != rep.Total() || rep.Failed != 0 || rep.HeldBack {
				t.Fatalf("real run: %+v", rep)
			}
			if !slices.IsSortedFunc(rep.Findings, func(a, b mediatrail.Finding) int {
				return slices.Index(mediatrail.FindingKinds, a.Kind) - slices.Index(mediatrail.FindingKinds, b.Kind)
			}) {
				t.Errorf("findings not in kind order: %+v", rep.Findings)
			}
			for _, a := range w.goneRecords {
				if w.store.Asset(a.WorkspaceID, a.ID) != nil {
					t.Errorf("record %s (%s) left", a.ID, a.Status)
				}
			}
			for _, k := range w.goneKeys {
				if w.blobs.Has(k) {
					t.Errorf("blob %s left", k)
				}
			}
			if j, _ := w.jobs.FindJob(context.Background(), "ws-a", w.stuck); j.Status != mediatrail.JobFailed || j.Error.Code != mediatrail.ETIMEOUT {
				t.Errorf("stuck job %s (%+v)", j.Status, j.Error)
			}
			again, err := run(t, w.r, mediatrail.ReconcileOptions{RunID: "again"})
			if err != nil || again.Total() != 0 {
				t.Fatalf("second run: %+v, %v", again, err)
			}
			if name == "fan-out" {
				// Finishing a finished run answers its report again.
				if rep2, err := w.r.Finish(context.Background(), "real"); err != nil || rep2.Repaired != rep.Repaired {
					t.Errorf("Finish again: %+v, %v", rep2, err)
				}
			}
		})
	}
}

// TestReconcileCircuitBreaker: more missing blobs than MaxMissingBlobs and
// than 5% of the ready records are held back, reported and not repaired;
// a negative limit repairs them all.
func TestReconcileCircuitBreaker(t *testing.T) {
	for _, tc := range []struct {
		name    string
		missing int
		limit   int // Reconciler.MaxMissingBlobs
		option  int // ReconcileOptions.MaxMissingBlobs
		held    bool
	}{
		{name: "under the limit", missing: 2, limit: 2},
		{name: "over the limit", missing: 3, limit: 2, held: true},
		{name: "the run's option raises it", missing: 3, limit: 2, option: 5},
		{name: "no limit", missing: 12, limit: -1},
		{name: "default limit", missing: 11, held: true},
	} {
		for name, run := range runners {
			t.Run(tc.name+"/"+name, func(t *testing.T) {
				w := newWorld(t, tc.missing)
				w.r.MaxMissingBlobs = tc.limit
				rep, err := run(t, w.r, mediatrail.ReconcileOptions{MaxMissingBlobs: tc.option})
				if err != nil {
					t.Fatal(err)
				}
				if rep.HeldBack != tc.held || rep.Found[mediatrail.FindingMissingBlob] != tc.missing {
					t.Fatalf("held back %v, found %v", rep.HeldBack, rep.Found)
				}
				left := 0
				for _, a := range w.goneRecords[2:] {
					if w.store.Asset(a.WorkspaceID, a.ID) != nil {
						left++
					}
				}
				if want := map[bool]int{true: tc.missing}[tc.held]; left != want || (tc.held && rep.Failed != tc.missing) {
					t.Errorf("%d records without blob left (want %d), failed %d", left, want, rep.Failed)
				}
			})
		}
	}
}

// TestReconcileFailures: a check or repair that fails is counted and
// listed, the rest goes on, and the next run repairs it; an enumeration
// that fails fails the run.
func TestReconcileFailures(t *testing.T) {
	blobFail := func(op, key string) func(string, string) error {
		return func(gotOp, gotKey string) error {
			if gotOp == op && (key == "" || gotKey == key) {
				return errBoom
			}
			return nil
		}
	}
	for _, tc := range []struct {
		name     string
		store    func(*world) func(string) error
		blobs    func(*world) func(string, string) error
		failed   int
		repaired int
		err      bool
	}{
		{name: "HEAD of a ready record fails: counted, not found", blobs: func(w *world) func(string, string) error {
			return blobFail("Stat", w.goneRecords[2].StorageKey)
		}, failed: 1, repaired: 4},
		{name: "deleting the orphan fails", blobs: func(w *world) func(string, string) error {
			return blobFail("Delete", w.goneKeys[2])
		}, failed: 1, repaired: 4},
		{name: "re-reading an orphan's record fails", store: func(*world) func(string) error { return failOn("FindAsset", 1, errBoom) }, failed: 1, repaired: 4},
		{name: "expiring an upload fails", store: func(*world) func(string) error { return failOn("ExpireUpload", 1, errBoom) }, failed: 1, repaired: 4},
		{name: "an upload completed meanwhile", store: func(*world) func(string) error {
			return failOn("ExpireUpload", 1, mediatrail.Conflict("", "completed"))
		}, repaired: 4},
		{name: "tombstoning a missing blob's record fails", store: func(*world) func(string) error { return failOn("MarkAssetDeleted", 1, errBoom) }, failed: 1, repaired: 4},
		{name: "a missing blob's record went meanwhile", store: func(*world) func(string) error {
			return failOn("MarkAssetDeleted", 1, mediatrail.NotFound("", "gone"))
		}, repaired: 4},
		{name: "records cannot be listed", store: func(*world) func(string) error { return failOn("EachAssetRecord", 1, errBoom) }, err: true},
		{name: "records cannot be read in batch", store: func(*world) func(string) error { return failOn("FindAssets", 1, errBoom) }, err: true},
		{name: "blobs cannot be listed", blobs: func(*world) func(string, string) error { return blobFail("ListBlobs", "") }, err: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, 1)
			if tc.store != nil {
				w.store.Fail = tc.store(w)
			}
			if tc.blobs != nil {
				w.blobs.Fail = tc.blobs(w)
			}
			rep, err := w.r.Run(context.Background(), mediatrail.ReconcileOptions{})
			if (err != nil) != tc.err {
				t.Fatalf("Run: %v", err)
			}
			if tc.err {
				return
			}
			if rep.Failed != tc.failed || rep.Repaired != tc.repaired {
				t.Errorf("failed %d, repaired %d; want %d, %d (%+v)", rep.Failed, rep.Repaired, tc.failed, tc.repaired, rep.Findings)
			}
			w.store.Fail, w.blobs.Fail = nil, nil
			if rep, err = w.r.Run(context.Background(), mediatrail.ReconcileOptions{}); err != nil || rep.Failed != 0 {
				t.Errorf("next run: %+v, %v", rep, err)
			}
		})
	}
}

// TestReconcileStepsRefuse: the fan-out's steps refuse a bad run id or
// grace, an unknown run or segment kind, and finishing before every
// segment is done.
func TestReconcileStepsRefuse(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, 0)
	for _, tc := range []struct {
		name string
		call func() error
		code string
	}{
		{"bad run id", func() error { _, err := w.r.Plan(ctx, "", mediatrail.ReconcileOptions{RunID: "a b"}); return err }, mediatrail.EINVALID},
		{"bad grace", func() error { _, err := w.r.Plan(ctx, "x", mediatrail.ReconcileOptions{Grace: "soon"}); return err }, mediatrail.EINVALID},
		{"unknown run", func() error {
			_, err := w.r.Page(ctx, "nope", mediatrail.ReconcileSegment{Kind: mediatrail.SegmentTable, Of: 1})
			return err
		}, mediatrail.ENOTFOUND},
		{"unknown segment kind", func() error {
			plan, err := w.r.Plan(ctx, "kinds", mediatrail.ReconcileOptions{})
			if err != nil {
				return err
			}
			_, err = w.r.Page(ctx, plan.RunID, mediatrail.ReconcileSegment{Kind: "disk", Of: 1})
			return err
		}, mediatrail.EINVALID},
		{"finish too early", func() error {
			plan, err := w.r.Plan(ctx, "early", mediatrail.ReconcileOptions{})
			if err != nil {
				return err
			}
			_, err = w.r.Finish(ctx, plan.RunID)
			return err
		}, mediatrail.ECONFLICT},
		{"a done segment is not paged again", func() error {
			plan, _ := w.r.Plan(ctx, "twice", mediatrail.ReconcileOptions{DryRun: true})
			for range 2 {
				if p, err := w.r.Page(ctx, plan.RunID, plan.Table[0]); err != nil || !p.Done {
					return fmt.Errorf("page: %+v, %v", p, err)
				}
			}
			return nil
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) { wantCode(t, tc.call(), tc.code) })
	}
}
