package e2e_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/awslabs/goformation/v7"

	"github.com/mediatrail/mediatrail/internal/localstack"
	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/testenv"
)

// cleanupOptions shape a cleanupStack.
type cleanupOptions struct {
	// events starts the stack's own versitygw, whose webhook delivers S3
	// events to the functions template.yaml subscribes. Without it the
	// stack shares the test versitygw and every S3 event is lost.
	events bool
	// env is extra function environment; parameters override template
	// parameters.
	env, parameters map[string]string
}

// cleanupStack is a stack of the template's functions (in process) over a
// fresh table and bucket, with the invocations of its functions.
type cleanupStack struct {
	*stack
	invoked chan localstack.Invocation
}

func newCleanupStack(t *testing.T, o cleanupOptions) *cleanupStack {
	t.Helper()
	cs := &cleanupStack{stack: &stack{bucket: testenv.UniqueName("cleanup")}, invoked: make(chan localstack.Invocation, 256)}
	opts := localstack.Options{
		Root: repoRoot(), Runtime: localstack.RuntimeInProcess, Env: o.env, Parameters: o.parameters,
		Table: testenv.Table(t, "cleanup"), Bucket: cs.bucket,
		S3RetryDelays: []time.Duration{20 * time.Millisecond},
		Observe: func(inv localstack.Invocation) {
			if inv.Source == "s3" {
				cs.invoked <- inv
			}
		},
	}
	if o.events {
		opts.DynamoDBURL = testenv.Endpoint(t, testenv.EnvDynamoDB)
	} else {
		s3cfg, _ := testenv.S3(t)
		opts.Emulators = &localstack.Emulators{
			DynamoDBURL: testenv.Endpoint(t, testenv.EnvDynamoDB),
			S3URL:       s3cfg.Endpoint, S3AccessKey: s3cfg.AccessKey, S3SecretKey: s3cfg.SecretKey,
			KMSURL: testenv.Endpoint(t, testenv.EnvKMS),
		}
	}
	var err error
	if cs.Stack, err = localstack.Start(testenv.Context(t), opts); err != nil {
		t.Fatalf("start stack: %v", err)
	}
	t.Cleanup(func() { _ = cs.Close(context.Background()) })
	cs.s3 = awss3.NewFromConfig(aws.Config{
		Region: localstack.Region, Credentials: credentials.NewStaticCredentialsProvider(cs.Config.S3AccessKey, cs.Config.S3SecretKey, ""),
	}, func(o *awss3.Options) { o.BaseEndpoint, o.UsePathStyle = aws.String(cs.Config.S3URL), true })
	return cs
}

// delivered waits for the S3 delivery to CleanupFunction of an event about
// key whose name starts with kind ("ObjectRemoved:", "ObjectCreated:"), and
// fails the test if the function failed on it.
func (cs *cleanupStack) delivered(t *testing.T, kind, key string) {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		select {
		case inv := <-cs.invoked:
			var ev events.S3Event
			if inv.Function != "CleanupFunction" || json.Unmarshal(inv.Payload, &ev) != nil || !slices.ContainsFunc(ev.Records, func(r events.S3EventRecord) bool {
				return strings.HasPrefix(r.EventName, kind) && r.S3.Object.URLDecodedKey == key
			}) {
				continue
			}
			if inv.Err != nil {
				t.Fatalf("CleanupFunction failed on %s: %v", key, inv.Err)
			}
			return
		case <-deadline:
			t.Fatalf("no S3 event for %s reached CleanupFunction", key)
		}
	}
}

// seed stores a ready asset with its span and tagged blob, as a media call
// does, without a provider. mods run before anything is stored (to pin the
// id, say).
func (cs *cleanupStack) seed(t *testing.T, ws, exec string, mods ...func(*mediatrail.Asset)) *mediatrail.Asset {
	t.Helper()
	ctx := testenv.Context(t)
	now := time.Now().UTC()
	a := &mediatrail.Asset{
		ID: mediatrail.NewIDAt(now), WorkspaceID: ws, ExecutionID: exec, AgentID: "agent-1", SpanID: mediatrail.NewIDAt(now),
		Type: mediatrail.AssetImage, Provider: "openai", Model: "gpt-image-1", FileName: "image.png", ContentType: "image/png",
		Status: mediatrail.StatusReady, CreatedAt: now, UpdatedAt: now, RetentionDays: 30,
	}
	for _, m := range mods {
		m(a)
	}
	a.StorageKey = mediatrail.StorageKeyFor(ws, a.ID, a.FileName)
	body := []byte("the bytes of " + a.ID)
	info, err := cs.App.Blobs.Put(ctx, a.StorageKey, a.ContentType, bytes.NewReader(body), int64(len(body)), mediatrail.RetentionTag(a.RetentionDays))
	if err != nil {
		t.Fatal(err)
	}
	a.FileSize, a.SHA256 = info.Size, info.SHA256
	sp := &mediatrail.Span{
		ID: a.SpanID, WorkspaceID: ws, TraceID: exec, ExecutionID: exec, Name: "media.image_gen", Kind: mediatrail.SpanImage,
		MediaType: mediatrail.CapabilityImageGen, Provider: a.Provider, Model: a.Model, AssetID: a.ID, Status: mediatrail.SpanCompleted,
		Attributes: map[string]any{}, StartedAt: now, EndedAt: now,
	}
	if err := cs.App.Store.RecordMedia(ctx, a, sp, nil, nil); err != nil {
		t.Fatal(err)
	}
	return a
}

// pending stores a registered upload whose window ended at expires, with
// its blob when uploaded is set (uploaded, never completed).
func (cs *cleanupStack) pending(t *testing.T, ws string, expires time.Time, uploaded bool) *mediatrail.Asset {
	t.Helper()
	ctx := testenv.Context(t)
	created := expires.Add(-mediatrail.UploadExpiry)
	id := mediatrail.NewIDAt(created)
	a := &mediatrail.Asset{
		ID: id, WorkspaceID: ws, Type: mediatrail.AssetText, FileName: "notes.txt", FileSize: 5, ContentType: "text/plain",
		StorageKey: mediatrail.StorageKeyFor(ws, id, "notes.txt"), SHA256: strings.Repeat("0", 64), Status: mediatrail.StatusPending,
		CreatedAt: created, UpdatedAt: created, UploadExpiresAt: expires,
	}
	if err := cs.App.Store.CreateAsset(ctx, a); err != nil {
		t.Fatal(err)
	}
	if uploaded {
		if _, err := cs.App.Blobs.Put(ctx, a.StorageKey, a.ContentType, strings.NewReader("hello"), 5); err != nil {
			t.Fatal(err)
		}
	}
	return a
}

// record returns the asset's record (any status), nil when there is none.
func (cs *cleanupStack) record(t *testing.T, a *mediatrail.Asset) *mediatrail.Asset {
	t.Helper()
	got, err := cs.App.Store.FindAsset(testenv.Context(t), a.WorkspaceID, a.ID)
	if mediatrail.IsNotFound(err) {
		return nil
	} else if err != nil {
		t.Fatal(err)
	}
	return got
}

