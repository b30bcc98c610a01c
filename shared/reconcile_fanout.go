package mediatrail

import (
	"cmp"
	"context"
	"fmt"
	"time"
)

// Reconciliation past one Lambda invocation: the reconcile state machine
// (statemachines/reconcile.asl.json) runs Plan once, then Page over every
// segment of the enumeration (a Map state, one page per invocation) and
// Finish once. Each page is saved as a checkpoint of its run, so a run
// started again with the same id skips finished segments and resumes the
// others from their last page. The per-object decisions are Run's own
// (record, job, blobToCheck, checkRecords, missingBlobs); only the
// enumeration is split.

// ReconcileSegmentKind says what a segment enumerates.
type ReconcileSegmentKind string

const (
	// SegmentTable is one segment of a parallel Scan of the table: asset
	// records and active jobs.
	SegmentTable ReconcileSegmentKind = "table"
	// SegmentBlobs is one key range of the listing under ReconcilePrefix.
	SegmentBlobs ReconcileSegmentKind = "blobs"
)

// ReconcileSegment is one share of a run's enumeration, walked a page at a
// time.
type ReconcileSegment struct {
	Kind ReconcileSegmentKind `json:"kind"`
	// Index is the segment's number among Of segments of its kind (the
	// Segment and TotalSegments of a parallel Scan).
	Index int `json:"index"`
	Of    int `json:"of"`
	// After and Through bound a blobs segment's keys: After < key <=
	// Through; "" leaves a side open.
	After   string `json:"after,omitempty"`
	Through string `json:"through,omitempty"`
}

// ID names the segment within its run.
func (s ReconcileSegment) ID() string { return fmt.Sprintf("%s/%d/%d", s.Kind, s.Index, s.Of) }

// ReconcileTablePager reads the table a page at a time for the fan-out.
type ReconcileTablePager interface {
	// ReconcileTablePage reads one page of segment of a parallel Scan of
	// total segments, from token ("" for the first page): the asset records
	// (any status) and active jobs on it, and the token of the next page
	// ("" after the last).
	ReconcileTablePage(ctx context.Context, segment, total int, token string) (assets []*Asset, jobs []*MediaJob, next string, err error)
}

// BlobPager lists objects a page at a time for the fan-out.
type BlobPager interface {
	// ListBlobPage lists at most max objects under prefix whose keys sort
	// after startAfter (all when ""), in key order, and whether more follow.
	ListBlobPage(ctx context.Context, prefix, startAfter string, max int) (objs []BlobObject, more bool, err error)
}

// ReconcileRun is a fan-out run as its checkpoint keeps it: its options and
// time are fixed by Plan, so a resumed run decides as the first attempt did.
type ReconcileRun struct {
	ID        string             `json:"id"`
	Options   ReconcileOptions   `json:"options"`
	StartedAt time.Time          `json:"started_at"`
	Segments  []ReconcileSegment `json:"segments"`
	// Report is set once Finish has run.
	Report *ReconcileReport `json:"report,omitempty"`
}

// ReconcileCheckpoint is where one segment of a run stands.
type ReconcileCheckpoint struct {
	RunID   string `json:"run_id"`
	Segment string `json:"segment"`
	// Token is where the next page starts; Done says there is none.
	Token string `json:"token,omitempty"`
	Done  bool   `json:"done"`
	Pages int    `json:"pages"`
	// Ready counts the ready records scanned (the circuit breaker's base);
	// Tally holds the counts and the first MaxReportedFindings findings
	// (in report order) of the pages so far.
	Ready int             `json:"ready"`
	Tally ReconcileReport `json:"tally"`
}

