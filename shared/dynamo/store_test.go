package dynamo_test

import (
	"context"
	"maps"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/dynamo"
	"github.com/mediatrail/mediatrail/shared/testenv"
)

func TestCreateTable(t *testing.T) {
	t.Parallel()
	ctx := testenv.Context(t)
	client, table := MustTable(t)
	if err := dynamo.CreateTable(ctx, client, table); err != nil {
		t.Fatalf("second CreateTable = %v, want nil", err)
	}
	desc, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	want := dynamo.TableSchema(table)
	if got := keySchema(desc.Table.KeySchema); !reflect.DeepEqual(got, keySchema(want.KeySchema)) {
		t.Errorf("key schema = %v, want %v", got, keySchema(want.KeySchema))
	}
	gotGSIs := map[string][]string{}
	for _, g := range desc.Table.GlobalSecondaryIndexes {
		gotGSIs[aws.ToString(g.IndexName)] = append(keySchema(g.KeySchema), string(g.Projection.ProjectionType))
	}
	wantGSIs := map[string][]string{}
	for _, g := range want.GlobalSecondaryIndexes {
		wantGSIs[aws.ToString(g.IndexName)] = append(keySchema(g.KeySchema), string(g.Projection.ProjectionType))
	}
	if !reflect.DeepEqual(gotGSIs, wantGSIs) {
		t.Errorf("GSIs = %v, want %v", gotGSIs, wantGSIs)
	}
	ttl, err := client.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := aws.ToString(ttl.TimeToLiveDescription.AttributeName), dynamo.TTLAttribute; got != want {
		t.Errorf("ttl attribute = %q, want %q", got, want)
	}
	if got, want := ttl.TimeToLiveDescription.TimeToLiveStatus, types.TimeToLiveStatusEnabled; got != want {
		t.Errorf("ttl status = %q, want %q", got, want)
	}
}

func keySchema(ks []types.KeySchemaElement) []string {
	var out []string
	for _, k := range ks {
		out = append(out, aws.ToString(k.AttributeName)+":"+string(k.KeyType))
	}
	return out
}

