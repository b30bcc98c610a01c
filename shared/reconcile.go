package mediatrail

import (
	"cmp"
	"context"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"time"
)

// BlobObject is one object of a listing.
type BlobObject struct {
	Key          string
	Size         int64
	LastModified time.Time
}

// BlobInventory enumerates stored objects.
type BlobInventory interface {
	// ListBlobs calls visit for every object under prefix, in key order,
	// until visit returns an error, which ListBlobs returns.
	ListBlobs(ctx context.Context, prefix string, visit func(BlobObject) error) error
}

// AssetRef names an asset of a workspace.
type AssetRef struct{ WorkspaceID, ID string }

// RecordInventory enumerates asset records. It is for reconciliation only:
// requests never enumerate the whole table.
type RecordInventory interface {
	// EachAssetRecord calls visit for every asset record of every workspace,
	// in any status and in no particular order, until visit returns an error,
	// which EachAssetRecord returns.
	EachAssetRecord(ctx context.Context, visit func(*Asset) error) error

	// FindAssets reads the records of refs (any status) consistently; absent
	// ones are missing from the map.
	FindAssets(ctx context.Context, refs []AssetRef) (map[AssetRef]*Asset, error)
}

// JobInventory enumerates active media jobs. It is for reconciliation only:
// requests never enumerate the whole table.
type JobInventory interface {
	// EachActiveJob calls visit for every queued or processing job of every
	// workspace, in no particular order, until visit returns an error, which
	// EachActiveJob returns.
	EachActiveJob(ctx context.Context, visit func(*MediaJob) error) error
}

// ReconcileStore is the store reconciliation works on.
type ReconcileStore interface {
	CleanupStore
	RecordInventory
	ReconcileTablePager
	ReconcileCheckpoints
}

// ReconcileBlobs is the blob store reconciliation works on.
type ReconcileBlobs interface {
	BlobStore
	BlobInventory
	BlobPager
}

// FindingKind is one kind of inconsistency between records and blobs.
type FindingKind string

const (
	// FindingOrphanBlob is a blob under an asset key without the record that
	// names it (a media call that crashed between storing and recording, an
	// upload that finished after its record was reclaimed). Repair: the blob
	// is deleted.
	FindingOrphanBlob FindingKind = "orphan_blob"
	// FindingMissingBlob is a ready record whose blob is gone (its S3 event
	// was lost). Repair: the record is tombstoned (uncounted), its span
	// marked, and purged.
	FindingMissingBlob FindingKind = "missing_blob"
	// FindingExpiredUpload is a pending record whose upload window ended
	// (with or without an uploaded but never completed blob). Repair: blob
	// and record are removed.
	FindingExpiredUpload FindingKind = "expired_upload"
	// FindingUnfinishedDelete is a tombstone left by an interrupted delete.
	// Repair: FinishDelete.
	FindingUnfinishedDelete FindingKind = "unfinished_delete"
	// FindingStuckJob is an active job older than its workflow's timeout
	// (WorkflowTimeout) plus the grace: its execution stopped before ending
	// it (MarkFailed gave up, the run timed out or was stopped by hand), so
	// nothing else ever will. Repair: JobService.Fail (ETIMEOUT), which
	// cancels it at its provider, removes what a Store attempt left and
	// writes its span.
	FindingStuckJob FindingKind = "stuck_job"
)

// FindingKinds lists every kind, in report order.
var FindingKinds = []FindingKind{FindingOrphanBlob, FindingMissingBlob, FindingExpiredUpload, FindingUnfinishedDelete, FindingStuckJob}

// Finding is one inconsistency and, after a real run, whether its repair failed.
type Finding struct {
	Kind        FindingKind `json:"kind"`
	WorkspaceID string      `json:"workspace_id"`
	AssetID     string      `json:"asset_id"`
	// JobID names the job of a stuck_job finding (Key is then the object
	// its Store attempts chose, if any).
	JobID string `json:"job_id,omitempty"`
	Key   string `json:"key"`
	Error string `json:"error,omitempty"`
}

