package localstack

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"unicode"

	"github.com/awslabs/goformation/v7"
	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/intrinsics"
)

// CloudFormation resource types the local stack knows.
const (
	typeFunction     = "AWS::Serverless::Function"
	typeStateMachine = "AWS::Serverless::StateMachine"
	typeHTTPAPI      = "AWS::Serverless::HttpApi"
	typeTable        = "AWS::DynamoDB::Table"
	typeBucket       = "AWS::S3::Bucket"
	typeKMSKey       = "AWS::KMS::Key"
)

// implicitHTTPAPI is the logical id SAM gives the HTTP API it creates for
// HttpApi events without an ApiId.
const implicitHTTPAPI = "ServerlessHttpApi"

// Template is what the local stack reads from a SAM template. Values that were
// intrinsic functions in the template stay unresolved here (see Resolve).
type Template struct {
	// Path is the template file; function folders and DefinitionUri files are
	// relative to its directory.
	Path          string
	Functions     map[string]*Function     // by logical id
	StateMachines map[string]*StateMachine // by logical id
	APIs          map[string]*HTTPAPI      // by logical id
	// Routes of every HTTP API, sorted by route key.
	Routes []Route
	// Tables and Buckets are the logical ids of the DynamoDB tables and S3
	// buckets, sorted.
	Tables, Buckets []string

	resources map[string]string // logical id → type
	// conditionOf names the condition of each resource that has one: the
	// resource exists only where it holds.
	conditionOf map[string]string
	names       map[string]string // logical id → FunctionName / Name / BucketName property
	parameters  map[string]string // defaults
	conditions  map[string]any
	mappings    map[string]any
}

// Function is one AWS::Serverless::Function, with Globals.Function merged in.
type Function struct {
	LogicalID string
	// Name is the folder under functions/ (AssetListFunction → asset-list).
	Name string
	// Env is the merged environment (the function's variables win over the
	// globals'), values unresolved.
	Env map[string]string
	// Timeout in seconds and MemorySize in MB, as Lambda applies them.
	Timeout, MemorySize int
	Routes              []Route
	S3Events            []S3Event
	Policies            []Policy
}

// Route is one HttpApi event: method and path as API Gateway matches them.
type Route struct {
	Method   string // upper case, or ANY
	Path     string // /api/v1/assets/{id}, or $default
	Function string // logical id
	// API is the logical id of the HTTP API.
	API string
}

// RouteKey is API Gateway's "METHOD /path" ("$default" for the default route).
func (r Route) RouteKey() string {
	if r.Path == "$default" {
		return "$default"
	}
	return r.Method + " " + r.Path
}

// S3Event is an S3 event source of a function: which bucket, event types and
// key filter rules invoke it.
type S3Event struct {
	// Name is the event's key under Events in the template.
	Name     string
	Function string // logical id
	// Bucket is the logical id of the bucket.
	Bucket string
	// Types are event types such as "s3:ObjectRemoved:*".
	Types []string
	// Prefix and Suffix filter object keys ("" matches any).
	Prefix, Suffix string
}

// Policy is one entry of a function's Policies.
type Policy struct {
	// Template is a SAM policy template name (DynamoDBReadPolicy) with its
	// parameters; Managed is a managed policy name or ARN; otherwise the
	// entry is an inline document of Statements.
	Template   string
	Parameters map[string]string
	Managed    string
	Statements []Statement
}

// Statement is an IAM policy statement; Resources are unresolved.
type Statement struct {
	Effect    string
	Actions   []string
	Resources []string
}

// StateMachine is one AWS::Serverless::StateMachine.
type StateMachine struct {
	LogicalID string
	// DefinitionPath is the DefinitionUri file (absolute), or "" when the
	// definition is inline (Definition).
	DefinitionPath string
	Definition     json.RawMessage
	// Substitutions are the DefinitionSubstitutions, unresolved.
	Substitutions map[string]string
}

// HTTPAPI is an AWS::Serverless::HttpApi (or the implicit one).
type HTTPAPI struct {
	LogicalID string
	// CORS is nil when the API has no CorsConfiguration.
	CORS *CORS
}

// CORS is an HTTP API's CorsConfiguration.
type CORS struct {
	AllowOrigins, AllowHeaders, AllowMethods, ExposeHeaders []string
	AllowCredentials                                        bool
	MaxAge                                                  int
}

