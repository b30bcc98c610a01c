package localstack

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/awslabs/goformation/v7/intrinsics"
)

// tokenPrefix marks a string that stands for an intrinsic function call which
// LoadTemplate kept unresolved; the JSON after it is {"Fn::Name": args}.
// goformation resolves unknown references to "" by default; keeping them lets
// the stack resolve them later against local resources.
const tokenPrefix = "\x00cfn:"

// keptIntrinsics are the functions LoadTemplate keeps as tokens.
var keptIntrinsics = []string{
	"Ref", "Fn::GetAtt", "Fn::Sub", "Fn::If", "Fn::Join", "Fn::Select", "Fn::Split", "Fn::FindInMap",
	"Fn::Base64", "Fn::ImportValue", "Fn::GetAZs", "Fn::Cidr", "Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or",
}

func keepIntrinsic(name string, input any, _ any) any {
	b, err := json.Marshal(map[string]any{name: input})
	if err != nil {
		return nil
	}
	return tokenPrefix + string(b)
}

func processorOptions() *intrinsics.ProcessorOptions {
	o := &intrinsics.ProcessorOptions{IntrinsicHandlerOverrides: map[string]intrinsics.IntrinsicHandler{}}
	for _, name := range keptIntrinsics {
		o.IntrinsicHandlerOverrides[name] = keepIntrinsic
	}
	return o
}

// decodeToken returns the intrinsic call a token string stands for.
func decodeToken(s string) (name string, args any, ok bool) {
	raw, found := strings.CutPrefix(s, tokenPrefix)
	if !found {
		return "", nil, false
	}
	var call map[string]any
	if err := json.Unmarshal([]byte(raw), &call); err != nil || len(call) != 1 {
		return "", nil, false
	}
	for name, args = range call {
	}
	return name, args, true
}

// refTarget returns the logical id a `!Ref X` token names, or "" if s is not one.
func refTarget(s string) string {
	if name, args, ok := decodeToken(s); ok && name == "Ref" {
		id, _ := args.(string)
		return id
	}
	return ""
}

// noValue is what AWS::NoValue resolves to: the property is removed.
type noValue struct{}

// Locals are the local stand-ins for what CloudFormation creates on AWS.
type Locals struct {
	Region, AccountID, StackName string
	// Table and Bucket are the local names of the template's (single)
	// DynamoDB table and S3 bucket.
	Table, Bucket string
	// Parameters override the template parameters' defaults.
	Parameters map[string]string
	// KMSKeyID is the local key that stands in for the template's (single)
	// AWS::KMS::Key: local-kms's seeded LocalKMSKeyID.
	KMSKeyID string
}

// resolver evaluates kept intrinsics against a Template and Locals.
type resolver struct {
	t     *Template
	l     Locals
	depth int
	// bucketAlias is the template's own name for its bucket (see aliasBucket).
	bucketAlias string
}

// aliasBucket reads the bucket's BucketName property, if any. The local stack
// names the bucket itself (one per test), so wherever the template spells the
// bucket's name instead of referencing it, as a function subscribed to the
// bucket must to avoid a circular dependency, that name means the local
// bucket: String maps it, and S3 ARNs of it, to Locals.Bucket.
func (r *resolver) aliasBucket() error {
	if len(r.t.Buckets) != 1 || r.t.names[r.t.Buckets[0]] == "" {
		return nil
	}
	name, _, err := r.String(r.t.names[r.t.Buckets[0]])
	if err != nil {
		return fmt.Errorf("%s: BucketName: %w", r.t.Buckets[0], err)
	}
	if name != r.l.Bucket {
		r.bucketAlias = name
	}
	return nil
}

// localBucket maps the bucket's template name (and S3 ARNs of it) to the local one.
func (r *resolver) localBucket(s string) string {
	const arn = "arn:aws:s3:::"
	switch rest, isARN := strings.CutPrefix(s, arn+r.bucketAlias); {
	case r.bucketAlias == "":
		return s
	case s == r.bucketAlias:
		return r.l.Bucket
	case isARN && (rest == "" || rest[0] == '/'):
		return arn + r.l.Bucket + rest
	}
	return s
}

const maxResolveDepth = 64

