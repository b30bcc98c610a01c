package httpapi_test

import (
	"context"
	"encoding/base64"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/httpapi"
)

// Fuzz targets for the JSON request decoders (go test -fuzz=FuzzXxx
// ./shared/httpapi). Whatever the body, the answer is an envelope with a
// status below 500: a client's mistake is never a server error. The services
// have pure in-memory stand-ins (unit tests): every request that passes
// validation stops at them with a 4xx, so any 5xx comes from decoding or
// validation.

const fuzzKey = "fuzz-key"

// keys knows one key.
type keys struct{ mediatrail.KeyStore }

func (keys) WorkspaceForKeyHash(_ context.Context, h string) (string, error) {
	if h != mediatrail.HashAPIKey(fuzzKey) {
		return "", mediatrail.Errorf(mediatrail.EUNAUTHENTICATED, "invalid API key")
	}
	return "ws-fuzz", nil
}

// noProviders answers every provider name as unknown.
type noProviders struct{}

func (noProviders) Get(string) (mediatrail.Provider, error) {
	return nil, mediatrail.Invalid("provider", "no provider in this test")
}

// busyAssets refuses every write as a conflict.
type busyAssets struct{ mediatrail.AssetStore }

func (busyAssets) CreateAsset(context.Context, *mediatrail.Asset) error {
	return mediatrail.Errorf(mediatrail.ECONFLICT, "busy")
}

func fuzzBodies(f *testing.F, seeds ...string) {
	for _, s := range append(seeds, ``, `{}`, `[]`, `null`, `{"a":`, `{"config":{"a":{"b":{"c":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}}}}`,
		`{"metadata":{"x":1e400}}`, `{"size":-1}`, `{"size":1e30}`, "{\"file_name\":\"a\u202Eb\"}", `{"retention_days":"7"}`) {
		f.Add([]byte(s), false)
	}
}

func fuzzServe(t *testing.T, e httpapi.Endpoint, body []byte, b64 bool) {
	api := &httpapi.API{Keys: keys{}}
	ev := events.APIGatewayV2HTTPRequest{Headers: map[string]string{"x-api-key": fuzzKey}, Body: string(body)}
	if b64 {
		ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
	}
	resp, err := api.Handler(e)(context.Background(), ev)
	if err != nil || resp.StatusCode >= 500 || resp.StatusCode < 200 {
		t.Fatalf("body %q: status %d, err %v: %s", body, resp.StatusCode, err, resp.Body)
	}
}

func FuzzGenerateMediaBody(f *testing.F) {
	fuzzBodies(f, `{"provider":"openai","media_type":"tts","prompt":"hi"}`, `{"provider":"x","media_type":"video_gen","prompt":"a","callback_url":"http://[::1]/"}`,
		`{"provider":"x","media_type":"stt","input_url":"http://a/`+string(make([]byte, 100))+`"}`)
	svc := &mediatrail.MediaService{Providers: noProviders{}}
	f.Fuzz(func(t *testing.T, body []byte, b64 bool) { fuzzServe(t, httpapi.GenerateMedia(svc, ""), body, b64) })
}

func FuzzRegisterAssetBody(f *testing.F) {
	fuzzBodies(f, `{"file_name":"a.txt","content_type":"text/plain","size":5,"sha256":"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"}`)
	svc := &mediatrail.AssetService{Store: busyAssets{}}
	f.Fuzz(func(t *testing.T, body []byte, b64 bool) { fuzzServe(t, httpapi.RegisterAsset(svc), body, b64) })
}