// blobExists HEADs key.
func (cs *cleanupStack) blobExists(t *testing.T, key string) bool {
	t.Helper()
	_, err := cs.App.Blobs.Stat(testenv.Context(t), key)
	if err != nil && !mediatrail.IsNotFound(err) {
		t.Fatal(err)
	}
	return err == nil
}

// total is meta.total of the workspace's ready assets of an execution (a
// counter).
func (cs *cleanupStack) total(t *testing.T, key, exec string) int {
	t.Helper()
	r := cs.do(t, "GET", "/api/v1/assets?execution_id="+exec, key, nil)
	wantOK(t, r, http.StatusOK)
	return r.Meta.Total
}

// spanMarked reports whether the span of a says its asset was deleted.
func (cs *cleanupStack) spanMarked(t *testing.T, key string, a *mediatrail.Asset) bool {
	t.Helper()
	spans, _ := cs.spans(t, key, "execution_id="+a.ExecutionID+"&limit=100")
	for _, sp := range spans {
		if sp.ID == a.SpanID {
			return sp.AssetDeleted
		}
	}
	t.Fatalf("no span %s", a.SpanID)
	return false
}

func (cs *cleanupStack) deleteObject(t *testing.T, key string) {
	t.Helper()
	if _, err := cs.s3.DeleteObject(testenv.Context(t), &awss3.DeleteObjectInput{Bucket: &cs.bucket, Key: &key}); err != nil {
		t.Fatal(err)
	}
}

// An object deleted directly in S3 (versitygw) takes its record with it:
// versitygw's webhook reaches CleanupFunction through the S3 subscription of
// template.yaml, which tombstones and purges the record, uncounts it and
// marks its span. Keys the system does not own, and the echo of the API's
// own deletes, change nothing.
func TestObjectDeletedInS3RemovesItsRecord(t *testing.T) {
	t.Parallel()
	cs := newCleanupStack(t, cleanupOptions{events: true})
	key, ws := cs.workspace(t)
	gone, kept, viaAPI := cs.seed(t, ws, "exec-hook"), cs.seed(t, ws, "exec-hook"), cs.seed(t, ws, "exec-hook")
	if got := cs.total(t, key, "exec-hook"); got != 3 {
		t.Fatalf("total %d before", got)
	}

	cs.deleteObject(t, gone.StorageKey)
	cs.delivered(t, "ObjectRemoved:", gone.StorageKey)
	wantError(t, cs.do(t, "GET", "/api/v1/assets/"+gone.ID, key, nil), http.StatusNotFound, mediatrail.ENOTFOUND)
	if cs.record(t, gone) != nil || !cs.spanMarked(t, key, gone) {
		t.Errorf("record %+v, span marked %v: want purged and marked", cs.record(t, gone), cs.spanMarked(t, key, gone))
	}
	if got := cs.total(t, key, "exec-hook"); got != 2 {
		t.Errorf("total %d after the removal, want 2", got)
	}

	// The API's delete removes the blob itself; its event finds nothing to do.
	wantOK(t, cs.do(t, "DELETE", "/api/v1/assets/"+viaAPI.ID, key, nil), http.StatusNoContent)
	cs.delivered(t, "ObjectRemoved:", viaAPI.StorageKey)

	// A key under workspaces/ that no asset owns is left alone.
	foreign := "workspaces/" + ws + "/notes.txt"
	if _, err := cs.s3.PutObject(testenv.Context(t), &awss3.PutObjectInput{Bucket: &cs.bucket, Key: &foreign, Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	cs.deleteObject(t, foreign)
	cs.delivered(t, "ObjectRemoved:", foreign)

	wantOK(t, cs.do(t, "GET", "/api/v1/assets/"+kept.ID, key, nil), http.StatusOK)
	if got := cs.total(t, key, "exec-hook"); got != 1 || cs.spanMarked(t, key, kept) {
		t.Errorf("total %d, kept span marked %v: want 1, false", got, cs.spanMarked(t, key, kept))
	}
}

// An upload URL outlives its asset (it is valid for UploadExpiry), so a
// client can PUT the same bytes again after the asset was completed and
// deleted. The object's creation event reaches CleanupFunction, which finds
// no record for the key and the upload tag on the object, and deletes it at
// once instead of leaving a blob without a record to reconciliation. An
// untagged object without a record (a media output whose record is still
// being written) is left alone.
func TestUploadURLCannotRecreateADeletedAsset(t *testing.T) {
	t.Parallel()
	cs := newCleanupStack(t, cleanupOptions{events: true})
	key, ws := cs.workspace(t)
	body := []byte("an upload that outlives its asset")
	reg := cs.register(t, key, "notes.txt", "text/plain", body)
	a := reg.Asset
	a.WorkspaceID = ws

	reg.put(t, body)
	cs.delivered(t, "ObjectCreated:", a.StorageKey)
	if !cs.blobExists(t, a.StorageKey) {
		t.Fatal("the upload of a pending asset was removed")
	}
	wantOK(t, cs.do(t, "POST", "/api/v1/assets/"+a.ID+"/complete", key, nil), http.StatusOK)
	wantOK(t, cs.do(t, "DELETE", "/api/v1/assets/"+a.ID, key, nil), http.StatusNoContent)
	cs.delivered(t, "ObjectRemoved:", a.StorageKey)

	if status := upload(t, reg.Upload, body); status != http.StatusOK {
		t.Fatalf("upload through the old URL: %d (S3 still accepts it; the cleanup must follow)", status)
	}
	cs.delivered(t, "ObjectCreated:", a.StorageKey)
	if cs.blobExists(t, a.StorageKey) || cs.record(t, &a) != nil {
		t.Errorf("blob %v, record %+v after the old URL's upload: want neither", cs.blobExists(t, a.StorageKey), cs.record(t, &a))
	}

	// Written as a media function writes its output, before its record.
	output := mediatrail.StorageKeyFor(ws, mediatrail.NewID(), "image.png")
	if _, err := cs.App.Blobs.Put(testenv.Context(t), output, "image/png", strings.NewReader("png"), 3, mediatrail.RetentionTag(30)); err != nil {
		t.Fatal(err)
	}
	cs.delivered(t, "ObjectCreated:", output)
	if !cs.blobExists(t, output) {
		t.Error("a media output whose record is not written yet was removed")
	}
}

// The creation fixture (ObjectCreated:Put) through CleanupFunction: only an
// uploaded object that no pending or ready record wants is deleted.
func TestCreationFixture(t *testing.T) {
	t.Parallel()
	cs := newCleanupStack(t, cleanupOptions{})
	ctx := testenv.Context(t)
	put := func(t *testing.T, key string, tags ...mediatrail.Tag) {
		if _, err := cs.App.Blobs.Put(ctx, key, "image/png", strings.NewReader("hello"), 5, tags...); err != nil {
			t.Fatal(err)
		}
	}
	uploaded := []mediatrail.Tag{mediatrail.RetentionTag(30), mediatrail.UploadTag}
	for _, tc := range []struct {
		name string
		// setup makes the fixture's object (and record) in ws; the record, if any.
		setup             func(t *testing.T, ws, key string, pin func(*mediatrail.Asset)) *mediatrail.Asset
		blobKept, recKept bool
	}{
		{"an upload no record wants is deleted", func(t *testing.T, ws, key string, _ func(*mediatrail.Asset)) *mediatrail.Asset {
			put(t, key, uploaded...)
			return nil
		}, false, false},
		{"the upload of a pending asset stays", func(t *testing.T, ws, key string, pin func(*mediatrail.Asset)) *mediatrail.Asset {
			a := cs.pendingPinned(t, ws, time.Now().Add(time.Hour), pin)
			put(t, key, uploaded...)
			return a
		}, true, true},
		{"an output written before its record stays", func(t *testing.T, ws, key string, _ func(*mediatrail.Asset)) *mediatrail.Asset {
			put(t, key, mediatrail.RetentionTag(30))
			return nil
		}, true, false},
		{"an interrupted delete is finished", func(t *testing.T, ws, key string, pin func(*mediatrail.Asset)) *mediatrail.Asset {
			a := cs.seed(t, ws, "exec-1", pin)
			if _, err := cs.App.Store.MarkAssetDeleted(ctx, ws, a.ID, time.Now()); err != nil {
				t.Fatal(err)
			}
			return a
		}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, ws := cs.workspace(t)
			payload, rec := fixture(t, "cleanup-object-created.json", ws)
			key := rec.S3.Object.URLDecodedKey
			_, id, _ := mediatrail.ParseStorageKey(key)
			a := tc.setup(t, ws, key, func(a *mediatrail.Asset) { a.ID, a.FileName = id, filepath.Base(key) })
			for range 2 { // a repeated delivery changes nothing more
				if _, err := cs.Invoke(ctx, "CleanupFunction", payload); err != nil {
					t.Fatalf("CleanupFunction: %v", err)
				}
			}
			if got := cs.blobExists(t, key); got != tc.blobKept {
				t.Errorf("blob exists %v, want %v", got, tc.blobKept)
			}
			if a != nil && (cs.record(t, a) != nil) != tc.recKept {
				t.Errorf("record %+v, want kept %v", cs.record(t, a), tc.recKept)
			}
		})
	}
}

// removalFixtures are the S3 events of events/ the cleanup function handles.
var removalFixtures = []string{"cleanup.json", "cleanup-delete-marker.json", "cleanup-lifecycle-expiration.json"}

// fixture reads an events/ fixture, moved into workspace ws.
func fixture(t *testing.T, name, ws string) (payload []byte, rec events.S3EventRecord) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot(), "events", name))
	if err != nil {
		t.Fatal(err)
	}
	payload = bytes.ReplaceAll(raw, []byte("workspaces/examples/"), []byte("workspaces/"+ws+"/"))
	var ev events.S3Event
	if err := json.Unmarshal(payload, &ev); err != nil || len(ev.Records) != 1 {
		t.Fatalf("%s: %v", name, err)
	}
	return payload, ev.Records[0]
}