// LoadTemplate parses a SAM template with goformation, keeping intrinsic
// functions as tokens that Resolve evaluates against local resources, and
// merges Globals.Function into every function (goformation does not).
func LoadTemplate(path string) (*Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	processed, err := processYAML(data)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	// goformation's typed model validates the property types.
	typed, err := withoutAlarms(processed)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	cf, err := parseJSON(typed)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	var raw rawTemplate
	if err := json.Unmarshal(processed, &raw); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	t := &Template{
		Path:          abs,
		Functions:     map[string]*Function{},
		StateMachines: map[string]*StateMachine{},
		APIs:          map[string]*HTTPAPI{},
		resources:     map[string]string{},
		conditionOf:   map[string]string{},
		names:         map[string]string{},
		parameters:    map[string]string{},
		conditions:    cf.Conditions,
		mappings:      cf.Mappings,
	}
	for name, p := range cf.Parameters {
		if p.Default != nil {
			t.parameters[name], _ = scalar(p.Default)
		} else {
			t.parameters[name] = ""
		}
	}
	for id, r := range raw.Resources {
		t.resources[id] = r.Type
		if r.Condition != "" {
			t.conditionOf[id] = r.Condition
		}
		switch r.Type {
		case typeTable:
			t.Tables = append(t.Tables, id)
		case typeBucket:
			t.Buckets = append(t.Buckets, id)
			var p struct{ BucketName string }
			if json.Unmarshal(r.Properties, &p) == nil && p.BucketName != "" {
				t.names[id] = p.BucketName
			}
		}
	}
	sort.Strings(t.Tables)
	sort.Strings(t.Buckets)
	if err := t.loadAPIs(cf, raw); err != nil {
		return nil, err
	}
	if err := t.loadFunctions(cf, raw); err != nil {
		return nil, err
	}
	if err := t.loadStateMachines(cf); err != nil {
		return nil, err
	}
	sort.Slice(t.Routes, func(i, j int) bool { return t.Routes[i].RouteKey() < t.Routes[j].RouteKey() })
	for i := 1; i < len(t.Routes); i++ {
		if t.Routes[i].RouteKey() == t.Routes[i-1].RouteKey() {
			return nil, fmt.Errorf("%s: route %q is declared by %s and %s", path, t.Routes[i].RouteKey(), t.Routes[i-1].Function, t.Routes[i].Function)
		}
	}
	return t, nil
}

// withoutAlarms drops the CloudWatch alarms from a processed template before
// goformation's typed parse: their thresholds are parameters (!Ref), which the
// typed model cannot hold in a number while intrinsics are kept as tokens, and
// the local stack deploys no alarm. shared/obs's tests check the alarms.
func withoutAlarms(processed []byte) ([]byte, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(processed, &doc); err != nil {
		return nil, err
	}
	var resources map[string]json.RawMessage
	if err := json.Unmarshal(doc["Resources"], &resources); err != nil {
		return nil, err
	}
	for id, r := range resources {
		var head struct{ Type string }
		if json.Unmarshal(r, &head) == nil && head.Type == "AWS::CloudWatch::Alarm" {
			delete(resources, id)
		}
	}
	b, err := json.Marshal(resources)
	if err != nil {
		return nil, err
	}
	doc["Resources"] = b
	return json.Marshal(doc)
}

// goformation is not safe for concurrent use: it registers its YAML tag
// handlers in a global map on every ProcessYAML call, which races with any
// parse running beside it, and it promises nothing for the rest. Every call
// into it holds goformationMu, so that LoadTemplate may run from several
// goroutines (tests start stacks in parallel).
var goformationMu sync.Mutex

func processYAML(data []byte) ([]byte, error) {
	goformationMu.Lock()
	defer goformationMu.Unlock()
	return intrinsics.ProcessYAML(data, processorOptions())
}

// parseJSON is goformation's typed parse of a processed template, keeping
// intrinsic functions as they are.
func parseJSON(data []byte) (*cloudformation.Template, error) {
	goformationMu.Lock()
	defer goformationMu.Unlock()
	return goformation.ParseJSONWithOptions(data, &intrinsics.ProcessorOptions{NoProcess: true})
}

// Dir is the directory holding the template.
func (t *Template) Dir() string { return filepath.Dir(t.Path) }

type rawTemplate struct {
	Globals struct {
		Function struct {
			Environment *struct{ Variables map[string]string }
		}
	}
	Resources map[string]struct {
		Type       string
		Condition  string
		Properties json.RawMessage
	}
}

type rawFunction struct {
	Events   map[string]rawEvent
	Policies json.RawMessage
}

type rawEvent struct {
	Type       string
	Properties json.RawMessage
}

type rawHTTPAPIEvent struct {
	ApiId, Method, Path string
	Auth                *struct{ Authorizer string }
}

