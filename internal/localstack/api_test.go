package localstack_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	openapi "github.com/mediatrail/mediatrail"
	"github.com/mediatrail/mediatrail/internal/localstack"
	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/testenv"
)

const (
	keyA = "test-key-workspace-a"
	keyB = "test-key-workspace-b"
	wsA  = "ws-a"
	wsB  = "ws-b"
	// fixtureKey is the X-API-Key of the events/ fixtures.
	fixtureKey = "mt_example_key"
)

type env struct {
	*localstack.Stack
	bucket string
	s3     *awss3.Client
}

// apiKeys are the keys every API test stack stores.
var apiKeys = map[string]string{keyA: wsA, keyB: wsB, fixtureKey: "ws-fixture"}

// newAPI serves the template's routes, in-process, over fresh resources in
// the emulators.
func newAPI(t *testing.T) *env {
	t.Helper()
	return newAPIWith(t, localstack.RuntimeInProcess)
}

func newAPIWith(t *testing.T, rt localstack.Runtime) *env {
	t.Helper()
	_, s3c := testenv.S3(t)
	s := startStack(t, localstack.Options{Runtime: rt, Emulators: testEmulators(t), APIKeys: apiKeys})
	return &env{Stack: s, bucket: s.Bucket, s3: s3c}
}

// envelope is an API answer (testenv.Reply).
type envelope = testenv.Reply

func (e *env) do(t *testing.T, method, path, key string, body any) envelope {
	t.Helper()
	return testenv.Call(t, e.URL, method, path, key, body)
}

func wantStatus(t *testing.T, v envelope, want int) {
	t.Helper()
	v.WantStatus(t, want)
}

func wantError(t *testing.T, v envelope, status int, code string) {
	t.Helper()
	v.WantError(t, status, code)
}

type registration struct {
	Asset  mediatrail.Asset `json:"asset"`
	Upload struct {
		URL       string            `json:"url"`
		Method    string            `json:"method"`
		Headers   map[string]string `json:"headers"`
		ExpiresAt time.Time         `json:"expires_at"`
	} `json:"upload"`
}

