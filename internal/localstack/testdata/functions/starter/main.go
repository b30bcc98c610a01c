// Command starter starts an execution of the state machine STATE_MACHINE_ARN
// names with the request body as input, through aws-sdk-go-v2's Step
// Functions client configured only by the environment, as on AWS.
package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
)

func main() {
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		panic(err)
	}
	client := sfn.NewFromConfig(cfg)
	machine := os.Getenv("STATE_MACHINE_ARN")
	lambda.Start(func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		in := &sfn.StartExecutionInput{StateMachineArn: aws.String(machine), Input: aws.String(ev.Body)}
		if name := ev.QueryStringParameters["name"]; name != "" {
			in.Name = aws.String(name)
		}
		out, err := client.StartExecution(ctx, in)
		if err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		body, _ := json.Marshal(map[string]string{"executionArn": aws.ToString(out.ExecutionArn)})
		return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusAccepted, Body: string(body),
			Headers: map[string]string{"Content-Type": "application/json"}}, nil
	})
}
