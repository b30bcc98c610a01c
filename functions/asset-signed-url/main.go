// Command asset-signed-url is the Lambda behind GET /api/v1/assets/{id}/signed-url.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/mediatrail/mediatrail/shared/app"
)

func main() {
	lambda.Start(app.MustLoad(context.Background()).Handler("asset-signed-url"))
}
