package localstack_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/goformation/v7"

	"github.com/mediatrail/mediatrail/shared/app"
	"github.com/mediatrail/mediatrail/shared/dynamo"
	"github.com/mediatrail/mediatrail/shared/localstack"
	"github.com/mediatrail/mediatrail/shared/testenv"
)

func loadTemplate(t *testing.T) *localstack.Template {
	t.Helper()
	tmpl, err := localstack.LoadTemplate(filepath.Join(repoRoot(), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

// Every function of the template has its folder, handler, Makefile target and
// fixture, and every folder is in the template.
func TestTemplateFunctionsAreComplete(t *testing.T) {
	tmpl := loadTemplate(t)
	root := repoRoot()
	var names []string
	for id, f := range tmpl.Functions {
		names = append(names, f.Name)
		if _, err := os.Stat(filepath.Join(root, "functions", f.Name, "main.go")); err != nil {
			t.Errorf("%s: no functions/%s/main.go", id, f.Name)
		}
		if !slices.Contains(app.Functions(), f.Name) {
			t.Errorf("%s: shared/app names no handler %q", id, f.Name)
		}
		out, err := exec.Command("make", "-s", "-n", "-C", root, "build-"+id, "ARTIFACTS_DIR=/nonexistent").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "./functions/"+f.Name) {
			t.Errorf("%s: Makefile target build-%s does not build ./functions/%s: %s", id, id, f.Name, out)
		}
		if _, err := os.Stat(filepath.Join(root, "events", f.Name+".json")); err != nil {
			t.Errorf("%s: no fixture events/%s.json", id, f.Name)
		}
	}
	dirs, err := os.ReadDir(filepath.Join(root, "functions"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if !slices.Contains(names, d.Name()) {
			t.Errorf("functions/%s is not in template.yaml", d.Name())
		}
	}
	sort.Strings(names)
	if !slices.Equal(names, app.Functions()) {
		t.Errorf("template functions %v, app handlers %v", names, app.Functions())
	}
}

// Each API fixture is a payload 2.0 event for a route of its own function.
func TestFixturesMatchTheirRoutes(t *testing.T) {
	tmpl := loadTemplate(t)
	for id, f := range tmpl.Functions {
		if len(f.Routes) == 0 {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(repoRoot(), "events", f.Name+".json"))
		if err != nil {
			t.Errorf("%s: %v", id, err)
			continue
		}
		var ev events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(raw, &ev); err != nil {
			t.Errorf("%s: fixture is not an HTTP API event: %v", id, err)
			continue
		}
		var keys []string
		for _, r := range f.Routes {
			keys = append(keys, r.RouteKey())
		}
		if ev.Version != "2.0" || !slices.Contains(keys, ev.RouteKey) || ev.RequestContext.RouteKey != ev.RouteKey {
			t.Errorf("%s: fixture route %q (version %q), function routes %v", id, ev.RouteKey, ev.Version, keys)
		}
	}
}

func TestFunctionNameConvention(t *testing.T) {
	for id, want := range map[string]string{
		"AssetListFunction": "asset-list", "AssetSignedUrlFunction": "asset-signed-url", "MediaTtsFunction": "media-tts",
	} {
		if got := localstack.FunctionName(id); got != want {
			t.Errorf("FunctionName(%q) = %q, want %q", id, got, want)
		}
	}
}

// The table in template.yaml is the one the DynamoDB adapter creates locally.
func TestTemplateTableMatchesAdapterSchema(t *testing.T) {
	cf, err := goformation.Open(filepath.Join(repoRoot(), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	table, err := cf.GetDynamoDBTableWithName("AssetsTable")
	if err != nil {
		t.Fatal(err)
	}
	want := dynamo.TableSchema("x")
	describe := func(keys ...[2]string) string { return fmt.Sprint(keys) }
	var gotKeys, wantKeys [][2]string
	for _, k := range table.KeySchema {
		gotKeys = append(gotKeys, [2]string{k.AttributeName, k.KeyType})
	}
	for _, k := range want.KeySchema {
		wantKeys = append(wantKeys, [2]string{*k.AttributeName, string(k.KeyType)})
	}
	if describe(gotKeys...) != describe(wantKeys...) {
		t.Errorf("key schema: template %v, adapter %v", gotKeys, wantKeys)
	}
	gsis := map[string]string{}
	for _, g := range table.GlobalSecondaryIndexes {
		var ks [][2]string
		for _, k := range g.KeySchema {
			ks = append(ks, [2]string{k.AttributeName, k.KeyType})
		}
		gsis[g.IndexName] = describe(ks...) + *g.Projection.ProjectionType
	}
	for _, g := range want.GlobalSecondaryIndexes {
		var ks [][2]string
		for _, k := range g.KeySchema {
			ks = append(ks, [2]string{*k.AttributeName, string(k.KeyType)})
		}
		if got := gsis[*g.IndexName]; got != describe(ks...)+string(g.Projection.ProjectionType) {
			t.Errorf("index %s: template %q, adapter %v %s", *g.IndexName, got, ks, g.Projection.ProjectionType)
		}
		delete(gsis, *g.IndexName)
	}
	if len(gsis) > 0 {
		t.Errorf("template has indexes the adapter does not create: %v", gsis)
	}
	if table.TimeToLiveSpecification == nil || table.TimeToLiveSpecification.AttributeName == nil || *table.TimeToLiveSpecification.AttributeName != "ttl" {
		t.Errorf("template TTL attribute is not ttl")
	}
}

// Every fixture runs through its function's handler via the Lambda handler
// protocol (what `sam local invoke -e` does) and gets an API answer, not a crash.
func TestFixturesInvokeTheirFunctions(t *testing.T) {
	e := newAPI(t)
	ctx := testenv.Context(t)
	for id, f := range e.Template.Functions {
		raw, err := os.ReadFile(filepath.Join(repoRoot(), "events", f.Name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		out, err := lambda.NewHandler(e.App.Handler(f.Name)).Invoke(ctx, raw)
		if err != nil {
			t.Errorf("%s: invoke: %v", id, err)
			continue
		}
		var resp events.APIGatewayV2HTTPResponse
		if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode == 0 {
			t.Errorf("%s: response %s is not an HTTP API response", id, out)
			continue
		}
		if resp.StatusCode >= 500 || resp.Headers["X-Request-Id"] != "JKJaXmPLvHcESHA=" {
			t.Errorf("%s: status %d, request id %q: %s", id, resp.StatusCode, resp.Headers["X-Request-Id"], resp.Body)
		}
	}
}
