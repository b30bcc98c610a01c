package e2e_test

import (
	"bytes"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/mediatrail/mediatrail/internal/localstack"
	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/testenv"
)

// credential is a credential as the API answers it (the domain type: its
// ciphertext never leaves the service).
type credential = mediatrail.Credential

// workspaceKey is a provider key of one workspace, accepted by the openai fake.
func workspaceKey(ws string) string { return "sk-ws-" + ws + "-3c9f2a7d" }

// created POSTs body to path and decodes the 201's data.
func created[T any](t *testing.T, st *stack, key, path string, body map[string]any) (T, reply) {
	t.Helper()
	r := st.do(t, "POST", path, key, body)
	wantOK(t, r, http.StatusCreated)
	var v T
	r.Into(t, &v)
	return v, r
}

func (st *stack) addCredential(t *testing.T, key string, body map[string]any) credential {
	t.Helper()
	c, r := created[credential](t, st, key, "/api/v1/credentials", body)
	if apiKey, _ := body["api_key"].(string); apiKey != "" && strings.Contains(r.Raw, apiKey) {
		t.Fatalf("the answer holds the key: %s", r.Raw)
	}
	return c
}

// openAIKeyOf adds an openai credential with the workspace's own key, which
// the openai fake accepts.
func (st *stack) openAIKeyOf(t *testing.T, key, ws string) credential {
	t.Helper()
	st.fakes["openai"].AcceptKeys(workspaceKey(ws))
	return st.addCredential(t, key, map[string]any{"name": "OpenAI of " + ws, "provider": "openai", "api_key": workspaceKey(ws)})
}

// image asks openai for an image (with extra fields) and returns the answer.
func (st *stack) image(t *testing.T, key string, extra map[string]any) reply {
	t.Helper()
	body := map[string]any{"provider": "openai", "prompt": "a red bicycle"}
	for k, v := range extra {
		body[k] = v
	}
	return st.do(t, "POST", "/api/v1/media/image_gen", key, body)
}

// lastKey is the key the openai fake saw on its last request.
func (st *stack) lastKey(t *testing.T) string {
	t.Helper()
	reqs := st.fakes["openai"].Requests()
	if len(reqs) == 0 {
		t.Fatal("the openai fake got no request")
	}
	return reqs[len(reqs)-1].Key
}

// spanOf reads the span of a media answer.
func (st *stack) spanOf(t *testing.T, key string, r reply) map[string]any {
	t.Helper()
	var out generated
	r.Into(t, &out)
	spans := st.do(t, "GET", "/api/v1/traces?limit=100", key, nil)
	wantOK(t, spans, http.StatusOK)
	var all []map[string]any
	spans.Into(t, &all)
	for _, sp := range all {
		if sp["id"] == out.SpanID {
			return sp
		}
	}
	t.Fatalf("span %s not listed: %s", out.SpanID, spans.Raw)
	return nil
}

