package kms_test

import (
	"bytes"
	"testing"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/kms"
	"github.com/mediatrail/mediatrail/shared/testenv"
)

// Against local-kms: a secret opens only under the encryption context it was
// sealed with, so a ciphertext moved to another workspace's or another
// credential's record does not decrypt; and the ciphertext does not hold
// the plaintext.
func TestBoxBindsTheEncryptionContext(t *testing.T) {
	client, keyID := testenv.KMS(t)
	box := kms.New(client, keyID)
	ctx := testenv.Context(t)
	secret := []byte("sk-workspace-a-0123456789abcdef")
	sealed, err := box.Encrypt(ctx, secret, mediatrail.CredentialContext("ws-a", "cred-1"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, secret) {
		t.Fatal("the ciphertext holds the plaintext")
	}
	got, err := box.Decrypt(ctx, sealed, mediatrail.CredentialContext("ws-a", "cred-1"))
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("decrypt under its own context: %q, %v", got, err)
	}
	for _, tc := range []struct{ name, ws, id string }{
		{"another workspace", "ws-b", "cred-1"},
		{"another credential", "ws-a", "cred-2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := box.Decrypt(ctx, sealed, mediatrail.CredentialContext(tc.ws, tc.id))
			if err == nil {
				t.Fatalf("decrypted under %s/%s: %q", tc.ws, tc.id, got)
			}
			if bytes.Contains([]byte(err.Error()), secret) {
				t.Errorf("the error holds the secret: %v", err)
			}
		})
	}
	if _, err := kms.New(client, "").Encrypt(ctx, secret, nil); err == nil {
		t.Error("a box without a key encrypted")
	}
}
