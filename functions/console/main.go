// Command console is the Lambda behind GET /console and GET /console/{proxy+}:
// the review console's static files (shared/console).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/mediatrail/mediatrail/shared/app"
	"github.com/mediatrail/mediatrail/shared/app/static"
)

func main() {
	lambda.Start(app.ColdStart(static.Console))
}