// Must show: two workspaces, each with its own OpenAI key, make images; the
// provider sees each workspace's own key; a third workspace without a
// credential gets 422 credential_missing while platform credentials are
// disallowed, and succeeds (with the deployment's key) when they are allowed.
func TestCredentialsAreEachWorkspacesOwn(t *testing.T) {
	t.Parallel()
	strict := newStackWith(t, stackOptions{env: map[string]string{"ALLOW_PLATFORM_CREDENTIALS": "false"}})
	keyA, wsA := strict.workspace(t)
	keyB, wsB := strict.workspace(t)
	keyC, _ := strict.workspace(t)
	credA, credB := strict.openAIKeyOf(t, keyA, wsA), strict.openAIKeyOf(t, keyB, wsB)
	for _, c := range []credential{credA, credB} {
		if !c.IsDefault || !c.IsValid || c.Provider != "openai" || !strings.HasPrefix(c.KeyHint, "…") || len([]rune(c.KeyHint)) != 5 {
			t.Errorf("new credential = %+v", c)
		}
	}
	for _, w := range []struct {
		key, ws string
		cred    credential
	}{{keyA, wsA, credA}, {keyB, wsB, credB}} {
		r := strict.image(t, w.key, nil)
		wantOK(t, r, http.StatusOK)
		if got := strict.lastKey(t); got != workspaceKey(w.ws) {
			t.Errorf("%s: the provider saw another key", w.ws)
		}
		if sp := strict.spanOf(t, w.key, r); sp["credential_id"] != w.cred.ID {
			t.Errorf("%s: span credential_id = %v, want %s", w.ws, sp["credential_id"], w.cred.ID)
		}
		var out generated
		r.Into(t, &out)
		if out.Metadata["credential_id"] != w.cred.ID {
			t.Errorf("%s: asset metadata credential_id = %v", w.ws, out.Metadata["credential_id"])
		}
	}
	before := len(strict.fakes["openai"].Requests())
	r := strict.image(t, keyC, nil)
	wantError(t, r, http.StatusUnprocessableEntity, mediatrail.ECREDENTIALMISSING)
	if r.Error.Details["provider"] != "openai" || !strings.Contains(r.Error.Message, "POST /api/v1/credentials") {
		t.Errorf("credential_missing = %s", r.Raw)
	}
	if len(strict.fakes["openai"].Requests()) != before {
		t.Error("the provider was called without a credential")
	}
	// local needs no key: it works without any credential.
	wantOK(t, strict.do(t, "POST", "/api/v1/media/image_gen", keyC, map[string]any{"provider": "local", "prompt": "a lighthouse"}), http.StatusOK)

	lenient := newStackWith(t, stackOptions{env: map[string]string{"ALLOW_PLATFORM_CREDENTIALS": "true"}})
	keyC, _ = lenient.workspace(t)
	r = lenient.image(t, keyC, nil)
	wantOK(t, r, http.StatusOK)
	if lenient.lastKey(t) == "" || strings.HasPrefix(lenient.lastKey(t), "sk-ws-") {
		t.Error("the platform call did not use the deployment's key")
	}
	if sp := lenient.spanOf(t, keyC, r); sp["credential_id"] != nil {
		t.Errorf("a platform call names credential %v", sp["credential_id"])
	}
	// The deployment's own key refused stays a 502 without details.
	lenient.fakes["openai"].Fail(1, lenient.fakes["openai"].Error(http.StatusUnauthorized, "invalid_api_key", "Incorrect API key provided"))
	r = lenient.image(t, keyC, nil)
	wantError(t, r, http.StatusBadGateway, mediatrail.EPROVIDER)
	if r.Error.Details["credential_id"] != nil {
		t.Errorf("platform failure names a credential: %s", r.Raw)
	}
}