// The removal fixtures (ObjectRemoved:Delete, ObjectRemoved:DeleteMarkerCreated,
// LifecycleExpiration:Delete) through CleanupFunction: the record follows
// a blob that is gone, whatever the order or number of deliveries, and is
// never touched while its blob exists.
func TestRemovalFixtures(t *testing.T) {
	t.Parallel()
	cs := newCleanupStack(t, cleanupOptions{})
	ctx := testenv.Context(t)
	past := time.Now().Add(-time.Hour)
	type setup = func(t *testing.T, ws string, pin func(*mediatrail.Asset)) *mediatrail.Asset
	var gone setup = func(t *testing.T, ws string, pin func(*mediatrail.Asset)) *mediatrail.Asset {
		a := cs.seed(t, ws, "exec-1", pin)
		cs.deleteObject(t, a.StorageKey)
		return a
	}
	cases := []struct {
		name string
		// setup makes the fixture's asset (id and file pinned) in ws.
		setup      setup
		deliveries int
		want       mediatrail.AssetStatus // "" = purged
		// totals of the workspace's ready assets before and after, a
		// bystander included: a counter decremented twice would show
		before, after int
	}{
		{"blob gone: the record follows", gone, 1, "", 2, 1},
		{"duplicated delivery", gone, 3, "", 2, 1},
		{"blob re-created after the event: the record stays", func(t *testing.T, ws string, pin func(*mediatrail.Asset)) *mediatrail.Asset {
			a := gone(t, ws, pin)
			if _, err := cs.App.Blobs.Put(ctx, a.StorageKey, a.ContentType, strings.NewReader("again"), 5); err != nil {
				t.Fatal(err)
			}
			return a
		}, 2, mediatrail.StatusReady, 2, 2},
		{"an interrupted delete is finished", func(t *testing.T, ws string, pin func(*mediatrail.Asset)) *mediatrail.Asset {
			a := cs.seed(t, ws, "exec-1", pin)
			if _, err := cs.App.Store.MarkAssetDeleted(ctx, ws, a.ID, time.Now()); err != nil {
				t.Fatal(err)
			}
			return a
		}, 1, "", 1, 1},
		{"an upload whose window is open stays pending", func(t *testing.T, ws string, pin func(*mediatrail.Asset)) *mediatrail.Asset {
			return cs.pendingPinned(t, ws, time.Now().Add(time.Hour), pin)
		}, 1, mediatrail.StatusPending, 1, 1},
		{"an expired upload is reclaimed", func(t *testing.T, ws string, pin func(*mediatrail.Asset)) *mediatrail.Asset {
			return cs.pendingPinned(t, ws, past, pin)
		}, 1, "", 1, 1},
	}
	for _, name := range removalFixtures {
		for _, tc := range cases {
			t.Run(strings.TrimSuffix(name, ".json")+"/"+tc.name, func(t *testing.T) {
				key, ws := cs.workspace(t)
				payload, rec := fixture(t, name, ws)
				fws, id, ok := mediatrail.ParseStorageKey(rec.S3.Object.URLDecodedKey)
				if !ok || fws != ws {
					t.Fatalf("fixture key %q is not an asset key of %s", rec.S3.Object.URLDecodedKey, ws)
				}
				a := tc.setup(t, ws, func(a *mediatrail.Asset) { a.ID, a.FileName = id, filepath.Base(rec.S3.Object.URLDecodedKey) })
				if a.StorageKey != rec.S3.Object.URLDecodedKey {
					t.Fatalf("asset key %s, fixture key %s", a.StorageKey, rec.S3.Object.URLDecodedKey)
				}
				bystander := cs.seed(t, ws, "exec-1")
				if got := cs.total(t, key, "exec-1"); got != tc.before {
					t.Fatalf("total %d before, want %d", got, tc.before)
				}
				for range tc.deliveries {
					if _, err := cs.Invoke(ctx, "CleanupFunction", payload); err != nil {
						t.Fatalf("CleanupFunction: %v", err)
					}
				}
				got := cs.record(t, a)
				switch {
				case tc.want == "" && got != nil:
					t.Fatalf("record is %s, want purged", got.Status)
				case tc.want != "" && (got == nil || got.Status != tc.want):
					t.Fatalf("record %+v, want %s", got, tc.want)
				}
				if got := cs.total(t, key, "exec-1"); got != tc.after {
					t.Errorf("total %d after, want %d", got, tc.after)
				}
				if a.SpanID != "" && cs.spanMarked(t, key, a) != (tc.want == "") {
					t.Errorf("span marked %v, want %v", !(tc.want == ""), tc.want == "")
				}
				if tc.want == "" && cs.blobExists(t, a.StorageKey) {
					t.Errorf("blob of a purged record remains")
				}
				if cs.record(t, bystander).Status != mediatrail.StatusReady || !cs.blobExists(t, bystander.StorageKey) {
					t.Errorf("the bystander was touched")
				}
			})
		}
	}

	// Out of order: the later expiry first, then the earlier removals. The
	// record goes once, its counters drop once, nothing fails.
	key, ws := cs.workspace(t)
	var pin func(*mediatrail.Asset)
	var payloads [][]byte
	for _, name := range slices.Backward(removalFixtures) {
		payload, rec := fixture(t, name, ws)
		_, id, _ := mediatrail.ParseStorageKey(rec.S3.Object.URLDecodedKey)
		pin = func(a *mediatrail.Asset) { a.ID, a.FileName = id, filepath.Base(rec.S3.Object.URLDecodedKey) }
		payloads = append(payloads, payload)
	}
	a := cs.seed(t, ws, "exec-1", pin)
	cs.seed(t, ws, "exec-1") // a bystander: a counter decremented twice would show
	cs.deleteObject(t, a.StorageKey)
	for _, p := range payloads {
		if _, err := cs.Invoke(ctx, "CleanupFunction", p); err != nil {
			t.Fatalf("CleanupFunction: %v", err)
		}
	}
	if cs.record(t, a) != nil || cs.total(t, key, "exec-1") != 1 || !cs.spanMarked(t, key, a) {
		t.Errorf("out of order: record %+v, total %d", cs.record(t, a), cs.total(t, key, "exec-1"))
	}

	// Keys the system does not own are ignored without error.
	payload, _ := fixture(t, removalFixtures[0], ws)
	for _, foreign := range []string{"uploads/x.png", "workspaces/" + ws + "/notes.txt", "workspaces/" + ws + "/assets/not-a-ksuid/x.png"} {
		p := bytes.ReplaceAll(payload, []byte(`"workspaces/`+ws+`/assets/2ouzm0mSJ4Aq5JQYkM5S5RxJcBB/image.png"`), []byte(`"`+foreign+`"`))
		if out, err := cs.Invoke(ctx, "CleanupFunction", p); err != nil {
			t.Errorf("%s: %v %s", foreign, err, out)
		}
	}
}