func sum(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func (e *env) register(t *testing.T, key, name, contentType string, body []byte) registration {
	t.Helper()
	v := e.do(t, "POST", "/api/v1/assets", key, map[string]any{
		"file_name": name, "content_type": contentType, "size": len(body), "sha256": sum(body),
		"execution_id": "exec-1", "agent_id": "agent-1", "metadata": map[string]any{"prompt": "a cat"},
	})
	wantStatus(t, v, http.StatusCreated)
	var reg registration
	v.Into(t, &reg)
	return reg
}

func put(t *testing.T, reg registration, body []byte) int {
	t.Helper()
	return putWith(t, reg, body, nil)
}

// putWith uploads as put does, adding the extra (unsigned) headers.
func putWith(t *testing.T, reg registration, body []byte, extra map[string]string) int {
	t.Helper()
	req, err := http.NewRequest(reg.Upload.Method, reg.Upload.URL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range reg.Upload.Headers {
		req.Header.Set(k, v)
	}
	for k, v := range extra {
		req.Header.Set(k, v)
	}
	req.ContentLength = int64(len(body))
	// A refusal may come before the body is read: wait for 100 Continue.
	req.Header.Set("Expect", "100-continue")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// upload registers, uploads and completes a file, returning the ready asset.
func (e *env) upload(t *testing.T, key, name, contentType string, body []byte) mediatrail.Asset {
	t.Helper()
	reg := e.register(t, key, name, contentType, body)
	if code := put(t, reg, body); code != http.StatusOK {
		t.Fatalf("presigned PUT: status %d", code)
	}
	v := e.do(t, "POST", "/api/v1/assets/"+reg.Asset.ID+"/complete", key, nil)
	wantStatus(t, v, http.StatusOK)
	var a mediatrail.Asset
	v.Into(t, &a)
	return a
}

func (e *env) objectExists(t *testing.T, key string) bool {
	t.Helper()
	_, err := e.s3.HeadObject(testenv.Context(t), &awss3.HeadObjectInput{Bucket: aws.String(e.bucket), Key: aws.String(key)})
	var api smithy.APIError
	if errors.As(err, &api) && (api.ErrorCode() == "NotFound" || api.ErrorCode() == "NoSuchKey") {
		return false
	}
	if err != nil {
		t.Fatalf("HeadObject: %v", err)
	}
	return true
}

func signedURL(t *testing.T, e *env, key, id, query string) string {
	t.Helper()
	v := e.do(t, "GET", "/api/v1/assets/"+id+"/signed-url"+query, key, nil)
	wantStatus(t, v, http.StatusOK)
	var out struct {
		URL       string    `json:"url"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	v.Into(t, &out)
	if out.URL == "" || out.ExpiresAt.Before(time.Now()) {
		t.Fatalf("signed url = %+v", out)
	}
	return out.URL
}

func fetch(t *testing.T, u string) (int, http.Header, []byte) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// The asset lifecycle runs the same in-process and through bootstraps under
// aws-lambda-rie.
func TestAssetLifecycle(t *testing.T) {
	t.Parallel()
	for _, rt := range []localstack.Runtime{localstack.RuntimeInProcess, localstack.RuntimeRIE} {
		t.Run(string(rt), func(t *testing.T) { assetLifecycle(t, newAPIWith(t, rt)) })
	}
}

func assetLifecycle(t *testing.T, e *env) {
	body := []byte("\x89PNG\r\n\x1a\n fake image bytes for the lifecycle test")
	a := e.upload(t, keyA, "cat picture.png", "image/png", body)

	if a.Status != mediatrail.StatusReady || a.FileSize != int64(len(body)) || a.SHA256 != sum(body) ||
		a.Type != mediatrail.AssetImage || a.WorkspaceID != wsA || a.ExecutionID != "exec-1" || a.AgentID != "agent-1" {
		t.Fatalf("completed asset = %+v", a)
	}
	if want := "workspaces/ws-a/assets/" + a.ID + "/cat_picture.png"; a.StorageKey != want {
		t.Fatalf("storage key = %q, want %q", a.StorageKey, want)
	}

	var got map[string]any
	e.do(t, "GET", "/api/v1/assets/"+a.ID, keyA, nil).Into(t, &got)
	for _, field := range []string{"id", "workspace_id", "execution_id", "agent_id", "span_id", "type", "media_type",
		"provider", "model", "file_name", "file_size", "size", "content_type", "storage_key", "sha256", "metadata",
		"status", "created_at", "updated_at"} {
		if _, ok := got[field]; !ok {
			t.Errorf("asset response lacks %q", field)
		}
	}
	if got["media_type"] != "image" || got["size"] != float64(len(body)) {
		t.Errorf("SDK aliases: media_type %v size %v", got["media_type"], got["size"])
	}

	for _, tc := range []struct{ query, disposition string }{
		{"", "attachment"},
		{"?disposition=inline&expires_in=60", "inline"},
	} {
		code, h, b := fetch(t, signedURL(t, e, keyA, a.ID, tc.query))
		if code != http.StatusOK || !bytes.Equal(b, body) || h.Get("Content-Type") != "image/png" {
			t.Fatalf("download%s: status %d, %d bytes, type %q", tc.query, code, len(b), h.Get("Content-Type"))
		}
		if cd := h.Get("Content-Disposition"); !strings.HasPrefix(cd, tc.disposition+";") || !strings.Contains(cd, "cat_picture.png") {
			t.Fatalf("Content-Disposition = %q", cd)
		}
	}

	wantStatus(t, e.do(t, "DELETE", "/api/v1/assets/"+a.ID, keyA, nil), http.StatusNoContent)
	wantError(t, e.do(t, "GET", "/api/v1/assets/"+a.ID, keyA, nil), http.StatusNotFound, mediatrail.ENOTFOUND)
	wantError(t, e.do(t, "DELETE", "/api/v1/assets/"+a.ID, keyA, nil), http.StatusNotFound, mediatrail.ENOTFOUND)
	if e.objectExists(t, a.StorageKey) {
		t.Fatal("object still in the bucket after delete")
	}
	var list envelope = e.do(t, "GET", "/api/v1/assets", keyA, nil)
	if list.Meta == nil || list.Meta.Total != 0 {
		t.Fatalf("after delete meta = %+v", list.Meta)
	}
}

func TestSignedURLRefusedWhenTamperedOrExpired(t *testing.T) {
	t.Parallel()
	e := newAPI(t)
	a := e.upload(t, keyA, "a.txt", "text/plain", []byte("hello"))

	u, err := url.Parse(signedURL(t, e, keyA, a.ID, ""))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("response-content-disposition", "inline")
	tampered := *u
	tampered.RawQuery = q.Encode()
	if code, _, _ := fetch(t, tampered.String()); code != http.StatusForbidden {
		t.Errorf("tampered URL: status %d, want 403", code)
	}
	other := strings.Replace(u.String(), "/"+a.ID+"/", "/"+mediatrail.NewID()+"/", 1)
	if code, _, _ := fetch(t, other); code != http.StatusForbidden {
		t.Errorf("URL for another key: status %d, want 403", code)
	}

	// A one-second URL is signed to the second, so it may have expired before
	// its answer arrives (signedURL would refuse it): wait until a second past
	// its expiry, not a fixed time from the answer.
	v := e.do(t, "GET", "/api/v1/assets/"+a.ID+"/signed-url?expires_in=1", keyA, nil)
	wantStatus(t, v, http.StatusOK)
	var short struct {
		URL       string    `json:"url"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	v.Into(t, &short)
	time.Sleep(time.Until(short.ExpiresAt.Add(1100 * time.Millisecond)))
	if code, _, _ := fetch(t, short.URL); code != http.StatusForbidden {
		t.Errorf("expired URL: status %d, want 403", code)
	}
}

func TestUploadWithWrongChecksumNeverBecomesReady(t *testing.T) {
	t.Parallel()
	e := newAPI(t)
	good := []byte("the bytes the agent registered")
	bad := []byte("THE BYTES THE AGENT REGISTERED")

	reg := e.register(t, keyA, "doc.txt", "text/plain", good)
	if code := put(t, reg, bad); code < 400 || code >= 500 {
		t.Fatalf("PUT with a body that does not match the signed checksum: status %d, want 4xx", code)
	}
	wantError(t, e.do(t, "POST", "/api/v1/assets/"+reg.Asset.ID+"/complete", keyA, nil), http.StatusConflict, mediatrail.ECONFLICT)

	// A blob that slipped past the store's own check (written without the
	// presigned URL) is still refused at completion and removed.
	_, err := e.s3.PutObject(testenv.Context(t), &awss3.PutObjectInput{
		Bucket: aws.String(e.bucket), Key: aws.String(reg.Asset.StorageKey), Body: bytes.NewReader(bad),
	})
	if err != nil {
		t.Fatal(err)
	}
	wantError(t, e.do(t, "POST", "/api/v1/assets/"+reg.Asset.ID+"/complete", keyA, nil), http.StatusUnprocessableEntity, mediatrail.EUNPROCESSABLE)
	if e.objectExists(t, reg.Asset.StorageKey) {
		t.Fatal("mismatched blob left in the bucket")
	}
	var a mediatrail.Asset
	e.do(t, "GET", "/api/v1/assets/"+reg.Asset.ID, keyA, nil).Into(t, &a)
	if a.Status != mediatrail.StatusPending {
		t.Fatalf("status = %q, want pending", a.Status)
	}
	wantError(t, e.do(t, "GET", "/api/v1/assets/"+reg.Asset.ID+"/signed-url", keyA, nil), http.StatusConflict, mediatrail.ECONFLICT)
	if l := e.do(t, "GET", "/api/v1/assets", keyA, nil); l.Meta.Total != 0 || string(l.Data) != "[]" {
		t.Fatalf("pending asset listed: %s total %d", l.Data, l.Meta.Total)
	}

	// The right bytes complete it.
	if code := put(t, reg, good); code != http.StatusOK {
		t.Fatalf("PUT good body: %d", code)
	}
	wantStatus(t, e.do(t, "POST", "/api/v1/assets/"+reg.Asset.ID+"/complete", keyA, nil), http.StatusOK)
}

func TestWorkspaceIsolationOnEveryRoute(t *testing.T) {
	t.Parallel()
	e := newAPI(t)
	a := e.upload(t, keyA, "secret.txt", "text/plain", []byte("workspace A only"))
	pending := e.register(t, keyA, "pending.txt", "text/plain", []byte("pending"))

	for _, tc := range []struct{ method, path string }{
		{"GET", "/api/v1/assets/" + a.ID},
		{"GET", "/api/v1/assets/" + a.ID + "/signed-url"},
		{"POST", "/api/v1/assets/" + a.ID + "/complete"},
		{"POST", "/api/v1/assets/" + pending.Asset.ID + "/complete"},
		{"GET", "/api/v1/assets/" + pending.Asset.ID},
		{"DELETE", "/api/v1/assets/" + a.ID},
	} {
		wantError(t, e.do(t, tc.method, tc.path, keyB, nil), http.StatusNotFound, mediatrail.ENOTFOUND)
	}
	for _, q := range []string{"", "?execution_id=exec-1", "?agent_id=agent-1", "?type=text", "?media_type=text",
		"?execution_id=exec-1&agent_id=agent-1&type=text", "?status=pending", "?page=1&limit=100"} {
		v := e.do(t, "GET", "/api/v1/assets"+q, keyB, nil)
		wantStatus(t, v, http.StatusOK)
		if string(v.Data) != "[]" || v.Meta.Total != 0 {
			t.Errorf("B lists%s: %s (total %d)", q, v.Data, v.Meta.Total)
		}
	}
	// A's cursor does not open A's data to B.
	for i := 0; i < 2; i++ {
		e.upload(t, keyA, fmt.Sprintf("more-%d.txt", i), "text/plain", []byte{byte(i)})
	}
	first := e.do(t, "GET", "/api/v1/assets?limit=1", keyA, nil)
	if first.Meta.NextCursor == "" {
		t.Fatal("no next cursor for A")
	}
	v := e.do(t, "GET", "/api/v1/assets?limit=1&cursor="+url.QueryEscape(first.Meta.NextCursor), keyB, nil)
	if v.Status == http.StatusOK && string(v.Data) != "[]" {
		t.Fatalf("B followed A's cursor into %s", v.Data)
	}
	// The asset survived B's delete attempt.
	wantStatus(t, e.do(t, "GET", "/api/v1/assets/"+a.ID, keyA, nil), http.StatusOK)
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	e := newAPI(t)
	for _, key := range []string{"", "not-a-key", strings.Repeat("k", 300)} {
		wantError(t, e.do(t, "GET", "/api/v1/assets", key, nil), http.StatusUnauthorized, mediatrail.EUNAUTHENTICATED)
	}
	v := e.do(t, "GET", "/api/v1/nothing-here", keyA, nil)
	if v.Status != http.StatusNotFound {
		t.Fatalf("unknown route: %d", v.Status)
	}
	// Authorization: Bearer carries the key as X-API-Key does; other schemes do not.
	for auth, want := range map[string]int{"Bearer " + keyA: http.StatusOK, "Bearer not-a-key": http.StatusUnauthorized,
		"Basic " + keyA: http.StatusUnauthorized} {
		req, err := http.NewRequest("GET", e.URL+"/api/v1/assets", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", auth)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("Authorization %q: status %d, want %d", auth, resp.StatusCode, want)
		}
	}
}

// The contract is served as JSON to anyone, key or not, byte for byte the
// embedded openapi.yaml's JSON form.
func TestContractIsServedWithoutKey(t *testing.T) {
	t.Parallel()
	e := newAPI(t)
	want, err := openapi.JSON()
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"", "not-a-key", keyA} {
		v := e.do(t, "GET", "/api/v1/openapi.json", key, nil)
		wantStatus(t, v, http.StatusOK)
		if v.Raw != string(want) || !strings.HasPrefix(v.Header.Get("Content-Type"), "application/json") {
			t.Fatalf("key %q: %s %.200s", key, v.Header.Get("Content-Type"), v.Raw)
		}
	}
}

func TestBadInputIsAClearClientError(t *testing.T) {
	t.Parallel()
	e := newAPI(t)
	a := e.upload(t, keyA, "x.txt", "text/plain", []byte("x"))
	okBody := func(change func(map[string]any)) map[string]any {
		b := map[string]any{"file_name": "a.png", "content_type": "image/png", "size": 3, "sha256": sum([]byte("abc"))}
		change(b)
		return b
	}
	cases := []struct {
		name         string
		method, path string
		body         any
		status       int
		code         string
	}{
		{"limit not a number", "GET", "/api/v1/assets?limit=abc", nil, 400, mediatrail.EINVALID},
		{"limit negative", "GET", "/api/v1/assets?limit=-1", nil, 400, mediatrail.EINVALID},
		{"limit zero", "GET", "/api/v1/assets?limit=0", nil, 400, mediatrail.EINVALID},
		{"limit over max", "GET", "/api/v1/assets?limit=101", nil, 400, mediatrail.EINVALID},
		{"page zero", "GET", "/api/v1/assets?page=0", nil, 400, mediatrail.EINVALID},
		{"page negative", "GET", "/api/v1/assets?page=-3", nil, 400, mediatrail.EINVALID},
		{"cursor garbage", "GET", "/api/v1/assets?cursor=%%%", nil, 400, mediatrail.EINVALID},
		{"cursor not base64", "GET", "/api/v1/assets?cursor=not*a*cursor", nil, 400, mediatrail.EINVALID},
		{"cursor forged", "GET", "/api/v1/assets?cursor=eyJpZCI6IjEyMyJ9", nil, 400, mediatrail.EINVALID},
		{"cursor too long", "GET", "/api/v1/assets?cursor=" + strings.Repeat("A", 2000), nil, 400, mediatrail.EINVALID},
		{"created_after not a date", "GET", "/api/v1/assets?created_after=yesterday", nil, 400, mediatrail.EINVALID},
		{"created_before bad month", "GET", "/api/v1/assets?created_before=2026-13-01T00:00:00Z", nil, 400, mediatrail.EINVALID},
		{"date range inverted", "GET", "/api/v1/assets?created_after=2026-02-01T00:00:00Z&created_before=2026-01-01T00:00:00Z", nil, 400, mediatrail.EINVALID},
		{"unknown type", "GET", "/api/v1/assets?type=hologram", nil, 400, mediatrail.EINVALID},
		{"bad status", "GET", "/api/v1/assets?status=deleted", nil, 400, mediatrail.EINVALID},
		{"execution id with separator", "GET", "/api/v1/assets?execution_id=a%23b", nil, 400, mediatrail.EINVALID},
		{"get invalid id", "GET", "/api/v1/assets/not-a-ksuid", nil, 400, mediatrail.EINVALID},
		{"get unknown id", "GET", "/api/v1/assets/" + mediatrail.NewID(), nil, 404, mediatrail.ENOTFOUND},
		{"delete invalid id", "DELETE", "/api/v1/assets/..%2F..%2Fetc", nil, 400, mediatrail.EINVALID},
		{"complete invalid id", "POST", "/api/v1/assets/abc/complete", nil, 400, mediatrail.EINVALID},
		{"signed url invalid id", "GET", "/api/v1/assets/abc/signed-url", nil, 400, mediatrail.EINVALID},
		{"expires_in zero", "GET", "/api/v1/assets/" + a.ID + "/signed-url?expires_in=0", nil, 400, mediatrail.EINVALID},
		{"expires_in negative", "GET", "/api/v1/assets/" + a.ID + "/signed-url?expires_in=-5", nil, 400, mediatrail.EINVALID},
		{"expires_in over a week", "GET", "/api/v1/assets/" + a.ID + "/signed-url?expires_in=604801", nil, 400, mediatrail.EINVALID},
		{"expires_in not a number", "GET", "/api/v1/assets/" + a.ID + "/signed-url?expires_in=soon", nil, 400, mediatrail.EINVALID},
		{"bad disposition", "GET", "/api/v1/assets/" + a.ID + "/signed-url?disposition=download", nil, 400, mediatrail.EINVALID},
		{"body not JSON", "POST", "/api/v1/assets", "{not json", 400, mediatrail.EINVALID},
		{"body empty", "POST", "/api/v1/assets", "", 400, mediatrail.EINVALID},
		{"body array", "POST", "/api/v1/assets", "[]", 400, mediatrail.EINVALID},
		{"body trailing garbage", "POST", "/api/v1/assets", `{"file_name":"a"} x`, 400, mediatrail.EINVALID},
		{"missing file_name", "POST", "/api/v1/assets", okBody(func(b map[string]any) { delete(b, "file_name") }), 400, mediatrail.EINVALID},
		{"missing content_type", "POST", "/api/v1/assets", okBody(func(b map[string]any) { delete(b, "content_type") }), 400, mediatrail.EINVALID},
		{"missing size", "POST", "/api/v1/assets", okBody(func(b map[string]any) { delete(b, "size") }), 400, mediatrail.EINVALID},
		{"missing sha256", "POST", "/api/v1/assets", okBody(func(b map[string]any) { delete(b, "sha256") }), 400, mediatrail.EINVALID},
		{"size negative", "POST", "/api/v1/assets", okBody(func(b map[string]any) { b["size"] = -1 }), 400, mediatrail.EINVALID},
		{"size a string", "POST", "/api/v1/assets", okBody(func(b map[string]any) { b["size"] = "3" }), 400, mediatrail.EINVALID},
		{"size over the largest upload", "POST", "/api/v1/assets", okBody(func(b map[string]any) { b["size"] = int64(mediatrail.MaxUploadBytes) + 1 }), 413, mediatrail.ETOOLARGE},
		{"sha256 short", "POST", "/api/v1/assets", okBody(func(b map[string]any) { b["sha256"] = "abc" }), 400, mediatrail.EINVALID},
		{"sha256 not hex", "POST", "/api/v1/assets", okBody(func(b map[string]any) { b["sha256"] = strings.Repeat("z", 64) }), 400, mediatrail.EINVALID},
		{"content type invalid", "POST", "/api/v1/assets", okBody(func(b map[string]any) { b["content_type"] = "png" }), 400, mediatrail.EINVALID},
		{"file name traversal", "POST", "/api/v1/assets", okBody(func(b map[string]any) { b["file_name"] = "../../etc/passwd" }), 400, mediatrail.EINVALID},
		{"file name dotdot", "POST", "/api/v1/assets", okBody(func(b map[string]any) { b["file_name"] = ".." }), 400, mediatrail.EINVALID},
		{"file name backslash", "POST", "/api/v1/assets", okBody(func(b map[string]any) { b["file_name"] = `..\x.png` }), 400, mediatrail.EINVALID},
		{"file name control char", "POST", "/api/v1/assets", okBody(func(b map[string]any) { b["file_name"] = "a\nb.png" }), 400, mediatrail.EINVALID},
		{"file name too long", "POST", "/api/v1/assets", okBody(func(b map[string]any) { b["file_name"] = strings.Repeat("a", 300) }), 400, mediatrail.EINVALID},
		{"execution id invalid", "POST", "/api/v1/assets", okBody(func(b map[string]any) { b["execution_id"] = "a b" }), 400, mediatrail.EINVALID},
		{"metadata not object", "POST", "/api/v1/assets", okBody(func(b map[string]any) { b["metadata"] = []int{1} }), 400, mediatrail.EINVALID},
		{"metadata too large", "POST", "/api/v1/assets", okBody(func(b map[string]any) { b["metadata"] = map[string]any{"p": strings.Repeat("x", 40<<10)} }), 413, mediatrail.ETOOLARGE},
		{"body over 1 MiB", "POST", "/api/v1/assets", `{"file_name":"` + strings.Repeat("a", 2<<20) + `"}`, 413, mediatrail.ETOOLARGE},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, e.do(t, tc.method, tc.path, keyA, tc.body), tc.status, tc.code)
		})
	}
}
