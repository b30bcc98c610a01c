package dynamo_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/testenv"
)

// fixture is a workspace of assets spread over every dimension and status, one
// second apart, with created_at a quarter second into the id's second.
func fixture(ws string, n int) []*mediatrail.Asset {
	var all []*mediatrail.Asset
	for i := range n {
		at := base.Add(time.Duration(i)*time.Second + 250*time.Millisecond)
		all = append(all, newAsset(ws, at, func(a *mediatrail.Asset) {
			a.ExecutionID = []string{"exec-a", "exec-b", ""}[i%3]
			a.AgentID = []string{"agent-x", "agent-y", "agent-z", ""}[i%4]
			a.Type = mediatrail.AssetTypes[i%5]
			a.Provider = []string{"openai", "elevenlabs", "replicate"}[(i/2)%3]
			switch {
			case i%7 == 3:
				a.Status = mediatrail.StatusPending
			case i%11 == 5:
				a.Status = mediatrail.StatusDeleted
			}
		}))
	}
	return all
}

// createFixture stores assets through the store; deleted ones are created ready
// and then marked deleted, so counters go through every transition.
func createFixture(tb testing.TB, e *env, all []*mediatrail.Asset) {
	tb.Helper()
	var deleted []*mediatrail.Asset
	for _, a := range all {
		if a.Status == mediatrail.StatusDeleted {
			a.Status = mediatrail.StatusReady
			deleted = append(deleted, a)
		}
	}
	MustCreate(tb, e.store, all...)
	for _, a := range deleted {
		if _, err := e.store.MarkAssetDeleted(context.Background(), a.WorkspaceID, a.ID, a.CreatedAt); err != nil {
			tb.Fatal(err)
		}
		a.Status = mediatrail.StatusDeleted
	}
	e.rec.take()
}

// matches is the reference semantics of AssetFilter.
func matches(a *mediatrail.Asset, f mediatrail.AssetFilter) bool {
	status := f.Status
	if status == "" {
		status = mediatrail.StatusReady
	}
	return a.Status == status &&
		(f.ExecutionID == "" || a.ExecutionID == f.ExecutionID) &&
		(f.AgentID == "" || a.AgentID == f.AgentID) &&
		(f.Type == "" || a.Type == f.Type) &&
		(f.Provider == "" || a.Provider == f.Provider) &&
		(f.CreatedAfter.IsZero() || a.CreatedAt.After(f.CreatedAfter)) &&
		(f.CreatedBefore.IsZero() || a.CreatedAt.Before(f.CreatedBefore))
}

func want(all []*mediatrail.Asset, f mediatrail.AssetFilter) []string {
	var keep []*mediatrail.Asset
	for _, a := range all {
		if matches(a, f) {
			keep = append(keep, a)
		}
	}
	return newestFirst(keep)
}

// dateRanges are the date filters combined with every equality filter; t(i) is
// asset i's created_at.
func dateRanges(t func(i int) time.Time) map[string][2]time.Time {
	return map[string][2]time.Time{
		"":                          {},
		"after":                     {t(10), time.Time{}},
		"before":                    {time.Time{}, t(30)},
		"between":                   {t(12), t(27)},
		"within a second":           {t(12).Add(-time.Millisecond), t(12).Add(time.Millisecond)},
		"before created_at":         {t(12).Add(-200 * time.Millisecond), t(14).Add(-200 * time.Millisecond)},
		"after created_at":          {t(12).Add(time.Millisecond), t(14).Add(time.Millisecond)},
		"empty range":               {t(20), t(20)},
		"inverted":                  {t(25), t(5)},
		"before the KSUID epoch":    {time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)},
		"from before the epoch":     {time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), t(3)},
		"after the KSUID end":       {time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC), time.Time{}},
		"until after the KSUID end": {t(35), time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
}