// pendingPinned is pending with the fixture's id.
func (cs *cleanupStack) pendingPinned(t *testing.T, ws string, expires time.Time, pin func(*mediatrail.Asset)) *mediatrail.Asset {
	t.Helper()
	a := &mediatrail.Asset{}
	pin(a)
	created := expires.Add(-mediatrail.UploadExpiry)
	p := &mediatrail.Asset{
		ID: a.ID, WorkspaceID: ws, Type: mediatrail.AssetImage, FileName: a.FileName, FileSize: 5, ContentType: "image/png",
		StorageKey: mediatrail.StorageKeyFor(ws, a.ID, a.FileName), SHA256: strings.Repeat("0", 64), Status: mediatrail.StatusPending,
		CreatedAt: created, UpdatedAt: created, UploadExpiresAt: expires,
	}
	if err := cs.App.Store.CreateAsset(testenv.Context(t), p); err != nil {
		t.Fatal(err)
	}
	return p
}

// reconcile runs ReconcileStateMachine, as the nightly schedule does, with
// an events/ fixture as its input, and answers the report of its Finish.
func (cs *cleanupStack) reconcile(t *testing.T, fixture string) *mediatrail.ReconcileReport {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot(), "events", fixture))
	if err != nil {
		t.Fatal(err)
	}
	out, err := cs.Execute(testenv.Context(t), "ReconcileStateMachine", raw)
	if err != nil {
		t.Fatalf("ReconcileStateMachine: %v", err)
	}
	var rep mediatrail.ReconcileReport
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("report %s: %v", out, err)
	}
	return &rep
}

