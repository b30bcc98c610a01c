package mediatrail_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

func TestRetentionClasses(t *testing.T) {
	for _, tc := range []struct {
		days int
		ok   bool
		tag  string
	}{
		{0, true, "forever"},
		{7, true, "7d"},
		{30, true, "30d"},
		{90, true, "90d"},
		{365, true, "365d"},
		{1, false, ""},
		{-1, false, ""},
		{31, false, ""},
		{3650, false, ""},
	} {
		err := mediatrail.ValidateRetentionDays(tc.days)
		if got := err == nil; got != tc.ok {
			t.Errorf("ValidateRetentionDays(%d) = %v, want ok=%v", tc.days, err, tc.ok)
		}
		if err != nil && mediatrail.ErrorCode(err) != mediatrail.EINVALID {
			t.Errorf("ValidateRetentionDays(%d) code %s", tc.days, mediatrail.ErrorCode(err))
		}
		if tc.ok {
			if got := mediatrail.RetentionTag(tc.days); got.Key != "retention" || got.Value != tc.tag {
				t.Errorf("RetentionTag(%d) = %+v, want retention=%s", tc.days, got, tc.tag)
			}
		}
	}
}

func TestRetentionExpiresAt(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		created string
		days    int
		want    string // "" for never
	}{
		{"2026-01-10T15:04:05Z", 7, "2026-01-18T00:00:00Z"},      // next midnight after created+7d
		{"2026-01-10T00:00:00Z", 30, "2026-02-09T00:00:00Z"},     // already a midnight
		{"2026-12-31T23:59:59Z", 365, "2028-01-01T00:00:00Z"},    // across years
		{"2026-03-01T10:00:00+02:00", 7, "2026-03-09T00:00:00Z"}, // in UTC
		{"2026-01-10T15:04:05Z", 0, ""},
	} {
		got := mediatrail.RetentionExpiresAt(at(tc.created), tc.days)
		if tc.want == "" {
			if !got.IsZero() {
				t.Errorf("%s + %d days = %s, want never", tc.created, tc.days, got)
			}
			continue
		}
		if !got.Equal(at(tc.want)) {
			t.Errorf("%s + %d days = %s, want %s", tc.created, tc.days, got, tc.want)
		}
	}
}

func TestEncodeTags(t *testing.T) {
	got := mediatrail.EncodeTags([]mediatrail.Tag{mediatrail.RetentionTag(30), {Key: "team", Value: "a b&c"}})
	if want := "retention=30d&team=a+b%26c"; got != want {
		t.Errorf("EncodeTags = %q, want %q", got, want)
	}
}

// settings is an in-memory RetentionStore.
type settings map[string]int

func (s settings) WorkspaceRetention(_ context.Context, ws string) (int, bool, error) {
	d, ok := s[ws]
	return d, ok, nil
}

func (s settings) SetWorkspaceRetention(_ context.Context, ws string, days int, _ time.Time) error {
	s[ws] = days
	return nil
}

func TestRetentionServiceResolve(t *testing.T) {
	ctx := context.Background()
	ptr := func(n int) *int { return &n }
	svc := &mediatrail.RetentionService{Default: 90, Store: settings{"set": 7}}
	for _, tc := range []struct {
		name      string
		svc       *mediatrail.RetentionService
		ws        string
		requested *int
		want      int
		code      string
	}{
		{"the request wins", svc, "set", ptr(365), 365, ""},
		{"forever on request", svc, "set", ptr(0), 0, ""},
		{"the workspace's setting", svc, "set", nil, 7, ""},
		{"the deployment default", svc, "unset", nil, 90, ""},
		{"no service keeps forever", nil, "any", nil, 0, ""},
		{"no service honours the request", nil, "any", ptr(30), 30, ""},
		{"not a class", svc, "set", ptr(10), 0, mediatrail.EINVALID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.svc.Resolve(ctx, tc.ws, tc.requested)
			if mediatrail.ErrorCode(err) != tc.code || (err == nil && got != tc.want) {
				t.Errorf("Resolve = %d, %v; want %d, code %q", got, err, tc.want, tc.code)
			}
		})
	}
}

