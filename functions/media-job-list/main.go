// Command media-job-list is the Lambda behind GET /api/v1/media/jobs.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/mediatrail/mediatrail/shared/app"
)

func main() {
	lambda.Start(app.MustLoad(context.Background()).Handler("media-job-list"))
}
