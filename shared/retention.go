package mediatrail

import (
	"context"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Retention is how long an asset's blob is kept, in whole days, chosen among
// RetentionClasses. It reaches the bucket as an object tag (RetentionTag) that
// the bucket's lifecycle rules read (template.yaml, one rule per class), so
// expiry costs no request of ours; the S3 event of the expiry then removes the
// record (CleanupService.BlobRemoved).
//
// 0 (RetentionForever) keeps the blob until it is deleted: no rule matches its
// tag. Untagged objects (stored before retention existed) are kept too, so a
// missing or unknown tag can never delete anything.
const (
	// RetentionTagKey is the object tag the lifecycle rules filter on.
	RetentionTagKey = "retention"
	// RetentionForever keeps a blob until someone deletes it.
	RetentionForever = 0
	// EnvDefaultRetentionDays names the deployment-wide default retention.
	EnvDefaultRetentionDays = "DEFAULT_RETENTION_DAYS"
)

// RetentionClasses are the retention periods, in days, that the bucket's
// lifecycle rules implement; RetentionForever first.
var RetentionClasses = []int{RetentionForever, 7, 30, 90, 365}

// ValidRetentionDays reports whether days is one of RetentionClasses.
func ValidRetentionDays(days int) bool { return slices.Contains(RetentionClasses, days) }

// ValidateRetentionDays is EINVALID unless days is one of RetentionClasses.
func ValidateRetentionDays(days int) error {
	if !ValidRetentionDays(days) {
		return Invalid("retention_days", "retention_days must be one of 0 (keep forever), 7, 30, 90 or 365")
	}
	return nil
}

// Tag is an object tag.
type Tag struct{ Key, Value string }

// EncodeTags is the x-amz-tagging form of tags (URL query encoding).
func EncodeTags(tags []Tag) string {
	v := url.Values{}
	for _, t := range tags {
		v.Set(t.Key, t.Value)
	}
	return v.Encode()
}

// UploadTag marks an object a client uploads through the presigned requests
// of POST /api/v1/assets (signed into x-amz-tagging, so the object has it
// from its first byte). Such an object is only ever wanted while its asset's
// record is pending or ready, since the record is written before any upload
// URL exists: cleanup deletes a tagged object that appears with no such
// record at once (an old upload URL used after the delete). Objects our
// functions store are written before their record and never carry it.
var UploadTag = Tag{Key: "origin", Value: "upload"}

// RetentionTag is the object tag of a retention: retention=7d, ...,
// retention=forever.
func RetentionTag(days int) Tag {
	if days == RetentionForever {
		return Tag{RetentionTagKey, "forever"}
	}
	return Tag{RetentionTagKey, strconv.Itoa(days) + "d"}
}

// RetentionExpiresAt is the earliest time the lifecycle rule of days may
// remove a blob created at created: S3 adds the days to the creation time and
// rounds up to the next midnight UTC. Removal itself is asynchronous and may
// come later. The zero time for RetentionForever.
func RetentionExpiresAt(created time.Time, days int) time.Time {
	if days == RetentionForever || created.IsZero() {
		return time.Time{}
	}
	t := created.UTC().AddDate(0, 0, days)
	midnight := t.Truncate(24 * time.Hour)
	if midnight.Equal(t) {
		return midnight
	}
	return midnight.Add(24 * time.Hour)
}

// RetentionStore keeps each workspace's default retention.
type RetentionStore interface {
	// WorkspaceRetention returns the retention a workspace set; ok is false
	// when it has set none.
	WorkspaceRetention(ctx context.Context, workspaceID string) (days int, ok bool, err error)

	// SetWorkspaceRetention sets a workspace's default retention.
	SetWorkspaceRetention(ctx context.Context, workspaceID string, days int, at time.Time) error
}

// WorkspaceRetention is a workspace's default retention for new assets, and
// where it comes from: "workspace" (its own setting) or "default" (the
// deployment's DEFAULT_RETENTION_DAYS).
type WorkspaceRetention struct {
	RetentionDays int    `json:"retention_days"`
	Source        string `json:"source"`
}

// RetentionService decides the retention of new assets: the request's, else
// the workspace's setting, else the deployment's default.
type RetentionService struct {
	// Default applies to workspaces without a setting (DEFAULT_RETENTION_DAYS).
	Default int
	// Store holds workspace settings; nil means none are kept.
	Store RetentionStore
	Now   func() time.Time
}

// Resolve returns the retention of a new asset of workspace ws. requested is
// the caller's choice (nil: the workspace default). A nil service keeps
// everything forever unless asked otherwise. EINVALID for a requested value
// outside RetentionClasses.
func (s *RetentionService) Resolve(ctx context.Context, ws string, requested *int) (int, error) {
	if requested != nil {
		return *requested, ValidateRetentionDays(*requested)
	}
	if s == nil {
		return RetentionForever, nil
	}
	r, err := s.Get(ctx, ws)
	if err != nil {
		return 0, err
	}
	return r.RetentionDays, nil
}

// Get returns the workspace's default retention and its source.
func (s *RetentionService) Get(ctx context.Context, ws string) (*WorkspaceRetention, error) {
	if s.Store != nil {
		days, ok, err := s.Store.WorkspaceRetention(ctx, ws)
		if err != nil {
			return nil, err
		}
		if ok {
			return &WorkspaceRetention{RetentionDays: days, Source: "workspace"}, nil
		}
	}
	return &WorkspaceRetention{RetentionDays: s.Default, Source: "default"}, nil
}

// SetRetentionInput is the body of PUT /api/v1/workspace/retention.
type SetRetentionInput struct {
	RetentionDays *int `json:"retention_days"`
}

// Set changes the workspace's default retention for assets created from now
// on; existing assets keep theirs. EINVALID for a value outside
// RetentionClasses; EUNAVAILABLE when no store keeps settings.
func (s *RetentionService) Set(ctx context.Context, ws string, in SetRetentionInput) (*WorkspaceRetention, error) {
	if in.RetentionDays == nil {
		return nil, Invalid("retention_days", "retention_days is required")
	}
	if err := ValidateRetentionDays(*in.RetentionDays); err != nil {
		return nil, err
	}
	if s.Store == nil {
		return nil, Errorf(EUNAVAILABLE, "workspace settings are not available")
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	if err := s.Store.SetWorkspaceRetention(ctx, ws, *in.RetentionDays, now().UTC()); err != nil {
		return nil, err
	}
	return &WorkspaceRetention{RetentionDays: *in.RetentionDays, Source: "workspace"}, nil
}

// CleanupConfig tunes retention and reconciliation.
type CleanupConfig struct {
	// DefaultRetentionDays is the retention of new assets of workspaces that
	// set none (DEFAULT_RETENTION_DAYS, one of RetentionClasses; default 0,
	// keep forever).
	DefaultRetentionDays int
	// ReconcileGrace is how old work must be before reconciliation treats it
	// as abandoned (RECONCILE_GRACE, a positive Go duration; default
	// DefaultReconcileGrace).
	ReconcileGrace time.Duration
	// ReconcileMaxMissingBlobs is reconciliation's circuit breaker
	// (RECONCILE_MAX_MISSING_BLOBS, an integer; negative: no limit; default
	// DefaultMaxMissingBlobs). See Reconciler.MaxMissingBlobs.
	ReconcileMaxMissingBlobs int
}

// CleanupEnvNames are the CleanupConfig variables a local stack passes
// through from the shell (DEFAULT_RETENTION_DAYS comes from the template's
// DefaultRetentionDays parameter).
var CleanupEnvNames = []string{"RECONCILE_GRACE", "RECONCILE_MAX_MISSING_BLOBS"}

func loadCleanupConfig(getenv func(string) string) (CleanupConfig, error) {
	c := CleanupConfig{ReconcileGrace: DefaultReconcileGrace, ReconcileMaxMissingBlobs: DefaultMaxMissingBlobs}
	if v := strings.TrimSpace(getenv(EnvDefaultRetentionDays)); v != "" {
		d, err := strconv.Atoi(v)
		if err != nil || !ValidRetentionDays(d) {
			return c, Invalid(EnvDefaultRetentionDays, "%s must be one of 0 (keep forever), 7, 30, 90 or 365", EnvDefaultRetentionDays)
		}
		c.DefaultRetentionDays = d
	}
	if v := strings.TrimSpace(getenv("RECONCILE_GRACE")); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return c, Invalid("RECONCILE_GRACE", "RECONCILE_GRACE must be a positive duration such as 1h")
		}
		c.ReconcileGrace = d
	}
	if v := strings.TrimSpace(getenv("RECONCILE_MAX_MISSING_BLOBS")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n == 0 {
			return c, Invalid("RECONCILE_MAX_MISSING_BLOBS", "RECONCILE_MAX_MISSING_BLOBS must be a non-zero integer (negative: no limit)")
		}
		c.ReconcileMaxMissingBlobs = n
	}
	return c, nil
}