// Faults injected between the blob and record steps, and lost S3 events,
// leave orphans on both sides; reconciliation finds each one, its dry run
// lists exactly what the real run then repairs, and afterwards nothing is
// left to find. What is healthy, in flight or not ours is untouched.
func TestReconcileRepairsInjectedFaults(t *testing.T) {
	t.Parallel()
	// No webhook: every S3 event is lost. RECONCILE_GRACE lets the run treat
	// the faults, minutes old at most, as abandoned.
	cs := newCleanupStack(t, cleanupOptions{env: map[string]string{"RECONCILE_GRACE": "1ms"}})
	key, ws := cs.workspace(t)
	ctx := testenv.Context(t)
	past := time.Now().Add(-time.Hour)
	mark := func(a *mediatrail.Asset) {
		if _, err := cs.App.Store.MarkAssetDeleted(ctx, ws, a.ID, past); err != nil {
			t.Fatal(err)
		}
	}

	healthy := cs.seed(t, ws, "exec-ok")
	inFlight := cs.pending(t, ws, time.Now().Add(mediatrail.UploadExpiry), false)

	// A media call that crashed after storing its blob, before recording it;
	// and a blob in a live asset's folder that its record does not name.
	orphanKey := mediatrail.StorageKeyFor(ws, mediatrail.NewID(), "image.png")
	strayKey := mediatrail.StorageKeyFor(ws, healthy.ID, "stray.bin")
	for _, k := range []string{orphanKey, strayKey} {
		if _, err := cs.App.Blobs.Put(ctx, k, "image/png", strings.NewReader("orphan"), 6); err != nil {
			t.Fatal(err)
		}
	}
	// Objects deleted behind our back whose events were lost.
	lost, lost2 := cs.seed(t, ws, "exec-lost"), cs.seed(t, ws, "exec-lost")
	cs.deleteObject(t, lost.StorageKey)
	cs.deleteObject(t, lost2.StorageKey)
	// Deletes that crashed after the tombstone, and after the blob.
	crashedAfterTombstone := cs.seed(t, ws, "exec-del")
	mark(crashedAfterTombstone)
	crashedAfterBlob := cs.seed(t, ws, "exec-del")
	mark(crashedAfterBlob)
	if err := cs.App.Blobs.Delete(ctx, crashedAfterBlob.StorageKey); err != nil {
		t.Fatal(err)
	}
	// Uploads never completed: one never uploaded, one uploaded.
	neverUploaded := cs.pending(t, ws, past, false)
	neverCompleted := cs.pending(t, ws, past, true)
	// Objects under workspaces/ that are not asset blobs.
	foreign := []string{"workspaces/" + ws + "/notes.txt", "workspaces/README"}
	for _, k := range foreign {
		if _, err := cs.s3.PutObject(ctx, &awss3.PutObjectInput{Bucket: &cs.bucket, Key: aws.String(k), Body: strings.NewReader("x")}); err != nil {
			t.Fatal(err)
		}
	}

	f := func(kind mediatrail.FindingKind, a *mediatrail.Asset) mediatrail.Finding {
		return mediatrail.Finding{Kind: kind, WorkspaceID: ws, AssetID: a.ID, Key: a.StorageKey}
	}
	_, orphanID, _ := mediatrail.ParseStorageKey(orphanKey)
	want := []mediatrail.Finding{
		{Kind: mediatrail.FindingOrphanBlob, WorkspaceID: ws, AssetID: orphanID, Key: orphanKey},
		{Kind: mediatrail.FindingOrphanBlob, WorkspaceID: ws, AssetID: healthy.ID, Key: strayKey},
		f(mediatrail.FindingMissingBlob, lost),
		f(mediatrail.FindingMissingBlob, lost2),
		f(mediatrail.FindingExpiredUpload, neverUploaded),
		f(mediatrail.FindingExpiredUpload, neverCompleted),
		f(mediatrail.FindingUnfinishedDelete, crashedAfterTombstone),
		f(mediatrail.FindingUnfinishedDelete, crashedAfterBlob),
	}
	sortFindings(want)
	objectsBefore := cs.objects(t, ws)

	// Within the grace period everything but the ready records without
	// their blob may still be work in flight: it is left alone. And when
	// more blobs are missing than lost events explain, the circuit breaker
	// repairs none of them.
	patient := *cs.App.Reconciler
	patient.Grace, patient.MaxMissingBlobs = 2*time.Hour, 1
	early, err := patient.Run(ctx, mediatrail.ReconcileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantEarly := []mediatrail.Finding{f(mediatrail.FindingMissingBlob, lost), f(mediatrail.FindingMissingBlob, lost2)}
	sortFindings(wantEarly)
	for i := range early.Findings {
		early.Findings[i].Error = ""
	}
	if !slices.Equal(early.Findings, wantEarly) || !early.HeldBack || early.Repaired != 0 || early.Failed != 2 {
		t.Errorf("within the grace period, breaker at 1: %+v, want %+v held back", early, wantEarly)
	}
	if got := cs.objects(t, ws); !slices.Equal(got, objectsBefore) || cs.record(t, lost) == nil {
		t.Errorf("a held back run changed something")
	}

	dry := cs.reconcile(t, "reconcile-dry-run.json")
	if !dry.DryRun || !slices.Equal(dry.Findings, want) {
		t.Fatalf("dry run found\n%+v\nwant\n%+v", dry.Findings, want)
	}
	if dry.Repaired != 0 || dry.Failed != 0 || dry.HeldBack || dry.ForeignKeys != len(foreign) {
		t.Errorf("dry run: repaired %d failed %d foreign %d", dry.Repaired, dry.Failed, dry.ForeignKeys)
	}
	if got := cs.objects(t, ws); !slices.Equal(got, objectsBefore) {
		t.Errorf("the dry run changed the bucket: %v -> %v", objectsBefore, got)
	}

	// The scheduled event runs for real.
	real := cs.reconcile(t, "reconcile.json")
	if real.DryRun || !slices.Equal(real.Findings, dry.Findings) || !maps.Equal(real.Found, dry.Found) {
		t.Fatalf("real run found\n%+v\nthe dry run\n%+v", real.Findings, dry.Findings)
	}
	if real.Repaired != len(want) || real.Failed != 0 {
		t.Errorf("repaired %d, failed %d; want %d, 0", real.Repaired, real.Failed, len(want))
	}

	again := cs.reconcile(t, "reconcile-dry-run.json")
	if again.Total() != 0 || len(again.Findings) != 0 {
		t.Errorf("after repair: %v %+v", again.Found, again.Findings)
	}
	wantObjects := []string{healthy.StorageKey, foreign[0]}
	slices.Sort(wantObjects)
	if got := cs.objects(t, ws); !slices.Equal(got, wantObjects) {
		t.Errorf("objects %v, want %v", got, wantObjects)
	}
	for _, a := range []*mediatrail.Asset{lost, lost2, crashedAfterTombstone, crashedAfterBlob, neverUploaded, neverCompleted} {
		if got := cs.record(t, a); got != nil {
			t.Errorf("record %s remains (%s)", a.ID, got.Status)
		}
	}
	if got := cs.record(t, inFlight); got == nil || got.Status != mediatrail.StatusPending {
		t.Errorf("an upload in its window was touched: %+v", got)
	}
	wantOK(t, cs.do(t, "GET", "/api/v1/assets/"+healthy.ID, key, nil), http.StatusOK)
	if cs.total(t, key, "exec-ok") != 1 || cs.total(t, key, "exec-lost") != 0 || !cs.spanMarked(t, key, lost) {
		t.Errorf("counters or spans not repaired")
	}
}

// A job whose workflow died without ending it (MarkFailed gave up, the run
// timed out or was stopped by hand) stays active; once no execution can
// still be running, reconciliation fails it through JobService.Fail. Its
// dry run lists exactly that job; jobs in flight and ended ones are left
// alone.
func TestReconcileFailsStuckJobs(t *testing.T) {
	t.Parallel()
	cs := newCleanupStack(t, cleanupOptions{}) // the default grace: 1 h
	key, ws := cs.workspace(t)
	ctx := testenv.Context(t)
	job := func(created time.Time, status mediatrail.JobState, exec string) *mediatrail.MediaJob {
		j := &mediatrail.MediaJob{
			ID: mediatrail.NewIDAt(created), WorkspaceID: ws, Status: status, Capability: mediatrail.CapabilityVideoGen,
			Provider: "runway", Model: "gen4.5", Prompt: "waves", ExecutionID: exec, TraceID: exec, SpanID: mediatrail.NewIDAt(created),
			CreatedAt: created, UpdatedAt: created, DeadlineAt: created.Add(mediatrail.DefaultJobDeadline), RetentionDays: 30,
		}
		if status == mediatrail.JobCompleted {
			j.EndedAt = created.Add(time.Minute)
		}
		if err := cs.App.Store.CreateJob(ctx, j, nil); err != nil {
			t.Fatal(err)
		}
		return j
	}
	old := time.Now().UTC().Add(-5 * time.Hour)
	// Stuck while storing: its Store attempt had chosen the object and
	// left part of it.
	stuck := job(old, mediatrail.JobProcessing, "exec-stuck")
	stuck.AssetID = mediatrail.NewIDAt(old)
	stuck.StorageKey = mediatrail.StorageKeyFor(ws, stuck.AssetID, "video.mp4")
	if err := cs.App.Store.UpdateJob(ctx, stuck); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.App.Blobs.Put(ctx, stuck.StorageKey, "video/mp4", strings.NewReader("part"), 4); err != nil {
		t.Fatal(err)
	}
	recent := job(time.Now().UTC().Add(-time.Minute), mediatrail.JobProcessing, "exec-recent")
	ended := job(old, mediatrail.JobCompleted, "exec-ended")

	want := []mediatrail.Finding{{Kind: mediatrail.FindingStuckJob, WorkspaceID: ws, JobID: stuck.ID, Key: stuck.StorageKey}}
	dry := cs.reconcile(t, "reconcile-dry-run.json")
	if !dry.DryRun || !slices.Equal(dry.Findings, want) || dry.Found[mediatrail.FindingStuckJob] != 1 || dry.JobsScanned != 2 {
		t.Fatalf("dry run found %+v (%v, %d jobs scanned), want %+v", dry.Findings, dry.Found, dry.JobsScanned, want)
	}
	if dry.Repaired != 0 || dry.Failed != 0 {
		t.Errorf("dry run: repaired %d failed %d", dry.Repaired, dry.Failed)
	}
	if v := cs.job(t, key, stuck.ID); v.Status != string(mediatrail.JobProcessing) {
		t.Errorf("the dry run changed the stuck job: %+v", v)
	}
	if !cs.blobExists(t, stuck.StorageKey) {
		t.Errorf("the dry run removed the stuck job's object")
	}

	real := cs.reconcile(t, "reconcile.json")
	if real.DryRun || !slices.Equal(real.Findings, dry.Findings) || !maps.Equal(real.Found, dry.Found) {
		t.Fatalf("real run found\n%+v\nthe dry run\n%+v", real.Findings, dry.Findings)
	}
	if real.Repaired != 1 || real.Failed != 0 {
		t.Errorf("repaired %d, failed %d; want 1, 0", real.Repaired, real.Failed)
	}
	v := cs.job(t, key, stuck.ID)
	if v.Status != string(mediatrail.JobFailed) || v.Error == nil || v.Error.Code != mediatrail.ETIMEOUT ||
		!strings.Contains(v.Error.Message, "workflow stopped") {
		t.Errorf("stuck job after repair: %+v (error %+v)", v, v.Error)
	}
	spans, _ := cs.spans(t, key, "execution_id=exec-stuck")
	if len(spans) != 1 || spans[0].ID != stuck.SpanID || spans[0].Status != string(mediatrail.SpanError) ||
		spans[0].Error == nil || spans[0].Error.Code != mediatrail.ETIMEOUT || spans[0].Cost != 0 {
		t.Errorf("spans of the stuck job: %+v", spans)
	}
	if cs.blobExists(t, stuck.StorageKey) {
		t.Errorf("the stuck job's object remains")
	}

	again := cs.reconcile(t, "reconcile-dry-run.json")
	if again.Total() != 0 || len(again.Findings) != 0 {
		t.Errorf("after repair: %v %+v", again.Found, again.Findings)
	}
	for _, j := range []*mediatrail.MediaJob{recent, ended} {
		got, err := cs.App.Store.FindJob(ctx, ws, j.ID)
		if err != nil || got.Status != j.Status || got.Version != j.Version {
			t.Errorf("bystander %s: %+v %v", j.ExecutionID, got, err)
		}
		if spans, _ := cs.spans(t, key, "execution_id="+j.ExecutionID); len(spans) != 0 {
			t.Errorf("bystander %s has spans %+v", j.ExecutionID, spans)
		}
	}
}

func sortFindings(fs []mediatrail.Finding) {
	order := func(k mediatrail.FindingKind) int { return slices.Index(mediatrail.FindingKinds, k) }
	slices.SortFunc(fs, func(a, b mediatrail.Finding) int {
		if d := order(a.Kind) - order(b.Kind); d != 0 {
			return d
		}
		return strings.Compare(a.WorkspaceID+"/"+a.AssetID+"/"+a.Key, b.WorkspaceID+"/"+b.AssetID+"/"+b.Key)
	})
}

// cleanupBatch is the data of POST /api/v1/assets/cleanup.
type cleanupBatch struct {
	DryRun bool `json:"dry_run"`
	Assets []struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	} `json:"assets"`
	Count      int    `json:"count"`
	Failed     []any  `json:"failed"`
	NextCursor string `json:"next_cursor"`
}