// The credentials API: defaults per provider, rename, rotation, check,
// a refused key (424 naming the credential), deletion promoting the next
// default, validation, and another workspace's ids answering 404.
func TestCredentialsLifecycle(t *testing.T) {
	t.Parallel()
	st := newStackWith(t, stackOptions{env: map[string]string{"ALLOW_PLATFORM_CREDENTIALS": "false"}})
	key, ws := st.workspace(t)
	other, _ := st.workspace(t)
	first := st.openAIKeyOf(t, key, ws)
	second := st.addCredential(t, key, map[string]any{"name": "OpenAI spare", "provider": "openai", "api_key": "sk-spare-000000001"})
	if second.IsDefault {
		t.Error("a second credential of a provider became its default")
	}

	list := func() []credential {
		r := st.do(t, "GET", "/api/v1/credentials?limit=10", key, nil)
		wantOK(t, r, http.StatusOK)
		var out []credential
		r.Into(t, &out)
		if r.Meta == nil || r.Meta.Total != len(out) || !strings.Contains(r.Raw, `"total_pages":1`) {
			t.Errorf("list meta = %s", r.Raw)
		}
		return out
	}
	defaults := func() (ids []string) {
		for _, c := range list() {
			if c.IsDefault {
				ids = append(ids, c.ID)
			}
		}
		return ids
	}
	if got := defaults(); !slices.Equal(got, []string{first.ID}) {
		t.Fatalf("defaults = %v, want %s", got, first.ID)
	}
	wantOK(t, st.do(t, "POST", "/api/v1/credentials/"+second.ID+"/default", key, nil), http.StatusOK)
	if got := defaults(); !slices.Equal(got, []string{second.ID}) {
		t.Fatalf("defaults after POST default = %v", got)
	}
	// The default is what a call uses: the spare key is refused → 424 naming it.
	r := st.image(t, key, nil)
	wantError(t, r, http.StatusFailedDependency, mediatrail.EPROVIDERAUTH)
	if r.Error.Details["credential_id"] != second.ID || !strings.Contains(r.Error.Message, second.ID) || strings.Contains(r.Raw, "sk-spare") {
		t.Errorf("provider_auth_failed = %s", r.Raw)
	}
	var got credential
	st.do(t, "GET", "/api/v1/credentials/"+second.ID, key, nil).Into(t, &got)
	if got.IsValid {
		t.Error("a refused credential stays valid")
	}
	// Check: refused; rotate to a working key; check again: valid.
	r = st.do(t, "POST", "/api/v1/credentials/"+second.ID+"/check", key, nil)
	wantOK(t, r, http.StatusOK)
	r.Into(t, &got)
	if got.IsValid || got.CheckedAt == nil {
		t.Errorf("check of a refused key = %s", r.Raw)
	}
	rotated := "sk-rotated-" + ws + "-9b1e"
	st.fakes["openai"].AcceptKeys(rotated)
	r = st.do(t, "PATCH", "/api/v1/credentials/"+second.ID, key, map[string]any{"api_key": rotated, "name": "OpenAI rotated"})
	wantOK(t, r, http.StatusOK)
	r.Into(t, &got)
	if got.Name != "OpenAI rotated" || got.KeyHint != "…"+rotated[len(rotated)-4:] || strings.Contains(r.Raw, rotated) {
		t.Errorf("rotated = %s", r.Raw)
	}
	r = st.do(t, "POST", "/api/v1/credentials/"+second.ID+"/check", key, nil)
	wantOK(t, r, http.StatusOK)
	if r.Into(t, &got); !got.IsValid || got.LastUsedAt == nil {
		t.Errorf("check of a good key = %s", r.Raw)
	}
	wantOK(t, st.image(t, key, nil), http.StatusOK)
	if st.lastKey(t) != rotated {
		t.Error("the rotated key was not used at once")
	}

	// Another workspace's ids do not exist for it.
	for _, c := range []struct{ method, path string }{
		{"GET", "/api/v1/credentials/" + second.ID}, {"PATCH", "/api/v1/credentials/" + second.ID},
		{"DELETE", "/api/v1/credentials/" + second.ID}, {"POST", "/api/v1/credentials/" + second.ID + "/default"},
		{"POST", "/api/v1/credentials/" + second.ID + "/check"},
	} {
		// Only PATCH takes a body: the others refuse one (400) before looking.
		var body any
		if c.method == "PATCH" {
			body = map[string]any{"name": "mine now"}
		}
		wantError(t, st.do(t, c.method, c.path, other, body), http.StatusNotFound, mediatrail.ENOTFOUND)
	}
	r = st.do(t, "GET", "/api/v1/credentials", other, nil)
	wantOK(t, r, http.StatusOK)
	if strings.Contains(r.Raw, second.ID) {
		t.Error("another workspace lists the credential")
	}

	// Deleting the default promotes the oldest remaining one.
	wantOK(t, st.do(t, "DELETE", "/api/v1/credentials/"+second.ID, key, nil), http.StatusNoContent)
	wantError(t, st.do(t, "GET", "/api/v1/credentials/"+second.ID, key, nil), http.StatusNotFound, mediatrail.ENOTFOUND)
	if got := defaults(); !slices.Equal(got, []string{first.ID}) {
		t.Errorf("defaults after deleting the default = %v, want %s", got, first.ID)
	}

	for name, body := range map[string]any{
		"no key":           map[string]any{"name": "x", "provider": "openai"},
		"no name":          map[string]any{"provider": "openai", "api_key": "sk-123456789"},
		"keyless provider": map[string]any{"name": "x", "provider": "local", "api_key": "sk-123456789"},
		"unknown provider": map[string]any{"name": "x", "provider": "nope", "api_key": "sk-123456789"},
		"base_url scheme":  map[string]any{"name": "x", "provider": "openai", "api_key": "sk-123456789", "base_url": "ftp://gateway.example"},
		"base_url creds":   map[string]any{"name": "x", "provider": "openai", "api_key": "sk-123456789", "base_url": "https://u:p@gateway.example/v1"},
		"wrong type":       map[string]any{"name": 7, "provider": "openai", "api_key": "sk-123456789"},
		"not an object":    "[]",
	} {
		t.Run(name, func(t *testing.T) {
			wantError(t, st.do(t, "POST", "/api/v1/credentials", key, body), http.StatusBadRequest, mediatrail.EINVALID)
		})
	}
	wantError(t, st.do(t, "PATCH", "/api/v1/credentials/"+first.ID, key, map[string]any{"provider": "fal"}), http.StatusBadRequest, mediatrail.EINVALID)
}

