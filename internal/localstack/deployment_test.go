package localstack_test

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/mediatrail/mediatrail/internal/localstack"
)

// Globals merge into every function (the function's own variables win) and
// intrinsic functions resolve to local names.
func TestResolveMergesGlobalsAndResolvesIntrinsics(t *testing.T) {
	tmpl := load(t, testdataTemplate())
	d := resolve(t, tmpl)
	want := map[string]map[string]string{
		"ProbeFunction":  {"GREETING": "hello", "BUCKET": "bkt", "STAGE": "function", "BUCKET_ARN": "arn:aws:s3:::bkt", "WHERE": "us-east-1/000000000000"},
		"WorkerFunction": {"GREETING": "hello", "BUCKET": "bkt", "STAGE": "global"},
		"StarterFunction": {"GREETING": "hello", "BUCKET": "bkt", "STAGE": "global",
			"STATE_MACHINE_ARN": "arn:aws:states:us-east-1:000000000000:stateMachine:JobStateMachine"},
	}
	for id, env := range want {
		if got := d.Functions[id].Env; !maps.Equal(got, env) {
			t.Errorf("%s env = %v, want %v", id, got, env)
		}
	}
	if f := d.Functions["WorkerFunction"]; f.Timeout != 20 || f.MemorySize != 128 || f.ARN != "arn:aws:lambda:us-east-1:000000000000:function:WorkerFunction" {
		t.Errorf("worker: timeout %d memory %d arn %s", f.Timeout, f.MemorySize, f.ARN)
	}
	if def := string(d.StateMachines["JobStateMachine"].Definition); strings.Contains(def, "${") ||
		!strings.Contains(def, `"Resource": "arn:aws:lambda:us-east-1:000000000000:function:WorkerFunction"`) {
		t.Errorf("definition not substituted: %s", def)
	}

	// A parameter override flips the condition: the variable disappears
	// (AWS::NoValue).
	l := testLocals
	l.Parameters = map[string]string{"Greeting": ""}
	d2, err := tmpl.Resolve(l)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := d2.Functions["ProbeFunction"].Env["GREETING"]; ok {
		t.Errorf("GREETING = %q with an empty Greeting, want no variable", v)
	}
}

func TestResolveIntrinsicFunctions(t *testing.T) {
	tmpl := writeTemplate(t, `
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage: {Type: String, Default: dev}
Mappings:
  Sizes:
    dev: {memory: "256"}
Conditions:
  IsDev: !Equals [!Ref Stage, dev]
  IsProd: !Not [!Condition IsDev]
  Both: !And [!Condition IsDev, !Not [!Condition IsProd]]
Resources:
  Table: {Type: AWS::DynamoDB::Table, Properties: {KeySchema: [{AttributeName: PK, KeyType: HASH}], AttributeDefinitions: [{AttributeName: PK, AttributeType: S}]}}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: .
      Handler: bootstrap
      Runtime: provided.al2023
      FunctionName: !Sub "${AWS::StackName}-fn"
      Environment:
        Variables:
          JOIN: !Join ["/", [a, !Ref Stage, !Select [1, !Split [",", "x,y,z"]]]]
          MAP: !FindInMap [Sizes, !Ref Stage, memory]
          IF: !If [Both, yes, no]
          SUB_VARS: !Sub ["${A}-${B}", {A: !Ref Table, B: !GetAtt Table.Arn}]
          LITERAL: !Sub "${!NotAVariable}"
          B64: !Base64 hi
`)
	d := resolve(t, tmpl)
	f := d.Functions["Fn"]
	want := map[string]string{
		"JOIN": "a/dev/y", "MAP": "256", "IF": "yes", "SUB_VARS": "tbl-arn:aws:dynamodb:us-east-1:000000000000:table/tbl",
		"LITERAL": "${NotAVariable}", "B64": "aGk=",
	}
	if !maps.Equal(f.Env, want) {
		t.Errorf("env = %v\nwant  %v", f.Env, want)
	}
	if f.LambdaName != "test-fn" || f.ARN != "arn:aws:lambda:us-east-1:000000000000:function:test-fn" {
		t.Errorf("name %q arn %q", f.LambdaName, f.ARN)
	}
	for _, name := range []string{"test-fn", "Fn", f.ARN, f.ARN + ":$LATEST", "000000000000:function:test-fn"} {
		if got, ok := d.Function(name); !ok || got != f {
			t.Errorf("Function(%q) not found", name)
		}
	}
}

func TestResolveFailsClearly(t *testing.T) {
	cases := []struct{ name, body, want string }{
		{"unknown ref", `
  Fn:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: ., Handler: bootstrap, Runtime: provided.al2023, Environment: {Variables: {X: !Ref Nope}}}`, `Ref to unknown "Nope"`},
		{"import", `
  Fn:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: ., Handler: bootstrap, Runtime: provided.al2023, Environment: {Variables: {X: !ImportValue shared}}}`, "Fn::ImportValue is not supported"},
		{"missing substitution", `
  Machine:
    Type: AWS::Serverless::StateMachine
    Properties:
      Definition: {StartAt: A, States: {A: {Type: Task, Resource: "${Missing}", End: true}}}`, "${Missing}"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tmpl := writeTemplate(t, "Transform: AWS::Serverless-2016-10-31\nResources:"+tc.body)
			if _, err := tmpl.Resolve(testLocals); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func writeTemplate(t *testing.T, yaml string) *localstack.Template {
	t.Helper()
	path := filepath.Join(t.TempDir(), "template.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return load(t, path)
}

// Templates may be loaded from several goroutines (goformation's tag
// registry is global).
func TestLoadTemplateConcurrently(t *testing.T) {
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := localstack.LoadTemplate(testdataTemplate()); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
}
