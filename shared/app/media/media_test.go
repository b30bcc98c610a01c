package media

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/mediatrail/mediatrail/shared/app/secrets"
)

// secretsManager answers GetSecretValue with secret for the id "providers".
func secretsManager(t *testing.T, secret string) aws.Config {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var in struct{ SecretId string }
		_ = json.Unmarshal(body, &in)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		if r.Header.Get("X-Amz-Target") != "secretsmanager.GetSecretValue" || in.SecretId != "providers" {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"__type":"ResourceNotFoundException","message":"Secrets Manager can't find the specified secret."}`)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"Name": "providers", "SecretString": secret})
	}))
	t.Cleanup(srv.Close)
	return aws.Config{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("id", "secret", ""),
	}
}

func TestProviderSecrets(t *testing.T) {
	ctx := context.Background()
	cfg := secretsManager(t, `{"OPENAI_API_KEY":"sk-from-secret","FAL_KEY":""}`)
	s, err := secrets.Read(ctx, cfg, "providers")
	if err != nil {
		t.Fatal(err)
	}
	env := s.Over(func(k string) string {
		return map[string]string{"OPENAI_API_KEY": "sk-from-env", "FAL_KEY": "fal-from-env"}[k]
	})
	if env("OPENAI_API_KEY") != "sk-from-secret" || env("FAL_KEY") != "fal-from-env" || env("OTHER") != "" {
		t.Errorf("secret over env: %q %q", env("OPENAI_API_KEY"), env("FAL_KEY"))
	}
	if s, err := secrets.Read(ctx, cfg, ""); s != nil || err != nil {
		t.Errorf("no secret id: %v %v", s, err)
	}
	if _, err := secrets.Read(ctx, cfg, "missing"); err == nil {
		t.Errorf("a missing secret was read")
	}
	// A secret that is not a JSON object is refused without echoing its text.
	_, err = secrets.Read(ctx, secretsManager(t, "sk-raw-key-not-json"), "providers")
	if err == nil || strings.Contains(err.Error(), "sk-raw-key") {
		t.Errorf("error = %v", err)
	}
}

func TestLiteralAddr(t *testing.T) {
	for raw, want := range map[string]string{
		"http://127.0.0.1:8080/v1":   "127.0.0.1:8080",
		"https://10.0.0.5/api":       "10.0.0.5:443",
		"http://[::1]:9000":          "[::1]:9000",
		"http://[::ffff:127.0.0.1]/": "127.0.0.1:80",
		"https://api.openai.com/v1":  "",
		"":                           "",
	} {
		ap, ok := literalAddr(raw)
		if got := map[bool]string{true: ap.String(), false: ""}[ok]; got != want {
			t.Errorf("literalAddr(%q) = %q, want %q", raw, got, want)
		}
	}
	allow := allowOnly([]netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:8080")})
	if !allow(netip.MustParseAddrPort("[::ffff:127.0.0.1]:8080")) || allow(netip.MustParseAddrPort("127.0.0.1:8081")) {
		t.Errorf("allowOnly admits the wrong addresses")
	}
	if allowOnly(nil) != nil {
		t.Errorf("an empty list admits something")
	}
}
