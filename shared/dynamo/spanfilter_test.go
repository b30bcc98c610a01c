package dynamo_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/dynamo"
	"github.com/mediatrail/mediatrail/shared/testenv"
)

// Each span filter is served by its own index (README "Table design"); with
// several, the first in the order below picks the index and the others are a
// FilterExpression on that Query. No listing reads the workspace's partition
// of the table when a filter is set, and none scans.
func TestSpanFiltersUseTheirIndex(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	long := strings.Repeat("m", 700) // keyed by its hash
	spans := []*mediatrail.Span{
		{Provider: "runway", Model: "gen4.5", MediaType: mediatrail.CapabilityVideoGen, Status: mediatrail.SpanCompleted, AgentID: "agent-1", SessionID: "sess-1", ExecutionID: "exec-1", TraceID: "trace-1"},
		{Provider: "fal", Model: long, MediaType: mediatrail.CapabilityImageGen, Status: mediatrail.SpanError, AgentID: "agent-2", TraceID: "trace-2"},
		{Provider: "openai", Model: "tts-1", MediaType: mediatrail.CapabilityTTS, Status: mediatrail.SpanCancelled, TraceID: "trace-3"},
	}
	for i, sp := range spans {
		at := base.Add(time.Duration(i) * time.Minute)
		sp.ID, sp.WorkspaceID, sp.Kind, sp.StartedAt, sp.EndedAt = mediatrail.NewIDAt(at), "ws-1", sp.MediaType.SpanKind(), at, at
		if err := e.store.RecordFailure(ctx, sp, nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		name  string
		f     mediatrail.SpanFilter
		index string // "" for the table
		want  []int  // indexes into spans
	}{
		{"none", mediatrail.SpanFilter{}, "", []int{2, 1, 0}},
		{"trace", mediatrail.SpanFilter{TraceID: "trace-2"}, "GSI2", []int{1}},
		{"execution", mediatrail.SpanFilter{ExecutionID: "exec-1"}, "GSI1", []int{0}},
		{"session", mediatrail.SpanFilter{SessionID: "sess-1"}, "GSI6", []int{0}},
		{"agent", mediatrail.SpanFilter{AgentID: "agent-2"}, "GSI5", []int{1}},
		{"model", mediatrail.SpanFilter{Model: "gen4.5"}, "GSI7", []int{0}},
		{"long model", mediatrail.SpanFilter{Model: long}, "GSI7", []int{1}},
		{"media type", mediatrail.SpanFilter{MediaType: mediatrail.CapabilityTTS}, "GSI8", []int{2}},
		{"provider", mediatrail.SpanFilter{Provider: "fal"}, "GSI4", []int{1}},
		{"kind", mediatrail.SpanFilter{Kind: mediatrail.SpanVideo}, "GSI3", []int{0}},
		{"status", mediatrail.SpanFilter{Status: mediatrail.SpanCancelled}, "GSI9", []int{2}},
		{"status and provider: provider's index", mediatrail.SpanFilter{Status: mediatrail.SpanError, Provider: "fal"}, "GSI4", []int{1}},
		{"agent and status: agent's index", mediatrail.SpanFilter{AgentID: "agent-1", Status: mediatrail.SpanError}, "GSI5", nil},
		{"dates only: the table's key range", mediatrail.SpanFilter{From: base.Add(time.Minute), To: base.Add(time.Minute)}, "", []int{1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e.rec.take()
			c.f.Limit = 10
			page, err := e.store.ListSpans(ctx, "ws-1", c.f)
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			for _, sp := range page.Spans {
				for i := range spans {
					if spans[i].ID == sp.ID {
						got = append(got, i)
					}
				}
			}
			if len(got) != len(c.want) || page.Total != len(c.want) {
				t.Errorf("spans %v (total %d), want %v", got, page.Total, c.want)
			}
			for i := range min(len(got), len(c.want)) {
				if got[i] != c.want[i] {
					t.Errorf("spans %v, want %v", got, c.want)
					break
				}
			}
			for _, q := range e.rec.take() {
				if aws.ToString(q.IndexName) != c.index {
					t.Errorf("query on %q, want %q", aws.ToString(q.IndexName), c.index)
				}
			}
		})
	}
}

// A table made before the span indexes (a `make run` .data of an older
// version) gets them from CreateTable, and its spans are found through them.
func TestCreateTableAddsMissingIndexes(t *testing.T) {
	ctx := context.Background()
	client := testenv.DynamoDB(t)
	table := testenv.Table(t, "mediatrail")
	old := dynamo.TableSchema(table)
	old.GlobalSecondaryIndexes = old.GlobalSecondaryIndexes[:4]
	old.AttributeDefinitions = old.AttributeDefinitions[:2+2*4]
	if _, err := client.CreateTable(ctx, old); err != nil {
		t.Fatal(err)
	}
	store := dynamo.New(client, table)
	sp := &mediatrail.Span{ID: mediatrail.NewIDAt(base), WorkspaceID: "ws-1", TraceID: "t", Provider: "luma", Model: "ray-2",
		MediaType: mediatrail.CapabilityVideoGen, Kind: mediatrail.SpanVideo, Status: mediatrail.SpanError, StartedAt: base, EndedAt: base}
	if err := store.RecordFailure(ctx, sp, nil); err != nil {
		t.Fatal(err)
	}
	// As the older version wrote it: no keys of the indexes it did not have.
	_, err := client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(table),
		Key: map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "WS#ws-1"},
			"SK": &types.AttributeValueMemberS{Value: "SPAN#" + sp.ID}},
		UpdateExpression: aws.String("REMOVE GSI4PK, GSI4SK, GSI5PK, GSI5SK, GSI7PK, GSI7SK, GSI8PK, GSI8SK, GSI9PK, GSI9SK"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := dynamo.CreateTable(ctx, client, table); err != nil {
		t.Fatal(err)
	}
	page, err := store.ListSpans(ctx, "ws-1", mediatrail.SpanFilter{Status: mediatrail.SpanError, Limit: 10})
	if err != nil || len(page.Spans) != 1 {
		t.Fatalf("status filter on an upgraded table: %v, %v", page, err)
	}
}
