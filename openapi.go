// Package openapi holds the HTTP contract of mediatrail, openapi.yaml at the
// root of the repository, embedded: the API serves it (GET
// /api/v1/openapi.json) and the tests hold every answer to it.
package openapi

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sync"

	"go.yaml.in/yaml/v4"
)

// YAML is openapi.yaml as written.
//
//go:embed openapi.yaml
var YAML []byte

// JSON returns the document as JSON (anchors expanded, comments dropped),
// converted once.
var JSON = sync.OnceValues(func() ([]byte, error) {
	var doc any
	if err := yaml.Unmarshal(YAML, &doc); err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	return json.Marshal(doc)
})
