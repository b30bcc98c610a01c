// Command probe answers HTTP API requests with what it received: the
// gateway's event as the function sees it, and a few environment variables.
// Query parameters steer the answer: status, sleep (milliseconds), binary,
// fail (the handler returns an error).
package main

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"os"
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
	lc, _ := lambdacontext.FromContext(ctx)
	body, err := jsonString(echo{Event: ev, Env: env, Function: lc.InvokedFunctionArn})
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

func main() { lambda.Start(handle) }
