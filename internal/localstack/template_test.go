package localstack_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/goformation/v7"

	"github.com/mediatrail/mediatrail/internal/localstack"
	"github.com/mediatrail/mediatrail/shared/dynamo"
	"github.com/mediatrail/mediatrail/shared/testenv"
)

// templates are every SAM template of the repository: the application's and
// the local stack's test application.
func templates() []string {
	return []string{filepath.Join(repoRoot(), "template.yaml"), testdataTemplate()}
}

func loadTemplate(t *testing.T) *localstack.Template {
	return load(t, filepath.Join(repoRoot(), "template.yaml"))
}

func load(t *testing.T, path string) *localstack.Template {
	t.Helper()
	tmpl, err := localstack.LoadTemplate(path)
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

var testLocals = localstack.Locals{Region: localstack.Region, AccountID: localstack.AccountID, StackName: "test", Table: "tbl", Bucket: "bkt"}

func resolve(t *testing.T, tmpl *localstack.Template) *localstack.Deployment {
	t.Helper()
	d, err := tmpl.Resolve(testLocals)
	if err != nil {
		t.Fatalf("%s: %v", tmpl.Path, err)
	}
	return d
}

// Every function of the template has its folder, handler, Makefile target and
// fixture, and every folder is in the template.
func TestTemplateFunctionsAreComplete(t *testing.T) {
	tmpl := loadTemplate(t)
	root := repoRoot()
	var names, named []string
	for id, f := range tmpl.Functions {
		names = append(names, f.Name)
		if _, err := os.Stat(filepath.Join(root, "functions", f.Name, "main.go")); err != nil {
			t.Errorf("%s: no functions/%s/main.go", id, f.Name)
		}
		c, err := localstack.FunctionConstructor(root, f.Name)
		if err != nil {
			t.Errorf("%s: %v", id, err)
		}
		named = append(named, c)
		out, err := exec.Command("make", "-s", "-n", "-C", root, "build-"+id, "ARTIFACTS_DIR=/nonexistent").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "./functions/"+f.Name+"\n") {
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
	// The in-process table holds exactly the constructors the mains name.
	sort.Strings(named)
	if !slices.Equal(named, localstack.Constructors()) {
		t.Errorf("mains name %v, the local stack's table holds %v", named, localstack.Constructors())
	}
}

// Every function of every template builds as a bootstrap for the host.
func TestEveryFunctionBuilds(t *testing.T) {
	for _, path := range templates() {
		dir := bootstraps(t, path)
		for id, f := range load(t, path).Functions {
			if st, err := os.Stat(filepath.Join(dir, f.Name, "bootstrap")); err != nil || st.Mode()&0o111 == 0 {
				t.Errorf("%s: no executable bootstrap: %v", id, err)
			}
		}
	}
}

// Every route is served by a function of the template, under /api/v1 (or
// the review console's /console), with a method API Gateway knows.
func TestRoutesMapToFunctions(t *testing.T) {
	tmpl := loadTemplate(t)
	if len(tmpl.Routes) == 0 {
		t.Fatal("no routes")
	}
	for _, r := range tmpl.Routes {
		if tmpl.Functions[r.Function] == nil {
			t.Errorf("%s: no function %s", r.RouteKey(), r.Function)
		}
		// /mcp is where MCP hosts expect the server (README "Agents: the MCP server").
		if !strings.HasPrefix(r.Path, "/api/v1/") && r.Path != "/api/v1" && r.Path != "/console" && !strings.HasPrefix(r.Path, "/console/") &&
			r.Path != "/mcp" {
			t.Errorf("%s: not under /api/v1", r.RouteKey())
		}
		if !slices.Contains([]string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"}, r.Method) {
			t.Errorf("%s: method %q", r.RouteKey(), r.Method)
		}
	}
}

// Each fixture of events/ is the event its function receives: API Gateway
// payload 2.0 for a route of its own, an S3 event its subscription accepts,
// or (Step Functions tasks) a JSON object.
func TestFixturesFitTheirFunctions(t *testing.T) {
	for _, path := range templates() {
		tmpl := load(t, path)
		d := resolve(t, tmpl)
		for id, f := range tmpl.Functions {
			t.Run(filepath.Base(filepath.Dir(path))+"/"+id, func(t *testing.T) {
				raw, err := os.ReadFile(filepath.Join(tmpl.Dir(), "events", f.Name+".json"))
				if err != nil {
					t.Fatalf("no fixture: %v", err)
				}
				switch {
				case len(f.Routes) > 0:
					var ev events.APIGatewayV2HTTPRequest
					if err := json.Unmarshal(raw, &ev); err != nil {
						t.Fatalf("not an HTTP API event: %v", err)
					}
					var keys []string
					for _, r := range f.Routes {
						keys = append(keys, r.RouteKey())
					}
					if ev.Version != "2.0" || !slices.Contains(keys, ev.RouteKey) || ev.RequestContext.RouteKey != ev.RouteKey ||
						ev.RawPath == "" || ev.RequestContext.HTTP.Method == "" {
						t.Errorf("fixture route %q (version %q), function routes %v", ev.RouteKey, ev.Version, keys)
					}
				case len(f.S3Events) > 0:
					var ev events.S3Event
					if err := json.Unmarshal(raw, &ev); err != nil || len(ev.Records) == 0 {
						t.Fatalf("not an S3 event: %v", err)
					}
					for _, r := range ev.Records {
						accepted := slices.ContainsFunc(d.S3Events, func(src localstack.DeployedS3Event) bool {
							return src.Function == id && src.Matches(src.BucketName, r.EventName, r.S3.Object.URLDecodedKey)
						})
						if !accepted || r.EventSource != "aws:s3" || strings.HasPrefix(r.EventName, "s3:") {
							t.Errorf("record %s %q is not one the function's S3 events deliver", r.EventName, r.S3.Object.Key)
						}
					}
				default:
					var task map[string]any
					if err := json.Unmarshal(raw, &task); err != nil {
						t.Errorf("not a task input object: %v", err)
					}
				}
			})
		}
	}
}

func TestFunctionNameConvention(t *testing.T) {
	for id, want := range map[string]string{
		"AssetListFunction": "asset-list", "AssetSignedUrlFunction": "asset-signed-url", "MediaTtsFunction": "media-tts",
		"S3ProbeFunction": "s3-probe",
	} {
		if got := localstack.FunctionName(id); got != want {
			t.Errorf("FunctionName(%q) = %q, want %q", id, got, want)
		}
	}
}

// Every ${...} of a state machine definition has a DefinitionSubstitution,
// and every substitution is used.
func TestStateMachineSubstitutions(t *testing.T) {
	for _, path := range templates() {
		tmpl := load(t, path)
		resolve(t, tmpl) // fails on a placeholder without substitution
		for id, sm := range tmpl.StateMachines {
			used, err := sm.Placeholders()
			if err != nil {
				t.Fatal(err)
			}
			for name := range sm.Substitutions {
				if !slices.Contains(used, name) {
					t.Errorf("%s: substitution %s is never used", id, name)
				}
			}
		}
	}
}

// Every state machine definition in the repository passes asl-validator, as
// written and after substitution (as it is deployed).
func TestASLDefinitionsValidate(t *testing.T) {
	defs := map[string][]byte{}
	files, _ := filepath.Glob(filepath.Join(repoRoot(), "statemachines", "*.asl.json"))
	more, _ := filepath.Glob(filepath.Join(filepath.Dir(testdataTemplate()), "statemachines", "*.asl.json"))
	for _, f := range append(files, more...) {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		defs[f] = raw
	}
	for _, path := range templates() {
		for id, sm := range resolve(t, load(t, path)).StateMachines {
			defs[id+".deployed"] = sm.Definition
		}
	}
	if len(defs) == 0 {
		t.Fatal("no state machine definitions found")
	}
	if err := (localstack.Tools{Root: repoRoot()}).ValidateASL(testenv.Context(t), defs); err != nil {
		t.Fatal(err)
	}
	bad := map[string][]byte{"bad": []byte(`{"StartAt":"Nowhere","States":{"A":{"Type":"Pass","End":true}}}`)}
	if err := (localstack.Tools{Root: repoRoot()}).ValidateASL(testenv.Context(t), bad); err == nil {
		t.Error("asl-validator accepted a machine whose StartAt names no state")
	}
}

// access is what a function's code needs from AWS.
type access struct {
	table string // "", "read" or "crud"
	// objects are the S3 actions on the bucket's objects under workspaces/.
	objects []string
	// bucket are the S3 actions on the bucket itself (s3:ListBucket).
	bucket []string
	// other are further actions, each on resources of its own service.
	other []string
}

// videoSubmitAccess is what submitting a video job needs: the provider's
// key, a signed URL of an input asset, and the job's state machine.
var videoSubmitAccess = access{table: "crud", objects: []string{"s3:GetObject"},
	other: []string{"kms:Decrypt", "secretsmanager:GetSecretValue", "states:StartExecution"}}

// Every function that calls a provider may decrypt workspace credentials
// (kms:Decrypt on CredentialsKey); no other function may.
var providerAccess = access{table: "crud", objects: []string{"s3:AbortMultipartUpload", "s3:DeleteObject", "s3:GetObject", "s3:PutObject", "s3:PutObjectTagging"},
	other: []string{"kms:Decrypt", "secretsmanager:GetSecretValue"}}

// needs declares, per function, what its code path uses; the template must
// grant exactly that. Read-only routes get no write access, nothing gets
// bucket-wide or account-wide rights.
var needs = map[string]access{
	"AssetListFunction":      {table: "read"},
	"AssetGetFunction":       {table: "read"},
	"TraceListFunction":      {table: "read"},
	"TraceSummaryFunction":   {table: "read"},
	"TraceGetFunction":       {table: "read"},
	"TraceSpanGetFunction":   {table: "read"},
	"AssetSignedUrlFunction": {table: "read", objects: []string{"s3:GetObject"}},
	"AssetDeleteFunction":    {table: "crud", objects: []string{"s3:DeleteObject"}},
	// Multipart uploads: Register creates them (aborting when presigning
	// fails), Complete assembles them (aborting parts that do not fit).
	"AssetRegisterFunction": {table: "crud", objects: []string{"s3:AbortMultipartUpload", "s3:PutObject", "s3:PutObjectTagging"}},
	"AssetCompleteFunction": {table: "crud", objects: []string{"s3:AbortMultipartUpload", "s3:DeleteObject", "s3:GetObject", "s3:PutObject"}},
	// The generic route also submits video jobs (media_type video_gen, ...).
	"MediaGenerateFunction": {table: "crud", objects: providerAccess.objects,
		other: []string{"kms:Decrypt", "secretsmanager:GetSecretValue", "states:StartExecution"}},
	"MediaTtsFunction":       providerAccess,
	"MediaSttFunction":       providerAccess,
	"MediaImageGenFunction":  providerAccess,
	"MediaImageEditFunction": providerAccess,
	// Cleanup and retention: HEAD (s3:GetObject) before acting, deletes, and
	// the reconciliation's listing of workspaces/.
	"AssetCleanupFunction":          {table: "crud", objects: []string{"s3:DeleteObject"}},
	"WorkspaceRetentionGetFunction": {table: "read"},
	"WorkspaceRetentionSetFunction": {table: "crud"},
	"WorkspaceBudgetGetFunction":    {table: "read"},
	"WorkspaceBudgetSetFunction":    {table: "crud", other: []string{"secretsmanager:GetSecretValue"}}, // CALLBACK_SIGNING_SECRET
	"WorkspaceSettingsGetFunction":  {table: "read"},
	"WorkspaceSettingsSetFunction":  {table: "crud"},
	"ProvenanceLookupFunction":      {table: "read"},
	"CleanupFunction":               {table: "crud", objects: []string{"s3:DeleteObject", "s3:GetObject", "s3:GetObjectTagging"}},
	"ReconcileFunction":             {table: "crud", objects: []string{"s3:DeleteObject", "s3:GetObject"}, bucket: []string{"s3:ListBucket"}},
	// Video jobs: the routes submit (signing input assets for the provider)
	// and start the state machine; Store streams, probes (ranged GETs) and
	// aborts a crashed attempt's upload; Fail cleans up what Store left.
	"MediaVideoGenFunction":       videoSubmitAccess,
	"MediaVideoFromImageFunction": videoSubmitAccess,
	"MediaJobGetFunction":         {table: "read", objects: []string{"s3:GetObject"}},
	"MediaJobCancelFunction":      {table: "crud", other: []string{"kms:Decrypt", "secretsmanager:GetSecretValue"}},
	"MediaJobListFunction":        {table: "read"},
	"VideoPollFunction":           {table: "crud", other: []string{"kms:Decrypt", "secretsmanager:GetSecretValue"}},
	"VideoStoreFunction": {table: "crud", objects: []string{"s3:AbortMultipartUpload", "s3:DeleteObject", "s3:GetObject", "s3:PutObject", "s3:PutObjectTagging"},
		bucket: []string{"s3:ListBucketMultipartUploads"}, other: []string{"kms:Decrypt", "secretsmanager:GetSecretValue"}},
	"VideoFailFunction": {table: "crud", objects: []string{"s3:AbortMultipartUpload", "s3:DeleteObject"},
		bucket: []string{"s3:ListBucketMultipartUploads"}, other: []string{"kms:Decrypt", "secretsmanager:GetSecretValue"}},
	"VideoNotifyFunction": {table: "crud", objects: []string{"s3:GetObject"}, other: []string{"secretsmanager:GetSecretValue"}},
	// The media tools over MCP: every media capability (videos included) and
	// the asset tools (read, sign, delete).
	"McpFunction": {table: "crud", objects: providerAccess.objects,
		other: []string{"kms:Decrypt", "secretsmanager:GetSecretValue", "states:StartExecution"}},
	// Credentials: only create and update seal keys (kms:Encrypt); the check
	// calls the provider (kms:Decrypt, and the provider secret for base
	// URLs). Media models read the provider secret to say which providers
	// the deployment has keys for.
	"CredentialListFunction":     {table: "read"},
	"CredentialGetFunction":      {table: "read"},
	"CredentialCreateFunction":   {table: "crud", other: []string{"kms:Encrypt"}},
	"CredentialUpdateFunction":   {table: "crud", other: []string{"kms:Encrypt"}},
	"CredentialDeleteFunction":   {table: "crud"},
	"CredentialDefaultFunction":  {table: "crud"},
	"CredentialCheckFunction":    {table: "crud", other: []string{"kms:Decrypt", "secretsmanager:GetSecretValue"}},
	"MediaToolListFunction":      {table: "read"},
	"MediaToolGetFunction":       {table: "read"},
	"MediaToolCreateFunction":    {table: "crud"},
	"MediaToolUpdateFunction":    {table: "crud"},
	"MediaToolDeleteFunction":    {table: "crud"},
	"AgentMediaToolsGetFunction": {table: "read"},
	"AgentMediaToolsSetFunction": {table: "crud"},
	"MediaModelListFunction":     {table: "read", other: []string{"secretsmanager:GetSecretValue"}},
	// The contract is embedded: nothing from AWS.
	"ApiSpecFunction": {},
	// The review console serves embedded files and touches nothing.
	"ConsoleFunction": {},
}

// granted reads a function's Policies: SAM policy templates for the table,
// statements whose resources are the table, objects under the bucket's
// workspaces/ prefix, or a named secret. Anything broader is an error.
func granted(d *localstack.Deployment, f *localstack.DeployedFunction) (access, error) {
	var g access
	bucket := d.Locals.Bucket // the template's own, or the external one it was given
	if b := d.Locals.Parameters["StorageBucket"]; b != "" {
		bucket = b
	}
	var errs []error
	for _, p := range f.Policies {
		switch {
		case p.Managed != "":
			errs = append(errs, fmt.Errorf("managed policy %s", p.Managed))
		case p.Template == "DynamoDBReadPolicy" || p.Template == "DynamoDBCrudPolicy":
			if table, _, err := d.Resolve(p.Parameters["TableName"]); err != nil || table != d.Locals.Table {
				errs = append(errs, fmt.Errorf("%s on table %q", p.Template, table))
			}
			level := map[string]string{"DynamoDBReadPolicy": "read", "DynamoDBCrudPolicy": "crud"}[p.Template]
			if g.table != "crud" {
				g.table = level
			}
		case p.Template != "":
			errs = append(errs, fmt.Errorf("policy template %s (too broad or not known to this check)", p.Template))
		}
		for _, s := range p.Statements {
			if s.Effect != "Allow" {
				continue
			}
			for _, res := range s.Resources {
				arn, _, err := d.Resolve(res)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				for _, action := range s.Actions {
					switch service, _, _ := strings.Cut(action, ":"); {
					case strings.Contains(action, "*") || arn == "*":
						errs = append(errs, fmt.Errorf("%s on %s: wildcard", action, arn))
					case service == "s3" && arn == "arn:aws:s3:::"+bucket+"/workspaces/*":
						g.objects = append(g.objects, action)
					case (action == "s3:ListBucket" || action == "s3:ListBucketMultipartUploads") && arn == "arn:aws:s3:::"+bucket:
						g.bucket = append(g.bucket, action)
					case service == "secretsmanager" && strings.Contains(arn, ":secret:") && !strings.HasSuffix(arn, ":secret:-??????"),
						action == "states:StartExecution" && strings.Contains(arn, ":stateMachine:"),
						(action == "kms:Encrypt" || action == "kms:Decrypt") && strings.Contains(arn, ":kms:") && strings.Contains(arn, ":key/"):
						g.other = append(g.other, action)
					default:
						errs = append(errs, fmt.Errorf("%s on %s: not a resource this function owns", action, arn))
					}
				}
			}
		}
	}
	for _, list := range [][]string{g.objects, g.bucket, g.other} {
		sort.Strings(list)
	}
	g.objects, g.bucket, g.other = slices.Compact(g.objects), slices.Compact(g.bucket), slices.Compact(g.other)
	return g, errors.Join(errs...)
}

// externalStorage are the template parameters of a deployment on an
// S3-compatible service outside AWS (README "Storage backends").
var externalStorage = map[string]string{
	"StorageBucket": "ext-assets", "StorageEndpoint": "https://acct.r2.example", "StorageRegion": "auto",
	"StorageForcePathStyle": "true", "StorageCredentialsSecret": "mediatrail/storage",
}

// Each function's policies name only the resources and actions it uses, on
// the template's own bucket or on the external one it is given.
func TestPoliciesAreLeastPrivilege(t *testing.T) {
	for name, storage := range map[string]map[string]string{"own bucket": nil, "external bucket": externalStorage} {
		params := map[string]string{"ProviderSecretName": "mediatrail/providers"}
		maps.Copy(params, storage)
		d, err := loadTemplate(t).Resolve(localstack.Locals{Region: localstack.Region, AccountID: localstack.AccountID, StackName: "test",
			Table: "tbl", Bucket: "bkt", Parameters: params})
		if err != nil {
			t.Fatal(err)
		}
		t.Run(name, func(t *testing.T) { checkPolicies(t, d) })
	}
}

func checkPolicies(t *testing.T, d *localstack.Deployment) {
	for id, f := range d.Functions {
		t.Run(id, func(t *testing.T) {
			want, ok := needs[id]
			if !ok {
				t.Fatalf("declare in template_test.go what %s needs from AWS", id)
			}
			got, err := granted(d, f)
			if err != nil {
				t.Error(err)
			}
			if got.table != want.table || !slices.Equal(got.objects, want.objects) || !slices.Equal(got.bucket, want.bucket) ||
				!slices.Equal(got.other, want.other) {
				t.Errorf("granted %+v\nneeds   %+v", got, want)
			}
		})
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

// Every fixture runs through its function (what `make invoke` does), in
// process and as a bootstrap under aws-lambda-rie, and gets an API answer
// (a JSON answer and no function error for functions without routes), not a
// crash.
func TestFixturesInvokeTheirFunctions(t *testing.T) {
	t.Parallel()
	for _, rt := range []localstack.Runtime{localstack.RuntimeInProcess, localstack.RuntimeRIE} {
		t.Run(string(rt), func(t *testing.T) {
			e := newAPIWith(t, rt)
			ctx := testenv.Context(t)
			for id, f := range e.Template.Functions {
				raw, err := os.ReadFile(filepath.Join(repoRoot(), "events", f.Name+".json"))
				if err != nil {
					t.Fatal(err)
				}
				out, err := e.Invoke(ctx, id, raw)
				if err != nil {
					t.Errorf("%s: invoke: %v", id, err)
					continue
				}
				if len(f.Routes) == 0 {
					if !json.Valid(out) {
						t.Errorf("%s: response %s is not JSON", id, out)
					}
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
		})
	}
}

// The fixtures of the test application run through their bootstraps.
func TestTestdataFixturesInvokeTheirFunctions(t *testing.T) {
	s, _ := probeStack(t)
	ctx := testenv.Context(t)
	for id, f := range s.Template.Functions {
		raw, err := os.ReadFile(filepath.Join(s.Template.Dir(), "events", f.Name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		if out, err := s.Invoke(ctx, id, raw); err != nil || !json.Valid(out) {
			t.Errorf("%s: %v %s", id, err, out)
		}
	}
}

// The policy check itself notices excess rights.
func TestPolicyCheckCatchesExcess(t *testing.T) {
	fn := func(policies string) string {
		return "    Type: AWS::Serverless::Function\n    Properties: {CodeUri: ., Handler: bootstrap, Runtime: provided.al2023, Policies: " + policies + "}\n"
	}
	d := resolve(t, writeTemplate(t, `Transform: AWS::Serverless-2016-10-31
Resources:
  AssetsTable: {Type: AWS::DynamoDB::Table, Properties: {KeySchema: [{AttributeName: PK, KeyType: HASH}], AttributeDefinitions: [{AttributeName: PK, AttributeType: S}]}}
  AssetsBucket: {Type: AWS::S3::Bucket}
  Crud:
`+fn(`[DynamoDBCrudPolicy: {TableName: !Ref AssetsTable}]`)+`  BucketWide:
`+fn(`[{Statement: [{Effect: Allow, Action: [s3:GetObject], Resource: !Sub "${AssetsBucket.Arn}/*"}]}]`)+`  WildcardAction:
`+fn(`[{Statement: [{Effect: Allow, Action: ["s3:*"], Resource: !Sub "${AssetsBucket.Arn}/workspaces/*"}]}]`)+`  OtherTable:
`+fn(`[DynamoDBReadPolicy: {TableName: other}]`)+`  Managed:
`+fn(`AmazonS3FullAccess`)+`  BroadTemplate:
`+fn(`[S3CrudPolicy: {BucketName: !Ref AssetsBucket}]`)))
	if got, err := granted(d, d.Functions["Crud"]); err != nil || got.table != "crud" {
		t.Errorf("Crud: %+v %v", got, err)
	}
	for _, id := range []string{"BucketWide", "WildcardAction", "OtherTable", "Managed", "BroadTemplate"} {
		if _, err := granted(d, d.Functions[id]); err == nil {
			t.Errorf("%s: excess not reported", id)
		}
	}
}

// Storage is configured by parameters alone: without them every function
// uses the template's bucket through its role; with them, the external
// bucket, endpoint and region, keys from the secret by dynamic reference,
// and no bucket of the template's own (nor the function its events feed).
func TestStorageParameters(t *testing.T) {
	dynamic := func(key string) string {
		return "{{resolve:secretsmanager:mediatrail/storage:SecretString:" + key + "}}"
	}
	for _, tc := range []struct {
		name    string
		params  map[string]string
		env     map[string]string
		cleanup bool
	}{
		{"own bucket", nil, map[string]string{"STORAGE_BUCKET": "bkt", "STORAGE_REGION": localstack.Region,
			"STORAGE_FORCE_PATH_STYLE": "false"}, true},
		{"external bucket", externalStorage, map[string]string{"STORAGE_BUCKET": "ext-assets", "STORAGE_ENDPOINT": "https://acct.r2.example",
			"STORAGE_REGION": "auto", "STORAGE_FORCE_PATH_STYLE": "true",
			"STORAGE_ACCESS_KEY_ID": dynamic("STORAGE_ACCESS_KEY_ID"), "STORAGE_SECRET_KEY": dynamic("STORAGE_SECRET_KEY")}, false},
		{"AWS bucket of another stack", map[string]string{"StorageBucket": "shared-assets"}, map[string]string{
			"STORAGE_BUCKET": "shared-assets", "STORAGE_REGION": localstack.Region, "STORAGE_FORCE_PATH_STYLE": "false"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			locals := testLocals
			locals.Parameters = tc.params
			d, err := loadTemplate(t).Resolve(locals)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := d.Functions["CleanupFunction"]; ok != tc.cleanup {
				t.Errorf("CleanupFunction deployed: %v, want %v", ok, tc.cleanup)
			}
			for id, f := range d.Functions {
				if id == "CleanupFunction" {
					continue // names the template's bucket itself (see AssetsBucket)
				}
				got := map[string]string{}
				for k, v := range f.Env {
					if strings.HasPrefix(k, "STORAGE_") && k != "STORAGE_PUBLIC_URL" {
						got[k] = v
					}
				}
				if !maps.Equal(got, tc.env) {
					t.Errorf("%s: storage environment %v, want %v", id, got, tc.env)
				}
			}
		})
	}
}

// A template whose HTTP API or route names an authorizer is refused: the
// gateway would serve its routes unauthenticated.
func TestTemplateWithAuthorizersIsRefused(t *testing.T) {
	for name, api := range map[string]string{
		"authorizers": "      Auth:\n        Authorizers:\n          Gate: { FunctionArn: arn:aws:lambda:us-east-1:1:function:x }\n",
		"route":       "",
	} {
		t.Run(name, func(t *testing.T) {
			route := "{ ApiId: !Ref Api, Method: GET, Path: /x }"
			if api == "" {
				route = "{ ApiId: !Ref Api, Method: GET, Path: /x, Auth: { Authorizer: Gate } }"
			}
			path := filepath.Join(t.TempDir(), "template.yaml")
			yaml := "Transform: AWS::Serverless-2016-10-31\nResources:\n  Api:\n    Type: AWS::Serverless::HttpApi\n    Properties:\n" + api +
				"      CorsConfiguration: { AllowOrigins: [\"*\"] }\n" +
				"  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: .\n      Handler: bootstrap\n      Runtime: provided.al2023\n" +
				"      Events:\n        Get:\n          Type: HttpApi\n          Properties: " + route + "\n"
			if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := localstack.LoadTemplate(path); err == nil || !strings.Contains(err.Error(), "authorizers are not emulated") {
				t.Fatalf("LoadTemplate: %v", err)
			}
		})
	}
}
