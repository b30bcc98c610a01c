// Command authorizer is a Lambda (REQUEST) authorizer with simple responses:
// the identity "let-me-in" is authorized as user alice.
package main

import (
	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func handle(req events.APIGatewayV2CustomAuthorizerV2Request) (events.APIGatewayV2CustomAuthorizerSimpleResponse, error) {
	if len(req.IdentitySource) == 1 && req.IdentitySource[0] == "let-me-in" {
		return events.APIGatewayV2CustomAuthorizerSimpleResponse{
			IsAuthorized: true,
			Context:      map[string]any{"user": "alice", "route": req.RouteKey},
		}, nil
	}
	return events.APIGatewayV2CustomAuthorizerSimpleResponse{IsAuthorized: false}, nil
}

func main() { lambda.Start(handle) }