// cleanupAll runs bulk cleanup batches from the first to the last and
// returns the ids, in order.
func (cs *cleanupStack) cleanupAll(t *testing.T, key string, body map[string]any) []string {
	t.Helper()
	var ids []string
	body = maps.Clone(body)
	for range 20 {
		r := cs.do(t, "POST", "/api/v1/assets/cleanup", key, body)
		wantOK(t, r, http.StatusOK)
		var b cleanupBatch
		r.Into(t, &b)
		limit, _ := body["limit"].(int)
		if b.DryRun != (body["dry_run"] == true) || b.Count != len(b.Assets) || len(b.Failed) != 0 || (limit > 0 && b.Count > limit) {
			t.Fatalf("batch %s", r.Raw)
		}
		for _, a := range b.Assets {
			if want := map[bool]string{true: "ready", false: "deleted"}[b.DryRun]; a.Status != want {
				t.Errorf("asset %s is %s in the answer, want %s", a.ID, a.Status, want)
			}
			ids = append(ids, a.ID)
		}
		if b.NextCursor == "" {
			return ids
		}
		body["cursor"] = b.NextCursor
	}
	t.Fatal("no last batch")
	return nil
}

// Bulk cleanup removes a workspace's assets matching its filters in bounded
// batches, the dry run answering exactly what the real run removes; other
// workspaces and other assets are untouched.
func TestBulkCleanup(t *testing.T) {
	t.Parallel()
	cs := newCleanupStack(t, cleanupOptions{})
	keyA, wsA := cs.workspace(t)
	keyB, wsB := cs.workspace(t)
	var doomed []*mediatrail.Asset
	for range 5 {
		doomed = append(doomed, cs.seed(t, wsA, "exec-1"))
	}
	other := []*mediatrail.Asset{cs.seed(t, wsA, "exec-2"), cs.seed(t, wsA, "exec-2", func(a *mediatrail.Asset) {
		a.Type, a.FileName, a.ContentType = mediatrail.AssetAudio, "speech.mp3", "audio/mpeg"
	})}
	for range 3 {
		cs.seed(t, wsB, "exec-1")
	}

	for _, tc := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"no filter", map[string]any{"dry_run": true}, "filter"},
		{"unknown type", map[string]any{"type": "movie"}, "type"},
		{"limit too large", map[string]any{"execution_id": "exec-1", "limit": 101}, "limit"},
		{"malformed cursor", map[string]any{"execution_id": "exec-1", "cursor": "nope"}, "cursor"},
		{"empty date range", map[string]any{"created_after": "2026-01-02T00:00:00Z", "created_before": "2026-01-01T00:00:00Z"}, "created_before"},
	} {
		r := cs.do(t, "POST", "/api/v1/assets/cleanup", keyA, tc.body)
		wantError(t, r, http.StatusBadRequest, mediatrail.EINVALID)
		if r.Error.Details["field"] != tc.field {
			t.Errorf("%s: field %v, want %s", tc.name, r.Error.Details["field"], tc.field)
		}
	}

	filter := map[string]any{"execution_id": "exec-1", "created_before": time.Now().Add(time.Minute).Format(time.RFC3339), "limit": 2}
	dry := cs.cleanupAll(t, keyA, with(filter, "dry_run", true))
	wantIDs := make([]string, len(doomed))
	for i, a := range doomed {
		wantIDs[i] = a.ID
	}
	slices.Sort(wantIDs)
	slices.Reverse(wantIDs) // newest first
	if !slices.Equal(dry, wantIDs) {
		t.Fatalf("dry run %v, want %v", dry, wantIDs)
	}
	if cs.total(t, keyA, "exec-1") != 5 {
		t.Fatalf("the dry run removed something")
	}

	removed := cs.cleanupAll(t, keyA, filter)
	if !slices.Equal(removed, dry) {
		t.Errorf("removed %v, the dry run said %v", removed, dry)
	}
	for _, a := range doomed {
		wantError(t, cs.do(t, "GET", "/api/v1/assets/"+a.ID, keyA, nil), http.StatusNotFound, mediatrail.ENOTFOUND)
		if cs.blobExists(t, a.StorageKey) || !cs.spanMarked(t, keyA, a) {
			t.Errorf("asset %s: blob or span left as it was", a.ID)
		}
	}
	if a, b, c := cs.total(t, keyA, "exec-1"), cs.total(t, keyA, "exec-2"), cs.total(t, keyB, "exec-1"); a != 0 || b != 2 || c != 3 {
		t.Errorf("totals after cleanup: %d %d %d, want 0 2 3", a, b, c)
	}
	if again := cs.cleanupAll(t, keyA, filter); len(again) != 0 {
		t.Errorf("second cleanup removed %v", again)
	}

	// Filters combine: only the audio asset of exec-2.
	if got := cs.cleanupAll(t, keyA, map[string]any{"execution_id": "exec-2", "media_type": "audio"}); !slices.Equal(got, []string{other[1].ID}) {
		t.Errorf("type filter removed %v, want %s", got, other[1].ID)
	}
}