func TestCreateFind(t *testing.T) {
	t.Parallel()
	ctx := testenv.Context(t)
	e := newEnv(t)
	full := newAsset("ws-1", base.Add(123456789*time.Nanosecond), func(a *mediatrail.Asset) {
		a.Status = mediatrail.StatusPending
		a.UploadExpiresAt = base.Add(time.Hour)
		a.Metadata = map[string]any{
			"prompt": "a cat", "width": float64(1024), "ratio": 1.5, "safe": true, "none": nil, "empty": "",
			"tags": []any{"a", float64(2)}, "nested": map[string]any{"k": "v"},
		}
	})
	bare := newAsset("ws-1", base.Add(time.Second), func(a *mediatrail.Asset) {
		a.ExecutionID, a.AgentID, a.SpanID, a.Provider, a.Model, a.Type = "", "", "", "", "", ""
		a.Metadata = nil
	})
	emptyMeta := newAsset("ws-1", base.Add(2*time.Second), func(a *mediatrail.Asset) { a.Metadata = map[string]any{} })
	for _, a := range []*mediatrail.Asset{full, bare, emptyMeta} {
		t.Run(a.ID, func(t *testing.T) {
			if err := e.store.CreateAsset(ctx, a); err != nil {
				t.Fatal(err)
			}
			got, err := e.store.FindAsset(ctx, a.WorkspaceID, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			checkAsset(t, got, a)
		})
	}
}

func TestCreateConflict(t *testing.T) {
	t.Parallel()
	ctx := testenv.Context(t)
	e := newEnv(t)
	for _, status := range []mediatrail.AssetStatus{mediatrail.StatusPending, mediatrail.StatusReady} {
		t.Run(string(status), func(t *testing.T) {
			a := newAsset("ws-1", base, func(a *mediatrail.Asset) { a.Status = status })
			MustCreate(t, e.store, a)
			before := counters(t, e, "ws-1")
			again := *a
			again.Status = mediatrail.StatusReady
			again.FileName = "other.png"
			checkCode(t, e.store.CreateAsset(ctx, &again), mediatrail.ECONFLICT)
			if got, want := counters(t, e, "ws-1"), before; !maps.Equal(got, want) {
				t.Errorf("counters = %v, want %v (unchanged)", got, want)
			}
			got, err := e.store.FindAsset(ctx, a.WorkspaceID, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			checkAsset(t, got, a)
		})
	}
}

func TestCreateInvalid(t *testing.T) {
	t.Parallel()
	ctx := testenv.Context(t)
	e := newEnv(t)
	tests := []struct {
		name string
		mod  func(*mediatrail.Asset)
	}{
		{"bad workspace", func(a *mediatrail.Asset) { a.WorkspaceID = "ws#x" }},
		{"empty workspace", func(a *mediatrail.Asset) { a.WorkspaceID = "" }},
		{"id not a KSUID", func(a *mediatrail.Asset) { a.ID = "not-a-ksuid" }},
		{"status deleted", func(a *mediatrail.Asset) { a.Status = mediatrail.StatusDeleted }},
		{"status empty", func(a *mediatrail.Asset) { a.Status = "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkCode(t, e.store.CreateAsset(ctx, newAsset("ws-1", base, tt.mod)), mediatrail.EINVALID)
		})
	}
	checkCode(t, e.store.CreateAsset(ctx, nil), mediatrail.EINVALID)
}

func TestFindNotFound(t *testing.T) {
	t.Parallel()
	ctx := testenv.Context(t)
	e := newEnv(t)
	a := newAsset("ws-1", base)
	MustCreate(t, e.store, a)
	tests := []struct{ name, ws, id string }{
		{"unknown id", "ws-1", mediatrail.NewIDAt(base)},
		{"not a KSUID", "ws-1", "nope"},
		{"other workspace", "ws-2", a.ID},
		{"invalid workspace", "ws#1", a.ID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.store.FindAsset(ctx, tt.ws, tt.id)
			checkCode(t, err, mediatrail.ENOTFOUND)
		})
	}
}

func TestMarkAssetReady(t *testing.T) {
	t.Parallel()
	ctx := testenv.Context(t)
	e := newEnv(t)
	at := base.Add(time.Hour)
	sha := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	pending := func(a *mediatrail.Asset) { a.Status = mediatrail.StatusPending; a.FileSize = 0 }
	tests := []struct {
		name  string
		setup func(t *testing.T, a *mediatrail.Asset)
		ws    string
		want  string
	}{
		{"pending", func(t *testing.T, a *mediatrail.Asset) { pending(a); MustCreate(t, e.store, a) }, "", ""},
		{"ready", func(t *testing.T, a *mediatrail.Asset) { MustCreate(t, e.store, a) }, "", mediatrail.ECONFLICT},
		{"deleted", func(t *testing.T, a *mediatrail.Asset) {
			pending(a)
			MustCreate(t, e.store, a)
			if _, err := e.store.MarkAssetDeleted(ctx, a.WorkspaceID, a.ID, at); err != nil {
				t.Fatal(err)
			}
			a.Status, a.UpdatedAt = mediatrail.StatusDeleted, at
		}, "", mediatrail.ENOTFOUND},
		{"absent", func(t *testing.T, a *mediatrail.Asset) { a.Status = "" }, "", mediatrail.ENOTFOUND},
		{"other workspace", func(t *testing.T, a *mediatrail.Asset) { pending(a); MustCreate(t, e.store, a) }, "ws-2", mediatrail.ENOTFOUND},
	}
	var all []*mediatrail.Asset
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAsset("ws-1", base.Add(time.Duration(i)*time.Second), func(a *mediatrail.Asset) { a.ExecutionID = tt.name })
			tt.setup(t, a)
			all = append(all, a)
			ws := a.WorkspaceID
			if tt.ws != "" {
				ws = tt.ws
			}
			got, err := e.store.MarkAssetReady(ctx, ws, a.ID, 4321, sha, at, nil)
			checkCode(t, err, tt.want)
			if err == nil {
				a.Status, a.FileSize, a.SHA256, a.UpdatedAt = mediatrail.StatusReady, 4321, sha, at
				checkAsset(t, got, a)
			}
			if a.Status != "" {
				found, err := e.store.FindAsset(ctx, a.WorkspaceID, a.ID)
				if err != nil {
					t.Fatal(err)
				}
				checkAsset(t, found, a)
			}
			if got, want := counters(t, e, "ws-1"), wantCounters(all); !maps.Equal(got, want) {
				t.Errorf("counters = %v, want %v", got, want)
			}
		})
	}
	_, err := e.store.MarkAssetReady(ctx, "ws-1", "not-a-ksuid", 1, sha, at, nil)
	checkCode(t, err, mediatrail.ENOTFOUND)
}