// String resolves s; ok is false when s resolves to AWS::NoValue.
func (r *resolver) String(s string) (out string, ok bool, err error) {
	v, err := r.value(s)
	if err != nil {
		return "", false, err
	}
	if _, none := v.(noValue); none {
		return "", false, nil
	}
	out, err = scalar(v)
	return r.localBucket(out), err == nil, err
}

// value resolves every token in v.
func (r *resolver) value(v any) (any, error) {
	r.depth++
	defer func() { r.depth-- }()
	if r.depth > maxResolveDepth {
		return nil, fmt.Errorf("intrinsic functions nested too deep (a cycle?)")
	}
	switch x := v.(type) {
	case string:
		name, args, ok := decodeToken(x)
		if !ok {
			return x, nil
		}
		return r.call(name, args)
	case []any:
		out := make([]any, 0, len(x))
		for _, e := range x {
			ev, err := r.value(e)
			if err != nil {
				return nil, err
			}
			if _, none := ev.(noValue); !none {
				out = append(out, ev)
			}
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			ev, err := r.value(e)
			if err != nil {
				return nil, err
			}
			if _, none := ev.(noValue); !none {
				out[k] = ev
			}
		}
		return out, nil
	default:
		return v, nil
	}
}

func (r *resolver) call(name string, args any) (any, error) {
	switch name {
	case "Ref":
		id, err := r.str(args)
		if err != nil {
			return nil, fmt.Errorf("Ref: %w", err)
		}
		return r.ref(id)
	case "Fn::GetAtt":
		id, attr, err := r.getAttArgs(args)
		if err != nil {
			return nil, err
		}
		return r.getAtt(id, attr)
	case "Fn::Sub":
		return r.sub(args)
	case "Fn::If":
		// Only the chosen branch is evaluated (the other may be AWS::NoValue).
		list, ok := args.([]any)
		if !ok || len(list) != 3 {
			return nil, fmt.Errorf("Fn::If takes 3 arguments")
		}
		cond, err := r.str(list[0])
		if err != nil {
			return nil, err
		}
		yes, err := r.condition(cond)
		if err != nil {
			return nil, err
		}
		if yes {
			return r.value(list[1])
		}
		return r.value(list[2])
	case "Fn::Join":
		list, err := r.list(args, 2, name)
		if err != nil {
			return nil, err
		}
		sep, err := r.str(list[0])
		if err != nil {
			return nil, err
		}
		parts, err := r.strings(list[1])
		if err != nil {
			return nil, err
		}
		return strings.Join(parts, sep), nil
	case "Fn::Select":
		list, err := r.list(args, 2, name)
		if err != nil {
			return nil, err
		}
		idx, err := r.str(list[0])
		if err != nil {
			return nil, err
		}
		i, err := strconv.Atoi(idx)
		items, err2 := r.value(list[1])
		arr, isList := items.([]any)
		if err != nil || err2 != nil || !isList || i < 0 || i >= len(arr) {
			return nil, fmt.Errorf("Fn::Select: index %q out of range", idx)
		}
		return arr[i], nil
	case "Fn::Split":
		list, err := r.list(args, 2, name)
		if err != nil {
			return nil, err
		}
		sep, err := r.str(list[0])
		if err != nil {
			return nil, err
		}
		s, err := r.str(list[1])
		if err != nil {
			return nil, err
		}
		var out []any
		for _, p := range strings.Split(s, sep) {
			out = append(out, p)
		}
		return out, nil
	case "Fn::FindInMap":
		list, err := r.list(args, 3, name)
		if err != nil {
			return nil, err
		}
		keys, err := r.strings(list)
		if err != nil {
			return nil, err
		}
		m, _ := r.t.mappings[keys[0]].(map[string]any)
		second, _ := m[keys[1]].(map[string]any)
		v, found := second[keys[2]]
		if !found {
			return nil, fmt.Errorf("Fn::FindInMap: no %s/%s/%s", keys[0], keys[1], keys[2])
		}
		return r.value(v)
	case "Fn::Base64":
		s, err := r.str(args)
		if err != nil {
			return nil, err
		}
		return base64.StdEncoding.EncodeToString([]byte(s)), nil
	case "Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or":
		return r.evalCondition(map[string]any{name: args})
	default:
		return nil, fmt.Errorf("%s is not supported by the local stack", name)
	}
}

func (r *resolver) list(args any, n int, fn string) ([]any, error) {
	v, err := r.value(args)
	if err != nil {
		return nil, err
	}
	list, ok := v.([]any)
	if !ok || len(list) != n {
		return nil, fmt.Errorf("%s takes %d arguments", fn, n)
	}
	return list, nil
}

