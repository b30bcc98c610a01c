// Command trace-span-get is the Lambda behind GET /api/v1/traces/spans/{span_id}.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/mediatrail/mediatrail/shared/app"
)

func main() {
	lambda.Start(app.ColdStart(app.TraceSpanGet))
}
