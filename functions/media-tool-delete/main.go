// Command media-tool-delete is the Lambda behind DELETE /api/v1/media-tools/{id}.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/mediatrail/mediatrail/shared/app"
	"github.com/mediatrail/mediatrail/shared/app/media"
)

func main() {
	lambda.Start(app.ColdStart(media.ToolDelete))
}
