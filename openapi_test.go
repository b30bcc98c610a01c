package openapi_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	openapi "github.com/mediatrail/mediatrail"
	"github.com/mediatrail/mediatrail/internal/localstack"
)

func loadSpec(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(openapi.YAML)
	if err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	return doc
}

// The document is valid OpenAPI 3.1, its examples included, and its JSON form
// (what GET /api/v1/openapi.json serves) is the same document.
func TestSpecIsValid(t *testing.T) {
	doc := loadSpec(t)
	if !doc.IsOpenAPI31OrLater() {
		t.Errorf("openapi %q, want 3.1", doc.OpenAPI)
	}
	if err := doc.Validate(context.Background(), openapi3.EnableExamplesValidation()); err != nil {
		t.Fatalf("openapi.yaml is invalid: %v", err)
	}
	raw, err := openapi.JSON()
	if err != nil {
		t.Fatal(err)
	}
	fromJSON, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		t.Fatalf("served JSON: %v", err)
	}
	want, _ := json.Marshal(doc)
	got, _ := json.Marshal(fromJSON)
	if string(got) != string(want) {
		t.Error("the JSON form differs from openapi.yaml")
	}
}

// Every route of template.yaml is in the spec, and the spec has no route the
// template does not serve. The failure lists what is missing on each side.
func TestSpecCoversEveryTemplateRoute(t *testing.T) {
	tmpl, err := localstack.LoadTemplate("template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var served, specified []string
	for _, r := range tmpl.Routes {
		served = append(served, r.RouteKey())
	}
	for path, item := range loadSpec(t).Paths.Map() {
		for method := range item.Operations() {
			specified = append(specified, method+" "+path)
		}
	}
	if missing := difference(served, specified); len(missing) > 0 {
		t.Errorf("routes of template.yaml missing from openapi.yaml:\n  %s", strings.Join(missing, "\n  "))
	}
	if extra := difference(specified, served); len(extra) > 0 {
		t.Errorf("routes of openapi.yaml that template.yaml does not serve:\n  %s", strings.Join(extra, "\n  "))
	}
}

// Every operation names its error answers with the envelope, and every
// operation but the document itself and the console's static files needs a key.
func TestEveryOperationDeclaresItsErrors(t *testing.T) {
	doc := loadSpec(t)
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			name := method + " " + path
			public := op.Security != nil && len(*op.Security) == 0
			if public != (path == "/api/v1/openapi.json" || strings.HasPrefix(path, "/console")) {
				t.Errorf("%s: public = %v", name, public)
			}
			if public {
				continue
			}
			for _, status := range []string{"400", "401", "500"} {
				r := op.Responses.Value(status)
				if r == nil || r.Value.Content.Get("application/json") == nil {
					t.Errorf("%s: no %s error envelope", name, status)
				}
			}
		}
	}
}

func difference(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	slices.Sort(out)
	return out
}