// Retention: per asset on register and on media calls, else the workspace's
// setting, else the deployment's default; it reaches the object as the tag
// the lifecycle rules read, bound into the presigned upload.
func TestRetention(t *testing.T) {
	t.Parallel()
	cs := newCleanupStack(t, cleanupOptions{parameters: map[string]string{"DefaultRetentionDays": "90"}})
	key, _ := cs.workspace(t)
	otherKey, _ := cs.workspace(t)
	retention := func(k string) mediatrail.WorkspaceRetention {
		r := cs.do(t, "GET", "/api/v1/workspace/retention", k, nil)
		wantOK(t, r, http.StatusOK)
		var got mediatrail.WorkspaceRetention
		r.Into(t, &got)
		return got
	}
	if got := retention(key); got != (mediatrail.WorkspaceRetention{RetentionDays: 90, Source: "default"}) {
		t.Errorf("default retention %+v", got)
	}
	for _, body := range []map[string]any{{}, {"retention_days": 5}, {"retention_days": "30"}} {
		wantError(t, cs.do(t, "PUT", "/api/v1/workspace/retention", key, body), http.StatusBadRequest, mediatrail.EINVALID)
	}
	wantOK(t, cs.do(t, "PUT", "/api/v1/workspace/retention", key, map[string]any{"retention_days": 7}), http.StatusOK)
	if got, other := retention(key), retention(otherKey); got.RetentionDays != 7 || got.Source != "workspace" || other.RetentionDays != 90 {
		t.Errorf("after PUT: %+v, other workspace %+v", got, other)
	}

	body := []byte("retained bytes")
	for _, tc := range []struct {
		name     string
		key      string
		days     any // retention_days of the request; nil: absent
		wantDays int
		wantTag  string
	}{
		{"the workspace's setting", key, nil, 7, "7d"},
		{"the deployment's default", otherKey, nil, 90, "90d"},
		{"asked for", key, 365, 365, "365d"},
		{"forever", key, 0, 0, "forever"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := map[string]any{"file_name": "notes.txt", "content_type": "text/plain", "size": len(body), "sha256": sha256Hex(body)}
			if tc.days != nil {
				in["retention_days"] = tc.days
			}
			r := cs.do(t, "POST", "/api/v1/assets", tc.key, in)
			wantOK(t, r, http.StatusCreated)
			var reg struct {
				Asset struct {
					ID            string     `json:"id"`
					StorageKey    string     `json:"storage_key"`
					RetentionDays int        `json:"retention_days"`
					CreatedAt     time.Time  `json:"created_at"`
					ExpiresAt     *time.Time `json:"expires_at"`
				} `json:"asset"`
				Upload mediatrail.PresignedRequest `json:"upload"`
			}
			r.Into(t, &reg)
			a := reg.Asset
			wantExpiry := mediatrail.RetentionExpiresAt(a.CreatedAt, tc.wantDays)
			if a.RetentionDays != tc.wantDays || (a.ExpiresAt == nil) != wantExpiry.IsZero() || (a.ExpiresAt != nil && !a.ExpiresAt.Equal(wantExpiry)) {
				t.Errorf("asset retention %d, expires %v; want %d, %v", a.RetentionDays, a.ExpiresAt, tc.wantDays, wantExpiry)
			}
			if got := reg.Upload.Headers["X-Amz-Tagging"]; got != "origin=upload&retention="+tc.wantTag {
				t.Errorf("upload header X-Amz-Tagging %q", got)
			}
			if status := upload(t, reg.Upload, body); status != http.StatusOK {
				t.Fatalf("upload: %d", status)
			}
			wantOK(t, cs.do(t, "POST", "/api/v1/assets/"+a.ID+"/complete", tc.key, nil), http.StatusOK)
			if got := objectTags(t, cs.s3, cs.bucket, a.StorageKey); !maps.Equal(got, map[string]string{"origin": "upload", "retention": tc.wantTag}) {
				t.Errorf("object tags %v", got)
			}
		})
	}
	r := cs.do(t, "POST", "/api/v1/assets", key, map[string]any{"file_name": "a.txt", "content_type": "text/plain", "size": 1, "sha256": sha256Hex([]byte("a")), "retention_days": 10})
	wantError(t, r, http.StatusBadRequest, mediatrail.EINVALID)
	if r.Error.Details["field"] != "retention_days" {
		t.Errorf("field %v", r.Error.Details["field"])
	}
}

