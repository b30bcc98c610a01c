package localstack

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
)

// Deployment is a Template resolved against local resources: what
// CloudFormation would create on AWS, with local names, ARNs and values.
type Deployment struct {
	Template      *Template
	Locals        Locals
	Functions     map[string]*DeployedFunction     // by logical id
	StateMachines map[string]*DeployedStateMachine // by logical id
	// S3Events are the S3 event sources of every function, with the bucket's
	// local name.
	S3Events []DeployedS3Event

	resolver *resolver
}

// Resolve evaluates one template value, such as a policy's Resource, against
// the deployment's locals; ok is false when it is AWS::NoValue.
func (d *Deployment) Resolve(value string) (s string, ok bool, err error) {
	return d.resolver.String(value)
}

// DeployedFunction is a function with its local identity and environment.
type DeployedFunction struct {
	*Function
	// LambdaName is the function's name in the Lambda API: its FunctionName
	// property or its logical id.
	LambdaName string
	ARN        string
	// Env is the template environment, resolved; variables that resolve to
	// AWS::NoValue are absent.
	Env map[string]string
}

// DeployedStateMachine is a state machine with its local ARN and its
// definition after DefinitionSubstitutions.
type DeployedStateMachine struct {
	*StateMachine
	Name, ARN  string
	Definition json.RawMessage
}

// DeployedS3Event is an S3 event source bound to the bucket's local name.
type DeployedS3Event struct {
	S3Event
	BucketName string
}

// Resolve evaluates the template against l. It fails when an intrinsic
// function cannot be resolved locally or a state machine definition has a
// ${placeholder} without a substitution.
func (t *Template) Resolve(l Locals) (*Deployment, error) {
	if len(t.Tables) > 1 || len(t.Buckets) > 1 {
		return nil, fmt.Errorf("the local stack maps one DynamoDB table and one S3 bucket; the template has tables %v and buckets %v", t.Tables, t.Buckets)
	}
	r := &resolver{t: t, l: l}
	if err := r.aliasBucket(); err != nil {
		return nil, err
	}
	d := &Deployment{
		Template: t, Locals: l,
		Functions:     map[string]*DeployedFunction{},
		StateMachines: map[string]*DeployedStateMachine{},
		resolver:      r,
	}
	for id, f := range t.Functions {
		if exists, err := r.exists(id); err != nil || !exists {
			if err != nil {
				return nil, fmt.Errorf("%s: Condition: %w", id, err)
			}
			continue
		}
		name, err := r.physicalName(id)
		if err != nil {
			return nil, fmt.Errorf("%s: FunctionName: %w", id, err)
		}
		arn, err := r.getAtt(id, "Arn")
		if err != nil {
			return nil, err
		}
		df := &DeployedFunction{Function: f, LambdaName: name, ARN: arn.(string), Env: map[string]string{}}
		for k, v := range f.Env {
			s, ok, err := r.String(v)
			if err != nil {
				return nil, fmt.Errorf("%s: environment %s: %w", id, k, err)
			}
			if ok {
				df.Env[k] = s
			}
		}
		d.Functions[id] = df
		for _, e := range f.S3Events {
			d.S3Events = append(d.S3Events, DeployedS3Event{S3Event: e, BucketName: l.Bucket})
		}
	}
	sort.Slice(d.S3Events, func(i, j int) bool {
		a, b := d.S3Events[i], d.S3Events[j]
		return a.Function+"/"+a.Name < b.Function+"/"+b.Name
	})
	for id, sm := range t.StateMachines {
		name, err := r.physicalName(id)
		if err != nil {
			return nil, fmt.Errorf("%s: Name: %w", id, err)
		}
		arn, err := r.stateMachineARN(id)
		if err != nil {
			return nil, err
		}
		def, err := sm.substitute(r)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", id, err)
		}
		d.StateMachines[id] = &DeployedStateMachine{StateMachine: sm, Name: name, ARN: arn, Definition: def}
	}
	return d, nil
}

// Function finds a function as the Lambda API names it: by function name,
// logical id, full ARN or partial ARN ("123456789012:function:name"), with an
// optional ":qualifier".
func (d *Deployment) Function(nameOrARN string) (*DeployedFunction, bool) {
	name := nameOrARN
	if i := strings.Index(name, "function:"); i >= 0 {
		name = name[i+len("function:"):]
	}
	if base, _, ok := strings.Cut(name, ":"); ok {
		name = base
	}
	if f, ok := d.Functions[name]; ok {
		return f, true
	}
	for _, f := range d.Functions {
		if f.LambdaName == name {
			return f, true
		}
	}
	return nil, false
}

// StateMachineByARN finds a state machine by its local ARN.
func (d *Deployment) StateMachineByARN(arn string) (*DeployedStateMachine, bool) {
	for _, sm := range d.StateMachines {
		if sm.ARN == arn {
			return sm, true
		}
	}
	return nil, false
}

var placeholderPattern = regexp.MustCompile(`\$\{([^}]*)\}`)

// RawDefinition is the definition as written, before substitutions.
func (sm *StateMachine) RawDefinition() ([]byte, error) {
	if sm.DefinitionPath == "" {
		return sm.Definition, nil
	}
	return os.ReadFile(sm.DefinitionPath)
}

// Placeholders lists the ${...} names the raw definition uses, sorted and
// without repeats.
func (sm *StateMachine) Placeholders() ([]string, error) {
	raw, err := sm.RawDefinition()
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	for _, m := range placeholderPattern.FindAllSubmatch(raw, -1) {
		if name := string(m[1]); !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out, nil
}

// substitute applies DefinitionSubstitutions as Step Functions does: every
// ${Name} is replaced by its resolved value.
func (sm *StateMachine) substitute(r *resolver) (json.RawMessage, error) {
	raw, err := sm.RawDefinition()
	if err != nil {
		return nil, err
	}
	values := map[string]string{}
	for k, v := range sm.Substitutions {
		s, _, err := r.String(v)
		if err != nil {
			return nil, fmt.Errorf("DefinitionSubstitutions %s: %w", k, err)
		}
		values[k] = s
	}
	var missing []string
	out := placeholderPattern.ReplaceAllFunc(raw, func(m []byte) []byte {
		name := string(m[2 : len(m)-1])
		v, ok := values[name]
		if !ok {
			missing = append(missing, name)
			return m
		}
		// The value lands inside a JSON string.
		q, _ := json.Marshal(v)
		return q[1 : len(q)-1]
	})
	if len(missing) > 0 {
		return nil, fmt.Errorf("definition uses ${%s} but DefinitionSubstitutions does not define it", strings.Join(missing, "}, ${"))
	}
	if !json.Valid(out) {
		return nil, fmt.Errorf("definition is not valid JSON after substitution")
	}
	return out, nil
}