func (r *resolver) str(v any) (string, error) {
	rv, err := r.value(v)
	if err != nil {
		return "", err
	}
	return scalar(rv)
}

func (r *resolver) strings(v any) ([]string, error) {
	rv, err := r.value(v)
	if err != nil {
		return nil, err
	}
	list, ok := rv.([]any)
	if !ok {
		return nil, fmt.Errorf("want a list, got %T", rv)
	}
	out := make([]string, len(list))
	for i, e := range list {
		if out[i], err = scalar(e); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func scalar(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case bool:
		return strconv.FormatBool(x), nil
	default:
		return "", fmt.Errorf("want a string, got %T", v)
	}
}

func (r *resolver) getAttArgs(args any) (string, string, error) {
	v, err := r.value(args)
	if err != nil {
		return "", "", err
	}
	switch x := v.(type) {
	case string:
		id, attr, ok := strings.Cut(x, ".")
		if ok {
			return id, attr, nil
		}
	case []any:
		if len(x) == 2 {
			id, err1 := scalar(x[0])
			attr, err2 := scalar(x[1])
			if err1 == nil && err2 == nil {
				return id, attr, nil
			}
		}
	}
	return "", "", fmt.Errorf("Fn::GetAtt: malformed arguments %v", v)
}

// ref is what `!Ref id` returns on AWS, with local names.
func (r *resolver) ref(id string) (any, error) {
	switch id {
	case "AWS::Region":
		return r.l.Region, nil
	case "AWS::AccountId":
		return r.l.AccountID, nil
	case "AWS::StackName":
		return r.l.StackName, nil
	case "AWS::StackId":
		return fmt.Sprintf("arn:aws:cloudformation:%s:%s:stack/%s/local", r.l.Region, r.l.AccountID, r.l.StackName), nil
	case "AWS::Partition":
		return "aws", nil
	case "AWS::URLSuffix":
		return "amazonaws.com", nil
	case "AWS::NoValue":
		return noValue{}, nil
	}
	if v, ok := r.l.Parameters[id]; ok {
		return v, nil
	}
	if p, ok := r.t.parameters[id]; ok {
		return p, nil
	}
	typ, ok := r.t.resources[id]
	if !ok {
		return nil, fmt.Errorf("Ref to unknown %q", id)
	}
	switch typ {
	case typeTable:
		return r.l.Table, nil
	case typeBucket:
		return r.l.Bucket, nil
	case typeFunction:
		return r.physicalName(id)
	case typeStateMachine:
		return r.stateMachineARN(id)
	case typeKMSKey:
		return r.l.KMSKeyID, nil
	default:
		return id, nil
	}
}

func (r *resolver) getAtt(id, attr string) (any, error) {
	typ, ok := r.t.resources[id]
	if !ok {
		return nil, fmt.Errorf("Fn::GetAtt on unknown resource %q", id)
	}
	switch typ + "." + attr {
	case typeFunction + ".Arn":
		name, err := r.physicalName(id)
		if err != nil {
			return nil, err
		}
		return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", r.l.Region, r.l.AccountID, name), nil
	case typeTable + ".Arn":
		return fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", r.l.Region, r.l.AccountID, r.l.Table), nil
	case typeBucket + ".Arn":
		return "arn:aws:s3:::" + r.l.Bucket, nil
	case typeBucket + ".DomainName", typeBucket + ".RegionalDomainName":
		return r.l.Bucket + ".s3.localhost", nil
	case typeStateMachine + ".Arn":
		return r.stateMachineARN(id)
	case typeKMSKey + ".Arn":
		return fmt.Sprintf("arn:aws:kms:%s:%s:key/%s", r.l.Region, r.l.AccountID, r.l.KMSKeyID), nil
	case typeStateMachine + ".Name":
		return r.physicalName(id)
	}
	return nil, fmt.Errorf("Fn::GetAtt %s.%s is not supported by the local stack", id, attr)
}

// physicalName is the name CloudFormation gives a function or state machine:
// its FunctionName or Name property, or locally the logical id (what
// `sam local` uses).
func (r *resolver) physicalName(id string) (string, error) {
	if n := r.t.names[id]; n != "" {
		s, _, err := r.String(n)
		return s, err
	}
	return id, nil
}

func (r *resolver) stateMachineARN(id string) (string, error) {
	name, err := r.physicalName(id)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("arn:aws:states:%s:%s:stateMachine:%s", r.l.Region, r.l.AccountID, name), nil
}

var subVar = regexp.MustCompile(`\$\{([^}]*)\}`)

func (r *resolver) sub(args any) (any, error) {
	var format string
	vars := map[string]any{}
	switch x := args.(type) {
	case string:
		format = x
	case []any:
		if len(x) != 2 {
			return nil, fmt.Errorf("Fn::Sub takes a string or [string, map]")
		}
		f, err := r.str(x[0])
		if err != nil {
			return nil, err
		}
		format = f
		m, ok := x[1].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("Fn::Sub: variables must be a map")
		}
		vars = m
	default:
		return nil, fmt.Errorf("Fn::Sub takes a string or [string, map]")
	}
	var firstErr error
	out := subVar.ReplaceAllStringFunc(format, func(m string) string {
		name := m[2 : len(m)-1]
		if strings.HasPrefix(name, "!") {
			return "${" + name[1:] + "}"
		}
		var v any
		var err error
		if val, ok := vars[name]; ok {
			v, err = r.value(val)
		} else if id, attr, dotted := strings.Cut(name, "."); dotted && !strings.HasPrefix(name, "AWS::") {
			v, err = r.getAtt(id, attr)
		} else {
			v, err = r.ref(name)
		}
		var s string
		if err == nil {
			s, err = scalar(v)
		}
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("Fn::Sub ${%s}: %w", name, err)
		}
		return s
	})
	return out, firstErr
}