// Media outputs are tagged as they stream into the bucket.
func TestMediaRetention(t *testing.T) {
	t.Parallel()
	st := newStack(t, 10*time.Second)
	key, _ := st.workspace(t)
	tts := supported[2] // openai tts
	for _, tc := range []struct {
		days    any
		wantTag string
	}{{30, "30d"}, {nil, "forever"}} { // the template's DefaultRetentionDays is 0
		m := tts
		if tc.days != nil {
			m.body = with(tts.body, "retention_days", tc.days)
		}
		out := st.generate(t, key, m, "exec-retention")
		r := st.do(t, "GET", "/api/v1/assets/"+out.AssetID, key, nil)
		wantOK(t, r, http.StatusOK)
		var a struct {
			StorageKey    string `json:"storage_key"`
			RetentionDays int    `json:"retention_days"`
		}
		r.Into(t, &a)
		if got := objectTags(t, st.s3, st.bucket, a.StorageKey); got["retention"] != tc.wantTag || (tc.days != nil && a.RetentionDays != tc.days) {
			t.Errorf("retention_days %v: asset %d, tags %v", tc.days, a.RetentionDays, got)
		}
	}
	m := tts
	m.body = with(tts.body, "retention_days", 3)
	wantError(t, st.do(t, "POST", "/api/v1/media/tts", key, m.request(st, "exec-retention")), http.StatusBadRequest, mediatrail.EINVALID)
}

// The bucket's lifecycle rules implement every retention class on the tag
// RetentionTag writes, and its removals and expiries reach CleanupFunction.
func TestTemplateRetentionRules(t *testing.T) {
	cf, err := goformation.Open(filepath.Join(repoRoot(), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	bucket, err := cf.GetS3BucketWithName("AssetsBucket")
	if err != nil || bucket.LifecycleConfiguration == nil {
		t.Fatalf("AssetsBucket: %v", err)
	}
	rules := map[string]int{} // tag value -> days
	for _, r := range bucket.LifecycleConfiguration.Rules {
		if len(r.TagFilters) == 0 {
			continue
		}
		if len(r.TagFilters) != 1 || r.TagFilters[0].Key != mediatrail.RetentionTagKey || r.Status != "Enabled" ||
			r.Prefix == nil || *r.Prefix != "workspaces/" || r.ExpirationInDays == nil {
			t.Errorf("rule %s is not a retention rule on workspaces/", aws.ToString(r.Id))
			continue
		}
		rules[r.TagFilters[0].Value] = *r.ExpirationInDays
	}
	want := map[string]int{}
	for _, days := range mediatrail.RetentionClasses {
		if days != mediatrail.RetentionForever {
			want[mediatrail.RetentionTag(days).Value] = days
		}
	}
	if !maps.Equal(rules, want) {
		t.Errorf("lifecycle rules %v, want %v", rules, want)
	}

	tmpl, err := localstack.LoadTemplate(filepath.Join(repoRoot(), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	fn := tmpl.Functions["CleanupFunction"]
	if fn == nil || len(fn.S3Events) != 1 {
		t.Fatalf("CleanupFunction has no S3 event")
	}
	ev := fn.S3Events[0]
	if ev.Bucket != "AssetsBucket" || ev.Prefix != "workspaces/" || !slices.Equal(ev.Types, []string{"s3:ObjectRemoved:*", "s3:LifecycleExpiration:*", "s3:ObjectCreated:*"}) {
		t.Errorf("CleanupFunction's S3 event %+v", ev)
	}
}

func objectTags(t *testing.T, c *awss3.Client, bucket, key string) map[string]string {
	t.Helper()
	out, err := c.GetObjectTagging(testenv.Context(t), &awss3.GetObjectTaggingInput{Bucket: &bucket, Key: &key})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, tag := range out.TagSet {
		got[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
	}
	return got
}

// upload sends a presigned request as a client would, with every header.
func upload(t *testing.T, req mediatrail.PresignedRequest, body []byte) int {
	t.Helper()
	hr, err := http.NewRequest(req.Method, req.URL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range req.Headers {
		if k != "Content-Length" {
			hr.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// A run stopped after some pages resumes from its checkpoints when the state
// machine is started again with its run_id: the finished page is not read
// again, the report counts every record once, and a finished run answers its
// stored report without repairing anything twice.
func TestReconcileResumesFromCheckpoint(t *testing.T) {
	t.Parallel()
	cs := newCleanupStack(t, cleanupOptions{env: map[string]string{"RECONCILE_GRACE": "1ms"}})
	_, ws := cs.workspace(t)
	ctx := testenv.Context(t)
	lost := cs.seed(t, ws, "exec-1")
	cs.seed(t, ws, "exec-1")
	cs.seed(t, ws, "exec-1")
	cs.deleteObject(t, lost.StorageKey)

	// The first attempt: planned, one page of every table segment, then stopped.
	r := cs.App.Reconciler
	plan, err := r.Plan(ctx, "first-attempt", mediatrail.ReconcileOptions{RunID: "nightly-1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, seg := range plan.Table {
		if _, err := r.Page(ctx, plan.RunID, seg); err != nil {
			t.Fatal(err)
		}
	}
	before, err := cs.App.Store.ReconcileCheckpoints(ctx, "nightly-1")
	if err != nil || len(before) != len(plan.Table) {
		t.Fatalf("checkpoints after the first attempt: %d, %v", len(before), err)
	}

	var rep mediatrail.ReconcileReport
	for attempt := range 2 {
		out, err := cs.Execute(ctx, "ReconcileStateMachine", []byte(`{"run_id": "nightly-1"}`))
		if err != nil {
			t.Fatal(err)
		}
		var got mediatrail.ReconcileReport
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatal(err)
		}
		if attempt == 1 && (got.Repaired != rep.Repaired || !got.FinishedAt.Equal(rep.FinishedAt)) {
			t.Errorf("a finished run answered another report: %+v, first %+v", got, rep)
		}
		rep = got
	}
	if rep.RecordsScanned != 3 || rep.Found[mediatrail.FindingMissingBlob] != 1 || rep.Repaired != 1 || rep.Failed != 0 {
		t.Errorf("resumed report: %+v", rep)
	}
	if cs.record(t, lost) != nil {
		t.Error("the record without its blob is still there")
	}
	after, err := cs.App.Store.ReconcileCheckpoints(ctx, "nightly-1")
	if err != nil {
		t.Fatal(err)
	}
	pages := map[string]int{}
	for _, cp := range before {
		pages[cp.Segment] = cp.Pages
	}
	for _, cp := range after {
		if n, ok := pages[cp.Segment]; ok && cp.Pages != n {
			t.Errorf("segment %s finished in the first attempt was read again: %d pages, then %d", cp.Segment, n, cp.Pages)
		}
	}
}