func TestListFilters(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	all := fixture("ws-1", 42)
	createFixture(t, e, all)
	at := func(i int) time.Time { return all[i].CreatedAt }

	type eq struct{ exec, agent, typ, prov string }
	values := []eq{{"exec-a", "agent-y", "video", "replicate"}, {"exec-b", "agent-x", "image", "openai"}, {"exec-none", "agent-z", "text", "elevenlabs"}}
	var filters []mediatrail.AssetFilter
	for mask := range 16 {
		for vi, v := range values {
			if mask == 0 && vi > 0 {
				break
			}
			f := mediatrail.AssetFilter{Limit: 100}
			if mask&1 != 0 {
				f.ExecutionID = v.exec
			}
			if mask&2 != 0 {
				f.AgentID = v.agent
			}
			if mask&4 != 0 {
				f.Type = mediatrail.AssetType(v.typ)
			}
			if mask&8 != 0 {
				f.Provider = v.prov
			}
			filters = append(filters, f)
		}
	}
	type tc struct {
		name string
		f    mediatrail.AssetFilter
	}
	var tests []tc
	for _, f := range filters {
		for rname, r := range dateRanges(at) {
			for _, status := range []mediatrail.AssetStatus{"", mediatrail.StatusPending, mediatrail.StatusDeleted} {
				if status != "" && rname != "" && rname != "between" {
					continue
				}
				g := f
				g.CreatedAfter, g.CreatedBefore, g.Status = r[0], r[1], status
				tests = append(tests, tc{fmt.Sprintf("%s/%s/%s/%s/%s/%s", g.ExecutionID, g.AgentID, g.Type, g.Provider, rname, status), g})
			}
		}
	}
	slices.SortFunc(tests, func(a, b tc) int { return strings.Compare(a.name, b.name) })

	nonEmpty := 0
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := MustList(t, e.store, "ws-1", tt.f)
			got, want := ids(p.Assets), want(all, tt.f)
			if !slices.Equal(got, want) {
				t.Errorf("ids =\n%v, want\n%v", got, want)
			}
			if len(want) > 0 {
				nonEmpty++
			}
			if p.Total != len(want) {
				t.Errorf("total = %d, want %d", p.Total, len(want))
			}
			if p.NextCursor != "" || p.Page != 1 || p.Limit != 100 {
				t.Errorf("next %q page %d limit %d, want \"\" 1 100", p.NextCursor, p.Page, p.Limit)
			}
			checkPlan(t, e.rec.take(), all, tt.f)
		})
	}
	if nonEmpty < len(tests)/4 {
		t.Errorf("only %d of %d cases match anything: the fixture is too sparse", nonEmpty, len(tests))
	}
}

// checkPlan checks the queries of one listing: always a key condition bounded
// inside ASSET#, the index of the smallest counter, and a COUNT query exactly when
// no counter holds the total.
func checkPlan(t *testing.T, queries []*dynamodb.QueryInput, all []*mediatrail.Asset, f mediatrail.AssetFilter) {
	t.Helper()
	type dim struct{ index, tag, value string }
	var dims []dim
	for _, d := range []dim{{"GSI1", "EXEC", f.ExecutionID}, {"GSI2", "AGENT", f.AgentID}, {"GSI3", "TYPE", string(f.Type)}, {"GSI4", "PROV", f.Provider}} {
		if d.value != "" {
			dims = append(dims, d)
		}
	}
	empty := !f.CreatedAfter.IsZero() && !f.CreatedBefore.IsZero() && !f.CreatedAfter.Before(f.CreatedBefore)
	if empty {
		if len(queries) != 0 {
			t.Errorf("%d queries for an empty range, want 0", len(queries))
		}
		return
	}
	wantIndex := ""
	if len(dims) > 0 {
		ready := wantCounters(all)
		best := dims[0]
		for _, d := range dims[1:] {
			if ready["COUNT#"+d.tag+"#"+d.value] < ready["COUNT#"+best.tag+"#"+best.value] {
				best = d
			}
		}
		wantIndex = best.index
	}
	counted := false
	for _, q := range queries {
		if got := aws.ToString(q.IndexName); got != wantIndex {
			t.Errorf("index = %q, want %q", got, wantIndex)
		}
		if kc := aws.ToString(q.KeyConditionExpression); !strings.HasSuffix(kc, "BETWEEN :lo AND :hi") {
			t.Errorf("key condition %q does not bound the sort key", kc)
		}
		for _, k := range []string{":lo", ":hi"} {
			if v := q.ExpressionAttributeValues[k].(*types.AttributeValueMemberS).Value; !strings.HasPrefix(v, "ASSET#") {
				t.Errorf("%s = %q, want an ASSET# key", k, v)
			}
		}
		counted = counted || q.Select == types.SelectCount
	}
	countable := len(dims) <= 1 && f.CreatedAfter.IsZero() && f.CreatedBefore.IsZero() && (f.Status == "" || f.Status == mediatrail.StatusReady)
	if counted == countable {
		t.Errorf("COUNT query = %v, want %v", counted, !countable)
	}
}