// A workspace base_url goes through the public-address policy: the fake on
// 127.0.0.1 is refused unless the tests' allow-list names it, and then the
// gateway, not the deployment's base URL, gets the call.
func TestCredentialBaseURL(t *testing.T) {
	t.Parallel()
	gateway := newStackWith(t, stackOptions{env: map[string]string{"ALLOW_PLATFORM_CREDENTIALS": "false"}})
	key, ws := gateway.workspace(t)
	f := gateway.fakes["openai"]
	f.AcceptKeys(workspaceKey(ws))
	c := gateway.addCredential(t, key, map[string]any{"name": "gateway", "provider": "openai", "api_key": workspaceKey(ws), "base_url": f.BaseURL})
	if c.BaseURL != f.BaseURL {
		t.Errorf("base_url = %q", c.BaseURL)
	}
	r := gateway.image(t, key, nil)
	if r.Status < 500 || len(f.Requests()) != 0 {
		t.Errorf("a base_url on 127.0.0.1 was reached: %d %s", r.Status, r.Raw)
	}
	if strings.Contains(r.Raw, workspaceKey(ws)) || strings.Contains(r.Raw, f.URL) {
		t.Errorf("the error leaks: %s", r.Raw)
	}

	allowed := newStackWith(t, stackOptions{env: map[string]string{"ALLOW_PLATFORM_CREDENTIALS": "false"}, allow: []string{strings.TrimPrefix(f.URL, "http://")}})
	key, ws = allowed.workspace(t)
	f.AcceptKeys(workspaceKey(ws))
	allowed.addCredential(t, key, map[string]any{"name": "gateway", "provider": "openai", "api_key": workspaceKey(ws), "base_url": f.BaseURL})
	// b64_json: the image comes inline (an output URL on the gateway's
	// loopback address is not a provider address of this deployment).
	wantOK(t, allowed.image(t, key, map[string]any{"config": map[string]any{"response_format": "b64_json"}}), http.StatusOK)
	if reqs := f.Requests(); len(reqs) != 1 || reqs[0].Key != workspaceKey(ws) {
		t.Errorf("the gateway got %d requests", len(reqs))
	}
	if n := len(allowed.fakes["openai"].Requests()); n != 0 {
		t.Errorf("the deployment's base URL got %d requests", n)
	}
}

// Must show: a ciphertext moved to another workspace's record does not
// decrypt (local-kms checks the encryption context): the call fails without
// reaching the provider and without detail.
func TestCredentialCiphertextIsBoundToItsRecord(t *testing.T) {
	t.Parallel()
	st := newStackWith(t, stackOptions{env: map[string]string{"ALLOW_PLATFORM_CREDENTIALS": "false"}})
	keyA, wsA := st.workspace(t)
	keyB, wsB := st.workspace(t)
	credA, credB := st.openAIKeyOf(t, keyA, wsA), st.openAIKeyOf(t, keyB, wsB)
	ctx := testenv.Context(t)
	ddb := testenv.DynamoDB(t)
	itemKey := func(ws, id string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "WS#" + ws}, "SK": &types.AttributeValueMemberS{Value: "CRED#" + id}}
	}
	out, err := ddb.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(st.Table), Key: itemKey(wsA, credA.ID)})
	if err != nil || out.Item["ciphertext"] == nil {
		t.Fatalf("read A's credential: %v %v", err, out.Item)
	}
	if _, err := ddb.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(st.Table), Key: itemKey(wsB, credB.ID),
		UpdateExpression:          aws.String("SET ciphertext = :c"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":c": out.Item["ciphertext"]},
	}); err != nil {
		t.Fatal(err)
	}
	before := len(st.fakes["openai"].Requests())
	r := st.image(t, keyB, nil)
	wantError(t, r, http.StatusInternalServerError, mediatrail.EINTERNAL)
	if r.Error.Message != "internal error" {
		t.Errorf("message = %q", r.Error.Message)
	}
	wantError(t, st.do(t, "POST", "/api/v1/credentials/"+credB.ID+"/check", keyB, nil), http.StatusInternalServerError, mediatrail.EINTERNAL)
	if len(st.fakes["openai"].Requests()) != before {
		t.Error("the provider was called with a moved ciphertext")
	}
	wantOK(t, st.image(t, keyA, nil), http.StatusOK) // A's own record still opens
}

