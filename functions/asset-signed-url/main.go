// Command asset-signed-url is the Lambda behind GET /api/v1/assets/{id}/signed-url.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/mediatrail/mediatrail/shared/app"
)

func main() {
	lambda.Start(app.ColdStart(app.AssetSignedURL))
}
