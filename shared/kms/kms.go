// Package kms seals workspace secrets (provider keys) with AWS KMS: the
// mediatrail.SecretBox of the credentials. Locally it runs against local-kms
// (AWS_ENDPOINT_URL_KMS), seeded with the template's key.
package kms

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// API is the part of *kms.Client the box uses.
type API interface {
	Encrypt(ctx context.Context, in *kms.EncryptInput, optFns ...func(*kms.Options)) (*kms.EncryptOutput, error)
	Decrypt(ctx context.Context, in *kms.DecryptInput, optFns ...func(*kms.Options)) (*kms.DecryptOutput, error)
}

var (
	_ API                  = (*kms.Client)(nil)
	_ mediatrail.SecretBox = (*Box)(nil)
)

// Box encrypts under one KMS key. Functions that only decrypt need no key id
// (the ciphertext names its key) but are checked against it.
type Box struct {
	client API
	keyID  string
}

// New returns a box over keyID (an id, ARN or alias).
func New(client API, keyID string) *Box { return &Box{client: client, keyID: keyID} }

// ErrNotConfigured is the error of a box without a key id.
var ErrNotConfigured = errors.New("kms: no key id configured (CREDENTIALS_KEY_ID)")

// Encrypt seals plaintext with the encryption context bound in. Errors never
// hold the plaintext.
func (b *Box) Encrypt(ctx context.Context, plaintext []byte, encryptionContext map[string]string) ([]byte, error) {
	if b.keyID == "" {
		return nil, ErrNotConfigured
	}
	out, err := b.client.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(b.keyID), Plaintext: plaintext, EncryptionContext: encryptionContext})
	if err != nil {
		return nil, fmt.Errorf("kms: encrypt: %w", err)
	}
	return out.CiphertextBlob, nil
}

// Decrypt opens a ciphertext made by Encrypt with the same encryption
// context; any other context (a ciphertext moved to another workspace's
// record) fails. The key must be the box's.
func (b *Box) Decrypt(ctx context.Context, ciphertext []byte, encryptionContext map[string]string) ([]byte, error) {
	if b.keyID == "" {
		return nil, ErrNotConfigured
	}
	out, err := b.client.Decrypt(ctx, &kms.DecryptInput{KeyId: aws.String(b.keyID), CiphertextBlob: ciphertext, EncryptionContext: encryptionContext})
	if err != nil {
		return nil, fmt.Errorf("kms: decrypt: %w", err)
	}
	return out.Plaintext, nil
}
