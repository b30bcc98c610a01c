package localstack_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/mediatrail/mediatrail/internal/localstack"
	"github.com/mediatrail/mediatrail/shared/testenv"
)

// awsConfig is what a client of the local AWS endpoint needs: any
// credentials, the local region.
func awsConfig() aws.Config {
	return aws.Config{Region: localstack.Region, Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")}
}

func lambdaClient(s *localstack.Stack) *lambda.Client {
	return lambda.NewFromConfig(awsConfig(), func(o *lambda.Options) { o.BaseEndpoint = aws.String(s.EndpointURL) })
}

func sfnClient(s *localstack.Stack) *sfn.Client {
	return sfn.NewFromConfig(awsConfig(), func(o *sfn.Options) { o.BaseEndpoint = aws.String(s.EndpointURL) })
}

// The Lambda Invoke API answers aws-sdk-go-v2 as Lambda does, function errors
// included.
func TestLambdaInvokeAPI(t *testing.T) {
	s, obs := probeStack(t)
	ctx := testenv.Context(t)
	c := lambdaClient(s)
	worker := s.Deployment.Functions["WorkerFunction"]
	for _, name := range []string{"WorkerFunction", worker.ARN, worker.ARN + ":$LATEST", localstack.AccountID + ":function:WorkerFunction"} {
		out, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(name), Payload: []byte(`{"n":21}`)})
		if err != nil {
			t.Fatalf("invoke %s: %v", name, err)
		}
		if string(out.Payload) != `{"n":21,"doubled":42}` || out.FunctionError != nil || out.StatusCode != 200 || aws.ToString(out.ExecutedVersion) != "$LATEST" {
			t.Errorf("invoke %s: payload %s error %v status %d", name, out.Payload, out.FunctionError, out.StatusCode)
		}
	}

	out, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("WorkerFunction"), Payload: []byte(`{"n":-1}`)})
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ ErrorType, ErrorMessage string }
	if err := json.Unmarshal(out.Payload, &doc); err != nil || aws.ToString(out.FunctionError) != "Unhandled" ||
		doc.ErrorType != "errorString" || doc.ErrorMessage != "worker refused a negative number" {
		t.Errorf("function error: %s %s", aws.ToString(out.FunctionError), out.Payload)
	}

	_, err = c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("NoSuchFunction")})
	if !isError[*lambdatypes.ResourceNotFoundException](err) {
		t.Errorf("unknown function: %v", err)
	}

	out, err = c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("WorkerFunction"), InvocationType: lambdatypes.InvocationTypeEvent, Payload: []byte(`{"n":1000}`)})
	if err != nil || out.StatusCode != 202 {
		t.Fatalf("async invoke: %v %+v", err, out)
	}
	obs.waitFor(t, 10*time.Second, func(inv localstack.Invocation) bool {
		return inv.Function == "WorkerFunction" && string(inv.Response) == `{"n":1000,"doubled":2000}`
	})

	out, err = c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("WorkerFunction"), InvocationType: lambdatypes.InvocationTypeDryRun})
	if err != nil || out.StatusCode != 204 {
		t.Errorf("dry run: %v %+v", err, out)
	}
}

