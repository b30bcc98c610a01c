// Command api-spec is the Lambda behind GET /api/v1/openapi.json: the
// contract, openapi.yaml, as JSON, for anyone (no key).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/mediatrail/mediatrail/shared/app"
	"github.com/mediatrail/mediatrail/shared/app/static"
)

func main() {
	lambda.Start(app.ColdStart(static.APISpec))
}
