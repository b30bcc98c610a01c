// Command media-job-cancel is the Lambda behind POST /api/v1/media/jobs/{id}/cancel.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/mediatrail/mediatrail/shared/app"
	"github.com/mediatrail/mediatrail/shared/app/media"
)

func main() {
	lambda.Start(app.ColdStart(media.JobCancel))
}
