package localstack

import (
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"path/filepath"
	"slices"
	"sort"

	"github.com/mediatrail/mediatrail/shared/app"
	"github.com/mediatrail/mediatrail/shared/app/budget"
	"github.com/mediatrail/mediatrail/shared/app/media"
	"github.com/mediatrail/mediatrail/shared/app/static"
)

// constructor builds a function's handler, of whatever shape lambda.Start takes.
type constructor func(context.Context, *app.Env) (any, error)

func of[H any](c app.Constructor[H]) constructor {
	return func(ctx context.Context, e *app.Env) (any, error) { return c(ctx, e) }
}

// constructors are the handler constructors a functions/*/main.go may name,
// by the expression it passes to app.ColdStart. The in-process runtime reads
// each function's main for its constructor (FunctionConstructor), so it runs
// what the bootstrap runs. This table is the local stack's alone: no Lambda
// links it, each links only the constructor its main names.
var constructors = map[string]constructor{
	"app.AssetList":             of(app.AssetList),
	"app.AssetGet":              of(app.AssetGet),
	"app.AssetDelete":           of(app.AssetDelete),
	"app.AssetSignedURL":        of(app.AssetSignedURL),
	"app.AssetRegister":         of(app.AssetRegister),
	"app.AssetComplete":         of(app.AssetComplete),
	"app.AssetCleanup":          of(app.AssetCleanup),
	"app.Cleanup":               of(app.Cleanup),
	"app.WorkspaceRetentionGet": of(app.WorkspaceRetentionGet),
	"app.WorkspaceRetentionSet": of(app.WorkspaceRetentionSet),
	"app.WorkspaceBudgetGet":    of(app.WorkspaceBudgetGet),
	"app.WorkspaceSettingsGet":  of(app.WorkspaceSettingsGet),
	"app.WorkspaceSettingsSet":  of(app.WorkspaceSettingsSet),
	"app.ProvenanceLookup":      of(app.ProvenanceLookup),
	"app.TraceList":             of(app.TraceList),
	"app.TraceSummary":          of(app.TraceSummary),
	"app.TraceGet":              of(app.TraceGet),
	"app.TraceSpanGet":          of(app.TraceSpanGet),
	"static.APISpec":            of(static.APISpec),
	"static.Console":            of(static.Console),
	"media.Generate":            of(media.Generate),
	"budget.WorkspaceBudgetSet": of(budget.WorkspaceBudgetSet),
	"media.TTS":                 of(media.TTS),
	"media.STT":                 of(media.STT),
	"media.ImageGen":            of(media.ImageGen),
	"media.ImageEdit":           of(media.ImageEdit),
	"media.VideoGen":            of(media.VideoGen),
	"media.VideoFromImage":      of(media.VideoFromImage),
	"media.JobGet":              of(media.JobGet),
	"media.JobCancel":           of(media.JobCancel),
	"media.JobList":             of(media.JobList),
	"media.VideoPoll":           of(media.VideoPoll),
	"media.VideoStore":          of(media.VideoStore),
	"media.VideoFail":           of(media.VideoFail),
	"media.VideoNotify":         of(media.VideoNotify),
	"media.CredentialList":      of(media.CredentialList),
	"media.CredentialGet":       of(media.CredentialGet),
	"media.CredentialCreate":    of(media.CredentialCreate),
	"media.CredentialUpdate":    of(media.CredentialUpdate),
	"media.CredentialDelete":    of(media.CredentialDelete),
	"media.CredentialDefault":   of(media.CredentialDefault),
	"media.CredentialCheck":     of(media.CredentialCheck),
	"media.ToolList":            of(media.ToolList),
	"media.ToolGet":             of(media.ToolGet),
	"media.ToolCreate":          of(media.ToolCreate),
	"media.ToolUpdate":          of(media.ToolUpdate),
	"media.ToolDelete":          of(media.ToolDelete),
	"media.AgentToolsGet":       of(media.AgentToolsGet),
	"media.AgentToolsSet":       of(media.AgentToolsSet),
	"media.ModelList":           of(media.ModelList),
	"media.MCP":                 of(media.MCP),
	"media.Reconcile":           of(media.Reconcile),
}

// Constructors lists the constructors the in-process runtime knows, sorted.
func Constructors() []string {
	names := make([]string, 0, len(constructors))
	for n := range constructors {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// FunctionConstructor is the constructor functions/<name>/main.go under dir
// passes to app.ColdStart ("app.AssetGet"), read from its source.
func FunctionConstructor(dir, name string) (string, error) {
	path := filepath.Join(dir, "functions", name, "main.go")
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
	if err != nil {
		return "", err
	}
	var found []string
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if ok && types.ExprString(call.Fun) == "app.ColdStart" && len(call.Args) == 1 {
			found = append(found, types.ExprString(call.Args[0]))
		}
		return true
	})
	if len(found) != 1 {
		return "", fmt.Errorf("%s: want one app.ColdStart(constructor) call, found %d", path, len(found))
	}
	if !slices.Contains(Constructors(), found[0]) {
		return "", fmt.Errorf("%s: constructor %s is not in the local stack's table (internal/localstack/functions.go)", path, found[0])
	}
	return found[0], nil
}

// inProcessHandler builds the handler of functions/<name>/main.go under dir
// from env, as its cold start would.
func inProcessHandler(ctx context.Context, dir, name string, env map[string]string) (any, error) {
	c, err := FunctionConstructor(dir, name)
	if err != nil {
		return nil, err
	}
	e, err := app.Load(ctx, func(k string) string { return env[k] })
	if err != nil {
		return nil, err
	}
	return constructors[c](ctx, e)
}