func TestRetentionServiceSet(t *testing.T) {
	ctx := context.Background()
	store := settings{}
	svc := &mediatrail.RetentionService{Default: 30, Store: store}
	if got, _ := svc.Get(ctx, "ws"); *got != (mediatrail.WorkspaceRetention{RetentionDays: 30, Source: "default"}) {
		t.Errorf("Get before Set = %+v", got)
	}
	days := 365
	if _, err := svc.Set(ctx, "ws", mediatrail.SetRetentionInput{RetentionDays: &days}); err != nil {
		t.Fatal(err)
	}
	if got, _ := svc.Get(ctx, "ws"); *got != (mediatrail.WorkspaceRetention{RetentionDays: 365, Source: "workspace"}) {
		t.Errorf("Get after Set = %+v", got)
	}
	bad := 12
	for _, in := range []mediatrail.SetRetentionInput{{}, {RetentionDays: &bad}} {
		if _, err := svc.Set(ctx, "ws", in); mediatrail.ErrorCode(err) != mediatrail.EINVALID {
			t.Errorf("Set(%v) = %v, want EINVALID", in.RetentionDays, err)
		}
	}
}

func TestLoadConfigCleanup(t *testing.T) {
	base := map[string]string{"TABLE_NAME": "t", "STORAGE_BUCKET": "b"}
	defaults := mediatrail.CleanupConfig{ReconcileGrace: mediatrail.DefaultReconcileGrace, ReconcileMaxMissingBlobs: mediatrail.DefaultMaxMissingBlobs}
	with := func(f func(*mediatrail.CleanupConfig)) *mediatrail.CleanupConfig {
		c := defaults
		f(&c)
		return &c
	}
	for _, tc := range []struct {
		env  map[string]string
		want *mediatrail.CleanupConfig // nil: EINVALID
	}{
		{map[string]string{}, &defaults},
		{map[string]string{"DEFAULT_RETENTION_DAYS": "30", "RECONCILE_GRACE": "10m", "RECONCILE_MAX_MISSING_BLOBS": "-1"},
			with(func(c *mediatrail.CleanupConfig) {
				c.DefaultRetentionDays, c.ReconcileGrace, c.ReconcileMaxMissingBlobs = 30, 10*time.Minute, -1
			})},
		{map[string]string{"DEFAULT_RETENTION_DAYS": "45"}, nil},
		{map[string]string{"RECONCILE_GRACE": "0s"}, nil},
		{map[string]string{"RECONCILE_GRACE": "soon"}, nil},
		{map[string]string{"RECONCILE_MAX_MISSING_BLOBS": "0"}, nil},
		{map[string]string{"RECONCILE_MAX_MISSING_BLOBS": "many"}, nil},
	} {
		c, err := mediatrail.LoadConfig(func(k string) string {
			if v, ok := tc.env[k]; ok {
				return v
			}
			return base[k]
		})
		switch {
		case tc.want == nil && mediatrail.ErrorCode(err) != mediatrail.EINVALID:
			t.Errorf("LoadConfig(%v) = %v, want EINVALID", tc.env, err)
		case tc.want != nil && (err != nil || c.Cleanup != *tc.want):
			t.Errorf("LoadConfig(%v) = %+v, %v; want %+v", tc.env, c.Cleanup, err, *tc.want)
		}
	}
}

// An asset's JSON shows its retention and when the lifecycle may remove it
// (null when never).
func TestAssetJSONRetention(t *testing.T) {
	created := time.Date(2026, 1, 10, 15, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		days    int
		expires any
	}{
		{30, "2026-02-10T00:00:00Z"},
		{0, nil},
	} {
		b, err := json.Marshal(mediatrail.Asset{ID: "x", CreatedAt: created, RetentionDays: tc.days})
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]any
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		if got["retention_days"] != float64(tc.days) || got["expires_at"] != tc.expires {
			t.Errorf("retention_days %v, expires_at %v; want %d, %v", got["retention_days"], got["expires_at"], tc.days, tc.expires)
		}
	}
}