// Must show: no answer, log line or table item holds a key. The functions
// run as their bootstraps (their whole output captured); the key goes
// through create, rotation, use, a refusal, a check, idempotency and jobs.
func TestCredentialKeysLeakNowhere(t *testing.T) {
	t.Parallel()
	logs := &testenv.Buffer{}
	st := newStackWith(t, stackOptions{env: map[string]string{"ALLOW_PLATFORM_CREDENTIALS": "false"}, runtime: localstack.RuntimeRIE, log: logs})
	key, ws := st.workspace(t)
	secrets := []string{"sk-leakcheck-" + ws + "-first-7e41", "sk-leakcheck-" + ws + "-second-5d02"}
	var answers []string
	call := func(method, path string, body any) reply {
		r := st.do(t, method, path, key, body)
		answers = append(answers, r.Raw)
		return r
	}
	st.fakes["openai"].AcceptKeys(secrets[0])
	var c credential
	r := call("POST", "/api/v1/credentials", map[string]any{"name": "leak check", "provider": "openai", "api_key": secrets[0]})
	wantOK(t, r, http.StatusCreated)
	r.Into(t, &c)
	wantOK(t, call("POST", "/api/v1/media/image_gen", map[string]any{"provider": "openai", "prompt": "a kite", "idempotency_key": "leak-1"}), http.StatusOK)
	wantOK(t, call("POST", "/api/v1/media/image_gen", map[string]any{"provider": "openai", "prompt": "a kite", "idempotency_key": "leak-1"}), http.StatusOK)
	wantOK(t, call("POST", "/api/v1/credentials/"+c.ID+"/check", nil), http.StatusOK)
	// A refused key: the fake quotes it back; nothing passes it on.
	wantOK(t, call("PATCH", "/api/v1/credentials/"+c.ID, map[string]any{"api_key": secrets[1]}), http.StatusOK)
	wantError(t, call("POST", "/api/v1/media/image_gen", map[string]any{"provider": "openai", "prompt": "a kite"}), http.StatusFailedDependency, mediatrail.EPROVIDERAUTH)
	wantOK(t, call("POST", "/api/v1/credentials/"+c.ID+"/check", nil), http.StatusOK)
	for _, path := range []string{"/api/v1/credentials", "/api/v1/credentials/" + c.ID, "/api/v1/traces", "/api/v1/assets", "/api/v1/media-models?provider=openai"} {
		wantOK(t, call("GET", path, nil), http.StatusOK)
	}

	items := tableItems(t, st.Table)
	if len(items) == 0 || len(logs.Bytes()) == 0 {
		t.Fatalf("nothing to scan: %d items, %d bytes of logs", len(items), len(logs.Bytes()))
	}
	for _, s := range secrets {
		for i, a := range answers {
			if strings.Contains(a, s) {
				t.Errorf("answer %d holds a key: %s", i, a)
			}
		}
		if bytes.Contains(logs.Bytes(), []byte(s)) {
			t.Errorf("the logs hold a key")
		}
		for _, item := range items {
			if containsValue(item, []byte(s)) {
				t.Errorf("item %v %v holds a key", item["PK"], item["SK"])
			}
		}
	}
}

// tableItems scans the whole table.
func tableItems(t *testing.T, table string) []map[string]types.AttributeValue {
	t.Helper()
	var items []map[string]types.AttributeValue
	p := dynamodb.NewScanPaginator(testenv.DynamoDB(t), &dynamodb.ScanInput{TableName: aws.String(table)})
	for p.HasMorePages() {
		out, err := p.NextPage(testenv.Context(t))
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, out.Items...)
	}
	return items
}

// containsValue reports whether any attribute value, at any depth, holds b.
func containsValue(item map[string]types.AttributeValue, b []byte) bool {
	var walk func(v types.AttributeValue) bool
	walk = func(v types.AttributeValue) bool {
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			return strings.Contains(v.Value, string(b))
		case *types.AttributeValueMemberB:
			return bytes.Contains(v.Value, b)
		case *types.AttributeValueMemberSS:
			return slices.ContainsFunc(v.Value, func(s string) bool { return strings.Contains(s, string(b)) })
		case *types.AttributeValueMemberL:
			return slices.ContainsFunc(v.Value, walk)
		case *types.AttributeValueMemberM:
			for _, x := range v.Value {
				if walk(x) {
					return true
				}
			}
		}
		return false
	}
	for _, v := range item {
		if walk(v) {
			return true
		}
	}
	return false
}
