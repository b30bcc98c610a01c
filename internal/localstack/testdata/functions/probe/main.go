// Command probe answers HTTP API requests with what it received: the
// gateway's event as the function sees it, and a few environment variables.
// Query parameters steer the answer: status, sleep (milliseconds), binary,
// fail (the handler returns an error), meet, of and wait (a rendezvous: the
// invocation leaves a file in the directory meet while it waits, at most
// wait milliseconds (default 8000), until of invocations are there; it
// answers in met the most it saw at once).
package main

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type echo struct {
	Event    events.APIGatewayV2HTTPRequest `json:"event"`
	Env      map[string]string              `json:"env"`
	Function string                         `json:"function"`
	Met      int                            `json:"met,omitempty"`
}

func handle(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	q := ev.QueryStringParameters
	if ms, err := strconv.Atoi(q["sleep"]); err == nil {
		time.Sleep(time.Duration(ms) * time.Millisecond)
	}
	if q["fail"] != "" {
		return events.APIGatewayV2HTTPResponse{}, errors.New("probe failed on purpose")
	}
	if q["binary"] != "" {
		return events.APIGatewayV2HTTPResponse{
			StatusCode: http.StatusOK, Headers: map[string]string{"Content-Type": "application/octet-stream"},
			Body: base64.StdEncoding.EncodeToString([]byte{0, 1, 2, 255}), IsBase64Encoded: true,
		}, nil
	}
	status := http.StatusOK
	if s, err := strconv.Atoi(q["status"]); err == nil {
		status = s
	}
	env := map[string]string{}
	for _, k := range []string{"GREETING", "BUCKET", "BUCKET_ARN", "STAGE", "WHERE", "AWS_LAMBDA_FUNCTION_NAME", "AWS_REGION"} {
		if v, ok := os.LookupEnv(k); ok {
			env[k] = v
		}
	}
	met := 0
	if dir := q["meet"]; dir != "" {
		of, _ := strconv.Atoi(q["of"])
		wait := 8 * time.Second
		if ms, err := strconv.Atoi(q["wait"]); err == nil {
			wait = time.Duration(ms) * time.Millisecond
		}
		var err error
		if met, err = meet(dir, of, wait); err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
	}
	lc, _ := lambdacontext.FromContext(ctx)
	body, err := jsonString(echo{Event: ev, Env: env, Function: lc.InvokedFunctionArn, Met: met})
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	return events.APIGatewayV2HTTPResponse{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": "application/json", "X-Probe": "yes"},
		Cookies:    []string{"seen=1; Path=/", "probe=" + ev.RequestContext.RequestID},
		Body:       body,
	}, nil
}

// meet leaves a file in dir while it waits until n invocations are there at
// once or wait passed, and returns the most it saw: n only if n invocations
// overlapped. The first to see n leaves a mark that tells the others.
func meet(dir string, n int, wait time.Duration) (int, error) {
	f, err := os.CreateTemp(dir, "here-")
	if err != nil {
		return 0, err
	}
	f.Close()
	defer os.Remove(f.Name())
	mark := filepath.Join(dir, "all-met")
	deadline := time.Now().Add(wait)
	most := 0
	for {
		if _, err := os.Stat(mark); err == nil {
			return n, nil
		}
		here, err := filepath.Glob(filepath.Join(dir, "here-*"))
		if err != nil {
			return 0, err
		}
		if most = max(most, len(here)); most >= n {
			return n, os.WriteFile(mark, nil, 0o644)
		}
		if time.Now().After(deadline) {
			return most, nil
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func main() { lambda.Start(handle) }