type rawS3Event struct {
	Bucket string
	Events stringList
	Filter *struct {
		S3Key struct {
			Rules []struct{ Name, Value string }
		}
	}
}

// stringList decodes a string or a list of strings.
type stringList []string

func (s *stringList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = []string{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("want a string or a list of strings: %s", b)
	}
	*s = many
	return nil
}

func (t *Template) loadFunctions(cf *cloudformation.Template, raw rawTemplate) error {
	globalEnv := map[string]string{}
	globalTimeout, globalMemory := 3, 128 // Lambda's defaults
	if g, err := cf.GetServerlessGlobalFunction(); err == nil {
		if g.Timeout != nil {
			globalTimeout = *g.Timeout
		}
		if g.MemorySize != nil {
			globalMemory = *g.MemorySize
		}
	}
	if e := raw.Globals.Function.Environment; e != nil {
		globalEnv = e.Variables
	}
	for id, fn := range cf.GetAllServerlessFunctionResources() {
		f := &Function{LogicalID: id, Name: FunctionName(id), Env: map[string]string{}, Timeout: globalTimeout, MemorySize: globalMemory}
		for k, v := range globalEnv {
			f.Env[k] = v
		}
		if fn.Environment != nil {
			for k, v := range fn.Environment.Variables {
				f.Env[k] = v
			}
		}
		if fn.Timeout != nil {
			f.Timeout = *fn.Timeout
		}
		if fn.MemorySize != nil {
			f.MemorySize = *fn.MemorySize
		}
		if fn.FunctionName != nil {
			t.names[id] = *fn.FunctionName
		}
		var rf rawFunction
		if err := json.Unmarshal(raw.Resources[id].Properties, &rf); err != nil {
			return fmt.Errorf("%s: %w", id, err)
		}
		if err := t.loadEvents(f, rf.Events); err != nil {
			return fmt.Errorf("%s: %w", id, err)
		}
		policies, err := parsePolicies(rf.Policies)
		if err != nil {
			return fmt.Errorf("%s: Policies: %w", id, err)
		}
		f.Policies = policies
		t.Functions[id] = f
		t.Routes = append(t.Routes, f.Routes...)
	}
	return nil
}

func (t *Template) loadEvents(f *Function, evs map[string]rawEvent) error {
	names := make([]string, 0, len(evs))
	for name := range evs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		ev := evs[name]
		switch ev.Type {
		case "HttpApi":
			var h rawHTTPAPIEvent
			if len(ev.Properties) > 0 {
				if err := json.Unmarshal(ev.Properties, &h); err != nil {
					return fmt.Errorf("event %s: %w", name, err)
				}
			}
			r := Route{Method: "ANY", Path: "$default", Function: f.LogicalID, API: implicitHTTPAPI}
			if h.Method != "" {
				r.Method = strings.ToUpper(h.Method)
			}
			if h.Path != "" {
				r.Path = h.Path
			}
			if h.ApiId != "" {
				if r.API = refTarget(h.ApiId); r.API == "" {
					return fmt.Errorf("event %s: ApiId must be !Ref to an HttpApi of the template", name)
				}
			}
			api := t.APIs[r.API]
			if api == nil {
				api = &HTTPAPI{LogicalID: r.API}
				t.APIs[r.API] = api
			}
			if h.Auth != nil && h.Auth.Authorizer != "" && h.Auth.Authorizer != "NONE" {
				return fmt.Errorf("event %s: %w", name, errAuthorizers)
			}
			f.Routes = append(f.Routes, r)
		case "S3":
			var s rawS3Event
			if err := json.Unmarshal(ev.Properties, &s); err != nil {
				return fmt.Errorf("event %s: %w", name, err)
			}
			e := S3Event{Name: name, Function: f.LogicalID, Bucket: refTarget(s.Bucket), Types: s.Events}
			if t.resources[e.Bucket] != typeBucket {
				return fmt.Errorf("event %s: Bucket must be !Ref to an AWS::S3::Bucket of the template", name)
			}
			if len(e.Types) == 0 {
				return fmt.Errorf("event %s: no Events", name)
			}
			if s.Filter != nil {
				for _, rule := range s.Filter.S3Key.Rules {
					switch strings.ToLower(rule.Name) {
					case "prefix":
						e.Prefix = rule.Value
					case "suffix":
						e.Suffix = rule.Value
					default:
						return fmt.Errorf("event %s: unknown S3Key rule %q", name, rule.Name)
					}
				}
			}
			f.S3Events = append(f.S3Events, e)
		}
	}
	return nil
}