func TestListPaging(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	all := fixture("ws-1", 90)
	createFixture(t, e, all)
	filters := map[string]mediatrail.AssetFilter{
		"all":                {},
		"provider":           {Provider: "openai"},
		"agent and type":     {AgentID: "agent-x", Type: mediatrail.AssetImage},
		"exec and range":     {ExecutionID: "exec-b", CreatedAfter: all[10].CreatedAt, CreatedBefore: all[80].CreatedAt},
		"pending":            {Status: mediatrail.StatusPending},
		"range, no equality": {CreatedAfter: all[20].CreatedAt},
	}
	for fname, f := range filters {
		wantIDs := want(all, f)
		for _, limit := range []int{1, 3, 7, 20, 100} {
			t.Run(fmt.Sprintf("%s/limit %d", fname, limit), func(t *testing.T) {
				t.Parallel()
				f := f
				f.Limit = limit
				pages := (len(wantIDs) + limit - 1) / limit

				t.Run("cursor", func(t *testing.T) {
					var got []string
					g := f
					for n := 1; ; n++ {
						if n > pages+1 {
							t.Fatalf("more than %d pages", pages)
						}
						p := MustList(t, e.store, "ws-1", g)
						got = append(got, ids(p.Assets)...)
						if p.Page != n || p.Limit != limit || p.Total != len(wantIDs) || len(p.Assets) > limit {
							t.Errorf("page %d: page %d limit %d total %d, %d assets", n, p.Page, p.Limit, p.Total, len(p.Assets))
						}
						if p.NextCursor == "" {
							break
						}
						if len(p.Assets) != limit {
							t.Errorf("page %d has %d assets and a next cursor", n, len(p.Assets))
						}
						g.Cursor = p.NextCursor
					}
					if !slices.Equal(got, wantIDs) {
						t.Errorf("walked\n%v, want\n%v", got, wantIDs)
					}
				})

				t.Run("page", func(t *testing.T) {
					var got []string
					for n := 1; n <= max(pages, 1)+1; n++ {
						g := f
						g.Page = n
						p := MustList(t, e.store, "ws-1", g)
						if p.Page != n || p.Limit != limit || p.Total != len(wantIDs) {
							t.Errorf("page %d: page %d limit %d total %d", n, p.Page, p.Limit, p.Total)
						}
						if hasNext := p.NextCursor != ""; hasNext != (n < pages) {
							t.Errorf("page %d: next cursor %v, want %v", n, hasNext, n < pages)
						}
						if n > pages && len(p.Assets) != 0 {
							t.Errorf("page %d past the end has %d assets", n, len(p.Assets))
						}
						if p.NextCursor != "" {
							c := f
							c.Cursor = p.NextCursor
							c.Page = 1
							next := MustList(t, e.store, "ws-1", c)
							g.Page = n + 1
							byPage := MustList(t, e.store, "ws-1", g)
							if !slices.Equal(ids(next.Assets), ids(byPage.Assets)) || next.Page != n+1 {
								t.Errorf("cursor after page %d gives page %d %v, page %d gives %v", n, next.Page, ids(next.Assets), n+1, ids(byPage.Assets))
							}
						}
						got = append(got, ids(p.Assets)...)
					}
					if !slices.Equal(got, wantIDs) {
						t.Errorf("paged\n%v, want\n%v", got, wantIDs)
					}
				})
			})
		}
	}
}

func TestListLimitChangesBetweenPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	all := fixture("ws-1", 30)
	createFixture(t, e, all)
	wantIDs := want(all, mediatrail.AssetFilter{})
	var got []string
	f := mediatrail.AssetFilter{}
	for i := 0; ; i++ {
		f.Limit = []int{2, 5, 1, 7}[i%4]
		p := MustList(t, e.store, "ws-1", f)
		got = append(got, ids(p.Assets)...)
		if p.NextCursor == "" {
			break
		}
		f.Cursor = p.NextCursor
	}
	if !slices.Equal(got, wantIDs) {
		t.Errorf("walked\n%v, want\n%v", got, wantIDs)
	}
}

func TestListDefaultsAndValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	all := fixture("ws-1", 40)
	createFixture(t, e, all)
	ctx := testenv.Context(t)

	p := MustList(t, e.store, "ws-1", mediatrail.AssetFilter{})
	if got, want := len(p.Assets), mediatrail.DefaultLimit; got != want || p.Limit != want || p.Page != 1 {
		t.Errorf("default listing: %d assets, limit %d, page %d; want %d, %d, 1", got, p.Limit, p.Page, want, want)
	}
	for _, a := range p.Assets {
		if a.Status != mediatrail.StatusReady {
			t.Errorf("default listing returned a %s asset", a.Status)
		}
	}

	tests := []struct {
		name string
		ws   string
		f    mediatrail.AssetFilter
	}{
		{"limit -1", "ws-1", mediatrail.AssetFilter{Limit: -1}},
		{"limit 101", "ws-1", mediatrail.AssetFilter{Limit: mediatrail.MaxLimit + 1}},
		{"page -1", "ws-1", mediatrail.AssetFilter{Page: -1}},
		{"unknown status", "ws-1", mediatrail.AssetFilter{Status: "gone"}},
		{"invalid workspace", "ws#1", mediatrail.AssetFilter{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.store.ListAssets(ctx, tt.ws, tt.f)
			checkCode(t, err, mediatrail.EINVALID)
		})
	}

	p = MustList(t, e.store, "ws-1", mediatrail.AssetFilter{Limit: 100, Page: 1 << 40})
	if len(p.Assets) != 0 || p.NextCursor != "" {
		t.Errorf("huge page: %d assets, next %q; want none", len(p.Assets), p.NextCursor)
	}
}

func TestListCursorErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	all := append(fixture("ws-1", 20), fixture("ws-2", 20)...)
	createFixture(t, e, all)
	ctx := testenv.Context(t)

	first := MustList(t, e.store, "ws-1", mediatrail.AssetFilter{Limit: 3})
	valid := first.NextCursor
	lastID := first.Assets[2].ID
	raw, err := base64.RawURLEncoding.DecodeString(valid)
	if err != nil || !bytes.Contains(raw, []byte(lastID)) {
		t.Fatalf("cursor %q does not hold the last id: %v", valid, err)
	}
	forge := func(id string) string {
		return base64.RawURLEncoding.EncodeToString(bytes.Replace(raw, []byte(lastID), []byte(id), 1))
	}
	imageCursor := MustList(t, e.store, "ws-1", mediatrail.AssetFilter{Limit: 1, Type: mediatrail.AssetImage}).NextCursor
	otherWS := MustList(t, e.store, "ws-2", mediatrail.AssetFilter{Limit: 3}).NextCursor

	tests := []struct {
		name   string
		cursor string
		f      mediatrail.AssetFilter
	}{
		{"not base64", "!!!!", mediatrail.AssetFilter{}},
		{"padded", valid + "=", mediatrail.AssetFilter{}},
		{"short", "AQ", mediatrail.AssetFilter{}},
		{"truncated", valid[:len(valid)-3], mediatrail.AssetFilter{}},
		{"extended", valid + "AA", mediatrail.AssetFilter{}},
		{"zeros", base64.RawURLEncoding.EncodeToString(make([]byte, len(raw))), mediatrail.AssetFilter{}},
		{"not a KSUID", forge(strings.Repeat("z", 27)), mediatrail.AssetFilter{}},
		{"not base62", forge(strings.Repeat("-", 27)), mediatrail.AssetFilter{}},
		{"other filter", valid, mediatrail.AssetFilter{Type: mediatrail.AssetImage}},
		{"other status", valid, mediatrail.AssetFilter{Status: mediatrail.StatusPending}},
		{"other range", valid, mediatrail.AssetFilter{CreatedAfter: base}},
		{"filter dropped", imageCursor, mediatrail.AssetFilter{}},
		{"other workspace", otherWS, mediatrail.AssetFilter{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.f
			f.Cursor = tt.cursor
			_, err := e.store.ListAssets(ctx, "ws-1", f)
			checkCode(t, err, mediatrail.EINVALID)
			var appErr *mediatrail.Error
			if err != nil && (!errors.As(err, &appErr) || appErr.Message != "invalid cursor") {
				t.Errorf("error = %v, want message \"invalid cursor\"", err)
			}
		})
	}

	// A cursor whose position was moved, even to an id of the caller's own
	// listing, fails its MAC.
	ws1 := want(all[:20], mediatrail.AssetFilter{})
	_, err = e.store.ListAssets(ctx, "ws-1", mediatrail.AssetFilter{Limit: 100, Cursor: forge(ws1[len(ws1)-3])})
	checkCode(t, err, mediatrail.EINVALID)
}

func TestCursorSurvivesChanges(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	all := fixture("ws-1", 30)
	createFixture(t, e, all)
	ctx := testenv.Context(t)
	wantIDs := want(all, mediatrail.AssetFilter{})

	p := MustList(t, e.store, "ws-1", mediatrail.AssetFilter{Limit: 5})
	last := p.Assets[4]
	if _, err := e.store.MarkAssetDeleted(ctx, "ws-1", last.ID, base); err != nil {
		t.Fatal(err)
	}
	if err := e.store.PurgeAsset(ctx, "ws-1", last.ID); err != nil {
		t.Fatal(err)
	}
	newer := newAsset("ws-1", base.Add(time.Hour))
	MustCreate(t, e.store, newer)
	next := MustList(t, e.store, "ws-1", mediatrail.AssetFilter{Limit: 5, Cursor: p.NextCursor})
	if got, want := ids(next.Assets), wantIDs[5:10]; !slices.Equal(got, want) {
		t.Errorf("after purging the cursor's asset: %v, want %v", got, want)
	}
}