func TestMarkAssetReadyRace(t *testing.T) {
	t.Parallel()
	ctx := testenv.Context(t)
	e := newEnv(t)
	a := newAsset("ws-1", base, func(a *mediatrail.Asset) { a.Status = mediatrail.StatusPending })
	MustCreate(t, e.store, a)
	const n = 8
	codes := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, err := e.store.MarkAssetReady(ctx, "ws-1", a.ID, 1, a.SHA256, base, nil)
			codes[i] = mediatrail.ErrorCode(err)
		})
	}
	wg.Wait()
	got := map[string]int{}
	for _, c := range codes {
		got[c]++
	}
	if want := map[string]int{"": 1, mediatrail.ECONFLICT: n - 1}; !maps.Equal(got, want) {
		t.Errorf("outcomes = %v, want %v", got, want)
	}
	a.Status = mediatrail.StatusReady
	if got, want := counters(t, e, "ws-1"), wantCounters([]*mediatrail.Asset{a}); !maps.Equal(got, want) {
		t.Errorf("counters = %v, want %v", got, want)
	}
}

func TestMarkAssetDeleted(t *testing.T) {
	t.Parallel()
	ctx := testenv.Context(t)
	e := newEnv(t)
	at := base.Add(time.Hour)
	tests := []struct {
		name   string
		status mediatrail.AssetStatus // "" = absent
		want   string
	}{
		{"pending", mediatrail.StatusPending, ""},
		{"ready", mediatrail.StatusReady, ""},
		{"deleted", mediatrail.StatusDeleted, mediatrail.ENOTFOUND},
		{"absent", "", mediatrail.ENOTFOUND},
	}
	var all []*mediatrail.Asset
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAsset("ws-1", base.Add(time.Duration(i)*time.Second), func(a *mediatrail.Asset) {
				a.Status = tt.status
				a.Provider = tt.name
			})
			switch tt.status {
			case "":
			case mediatrail.StatusDeleted:
				a.Status = mediatrail.StatusReady
				MustCreate(t, e.store, a)
				if _, err := e.store.MarkAssetDeleted(ctx, "ws-1", a.ID, at); err != nil {
					t.Fatal(err)
				}
				a.Status, a.UpdatedAt = mediatrail.StatusDeleted, at
			default:
				MustCreate(t, e.store, a)
			}
			all = append(all, a)
			if tt.status != "" && tt.status != mediatrail.StatusDeleted {
				_, err := e.store.MarkAssetDeleted(ctx, "ws-2", a.ID, at)
				checkCode(t, err, mediatrail.ENOTFOUND)
			}
			got, err := e.store.MarkAssetDeleted(ctx, "ws-1", a.ID, at)
			checkCode(t, err, tt.want)
			if err == nil {
				checkAsset(t, got, a)
				a.Status, a.UpdatedAt = mediatrail.StatusDeleted, at
			}
			if tt.status != "" {
				found, err := e.store.FindAsset(ctx, "ws-1", a.ID)
				if err != nil {
					t.Fatal(err)
				}
				checkAsset(t, found, a)
			}
			if got, want := counters(t, e, "ws-1"), wantCounters(all); !maps.Equal(got, want) {
				t.Errorf("counters = %v, want %v", got, want)
			}
		})
	}
}