// ReconcileReport is what a reconciliation found and, unless DryRun, repaired.
type ReconcileReport struct {
	DryRun         bool      `json:"dry_run"`
	StartedAt      time.Time `json:"started_at"`
	FinishedAt     time.Time `json:"finished_at"`
	RecordsScanned int       `json:"records_scanned"`
	// JobsScanned counts the active jobs enumerated.
	JobsScanned  int `json:"jobs_scanned"`
	BlobsScanned int `json:"blobs_scanned"`
	// ForeignKeys counts objects under workspaces/ whose keys this system
	// does not own: they are never touched.
	ForeignKeys int `json:"foreign_keys"`
	// Found counts findings by kind, all of them.
	Found map[FindingKind]int `json:"found"`
	// Repaired counts repairs (zero in a dry run); Failed counts repairs and
	// checks that failed, and findings held back (see HeldBack).
	Repaired int `json:"repaired"`
	Failed   int `json:"failed"`
	// Findings lists findings sorted by kind, workspace, asset and key, at
	// most MaxReportedFindings of them (Truncated says whether more exist).
	Findings  []Finding `json:"findings"`
	Truncated bool      `json:"truncated"`
	// HeldBack says the missing blobs were too many to be lost events (see
	// Reconciler.MaxMissingBlobs): they are reported, not repaired.
	HeldBack bool `json:"held_back"`
}

// Total is the number of findings of every kind.
func (r *ReconcileReport) Total() int {
	n := 0
	for _, c := range r.Found {
		n += c
	}
	return n
}

// Reconciliation bounds.
const (
	// DefaultReconcileGrace keeps reconciliation away from work in flight: a
	// blob younger than this may still be recorded (media calls store first,
	// then record within seconds), a pending upload may still arrive, a fresh
	// tombstone is being finished by its own request.
	DefaultReconcileGrace = time.Hour
	// MaxReportedFindings bounds the findings a report lists.
	MaxReportedFindings = 1000
	// ReconcilePrefix is where asset blobs live.
	ReconcilePrefix = "workspaces/"

	defaultReconcileConcurrency = 8
	// DefaultMaxMissingBlobs is Reconciler.MaxMissingBlobs's default.
	DefaultMaxMissingBlobs = 10
	// missingBlobShare is the share of the ready records scanned above which
	// missing blobs are held back (with more than MaxMissingBlobs of them).
	missingBlobShare = 0.05
	findBatch        = 100
)

// Reconciler finds records without blobs and blobs without records, and
// repairs them. Each side is enumerated once (EachAssetRecord, ListBlobs);
// every candidate is checked again with a point read (HEAD or a consistent
// GetItem) right before it is repaired, so that a change since the
// enumeration is never undone. It is the safety net for lost S3 events and
// crashed requests, run on a schedule (the reconcile function) or by hand
// (make reconcile).
type Reconciler struct {
	Assets *AssetService
	Store  ReconcileStore
	Blobs  ReconcileBlobs
	// Jobs ends stuck jobs (Fail) and ActiveJobs enumerates them; without
	// either, jobs are not reconciled.
	Jobs       *JobService
	ActiveJobs JobInventory
	// Grace defaults to DefaultReconcileGrace.
	Grace time.Duration
	// Concurrency bounds the HEADs and repairs in flight (default 8).
	Concurrency int
	// MaxMissingBlobs is a circuit breaker (0: DefaultMaxMissingBlobs): a run that finds
	// more ready records without their blob than this, and more than 5% of
	// the ready records it scanned, repairs none of them and reports
	// HeldBack. So many missing blobs point at a wrong or replaced bucket
	// rather than at lost events, and purging their records would lose the
	// data for good. Negative: no limit.
	MaxMissingBlobs int
	// TableSegments and BlobSegments are how many segments Plan makes of
	// the table and of the listing (0: DefaultTableSegments,
	// DefaultBlobSegments).
	TableSegments, BlobSegments int
	Now                         func() time.Time
	Logger                      *slog.Logger
	// Metrics records each finished run's report; nil records nothing.
	Metrics Metrics
}

