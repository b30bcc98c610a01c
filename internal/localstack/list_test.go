package localstack_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/testenv"
)

// seed stores ready assets directly (the routes under test here are the lists)
// with every combination of type, provider, execution and agent, one second apart.
func seed(t *testing.T, e *env, ws string, n int, start time.Time) []*mediatrail.Asset {
	t.Helper()
	ctx := testenv.Context(t)
	types := []mediatrail.AssetType{mediatrail.AssetImage, mediatrail.AssetAudio, mediatrail.AssetVideo}
	var out []*mediatrail.Asset
	for i := 0; i < n; i++ {
		at := start.Add(time.Duration(i) * time.Second)
		id := mediatrail.NewIDAt(at)
		a := &mediatrail.Asset{
			ID: id, WorkspaceID: ws, ExecutionID: fmt.Sprintf("exec-%d", i%2), AgentID: fmt.Sprintf("agent-%d", i%3),
			Type: types[i%len(types)], Provider: []string{"openai", "fal"}[i%2^(i/5)%2], Model: "m",
			FileName: "f.bin", FileSize: int64(i), ContentType: "application/octet-stream",
			StorageKey: mediatrail.StorageKeyFor(ws, id, "f.bin"), SHA256: fmt.Sprintf("%064x", i),
			Status: mediatrail.StatusReady, CreatedAt: at, UpdatedAt: at,
		}
		if err := e.App.Store.CreateAsset(ctx, a); err != nil {
			t.Fatalf("seed: %v", err)
		}
		out = append(out, a)
	}
	slices.Reverse(out) // newest first, as listed
	return out
}

type listed struct {
	ids   []string
	total int
	pages int
}

// walk follows one paging style to the end, failing on a repeated item.
func walk(t *testing.T, e *env, query url.Values, limit int, byCursor bool) listed {
	t.Helper()
	var l listed
	seen := map[string]bool{}
	cursor := ""
	for page := 1; ; page++ {
		q := url.Values{}
		for k, v := range query {
			q[k] = v
		}
		q.Set("limit", strconv.Itoa(limit))
		if byCursor {
			if cursor != "" {
				q.Set("cursor", cursor)
			}
		} else {
			q.Set("page", strconv.Itoa(page))
		}
		v := e.do(t, "GET", "/api/v1/assets?"+q.Encode(), keyA, nil)
		wantStatus(t, v, http.StatusOK)
		var items []mediatrail.Asset
		v.Into(t, &items)
		if len(items) > limit {
			t.Fatalf("page of %d items with limit %d", len(items), limit)
		}
		l.total, l.pages = v.Meta.Total, v.Meta.Pages
		for _, it := range items {
			if seen[it.ID] {
				t.Fatalf("%s listed twice", it.ID)
			}
			seen[it.ID] = true
			l.ids = append(l.ids, it.ID)
		}
		if byCursor {
			if cursor = v.Meta.NextCursor; cursor == "" {
				return l
			}
		} else if len(items) < limit || page >= v.Meta.Pages {
			return l
		}
		if page > 1000 {
			t.Fatal("paging does not end")
		}
	}
}

func TestListFiltersAndPaging(t *testing.T) {
	t.Parallel()
	e := newAPI(t)
	start := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	all := seed(t, e, wsA, 30, start)
	seed(t, e, wsB, 5, start) // another workspace's assets never show up

	mid := start.Add(10 * time.Second)
	late := start.Add(20 * time.Second)
	filters := []struct {
		name  string
		query url.Values
		keep  func(*mediatrail.Asset) bool
	}{
		{"none", url.Values{}, func(*mediatrail.Asset) bool { return true }},
		{"type", url.Values{"type": {"image"}}, func(a *mediatrail.Asset) bool { return a.Type == "image" }},
		{"media_type", url.Values{"media_type": {"audio"}}, func(a *mediatrail.Asset) bool { return a.Type == "audio" }},
		{"provider", url.Values{"provider": {"fal"}}, func(a *mediatrail.Asset) bool { return a.Provider == "fal" }},
		{"execution", url.Values{"execution_id": {"exec-1"}}, func(a *mediatrail.Asset) bool { return a.ExecutionID == "exec-1" }},
		{"agent", url.Values{"agent_id": {"agent-2"}}, func(a *mediatrail.Asset) bool { return a.AgentID == "agent-2" }},
		{"created_after", url.Values{"created_after": {mid.Format(time.RFC3339)}}, func(a *mediatrail.Asset) bool { return a.CreatedAt.After(mid) }},
		{"created_before", url.Values{"created_before": {mid.Format(time.RFC3339)}}, func(a *mediatrail.Asset) bool { return a.CreatedAt.Before(mid) }},
		{"date range", url.Values{"created_after": {mid.Format(time.RFC3339)}, "created_before": {late.Format(time.RFC3339)}},
			func(a *mediatrail.Asset) bool { return a.CreatedAt.After(mid) && a.CreatedAt.Before(late) }},
		{"type+provider", url.Values{"type": {"video"}, "provider": {"openai"}}, func(a *mediatrail.Asset) bool { return a.Type == "video" && a.Provider == "openai" }},
		{"execution+agent", url.Values{"execution_id": {"exec-0"}, "agent_id": {"agent-0"}}, func(a *mediatrail.Asset) bool { return a.ExecutionID == "exec-0" && a.AgentID == "agent-0" }},
		{"all equality + date", url.Values{"execution_id": {"exec-0"}, "agent_id": {"agent-1"}, "type": {"image"}, "provider": {"openai"}, "created_after": {start.Format(time.RFC3339)}},
			func(a *mediatrail.Asset) bool {
				return a.ExecutionID == "exec-0" && a.AgentID == "agent-1" && a.Type == "image" && a.Provider == "openai" && a.CreatedAt.After(start)
			}},
		{"no match", url.Values{"provider": {"runway"}}, func(*mediatrail.Asset) bool { return false }},
	}
	for _, f := range filters {
		var want []string
		for _, a := range all {
			if f.keep(a) {
				want = append(want, a.ID)
			}
		}
		for _, limit := range []int{1, 4, 7, 100} {
			for _, byCursor := range []bool{true, false} {
				t.Run(fmt.Sprintf("%s/limit=%d/cursor=%v", f.name, limit, byCursor), func(t *testing.T) {
					t.Parallel() // walks only read
					got := walk(t, e, f.query, limit, byCursor)
					if !slices.Equal(got.ids, want) {
						t.Fatalf("walked %d ids %v\nwant %d ids %v", len(got.ids), got.ids, len(want), want)
					}
					if got.total != len(want) {
						t.Fatalf("meta.total = %d, want %d", got.total, len(want))
					}
					if wantPages := (len(want) + limit - 1) / limit; got.pages != wantPages {
						t.Fatalf("meta.pages = %d, want %d", got.pages, wantPages)
					}
				})
			}
		}
	}

	// A cursor is bound to its filter.
	first := e.do(t, "GET", "/api/v1/assets?limit=2&type=image", keyA, nil)
	v := e.do(t, "GET", "/api/v1/assets?limit=2&type=audio&cursor="+url.QueryEscape(first.Meta.NextCursor), keyA, nil)
	wantError(t, v, http.StatusBadRequest, mediatrail.EINVALID)

	// A page past the end is empty, not an error.
	v = e.do(t, "GET", "/api/v1/assets?limit=10&page=99", keyA, nil)
	wantStatus(t, v, http.StatusOK)
	if string(v.Data) != "[]" || v.Meta.Total != len(all) || v.Meta.Page != 99 {
		t.Fatalf("past the end: %s meta %+v", v.Data, v.Meta)
	}
}
