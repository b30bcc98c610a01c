// Command api-spec is the Lambda behind GET /api/v1/openapi.json: the
// contract, openapi.yaml, as JSON, for anyone (no key).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	openapi "github.com/mediatrail/mediatrail"
	"github.com/mediatrail/mediatrail/shared/httpapi"
)

func main() {
	lambda.Start(httpapi.Document(openapi.JSON))
}