// ReconcileOptions tune one run.
type ReconcileOptions struct {
	// DryRun reports what a real run would repair, changing nothing.
	DryRun bool `json:"dry_run"`
	// Grace and MaxMissingBlobs, when set, replace the function's
	// RECONCILE_GRACE (a positive Go duration) and RECONCILE_MAX_MISSING_BLOBS
	// (non-zero; negative: no limit) for this run: `make reconcile` passes the
	// shell's values to a stack that is already running this way.
	Grace           string `json:"grace,omitempty"`
	MaxMissingBlobs int    `json:"max_missing_blobs,omitempty"`
	// RunID names a run of the reconcile state machine (default: its
	// execution's name); starting the machine again with the id of a run
	// that stopped resumes it from its checkpoints.
	RunID string `json:"run_id,omitempty"`
}

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now().UTC()
	}
	return time.Now().UTC()
}

func (r *Reconciler) logger() *slog.Logger { return cmp.Or(r.Logger, slog.Default()) }

func (r *Reconciler) grace() time.Duration { return cmp.Or(r.Grace, DefaultReconcileGrace) }

// run is one reconciliation in progress.
type run struct {
	*Reconciler
	opts   ReconcileOptions
	now    time.Time
	cutoff time.Time // now - grace

	mu       sync.Mutex
	report   *ReconcileReport
	findings []Finding
	ready    int      // ready records scanned
	missing  []*Asset // ready records whose blob is gone, repaired once all are known
	sem      chan struct{}
	wg       sync.WaitGroup
}

// Run reconciles every workspace: first the records (tombstones, expired
// uploads, ready records whose blob is missing), then the blobs under
// ReconcilePrefix (orphans). A dry run finds exactly what the real run
// repairs, as long as nothing changes in between. Ready records without their
// blob are repaired once all are known, unless MaxMissingBlobs holds them
// back. It fails only when an enumeration fails; a failed repair is counted,
// logged and listed, and the next run tries again.
func (r *Reconciler) Run(ctx context.Context, opts ReconcileOptions) (*ReconcileReport, error) {
	x, err := r.start(opts, r.now())
	if err != nil {
		return nil, err
	}
	err = x.records(ctx)
	if err == nil {
		err = x.jobs(ctx)
	}
	x.wg.Wait()
	if err == nil {
		x.missingBlobs(ctx)
		x.wg.Wait()
		err = x.blobs(ctx)
		x.wg.Wait()
	}
	if err != nil {
		return nil, err
	}
	rep := x.report
	rep.Findings = x.findings
	finishReport(rep)
	rep.FinishedAt = r.now()
	r.logger().Info("reconciliation", "dry_run", opts.DryRun, "records", rep.RecordsScanned, "jobs", rep.JobsScanned, "blobs", rep.BlobsScanned,
		"found", rep.Found, "repaired", rep.Repaired, "failed", rep.Failed)
	metricsOrNone(r.Metrics).Reconciled(ctx, rep)
	return rep, nil
}

// graceOf is the grace of a run with opts.
func (r *Reconciler) graceOf(opts ReconcileOptions) (time.Duration, error) {
	if opts.Grace == "" {
		return r.grace(), nil
	}
	d, err := time.ParseDuration(opts.Grace)
	if err != nil || d <= 0 {
		return 0, Invalid("grace", "grace must be a positive duration such as 1h")
	}
	return d, nil
}