func TestPurgeAsset(t *testing.T) {
	t.Parallel()
	ctx := testenv.Context(t)
	e := newEnv(t)
	tests := []struct {
		name   string
		status mediatrail.AssetStatus // "" = absent
		want   string
		gone   bool
	}{
		{"pending", mediatrail.StatusPending, "", true},
		{"deleted", mediatrail.StatusDeleted, "", true},
		{"ready", mediatrail.StatusReady, mediatrail.ECONFLICT, false},
		{"absent", "", "", true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAsset("ws-1", base.Add(time.Duration(i)*time.Second), func(a *mediatrail.Asset) { a.Status = tt.status })
			switch tt.status {
			case "":
			case mediatrail.StatusDeleted:
				a.Status = mediatrail.StatusReady
				MustCreate(t, e.store, a)
				if _, err := e.store.MarkAssetDeleted(ctx, "ws-1", a.ID, base); err != nil {
					t.Fatal(err)
				}
			default:
				MustCreate(t, e.store, a)
			}
			if tt.status == mediatrail.StatusReady {
				checkCode(t, e.store.PurgeAsset(ctx, "ws-2", a.ID), "")
			}
			checkCode(t, e.store.PurgeAsset(ctx, "ws-1", a.ID), tt.want)
			_, err := e.store.FindAsset(ctx, "ws-1", a.ID)
			if got := mediatrail.IsNotFound(err); got != tt.gone {
				t.Errorf("gone = %v (%v), want %v", got, err, tt.gone)
			}
			if tt.gone {
				checkCode(t, e.store.PurgeAsset(ctx, "ws-1", a.ID), "")
			}
		})
	}
	checkCode(t, e.store.PurgeAsset(ctx, "ws-1", "not-a-ksuid"), "")
}

func TestCounters(t *testing.T) {
	t.Parallel()
	ctx := testenv.Context(t)
	e := newEnv(t)
	at := base.Add(time.Hour)
	var all []*mediatrail.Asset
	for i := range 12 {
		all = append(all, newAsset("ws-1", base.Add(time.Duration(i)*time.Second), func(a *mediatrail.Asset) {
			a.ExecutionID = []string{"e1", "e2", ""}[i%3]
			a.AgentID = []string{"a1", "a2"}[i%2]
			a.Type = mediatrail.AssetTypes[i%4]
			a.Provider = []string{"openai", "", "elevenlabs"}[i%3]
			if i%3 == 0 {
				a.Status = mediatrail.StatusPending
			}
		}))
	}
	MustCreate(t, e.store, all...)
	check := func(step string) {
		t.Helper()
		if got, want := counters(t, e, "ws-1"), wantCounters(all); !maps.Equal(got, want) {
			t.Errorf("%s: counters = %v, want %v", step, got, want)
		}
	}
	check("created")

	steps := []struct {
		name string
		do   func() error
		want string
	}{
		{"ready pending 0", func() error {
			_, err := e.store.MarkAssetReady(ctx, "ws-1", all[0].ID, 1, all[0].SHA256, at, nil)
			return err
		}, ""},
		{"ready again 0", func() error {
			_, err := e.store.MarkAssetReady(ctx, "ws-1", all[0].ID, 1, all[0].SHA256, at, nil)
			return err
		}, mediatrail.ECONFLICT},
		{"ready ready 1", func() error {
			_, err := e.store.MarkAssetReady(ctx, "ws-1", all[1].ID, 1, all[1].SHA256, at, nil)
			return err
		}, mediatrail.ECONFLICT},
		{"delete ready 1", func() error { _, err := e.store.MarkAssetDeleted(ctx, "ws-1", all[1].ID, at); return err }, ""},
		{"delete again 1", func() error { _, err := e.store.MarkAssetDeleted(ctx, "ws-1", all[1].ID, at); return err }, mediatrail.ENOTFOUND},
		{"ready deleted 1", func() error {
			_, err := e.store.MarkAssetReady(ctx, "ws-1", all[1].ID, 1, all[1].SHA256, at, nil)
			return err
		}, mediatrail.ENOTFOUND},
		{"delete pending 3", func() error { _, err := e.store.MarkAssetDeleted(ctx, "ws-1", all[3].ID, at); return err }, ""},
		{"purge ready 2", func() error { return e.store.PurgeAsset(ctx, "ws-1", all[2].ID) }, mediatrail.ECONFLICT},
		{"create again 2", func() error { return e.store.CreateAsset(ctx, all[2]) }, mediatrail.ECONFLICT},
		{"delete ready 5", func() error { _, err := e.store.MarkAssetDeleted(ctx, "ws-1", all[5].ID, at); return err }, ""},
	}
	effects := map[string]func(){
		"ready pending 0":  func() { all[0].Status = mediatrail.StatusReady },
		"delete ready 1":   func() { all[1].Status = mediatrail.StatusDeleted },
		"delete pending 3": func() { all[3].Status = mediatrail.StatusDeleted },
		"delete ready 5":   func() { all[5].Status = mediatrail.StatusDeleted },
	}
	for _, s := range steps {
		checkCode(t, s.do(), s.want)
		if f := effects[s.name]; f != nil {
			f()
		}
		check(s.name)
	}
}