// exists reports whether resource id is deployed: it has no Condition, or
// its Condition holds for the parameters.
func (r *resolver) exists(id string) (bool, error) {
	cond, ok := r.t.conditionOf[id]
	if !ok {
		return true, nil
	}
	return r.condition(cond)
}

// condition evaluates the named condition of the template.
func (r *resolver) condition(name string) (bool, error) {
	expr, ok := r.t.conditions[name]
	if !ok {
		return false, fmt.Errorf("unknown condition %q", name)
	}
	v, err := r.evalCondition(expr)
	if err != nil {
		return false, fmt.Errorf("condition %s: %w", name, err)
	}
	return v.(bool), nil
}

func (r *resolver) evalCondition(expr any) (any, error) {
	r.depth++
	defer func() { r.depth-- }()
	if r.depth > maxResolveDepth {
		return nil, fmt.Errorf("conditions nested too deep (a cycle?)")
	}
	var name string
	var args any
	switch x := expr.(type) {
	case string:
		n, a, ok := decodeToken(x)
		if !ok {
			// goformation drops the !Condition tag, leaving the name.
			return r.condition(x)
		}
		name, args = n, a
	case map[string]any:
		if c, ok := x["Condition"].(string); ok && len(x) == 1 {
			return r.condition(c)
		}
		if len(x) != 1 {
			return nil, fmt.Errorf("not a condition: %v", x)
		}
		for name, args = range x {
		}
	case bool:
		return x, nil
	default:
		return nil, fmt.Errorf("not a condition: %v", expr)
	}
	list, _ := args.([]any)
	switch name {
	case "Fn::Equals":
		if len(list) != 2 {
			return nil, fmt.Errorf("Fn::Equals takes 2 arguments")
		}
		a, err := r.value(list[0])
		if err != nil {
			return nil, err
		}
		b, err := r.value(list[1])
		if err != nil {
			return nil, err
		}
		as, _ := json.Marshal(a)
		bs, _ := json.Marshal(b)
		return string(as) == string(bs), nil
	case "Fn::Not", "Fn::And", "Fn::Or":
		if len(list) == 0 {
			return nil, fmt.Errorf("%s takes conditions", name)
		}
		results := make([]bool, len(list))
		for i, e := range list {
			v, err := r.evalCondition(e)
			if err != nil {
				return nil, err
			}
			results[i] = v.(bool)
		}
		switch name {
		case "Fn::Not":
			return !results[0], nil
		case "Fn::And":
			for _, b := range results {
				if !b {
					return false, nil
				}
			}
			return true, nil
		default:
			for _, b := range results {
				if b {
					return true, nil
				}
			}
			return false, nil
		}
	}
	return nil, fmt.Errorf("%s is not a condition function", name)
}