// start begins a run (or a page of one) at now with an empty report.
func (r *Reconciler) start(opts ReconcileOptions, now time.Time) (*run, error) {
	grace, err := r.graceOf(opts)
	if err != nil {
		return nil, err
	}
	x := &run{
		Reconciler: r, opts: opts, now: now, cutoff: now.Add(-grace),
		report: &ReconcileReport{DryRun: opts.DryRun, StartedAt: now, Found: map[FindingKind]int{}},
		sem:    make(chan struct{}, cmp.Or(r.Concurrency, defaultReconcileConcurrency)),
	}
	for _, k := range FindingKinds {
		x.report.Found[k] = 0
	}
	return x, nil
}

// finishReport sorts rep.Findings (by kind, workspace, asset, job and key)
// and keeps the first MaxReportedFindings of them.
func finishReport(rep *ReconcileReport) {
	sort.Slice(rep.Findings, func(i, j int) bool {
		a, b := rep.Findings[i], rep.Findings[j]
		return cmp.Or(cmp.Compare(slices.Index(FindingKinds, a.Kind), slices.Index(FindingKinds, b.Kind)), cmp.Compare(a.WorkspaceID, b.WorkspaceID),
			cmp.Compare(a.AssetID, b.AssetID), cmp.Compare(a.JobID, b.JobID), cmp.Compare(a.Key, b.Key)) < 0
	})
	if len(rep.Findings) > MaxReportedFindings {
		rep.Findings, rep.Truncated = rep.Findings[:MaxReportedFindings], true
	}
	if rep.Findings == nil {
		rep.Findings = []Finding{}
	}
}

// async runs f with bounded concurrency.
func (x *run) async(f func()) {
	x.sem <- struct{}{}
	x.wg.Go(func() {
		defer func() { <-x.sem }()
		f()
	})
}

