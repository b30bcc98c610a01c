package localstack_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/mediatrail/mediatrail/shared/localstack"
	"github.com/mediatrail/mediatrail/shared/testenv"
)

// fixtureGaps are the fixtures that do not yet answer success on a fresh
// stack, with what they answer instead: they name an asset, credential,
// tool or job that `make invoke` does not seed yet, a provider that needs
// its key, or callbacks the local stack has no secret for. The list may
// only shrink: a gap that starts to succeed fails the test until removed.
var fixtureGaps = map[string]string{
	"asset-get.json":              "not_found",
	"asset-delete.json":           "not_found",
	"asset-signed-url.json":       "not_found",
	"asset-complete.json":         "not_found",
	"media-generate.json":         "not_found",
	"media-tts.json":              "not_found",
	"media-stt.json":              "not_found",
	"media-image-gen.json":        "not_found",
	"media-image-edit.json":       "not_found",
	"media-video-from-image.json": "not_found",
	"media-video-gen.json":        "validation_error",
	"media-job-get.json":          "not_found",
	"media-job-cancel.json":       "not_found",
	"credential-get.json":         "not_found",
	"credential-update.json":      "not_found",
	"credential-delete.json":      "not_found",
	"credential-default.json":     "not_found",
	"credential-check.json":       "not_found",
	"media-tool-get.json":         "not_found",
	"media-tool-update.json":      "not_found",
	"media-tool-delete.json":      "not_found",
	// Not gaps: the MCP server answers GET and DELETE 405 by design.
	"mcp-get.json":    "405",
	"mcp-delete.json": "405",
}

// fixtureFunction is the function a fixture is for: the one named like
// the file, else the longest name the file starts with (cleanup-*.json
// are CleanupFunction's, reconcile-dry-run.json ReconcileFunction's).
func fixtureFunction(tmpl *localstack.Template, file string) string {
	name := strings.TrimSuffix(file, ".json")
	best, id := "", ""
	for _, f := range tmpl.Functions {
		if (name == f.Name || strings.HasPrefix(name, f.Name+"-")) && len(f.Name) > len(best) {
			best, id = f.Name, f.LogicalID
		}
	}
	return id
}

// Every events/ fixture on a fresh stack (in-process, its own table and
// bucket), with the fixtures' key: it answers success (a 2xx, or a handler
// result without a function error), or, for a listed gap, exactly the
// failure listed; never a server error.
func TestFixturesOnFreshStack(t *testing.T) {
	s := startStack(t, localstack.Options{Runtime: localstack.RuntimeInProcess, Emulators: testEmulators(t),
		APIKeys: map[string]string{fixtureKey: "examples"}})
	ctx := testenv.Context(t)
	files, err := filepath.Glob(filepath.Join(repoRoot(), "events", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	sort.Strings(files)
	for _, path := range files {
		file := filepath.Base(path)
		t.Run(file, func(t *testing.T) {
			id := fixtureFunction(s.Template, file)
			if id == "" {
				t.Fatalf("no function of template.yaml is named like %s", file)
			}
			event, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			out, err := s.Invoke(ctx, id, event)
			var fe *localstack.FunctionError
			got := "ok"
			switch {
			case errors.As(err, &fe):
				got = "function error: " + string(fe.Payload)
			case err != nil:
				t.Fatalf("invoke %s: %v", id, err)
			default:
				var resp struct {
					StatusCode int    `json:"statusCode"`
					Body       string `json:"body"`
				}
				if json.Unmarshal(out, &resp) == nil && resp.StatusCode >= 400 {
					var env struct {
						Error struct{ Code string } `json:"error"`
					}
					got = strconv.Itoa(resp.StatusCode)
					if json.Unmarshal([]byte(resp.Body), &env) == nil && env.Error.Code != "" {
						got = env.Error.Code
					}
					if resp.StatusCode >= 500 {
						t.Errorf("%s answered %d: %s", file, resp.StatusCode, resp.Body)
					}
				}
			}
			want := "ok"
			if gap, ok := fixtureGaps[file]; ok {
				want = gap
			}
			if got != want {
				t.Errorf("%s (%s): %s, want %s", file, id, got, want)
			}
		})
	}
}