// waitExecution polls DescribeExecution, as a client would, until the
// execution ends.
func waitExecution(t *testing.T, c *sfn.Client, arn string) *sfn.DescribeExecutionOutput {
	t.Helper()
	ctx, cancel := context.WithTimeout(testenv.Context(t), 30*time.Second)
	defer cancel()
	for {
		out, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
		if err != nil {
			t.Fatalf("DescribeExecution: %v", err)
		}
		if out.Status != sfntypes.ExecutionStatusRunning {
			return out
		}
		select {
		case <-ctx.Done():
			t.Fatalf("execution %s still running", arn)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// A function started through the gateway starts an execution through the
// Step Functions API; testdata/statemachines/job.asl.json runs in
// aws-local-stepfunctions and calls WorkerFunction back through the Lambda
// Invoke API, as a plain ARN and through the lambda:invoke integration.
func TestStepFunctionsThroughLambdaInvokeAPI(t *testing.T) {
	s, obs := probeStack(t)
	c := sfnClient(s)
	name := "job-" + strings.TrimPrefix(testenv.UniqueName("x"), "x-")
	resp := send(t, mustRequest(t, "POST", s.URL+"/jobs?name="+name, strings.NewReader(`{"n":3}`)))
	var started struct{ ExecutionArn string }
	if resp.status != 202 || json.Unmarshal(resp.body, &started) != nil || !strings.HasSuffix(started.ExecutionArn, ":execution:JobStateMachine:"+name) {
		t.Fatalf("POST /jobs: %d %s", resp.status, resp.body)
	}
	out := waitExecution(t, c, started.ExecutionArn)
	if out.Status != sfntypes.ExecutionStatusSucceeded {
		t.Fatalf("status %s: %s %s", out.Status, aws.ToString(out.Error), aws.ToString(out.Cause))
	}
	var result map[string]any
	if err := json.Unmarshal([]byte(aws.ToString(out.Output)), &result); err != nil ||
		result["result"] != float64(12) || result["execution"] != name || result["status"] != float64(200) {
		t.Errorf("output %s", aws.ToString(out.Output))
	}
	if aws.ToString(out.Input) != `{"n":3}` || aws.ToString(out.StateMachineArn) != s.Deployment.StateMachines["JobStateMachine"].ARN ||
		out.StartDate == nil || out.StopDate == nil || out.StopDate.Before(*out.StartDate) {
		t.Errorf("describe: %+v", out)
	}
	calls := obs.all(func(inv localstack.Invocation) bool {
		return inv.Function == "WorkerFunction" && inv.Source == "lambda" && strings.Contains(string(inv.Response), `"execution":"`+name+`"`)
	})
	if len(calls) != 1 {
		t.Errorf("lambda:invoke reached WorkerFunction %d times with the execution name", len(calls))
	}
}

func TestStepFunctionsAPI(t *testing.T) {
	s, _ := probeStack(t)
	ctx := testenv.Context(t)
	c := sfnClient(s)
	machine := aws.String(s.Deployment.StateMachines["JobStateMachine"].ARN)
	start := func(t *testing.T, input string) string {
		t.Helper()
		out, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: machine, Input: aws.String(input)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.ExecutionArn)
	}

	t.Run("caught function error fails the execution", func(t *testing.T) {
		out := waitExecution(t, c, start(t, `{"n":-1}`))
		if out.Status != sfntypes.ExecutionStatusFailed || aws.ToString(out.Error) != "Refused" || aws.ToString(out.Cause) != "the worker refused" {
			t.Errorf("status %s error %q cause %q", out.Status, aws.ToString(out.Error), aws.ToString(out.Cause))
		}
	})
	t.Run("stop", func(t *testing.T) {
		arn := start(t, `{"n":1,"sleepMs":3000}`)
		if _, err := c.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: aws.String(arn), Error: aws.String("Stopped"), Cause: aws.String("by the test")}); err != nil {
			t.Fatal(err)
		}
		out := waitExecution(t, c, arn)
		if out.Status != sfntypes.ExecutionStatusAborted || aws.ToString(out.Error) != "Stopped" || aws.ToString(out.Cause) != "by the test" {
			t.Errorf("status %s error %q cause %q", out.Status, aws.ToString(out.Error), aws.ToString(out.Cause))
		}
	})
	t.Run("errors", func(t *testing.T) {
		name := aws.String(testenv.UniqueName("dup"))
		if _, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: machine, Name: name, Input: aws.String(`{"n":1}`)}); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name string
			call func() error
			want func(error) bool
		}{
			{"same name, other input", func() error {
				_, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: machine, Name: name, Input: aws.String(`{"n":2}`)})
				return err
			}, isError[*sfntypes.ExecutionAlreadyExists]},
			{"unknown machine", func() error {
				_, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(*machine + "Nope")})
				return err
			}, isError[*sfntypes.StateMachineDoesNotExist]},
			{"input not JSON", func() error {
				_, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: machine, Input: aws.String("{")})
				return err
			}, isError[*sfntypes.InvalidExecutionInput]},
			{"unknown execution", func() error {
				_, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(*machine + ":nope")})
				return err
			}, isError[*sfntypes.ExecutionDoesNotExist]},
		}
		for _, tc := range cases {
			if err := tc.call(); !tc.want(err) {
				t.Errorf("%s: got %v", tc.name, err)
			}
		}
	})
}

// isError reports whether err wraps an error of type T.
func isError[T error](err error) bool {
	var target T
	return errors.As(err, &target)
}