// found records a finding and, unless this is a dry run, repairs it.
// repair returns false when a re-check shows nothing to repair any more.
func (x *run) found(ctx context.Context, f Finding, repair func(context.Context) (bool, error)) {
	ok, err := true, error(nil)
	if !x.opts.DryRun {
		ok, err = repair(ctx)
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if !ok {
		return
	}
	x.report.Found[f.Kind]++
	if err != nil {
		x.report.Failed++
		f.Error = ErrorMessage(err)
		x.logger().Error("reconcile: repair failed", "kind", f.Kind, "workspace", f.WorkspaceID, "asset", f.AssetID, "job", f.JobID, "key", f.Key, "err", err)
	} else if !x.opts.DryRun {
		x.report.Repaired++
	}
	x.findings = append(x.findings, f)
}

// records checks every asset record.
func (x *run) records(ctx context.Context) error {
	return x.Store.EachAssetRecord(ctx, func(a *Asset) error {
		x.record(ctx, a)
		return ctx.Err()
	})
}

// record checks one asset record: its repair (or, for a ready record, the
// HEAD of its blob) runs asynchronously; wait on x.wg.
func (x *run) record(ctx context.Context, a *Asset) {
	x.mu.Lock()
	x.report.RecordsScanned++
	x.mu.Unlock()
	f := Finding{WorkspaceID: a.WorkspaceID, AssetID: a.ID, Key: a.StorageKey}
	switch a.Status {
	case StatusDeleted:
		if a.UpdatedAt.Before(x.cutoff) {
			f.Kind = FindingUnfinishedDelete
			x.async(func() {
				x.found(ctx, f, func(ctx context.Context) (bool, error) { return true, x.Assets.FinishDelete(ctx, a) })
			})
		}
	case StatusPending:
		if a.UploadExpiresAt.Before(x.cutoff) {
			f.Kind = FindingExpiredUpload
			x.async(func() { x.found(ctx, f, x.expireUpload(a)) })
		}
	case StatusReady:
		x.mu.Lock()
		x.ready++
		x.mu.Unlock()
		x.async(func() { x.checkBlob(ctx, a, f) })
	}
}

// jobs checks every active job: one whose workflow can no longer be running
// (created before now - WorkflowTimeout - grace) is stuck.
func (x *run) jobs(ctx context.Context) error {
	if x.Jobs == nil || x.ActiveJobs == nil {
		return nil
	}
	return x.ActiveJobs.EachActiveJob(ctx, func(j *MediaJob) error {
		x.job(ctx, j)
		return ctx.Err()
	})
}

// job checks one active job; its repair runs asynchronously (x.wg).
func (x *run) job(ctx context.Context, j *MediaJob) {
	x.mu.Lock()
	x.report.JobsScanned++
	x.mu.Unlock()
	if j.Active() && x.stuck(j) {
		f := Finding{Kind: FindingStuckJob, WorkspaceID: j.WorkspaceID, JobID: j.ID, Key: j.StorageKey}
		x.async(func() { x.found(ctx, f, x.failStuck(j)) })
	}
}

// stuck reports whether no execution of j's workflow can still end it.
func (x *run) stuck(j *MediaJob) bool {
	return j.CreatedAt.Add(WorkflowTimeout).Before(x.cutoff)
}

// errStuckJob is the failure a stuck job ends with.
var errStuckJob = &SpanFailure{Code: ETIMEOUT, Message: "the job's workflow stopped before the job ended"}

// failStuck ends a stuck job through JobService.Fail once a consistent read
// confirms that it is still active.
func (x *run) failStuck(j *MediaJob) func(context.Context) (bool, error) {
	return func(ctx context.Context) (bool, error) {
		now, err := x.Jobs.Jobs.FindJob(ctx, j.WorkspaceID, j.ID)
		switch {
		case IsNotFound(err):
			return false, nil
		case err != nil:
			return true, err
		case !now.Active() || !x.stuck(now):
			return false, nil // ended meanwhile
		}
		failure := *errStuckJob
		_, err = x.Jobs.Fail(ctx, JobTask{WorkspaceID: j.WorkspaceID, JobID: j.ID, Next: NextFail, Failure: &failure})
		return true, err
	}
}

func (x *run) expireUpload(a *Asset) func(context.Context) (bool, error) {
	return func(ctx context.Context) (bool, error) {
		was, err := x.Store.ExpireUpload(ctx, a.WorkspaceID, a.ID, x.cutoff)
		switch code := ErrorCode(err); {
		case code == ENOTFOUND || code == ECONFLICT: // gone, or completed meanwhile
			return false, nil
		case err != nil:
			return true, err
		}
		return true, x.Assets.FinishDelete(ctx, was)
	}
}

// checkBlob HEADs a ready record's blob and keeps the record when it is gone.
func (x *run) checkBlob(ctx context.Context, a *Asset, f Finding) {
	_, err := x.Blobs.Stat(ctx, a.StorageKey)
	switch {
	case err == nil:
	case IsNotFound(err):
		x.mu.Lock()
		x.missing = append(x.missing, a)
		x.mu.Unlock()
	default:
		x.fail(f, FindingMissingBlob, err)
	}
}

// missingBlobs repairs the ready records without blobs, unless there are so
// many that the circuit breaker holds them back.
func (x *run) missingBlobs(ctx context.Context) {
	limit := cmp.Or(x.opts.MaxMissingBlobs, x.MaxMissingBlobs, DefaultMaxMissingBlobs)
	held := limit >= 0 && len(x.missing) > limit && float64(len(x.missing)) > missingBlobShare*float64(x.ready)
	if held {
		x.report.HeldBack = true
		x.logger().Error("reconcile: too many ready records without their blob; none repaired (wrong or replaced bucket?)",
			"missing", len(x.missing), "ready", x.ready, "limit", limit)
	}
	for _, a := range x.missing {
		f := Finding{Kind: FindingMissingBlob, WorkspaceID: a.WorkspaceID, AssetID: a.ID, Key: a.StorageKey}
		if held {
			x.found(ctx, f, func(context.Context) (bool, error) { return true, errHeldBack })
			continue
		}
		x.async(func() {
			x.found(ctx, f, func(ctx context.Context) (bool, error) {
				was, err := x.Store.MarkAssetDeleted(ctx, a.WorkspaceID, a.ID, x.now)
				switch {
				case IsNotFound(err):
					return false, nil
				case err != nil:
					return true, err
				}
				return true, x.Assets.FinishDelete(ctx, was)
			})
		})
	}
}

// errHeldBack marks the findings the circuit breaker did not repair.
var errHeldBack = Errorf(EUNAVAILABLE, "held back: too many ready records without their blob")

// fail records a check that could not be made.
func (x *run) fail(f Finding, kind FindingKind, err error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.report.Failed++
	x.logger().Error("reconcile: check failed", "kind", kind, "workspace", f.WorkspaceID, "asset", f.AssetID, "key", f.Key, "err", err)
}

// blobs checks every object under ReconcilePrefix against its record, a
// batch of keys at a time.
func (x *run) blobs(ctx context.Context) error {
	var batch []BlobObject
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		objs := batch
		batch = nil
		return x.checkRecords(ctx, objs)
	}
	err := x.Blobs.ListBlobs(ctx, ReconcilePrefix, func(o BlobObject) error {
		if !x.blobToCheck(o) {
			return nil
		}
		if batch = append(batch, o); len(batch) == findBatch {
			return flush()
		}
		return ctx.Err()
	})
	if err != nil {
		return err
	}
	return flush()
}