func TestListIgnoresOtherItems(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	all := fixture("ws-1", 10)
	createFixture(t, e, all)
	ctx := testenv.Context(t)
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	spanID := mediatrail.NewIDAt(base.Add(time.Hour))
	_, err := e.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(e.table),
		Item: map[string]types.AttributeValue{
			"PK": s("WS#ws-1"), "SK": s("SPAN#" + spanID),
			"GSI1PK": s("WS#ws-1#EXEC#exec-a"), "GSI1SK": s("SPAN#" + spanID),
			"status": s("ready"), "execution_id": s("exec-a"), "created_at": s("2024-03-01T13:00:00.000000000Z"),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []mediatrail.AssetFilter{{}, {ExecutionID: "exec-a"}, {ExecutionID: "exec-a", CreatedAfter: base}} {
		p := MustList(t, e.store, "ws-1", f)
		if got, want := ids(p.Assets), want(all, f); !slices.Equal(got, want) {
			t.Errorf("%+v: %v, want %v", f, got, want)
		}
	}
}

func TestWorkspaceIsolation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := fixture("ws-a", 25)
	b := fixture("ws-b", 12)
	createFixture(t, e, append(append([]*mediatrail.Asset{}, a...), b...))
	ctx := testenv.Context(t)

	for _, f := range []mediatrail.AssetFilter{{}, {Type: mediatrail.AssetImage}, {ExecutionID: "exec-a", Provider: "openai"}, {CreatedAfter: base}, {Status: mediatrail.StatusPending}} {
		f.Limit = 100
		for ws, assets := range map[string][]*mediatrail.Asset{"ws-a": a, "ws-b": b} {
			p := MustList(t, e.store, ws, f)
			if got, want := ids(p.Assets), want(assets, f); !slices.Equal(got, want) || p.Total != len(want) {
				t.Errorf("%s %+v: %v (total %d), want %v", ws, f, got, p.Total, want)
			}
		}
	}
	if got, want := counters(t, e, "ws-b"), wantCounters(b); !maps.Equal(got, want) {
		t.Errorf("ws-b counters = %v, want %v", got, want)
	}

	var readyA, pendingA *mediatrail.Asset
	for _, x := range a {
		switch x.Status {
		case mediatrail.StatusReady:
			readyA = x
		case mediatrail.StatusPending:
			pendingA = x
		}
	}
	_, err := e.store.FindAsset(ctx, "ws-b", readyA.ID)
	checkCode(t, err, mediatrail.ENOTFOUND)
	_, err = e.store.MarkAssetReady(ctx, "ws-b", pendingA.ID, 1, pendingA.SHA256, base, nil)
	checkCode(t, err, mediatrail.ENOTFOUND)
	_, err = e.store.MarkAssetDeleted(ctx, "ws-b", readyA.ID, base)
	checkCode(t, err, mediatrail.ENOTFOUND)
	checkCode(t, e.store.PurgeAsset(ctx, "ws-b", pendingA.ID), "")
	for _, x := range []*mediatrail.Asset{readyA, pendingA} {
		got, err := e.store.FindAsset(ctx, "ws-a", x.ID)
		if err != nil {
			t.Fatal(err)
		}
		checkAsset(t, got, x)
	}
	if got, want := counters(t, e, "ws-a"), wantCounters(a); !maps.Equal(got, want) {
		t.Errorf("ws-a counters = %v, want %v", got, want)
	}

	cursorA := MustList(t, e.store, "ws-a", mediatrail.AssetFilter{Limit: 2}).NextCursor
	_, err = e.store.ListAssets(ctx, "ws-b", mediatrail.AssetFilter{Limit: 2, Cursor: cursorA})
	checkCode(t, err, mediatrail.EINVALID)
}

// TestListAdjacentIDs walks ids that are immediate base62 neighbours (with
// borrows across digits 0/z, a/Z, A/9), so resuming just below the last id can
// neither skip nor repeat one.
func TestListAdjacentIDs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	prefix := mediatrail.NewIDAt(base)[:25]
	var all []*mediatrail.Asset
	for _, tail := range []string{"00", "09", "0A", "0Z", "0a", "0z", "10"} {
		id := prefix + tail
		if !mediatrail.ValidID(id) {
			t.Fatalf("%s is not a KSUID", id)
		}
		all = append(all, newAsset("ws-1", base, func(a *mediatrail.Asset) { a.ID = id }))
	}
	MustCreate(t, e.store, all...)
	wantIDs := newestFirst(all)
	for _, f := range []mediatrail.AssetFilter{{Limit: 1}, {Limit: 2}, {Limit: 1, Provider: "openai", Type: mediatrail.AssetImage}} {
		var got []string
		for {
			p := MustList(t, e.store, "ws-1", f)
			got = append(got, ids(p.Assets)...)
			if p.NextCursor == "" {
				break
			}
			f.Cursor = p.NextCursor
		}
		if !slices.Equal(got, wantIDs) {
			t.Errorf("limit %d: walked %v, want %v", f.Limit, got, wantIDs)
		}
	}
}

