package app

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// credentialsFrom takes the keys Lambda puts in the environment first, then
// the container endpoint (with its authorization token, inline or in a
// file), and fails lazily when neither is named.
func TestCredentialsFrom(t *testing.T) {
	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "token-1" {
			http.Error(w, `{"code":"Unauthorized","message":"bad token"}`, http.StatusUnauthorized)
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"AccessKeyId": "container-id", "SecretAccessKey": "container-secret",
			"Token": "container-token", "Expiration": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)})
	}))
	t.Cleanup(endpoint.Close)
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("token-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name            string
		env             map[string]string
		wantID, wantTok string
		wantErr         bool
	}{
		{name: "lambda keys", env: map[string]string{"AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": "secret",
			"AWS_SESSION_TOKEN": "session", "AWS_CONTAINER_CREDENTIALS_FULL_URI": endpoint.URL}, wantID: "id", wantTok: "session"},
		{name: "container token", env: map[string]string{"AWS_CONTAINER_CREDENTIALS_FULL_URI": endpoint.URL,
			"AWS_CONTAINER_AUTHORIZATION_TOKEN": "token-1"}, wantID: "container-id", wantTok: "container-token"},
		{name: "container token file", env: map[string]string{"AWS_CONTAINER_CREDENTIALS_FULL_URI": endpoint.URL,
			"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": tokenFile}, wantID: "container-id", wantTok: "container-token"},
		{name: "container refuses", env: map[string]string{"AWS_CONTAINER_CREDENTIALS_FULL_URI": endpoint.URL,
			"AWS_CONTAINER_AUTHORIZATION_TOKEN": "wrong"}, wantErr: true},
		{name: "key without secret", env: map[string]string{"AWS_ACCESS_KEY_ID": "id"}, wantErr: true},
		{name: "none", env: map[string]string{}, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			creds, err := credentialsFrom(func(k string) string { return tc.env[k] }).Retrieve(context.Background())
			if tc.wantErr {
				if err == nil {
					t.Fatalf("got credentials %q, want an error", creds.AccessKeyID)
				}
				return
			}
			if err != nil || creds.AccessKeyID != tc.wantID || creds.SessionToken != tc.wantTok {
				t.Fatalf("got %q/%q, %v; want %q/%q", creds.AccessKeyID, creds.SessionToken, err, tc.wantID, tc.wantTok)
			}
		})
	}
	if _, err := credentialsFrom(func(string) string { return "" }).Retrieve(context.Background()); !errors.Is(err, errNoCredentials) {
		t.Fatalf("empty environment: %v, want errNoCredentials", err)
	}
}