// blobToCheck counts an object of the listing and reports whether its
// record must be read: it is under an asset key and older than the grace.
func (x *run) blobToCheck(o BlobObject) bool {
	_, _, ours := ParseStorageKey(o.Key)
	x.mu.Lock()
	x.report.BlobsScanned++
	if !ours {
		x.report.ForeignKeys++
	}
	x.mu.Unlock()
	return ours && o.LastModified.Before(x.cutoff) // a younger one may still be recorded
}

// checkRecords reads the records of a batch of blobs and handles the orphans.
func (x *run) checkRecords(ctx context.Context, objs []BlobObject) error {
	refs := make([]AssetRef, len(objs))
	for i, o := range objs {
		ws, id, _ := ParseStorageKey(o.Key)
		refs[i] = AssetRef{ws, id}
	}
	records, err := x.Store.FindAssets(ctx, refs)
	if err != nil {
		return err
	}
	for i, o := range objs {
		if a := records[refs[i]]; a != nil && a.StorageKey == o.Key {
			continue
		}
		f := Finding{Kind: FindingOrphanBlob, WorkspaceID: refs[i].WorkspaceID, AssetID: refs[i].ID, Key: o.Key}
		x.async(func() {
			if users, err := x.Assets.Sharing.Users(ctx, f.WorkspaceID, f.AssetID); err == nil && len(users) > 0 {
				return // a shared blob whose first copy was deleted: in use
			}
			x.found(ctx, f, x.deleteOrphan(f))
		})
	}
	return nil
}

// deleteOrphan deletes a blob once a consistent read confirms that no record
// names it and no asset shares it (content dedup: the first copy's record
// may be gone while others use its blob).
func (x *run) deleteOrphan(f Finding) func(context.Context) (bool, error) {
	return func(ctx context.Context) (bool, error) {
		a, err := x.Store.FindAsset(ctx, f.WorkspaceID, f.AssetID)
		switch {
		case err == nil && a.StorageKey == f.Key:
			return false, nil // recorded meanwhile
		case err != nil && !IsNotFound(err):
			return true, err
		}
		if users, err := x.Assets.Sharing.Users(ctx, f.WorkspaceID, f.AssetID); err != nil {
			return true, err
		} else if len(users) > 0 {
			return false, nil
		}
		return true, x.Blobs.Delete(ctx, f.Key)
	}
}