// ReconcileCheckpoints keeps fan-out runs and their segments' checkpoints.
type ReconcileCheckpoints interface {
	// StartReconcileRun stores run unless one with its id exists, and
	// returns the stored one.
	StartReconcileRun(ctx context.Context, run *ReconcileRun) (*ReconcileRun, error)
	// FindReconcileRun reads a run; ENOTFOUND if there is none.
	FindReconcileRun(ctx context.Context, id string) (*ReconcileRun, error)
	// ReconcileCheckpoint reads a segment's checkpoint: a zero one (no
	// token, not done) before its first page.
	ReconcileCheckpoint(ctx context.Context, runID, segment string) (*ReconcileCheckpoint, error)
	// SaveReconcileCheckpoint records missing-blob candidates found on a
	// page, then the segment's checkpoint (in this order: a crash between
	// the two repeats the page, which finds the same candidates).
	SaveReconcileCheckpoint(ctx context.Context, cp *ReconcileCheckpoint, missing []*Asset) error
	// ReconcileCheckpoints reads every segment checkpoint of a run.
	ReconcileCheckpoints(ctx context.Context, runID string) ([]*ReconcileCheckpoint, error)
	// EachMissingBlobCandidate calls visit for every candidate of a run
	// (WorkspaceID, ID and StorageKey set).
	EachMissingBlobCandidate(ctx context.Context, runID string, visit func(*Asset) error) error
	// FinishReconcileRun stores a run's report.
	FinishReconcileRun(ctx context.Context, runID string, rep *ReconcileReport) error
}

// Fan-out bounds.
const (
	// DefaultTableSegments and DefaultBlobSegments are how many segments a
	// run's Plan makes of each side.
	DefaultTableSegments = 8
	DefaultBlobSegments  = 8
	// BlobPageSize is the most objects one Page lists (one ListObjectsV2).
	BlobPageSize = 1000
)

// ReconcileStep is the event of one step of the reconcile state machine
// (statemachines/reconcile.asl.json).
type ReconcileStep struct {
	// Step is "plan", "page" or "finish"; empty, the event is a
	// ReconcileOptions for one whole run in this invocation (Run).
	Step string `json:"step"`
	// Options (plan) are the execution's input; Execution its name, the run
	// id unless Options.RunID names one.
	Options   ReconcileOptions `json:"options"`
	Execution string           `json:"execution,omitempty"`
	// RunID and Segment (page, finish) say what to work on.
	RunID   string            `json:"run_id,omitempty"`
	Segment *ReconcileSegment `json:"segment,omitempty"`
}

// ReconcilePlan is Plan's answer: the items of the two Map states. The
// table segments run first, then the blobs ones, as in Run: an orphan blob
// is looked for only once the records' repairs are done, so a real run
// finds what its dry run found.
type ReconcilePlan struct {
	RunID string             `json:"run_id"`
	Table []ReconcileSegment `json:"table"`
	Blobs []ReconcileSegment `json:"blobs"`
}

// ReconcilePage is Page's answer; the state machine calls Page again with
// it until Done.
type ReconcilePage struct {
	Step    string           `json:"step"`
	RunID   string           `json:"run_id"`
	Segment ReconcileSegment `json:"segment"`
	Done    bool             `json:"done"`
}

// blobAlphabet is the first characters of workspace ids (ValidRef), in
// byte order: blobs segments split the listing at them.
const blobAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// PlanSegments splits the enumeration: tables segments of a parallel Scan,
// and blobs key ranges of ReconcilePrefix cut at workspace id first
// characters, which together cover every key exactly once.
func PlanSegments(tables, blobs int) []ReconcileSegment {
	tables = max(tables, 1)
	blobs = min(max(blobs, 1), len(blobAlphabet))
	var segs []ReconcileSegment
	for i := range tables {
		segs = append(segs, ReconcileSegment{Kind: SegmentTable, Index: i, Of: tables})
	}
	after := ""
	for i := range blobs {
		s := ReconcileSegment{Kind: SegmentBlobs, Index: i, Of: blobs, After: after}
		if i < blobs-1 {
			// Keys up to and including the bound; the next range starts
			// after it.
			s.Through = ReconcilePrefix + string(blobAlphabet[(i+1)*len(blobAlphabet)/blobs])
			after = s.Through
		}
		segs = append(segs, s)
	}
	return segs
}

