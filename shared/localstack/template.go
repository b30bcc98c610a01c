package localstack

import (
	"fmt"
	"sort"
	"strings"
	"unicode"

	"github.com/awslabs/goformation/v7"
	"github.com/awslabs/goformation/v7/intrinsics"
)

// Function is one AWS::Serverless::Function of the template.
type Function struct {
	LogicalID string
	// Name is the folder under functions/ (AssetListFunction → asset-list).
	Name   string
	Routes []Route
}

// Route is one HttpApi event: method and path as API Gateway matches them.
type Route struct {
	Method   string // upper case, or ANY
	Path     string // /api/v1/assets/{id}
	Function string // logical id
}

// RouteKey is API Gateway's "METHOD /path".
func (r Route) RouteKey() string { return r.Method + " " + r.Path }

// Template is what the local stack reads from template.yaml.
type Template struct {
	Functions map[string]*Function // by logical id
	Routes    []Route
}

// placeholder keeps intrinsic functions visible instead of goformation's
// default of resolving unknown references to "".
func placeholder(name string, input any, _ any) any { return fmt.Sprintf("${%s:%v}", name, input) }

// LoadTemplate parses a SAM template.
func LoadTemplate(path string) (*Template, error) {
	overrides := map[string]intrinsics.IntrinsicHandler{}
	for _, fn := range []string{"Ref", "Fn::GetAtt", "Fn::Sub", "Fn::If", "Fn::Join", "Fn::Select", "Fn::ImportValue", "Fn::FindInMap"} {
		overrides[fn] = placeholder
	}
	tmpl, err := goformation.OpenWithOptions(path, &intrinsics.ProcessorOptions{IntrinsicHandlerOverrides: overrides})
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	t := &Template{Functions: map[string]*Function{}}
	for id, fn := range tmpl.GetAllServerlessFunctionResources() {
		f := &Function{LogicalID: id, Name: FunctionName(id)}
		for _, ev := range fn.Events {
			if ev.Properties == nil || ev.Properties.HttpApiEvent == nil {
				continue
			}
			h := ev.Properties.HttpApiEvent
			method, path := "ANY", "/$default"
			if h.Method != nil {
				method = strings.ToUpper(*h.Method)
			}
			if h.Path != nil {
				path = *h.Path
			}
			f.Routes = append(f.Routes, Route{Method: method, Path: path, Function: id})
		}
		t.Functions[id] = f
		t.Routes = append(t.Routes, f.Routes...)
	}
	sort.Slice(t.Routes, func(i, j int) bool { return t.Routes[i].RouteKey() < t.Routes[j].RouteKey() })
	return t, nil
}

// FunctionName maps a logical id to its folder: "AssetSignedUrlFunction" →
// "asset-signed-url". The convention is checked by tests for every function.
func FunctionName(logicalID string) string {
	id := strings.TrimSuffix(logicalID, "Function")
	var b strings.Builder
	for i, r := range id {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('-')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}
