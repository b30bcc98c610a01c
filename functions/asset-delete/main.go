// Command asset-delete is the Lambda behind DELETE /api/v1/assets/{id}.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/mediatrail/mediatrail/shared/app"
)

func main() {
	lambda.Start(app.MustLoad(context.Background()).Handler("asset-delete"))
}