// Plan starts (or, for a run id stored before, resumes) a fan-out run and
// answers its segments. A new run fixes its options and start time.
func (r *Reconciler) Plan(ctx context.Context, execution string, opts ReconcileOptions) (*ReconcilePlan, error) {
	if _, err := r.graceOf(opts); err != nil {
		return nil, err
	}
	id := cmp.Or(opts.RunID, execution)
	if !ValidRef(id) {
		return nil, Invalid("run_id", "run_id must be 1-128 letters, digits, '.', '_', ':' or '-'")
	}
	stored, err := r.Store.StartReconcileRun(ctx, &ReconcileRun{
		ID: id, Options: opts, StartedAt: r.now(),
		Segments: PlanSegments(cmp.Or(r.TableSegments, DefaultTableSegments), cmp.Or(r.BlobSegments, DefaultBlobSegments)),
	})
	if err != nil {
		return nil, err
	}
	plan := &ReconcilePlan{RunID: stored.ID, Table: []ReconcileSegment{}, Blobs: []ReconcileSegment{}}
	for _, seg := range stored.Segments {
		if seg.Kind == SegmentTable {
			plan.Table = append(plan.Table, seg)
		} else {
			plan.Blobs = append(plan.Blobs, seg)
		}
	}
	return plan, nil
}

// Page reconciles the next page of a segment from its checkpoint and saves
// the checkpoint after it. Ready records without their blob are not
// repaired here but recorded as candidates: the circuit breaker needs the
// run's totals, which Finish has. A page repeated after a crash repeats
// only repairs that re-check the current state first.
func (r *Reconciler) Page(ctx context.Context, runID string, seg ReconcileSegment) (*ReconcilePage, error) {
	rn, err := r.Store.FindReconcileRun(ctx, runID)
	if err != nil {
		return nil, err
	}
	answer := &ReconcilePage{Step: "page", RunID: runID, Segment: seg, Done: true}
	cp, err := r.Store.ReconcileCheckpoint(ctx, runID, seg.ID())
	if err != nil || cp.Done || rn.Report != nil {
		return answer, err
	}
	x, err := r.start(rn.Options, rn.StartedAt)
	if err != nil {
		return nil, err
	}
	switch seg.Kind {
	case SegmentTable:
		err = x.tablePage(ctx, seg, cp)
	case SegmentBlobs:
		err = x.blobPage(ctx, seg, cp)
	default:
		err = Invalid("segment", "unknown segment kind")
	}
	x.wg.Wait()
	if err != nil {
		return nil, err
	}
	cp.RunID, cp.Segment = runID, seg.ID()
	cp.Pages++
	cp.Ready += x.ready
	mergeTally(&cp.Tally, x.report, x.findings)
	if err := r.Store.SaveReconcileCheckpoint(ctx, cp, x.missing); err != nil {
		return nil, err
	}
	answer.Done = cp.Done
	return answer, nil
}

// tablePage checks one page of a table segment.
func (x *run) tablePage(ctx context.Context, seg ReconcileSegment, cp *ReconcileCheckpoint) error {
	assets, jobs, next, err := x.Store.ReconcileTablePage(ctx, seg.Index, seg.Of, cp.Token)
	if err != nil {
		return err
	}
	for _, a := range assets {
		x.record(ctx, a)
	}
	if x.Jobs != nil {
		for _, j := range jobs {
			x.job(ctx, j)
		}
	}
	cp.Token, cp.Done = next, next == ""
	return nil
}

