// Command console is the Lambda behind GET /console and GET /console/{proxy+}:
// the review console's static files (shared/console).
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/mediatrail/mediatrail/shared/app"
)

func main() {
	lambda.Start(app.MustLoad(context.Background()).Handler("console"))
}
