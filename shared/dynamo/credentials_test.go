package dynamo_test

import (
	"bytes"
	"slices"
	"sync"
	"testing"
	"time"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/testenv"
)

func newCredential(ws, provider string) *mediatrail.Credential {
	now := time.Now().UTC().Truncate(time.Millisecond)
	return &mediatrail.Credential{ID: mediatrail.NewIDAt(now), Name: "c", Provider: provider, WorkspaceID: ws,
		IsValid: true, KeyHint: "…abcd", Ciphertext: []byte{1, 2, 3, 0xff}, CreatedAt: now, UpdatedAt: now}
}

// Racing creations of a provider's first credentials leave exactly one
// default; deleting it removes the pointer in the same transaction.
func TestCredentialDefaults(t *testing.T) {
	e := newEnv(t)
	ctx := testenv.Context(t)
	const n = 6
	creds := make([]*mediatrail.Credential, n)
	defaults := make([]bool, n)
	var wg sync.WaitGroup
	for i := range creds {
		creds[i] = newCredential("ws", "openai")
		wg.Go(func() {
			var err error
			if defaults[i], err = e.store.CreateCredential(ctx, creds[i]); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := len(slices.DeleteFunc(slices.Clone(defaults), func(d bool) bool { return !d })); got != 1 {
		t.Fatalf("%d creations became the default, want 1", got)
	}
	list, err := e.store.ListCredentials(ctx, "ws")
	if err != nil || len(list) != n {
		t.Fatalf("list: %d, %v", len(list), err)
	}
	def := list[slices.IndexFunc(list, func(c *mediatrail.Credential) bool { return c.IsDefault })]
	if !bytes.Equal(def.Ciphertext, []byte{1, 2, 3, 0xff}) || def.KeyHint != "…abcd" {
		t.Errorf("stored credential = %+v", def)
	}
	got, err := e.store.DefaultCredential(ctx, "ws", "openai")
	if err != nil || got == nil || got.ID != def.ID {
		t.Fatalf("default = %v, %v", got, err)
	}
	if err := e.store.DeleteCredential(ctx, "ws", def.ID); err != nil {
		t.Fatal(err)
	}
	if got, err := e.store.DefaultCredential(ctx, "ws", "openai"); err != nil || got != nil {
		t.Errorf("default after deleting it = %v, %v", got, err)
	}
	checkCode(t, e.store.DeleteCredential(ctx, "ws", def.ID), mediatrail.ENOTFOUND)
	checkCode(t, e.store.SetDefaultCredential(ctx, "ws", "openai", def.ID), mediatrail.ENOTFOUND)
	checkCode(t, e.store.SetDefaultCredential(ctx, "other", "openai", creds[0].ID), mediatrail.ENOTFOUND)
	if _, err := e.store.FindCredential(ctx, "other", creds[0].ID); mediatrail.ErrorCode(err) != mediatrail.ENOTFOUND {
		t.Errorf("another workspace finds the credential: %v", err)
	}
	// Any credential but the deleted default (which one won the race varies).
	kept := creds[slices.IndexFunc(creds, func(c *mediatrail.Credential) bool { return c.ID != def.ID })]
	valid := false
	if err := e.store.TouchCredential(ctx, "ws", kept.ID, time.Now(), &valid, true); err != nil {
		t.Fatal(err)
	}
	c, err := e.store.FindCredential(ctx, "ws", kept.ID)
	if err != nil || c.IsValid || c.LastUsedAt == nil || c.CheckedAt == nil {
		t.Errorf("touched = %+v, %v", c, err)
	}
	if err := e.store.TouchCredential(ctx, "ws", mediatrail.NewID(), time.Now(), nil, false); err != nil {
		t.Errorf("touching an absent credential: %v", err)
	}
}

// Tools are created once, replaced only while they exist; agents' sets
// keep their order and an empty set removes them.
func TestToolsAndAgentSets(t *testing.T) {
	e := newEnv(t)
	ctx := testenv.Context(t)
	tool := &mediatrail.MediaTool{ID: mediatrail.NewID(), WorkspaceID: "ws", Name: "t", MediaType: mediatrail.CapabilityTTS,
		Provider: "local", Config: map[string]any{"voice": "en", "speed": 1.5}, CreatedAt: time.Now().UTC()}
	if err := e.store.PutTool(ctx, tool, false); mediatrail.ErrorCode(err) != mediatrail.ENOTFOUND {
		t.Errorf("replacing an absent tool: %v", err)
	}
	if err := e.store.PutTool(ctx, tool, true); err != nil {
		t.Fatal(err)
	}
	checkCode(t, e.store.PutTool(ctx, tool, true), mediatrail.ECONFLICT)
	got, err := e.store.FindTool(ctx, "ws", tool.ID)
	if err != nil || got.Config["speed"] != 1.5 || got.MediaType != mediatrail.CapabilityTTS {
		t.Fatalf("tool = %+v, %v", got, err)
	}
	if _, err := e.store.FindTool(ctx, "other", tool.ID); mediatrail.ErrorCode(err) != mediatrail.ENOTFOUND {
		t.Errorf("another workspace finds the tool: %v", err)
	}
	ids := []string{mediatrail.NewID(), tool.ID, mediatrail.NewID()}
	if err := e.store.SetAgentToolIDs(ctx, "ws", "agent-1", ids, time.Now()); err != nil {
		t.Fatal(err)
	}
	if got, err := e.store.AgentToolIDs(ctx, "ws", "agent-1"); err != nil || !slices.Equal(got, ids) {
		t.Errorf("agent tools = %v, %v", got, err)
	}
	if got, _ := e.store.AgentToolIDs(ctx, "other", "agent-1"); len(got) != 0 {
		t.Errorf("another workspace's agent has %v", got)
	}
	if err := e.store.SetAgentToolIDs(ctx, "ws", "agent-1", nil, time.Now()); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.store.AgentToolIDs(ctx, "ws", "agent-1"); len(got) != 0 {
		t.Errorf("after clearing: %v", got)
	}
	if err := e.store.DeleteTool(ctx, "ws", tool.ID); err != nil {
		t.Fatal(err)
	}
	checkCode(t, e.store.DeleteTool(ctx, "ws", tool.ID), mediatrail.ENOTFOUND)
}
