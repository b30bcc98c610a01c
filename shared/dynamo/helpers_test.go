package dynamo_test

import (
	"context"
	"reflect"
	"strconv"
	"strings"
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

// base is a fixed time well inside the KSUID range.
var base = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

// MustTable creates a fresh table, dropped when the test ends.
func MustTable(tb testing.TB) (*dynamodb.Client, string) {
	tb.Helper()
	client := testenv.DynamoDB(tb)
	table := testenv.Table(tb, "mediatrail")
	if err := dynamo.CreateTable(testenv.Context(tb), client, table); err != nil {
		tb.Fatalf("create table: %v", err)
	}
	return client, table
}

// recorder is the client with every Query input kept, to check the plans.
type recorder struct {
	dynamo.API
	mu      sync.Mutex
	queries []*dynamodb.QueryInput
}

func (r *recorder) Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	r.mu.Lock()
	r.queries = append(r.queries, in)
	r.mu.Unlock()
	return r.API.Query(ctx, in, optFns...)
}

// take returns and forgets the queries recorded so far.
func (r *recorder) take() []*dynamodb.QueryInput {
	r.mu.Lock()
	defer r.mu.Unlock()
	q := r.queries
	r.queries = nil
	return q
}

// env is one test's table and store.
type env struct {
	client *dynamodb.Client
	table  string
	rec    *recorder
	store  *dynamo.Store
}

func newEnv(tb testing.TB) *env {
	tb.Helper()
	client, table := MustTable(tb)
	rec := &recorder{API: client}
	return &env{client: client, table: table, rec: rec, store: dynamo.New(rec, table)}
}

// newAsset returns a ready asset of ws created at `at`, with an id of that second.
func newAsset(ws string, at time.Time, mods ...func(*mediatrail.Asset)) *mediatrail.Asset {
	id := mediatrail.NewIDAt(at)
	a := &mediatrail.Asset{
		ID:          id,
		WorkspaceID: ws,
		ExecutionID: "exec-1",
		AgentID:     "agent-1",
		SpanID:      "span-1",
		Type:        mediatrail.AssetImage,
		Provider:    "openai",
		Model:       "gpt-image-1",
		FileName:    "cat.png",
		FileSize:    1234,
		ContentType: "image/png",
		StorageKey:  mediatrail.StorageKeyFor(ws, id, "cat.png"),
		SHA256:      strings.Repeat("ab", 32),
		Metadata:    map[string]any{"prompt": "a cat", "width": float64(1024)},
		Status:      mediatrail.StatusReady,
		CreatedAt:   at,
		UpdatedAt:   at,
	}
	for _, m := range mods {
		m(a)
	}
	return a
}

func MustCreate(tb testing.TB, s *dynamo.Store, assets ...*mediatrail.Asset) {
	tb.Helper()
	var wg sync.WaitGroup
	errs := make([]error, len(assets))
	for i, a := range assets {
		wg.Go(func() { errs[i] = s.CreateAsset(context.Background(), a) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			tb.Fatalf("create asset %d: %v", i, err)
		}
	}
}

func MustList(tb testing.TB, s *dynamo.Store, ws string, f mediatrail.AssetFilter) *mediatrail.AssetPage {
	tb.Helper()
	p, err := s.ListAssets(context.Background(), ws, f)
	if err != nil {
		tb.Fatalf("list %+v: %v", f, err)
	}
	return p
}

func checkCode(tb testing.TB, err error, want string) {
	tb.Helper()
	if got := mediatrail.ErrorCode(err); got != want {
		tb.Fatalf("error code = %q (%v), want %q", got, err, want)
	}
}

func ids(assets []*mediatrail.Asset) []string {
	out := []string{}
	for _, a := range assets {
		out = append(out, a.ID)
	}
	return out
}

// newestFirst returns the ids of assets in listing order.
func newestFirst(assets []*mediatrail.Asset) []string {
	out := ids(assets)
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	for i := 1; i < len(out); i++ {
		if out[i-1] < out[i] {
			panic("newestFirst: assets not in creation order")
		}
	}
	return out
}

func checkAsset(tb testing.TB, got, want *mediatrail.Asset) {
	tb.Helper()
	g, w := *got, *want
	for _, p := range []struct{ g, w *time.Time }{
		{&g.CreatedAt, &w.CreatedAt}, {&g.UpdatedAt, &w.UpdatedAt}, {&g.UploadExpiresAt, &w.UploadExpiresAt},
	} {
		if !p.g.Equal(*p.w) {
			tb.Errorf("time = %v, want %v", *p.g, *p.w)
		}
		*p.g, *p.w = time.Time{}, time.Time{}
	}
	if !reflect.DeepEqual(g, w) {
		tb.Errorf("asset\n got %+v\nwant %+v", g, w)
	}
}

// counters reads every counter item of ws, leaving out zeros.
func counters(tb testing.TB, e *env, ws string) map[string]int {
	tb.Helper()
	out, err := e.client.Query(context.Background(), &dynamodb.QueryInput{
		TableName:              aws.String(e.table),
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :c)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: "WS#" + ws},
			":c":  &types.AttributeValueMemberS{Value: "COUNT#"},
		},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		tb.Fatalf("read counters: %v", err)
	}
	got := map[string]int{}
	for _, item := range out.Items {
		n, _ := strconv.Atoi(item["n"].(*types.AttributeValueMemberN).Value)
		if n != 0 {
			got[item["SK"].(*types.AttributeValueMemberS).Value] = n
		}
	}
	return got
}

// wantCounters is what the counters must hold for these assets: ready ones only.
func wantCounters(assets []*mediatrail.Asset) map[string]int {
	want := map[string]int{}
	for _, a := range assets {
		if a.Status != mediatrail.StatusReady {
			continue
		}
		want["COUNT#ALL"]++
		for tag, v := range map[string]string{"EXEC": a.ExecutionID, "AGENT": a.AgentID, "TYPE": string(a.Type), "PROV": a.Provider} {
			if v != "" {
				want["COUNT#"+tag+"#"+v]++
			}
		}
	}
	return want
}
