// Package secrets reads the provider secret (PROVIDER_SECRET_ID) of the
// functions that need one. It is the only importer of Secrets Manager, so
// the functions that do not import it do not link it.
package secrets

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// Map holds the provider variables of the Secrets Manager secret
// (PROVIDER_SECRET_ID), read once at cold start.
type Map map[string]string

// Read reads the JSON object of the secret named id; none when id is
// "" (local runs, where the variables come from the environment).
func Read(ctx context.Context, cfg aws.Config, id string) (Map, error) {
	if id == "" {
		return nil, nil
	}
	out, err := secretsmanager.NewFromConfig(cfg).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
	if err != nil {
		return nil, fmt.Errorf("read provider secret: %w", err)
	}
	var s Map
	if err := json.Unmarshal([]byte(aws.ToString(out.SecretString)), &s); err != nil {
		// Never echo the secret's text: it holds keys.
		return nil, fmt.Errorf("provider secret is not a JSON object of strings")
	}
	return s, nil
}

// Over looks variables up in the secret first, then through getenv.
func (s Map) Over(getenv func(string) string) func(string) string {
	return func(k string) string {
		if v := s[k]; v != "" {
			return v
		}
		return getenv(k)
	}
}