// parsePolicies reads a function's Policies: a managed policy name, or a list
// of managed policy names, SAM policy templates and inline documents.
func parsePolicies(raw json.RawMessage) ([]Policy, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []Policy{{Managed: one}}, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		items = []json.RawMessage{raw}
	}
	var out []Policy
	for _, item := range items {
		if json.Unmarshal(item, &one) == nil {
			out = append(out, Policy{Managed: one})
			continue
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(item, &m); err != nil {
			return nil, err
		}
		if st, ok := m["Statement"]; ok {
			stmts, err := parseStatements(st)
			if err != nil {
				return nil, err
			}
			out = append(out, Policy{Statements: stmts})
			continue
		}
		if len(m) != 1 {
			return nil, fmt.Errorf("a policy template entry has exactly one key: %s", item)
		}
		for name, params := range m {
			p := Policy{Template: name, Parameters: map[string]string{}}
			if err := json.Unmarshal(params, &p.Parameters); err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			out = append(out, p)
		}
	}
	return out, nil
}

func parseStatements(raw json.RawMessage) ([]Statement, error) {
	type rawStatement struct {
		Effect   string
		Action   stringList
		Resource stringList
	}
	var list []rawStatement
	if err := json.Unmarshal(raw, &list); err != nil {
		var one rawStatement
		if err := json.Unmarshal(raw, &one); err != nil {
			return nil, err
		}
		list = []rawStatement{one}
	}
	out := make([]Statement, len(list))
	for i, s := range list {
		out[i] = Statement{Effect: s.Effect, Actions: s.Action, Resources: s.Resource}
	}
	return out, nil
}

type rawHTTPAPI struct {
	Auth *struct {
		Authorizers       map[string]json.RawMessage
		DefaultAuthorizer string
	}
	CorsConfiguration json.RawMessage
}

// errAuthorizers refuses a template the gateway would serve without its
// authorizers.
var errAuthorizers = errors.New("HTTP API authorizers are not emulated (template.yaml uses none; its functions check API keys)")

func (t *Template) loadAPIs(cf *cloudformation.Template, raw rawTemplate) error {
	for id := range cf.GetAllServerlessHttpApiResources() {
		var r rawHTTPAPI
		if err := json.Unmarshal(raw.Resources[id].Properties, &r); err != nil {
			return fmt.Errorf("%s: %w", id, err)
		}
		api := &HTTPAPI{LogicalID: id}
		if r.Auth != nil && (len(r.Auth.Authorizers) > 0 || r.Auth.DefaultAuthorizer != "") {
			return fmt.Errorf("%s: %w", id, errAuthorizers)
		}
		cors, err := parseCORS(r.CorsConfiguration)
		if err != nil {
			return fmt.Errorf("%s: CorsConfiguration: %w", id, err)
		}
		api.CORS = cors
		t.APIs[id] = api
	}
	return nil
}

func parseCORS(raw json.RawMessage) (*CORS, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	var on bool
	if json.Unmarshal(raw, &on) == nil {
		if !on {
			return nil, nil
		}
		return &CORS{AllowOrigins: []string{"*"}, AllowHeaders: []string{"*"}, AllowMethods: []string{"*"}}, nil
	}
	var c struct {
		AllowOrigins, AllowHeaders, AllowMethods, ExposeHeaders []string
		AllowCredentials                                        bool
		MaxAge                                                  int
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, err
	}
	return &CORS{AllowOrigins: c.AllowOrigins, AllowHeaders: c.AllowHeaders, AllowMethods: c.AllowMethods,
		ExposeHeaders: c.ExposeHeaders, AllowCredentials: c.AllowCredentials, MaxAge: c.MaxAge}, nil
}

func (t *Template) loadStateMachines(cf *cloudformation.Template) error {
	for id, sm := range cf.GetAllServerlessStateMachineResources() {
		m := &StateMachine{LogicalID: id, Substitutions: sm.DefinitionSubstitutions}
		if sm.Name != nil {
			t.names[id] = *sm.Name
		}
		switch {
		case sm.DefinitionUri != nil && sm.DefinitionUri.String != nil:
			m.DefinitionPath = filepath.Join(t.Dir(), *sm.DefinitionUri.String)
		case sm.Definition != nil:
			b, err := json.Marshal(sm.Definition)
			if err != nil {
				return fmt.Errorf("%s: Definition: %w", id, err)
			}
			m.Definition = b
		default:
			return fmt.Errorf("%s: the local stack needs a local DefinitionUri file or an inline Definition", id)
		}
		t.StateMachines[id] = m
	}
	return nil
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