func TestConcurrentCreateCounts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var all []*mediatrail.Asset
	for i := range 40 {
		all = append(all, newAsset("ws-1", base.Add(time.Duration(i)*time.Second)))
	}
	MustCreate(t, e.store, all...)
	if got, want := counters(t, e, "ws-1"), wantCounters(all); !maps.Equal(got, want) {
		t.Errorf("counters = %v, want %v", got, want)
	}
}

func TestKeys(t *testing.T) {
	t.Parallel()
	ctx := testenv.Context(t)
	e := newEnv(t)
	key1, key2 := mediatrail.NewAPIKey(), mediatrail.NewAPIKey()
	for _, p := range []struct{ key, ws string }{{key1, "ws-1"}, {key2, "ws-2"}, {key2, "ws-3"}} {
		if err := e.store.PutAPIKey(ctx, mediatrail.HashAPIKey(p.key), p.ws); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name, key, want, code string
	}{
		{"known", key1, "ws-1", ""},
		{"rebound", key2, "ws-3", ""},
		{"unknown", mediatrail.NewAPIKey(), "", mediatrail.EUNAUTHENTICATED},
		{"missing", "", "", mediatrail.EUNAUTHENTICATED},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := mediatrail.Authenticate(ctx, e.store, tt.key)
			checkCode(t, err, tt.code)
			if got != tt.want {
				t.Errorf("workspace = %q, want %q", got, tt.want)
			}
		})
	}
	_, err := e.store.WorkspaceForKeyHash(ctx, "not-a-hash")
	checkCode(t, err, mediatrail.EUNAUTHENTICATED)
	checkCode(t, e.store.PutAPIKey(ctx, "not-a-hash", "ws-1"), mediatrail.EINVALID)
	checkCode(t, e.store.PutAPIKey(ctx, mediatrail.HashAPIKey(key1), "ws#1"), mediatrail.EINVALID)
}

// conflicting cancels the first `conflicts` transactions as if another
// transaction held one of their items.
type conflicting struct {
	dynamo.API
	mu        sync.Mutex
	conflicts int
	calls     int
}

func (c *conflicting) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	c.mu.Lock()
	c.calls++
	fail := c.calls <= c.conflicts
	c.mu.Unlock()
	if fail {
		reasons := make([]types.CancellationReason, len(in.TransactItems))
		for i := range reasons {
			reasons[i].Code = aws.String("None")
		}
		reasons[len(reasons)-1].Code = aws.String("TransactionConflict")
		return nil, &types.TransactionCanceledException{Message: aws.String("conflict"), CancellationReasons: reasons}
	}
	return c.API.TransactWriteItems(ctx, in, optFns...)
}

func TestTransactionConflictRetry(t *testing.T) {
	t.Parallel()
	ctx := testenv.Context(t)
	client, table := MustTable(t)
	e := &env{client: client, table: table}
	tests := []struct {
		name      string
		conflicts int
		want      string
	}{
		{"retried", 3, ""},
		{"gives up", 100, mediatrail.EINTERNAL},
	}
	var created []*mediatrail.Asset
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := &conflicting{API: client, conflicts: tt.conflicts}
			a := newAsset("ws-1", base.Add(time.Duration(i)*time.Second))
			checkCode(t, dynamo.New(api, table).CreateAsset(ctx, a), tt.want)
			if tt.want == "" {
				created = append(created, a)
			}
			if got, want := counters(t, e, "ws-1"), wantCounters(created); !maps.Equal(got, want) {
				t.Errorf("counters = %v, want %v", got, want)
			}
		})
	}
}
