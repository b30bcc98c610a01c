// Command media-tool-update is the Lambda behind PATCH /api/v1/media-tools/{id}.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/mediatrail/mediatrail/shared/app"
)

func main() {
	lambda.Start(app.MustLoad(context.Background()).Handler("media-tool-update"))
}
