// Command media-tool-delete is the Lambda behind DELETE /api/v1/media-tools/{id}.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/mediatrail/mediatrail/shared/app"
)

func main() {
	lambda.Start(app.MustLoad(context.Background()).Handler("media-tool-delete"))
}