// Assets created within one second list newest first exactly in creation
// order (ids carry the nanosecond, and one instant's ids their minting order),
// from the table and from each index, through cursor and page paging, and
// created_after / created_before cut inside the second.
func TestListOrderWithinOneSecond(t *testing.T) {
	e := newEnv(t)
	ws := "ws-order"
	var created []*mediatrail.Asset // in creation order
	for i, d := range []time.Duration{
		-time.Millisecond, 0, time.Millisecond, time.Millisecond, time.Millisecond, 2 * time.Millisecond, 250 * time.Millisecond,
		250 * time.Millisecond, 499 * time.Millisecond, 500 * time.Millisecond, 998 * time.Millisecond, 999 * time.Millisecond, 999 * time.Millisecond,
	} {
		created = append(created, newAsset(ws, base.Add(d), func(a *mediatrail.Asset) {
			a.Type = []mediatrail.AssetType{mediatrail.AssetImage, mediatrail.AssetAudio}[i%2]
			a.ExecutionID = []string{"exec-a", "exec-b", "exec-c"}[i%3]
		}))
	}
	// Written all at once: the order comes from the keys, not the writes.
	MustCreate(t, e.store, created...)
	newestFirst := func(keep func(*mediatrail.Asset) bool) []string {
		var out []string
		for _, a := range slices.Backward(created) {
			if keep(a) {
				out = append(out, a.ID)
			}
		}
		return out
	}
	for _, tc := range []struct {
		name string
		f    mediatrail.AssetFilter
		keep func(*mediatrail.Asset) bool
	}{
		{"table", mediatrail.AssetFilter{}, func(*mediatrail.Asset) bool { return true }},
		{"type index", mediatrail.AssetFilter{Type: mediatrail.AssetAudio}, func(a *mediatrail.Asset) bool { return a.Type == mediatrail.AssetAudio }},
		{"execution index", mediatrail.AssetFilter{ExecutionID: "exec-b"}, func(a *mediatrail.Asset) bool { return a.ExecutionID == "exec-b" }},
		{"two filters", mediatrail.AssetFilter{ExecutionID: "exec-a", Type: mediatrail.AssetImage}, func(a *mediatrail.Asset) bool {
			return a.ExecutionID == "exec-a" && a.Type == mediatrail.AssetImage
		}},
		{"inside the second", mediatrail.AssetFilter{CreatedAfter: base.Add(time.Millisecond), CreatedBefore: base.Add(999 * time.Millisecond)}, func(a *mediatrail.Asset) bool {
			return a.CreatedAt.After(base.Add(time.Millisecond)) && a.CreatedAt.Before(base.Add(999*time.Millisecond))
		}},
	} {
		want := newestFirst(tc.keep)
		f := tc.f
		f.Limit = 3
		var cursorPages, pagePages []string
		for {
			p := MustList(t, e.store, ws, f)
			cursorPages = append(cursorPages, ids(p.Assets)...)
			if p.NextCursor == "" {
				break
			}
			f.Cursor = p.NextCursor
		}
		for page := 1; page <= (len(want)+2)/3; page++ {
			g := tc.f
			g.Limit, g.Page = 3, page
			pagePages = append(pagePages, ids(MustList(t, e.store, ws, g).Assets)...)
		}
		if !slices.Equal(cursorPages, want) || !slices.Equal(pagePages, want) {
			t.Errorf("%s: cursor pages %v, page pages %v, want %v", tc.name, cursorPages, pagePages, want)
		}
	}
}