// blobPage checks one listing page of a blobs segment.
func (x *run) blobPage(ctx context.Context, seg ReconcileSegment, cp *ReconcileCheckpoint) error {
	objs, more, err := x.Blobs.ListBlobPage(ctx, ReconcilePrefix, cmp.Or(cp.Token, seg.After), BlobPageSize)
	if err != nil {
		return err
	}
	var batch []BlobObject
	for _, o := range objs {
		if seg.Through != "" && o.Key > seg.Through {
			more = false
			break
		}
		cp.Token = o.Key
		if !x.blobToCheck(o) {
			continue
		}
		if batch = append(batch, o); len(batch) == findBatch {
			if err := x.checkRecords(ctx, batch); err != nil {
				return err
			}
			batch = nil
		}
	}
	if len(batch) > 0 {
		if err := x.checkRecords(ctx, batch); err != nil {
			return err
		}
	}
	cp.Done = !more
	return nil
}

// mergeTally adds a page's report and findings to a tally, keeping the
// first MaxReportedFindings findings in report order (so that the run's
// first ones are among the segments' first ones).
func mergeTally(t *ReconcileReport, page *ReconcileReport, findings []Finding) {
	if t.Found == nil {
		t.Found = map[FindingKind]int{}
	}
	t.RecordsScanned += page.RecordsScanned
	t.JobsScanned += page.JobsScanned
	t.BlobsScanned += page.BlobsScanned
	t.ForeignKeys += page.ForeignKeys
	for k, n := range page.Found {
		t.Found[k] += n
	}
	t.Repaired += page.Repaired
	t.Failed += page.Failed
	t.Truncated = t.Truncated || page.Truncated
	t.Findings = append(t.Findings, findings...)
	finishReport(t)
}

// Finish totals a run's checkpoints into its report, applies the circuit
// breaker to the missing-blob candidates of all pages and, unless it holds
// them back, repairs them (each re-checked first). A run finished before
// answers its stored report. It fails while a segment is not done.
func (r *Reconciler) Finish(ctx context.Context, runID string) (*ReconcileReport, error) {
	rn, err := r.Store.FindReconcileRun(ctx, runID)
	if err != nil || rn.Report != nil {
		return rnReport(rn), err
	}
	cps, err := r.Store.ReconcileCheckpoints(ctx, runID)
	if err != nil {
		return nil, err
	}
	done := map[string]bool{}
	for _, cp := range cps {
		done[cp.Segment] = cp.Done
	}
	for _, s := range rn.Segments {
		if !done[s.ID()] {
			return nil, Errorf(ECONFLICT, "reconcile run %s: segment %s is not done", runID, s.ID())
		}
	}
	x, err := r.start(rn.Options, rn.StartedAt)
	if err != nil {
		return nil, err
	}
	for _, cp := range cps {
		x.ready += cp.Ready
	}
	err = r.Store.EachMissingBlobCandidate(ctx, runID, func(a *Asset) error {
		x.missing = append(x.missing, a)
		return nil
	})
	if err != nil {
		return nil, err
	}
	x.missingBlobs(ctx)
	x.wg.Wait()
	rep := &ReconcileReport{DryRun: rn.Options.DryRun, StartedAt: rn.StartedAt}
	for _, cp := range cps {
		mergeTally(rep, &cp.Tally, cp.Tally.Findings)
	}
	mergeTally(rep, x.report, x.findings)
	rep.HeldBack = x.report.HeldBack
	rep.FinishedAt = r.now()
	if err := r.Store.FinishReconcileRun(ctx, runID, rep); err != nil {
		return nil, err
	}
	r.logger().Info("reconciliation", "run", runID, "segments", len(rn.Segments), "dry_run", rep.DryRun, "records", rep.RecordsScanned,
		"jobs", rep.JobsScanned, "blobs", rep.BlobsScanned, "found", rep.Found, "repaired", rep.Repaired, "failed", rep.Failed)
	metricsOrNone(r.Metrics).Reconciled(ctx, rep)
	return rep, nil
}

func rnReport(rn *ReconcileRun) *ReconcileReport {
	if rn == nil {
		return nil
	}
	return rn.Report
}
