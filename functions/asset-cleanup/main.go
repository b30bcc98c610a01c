// Command asset-cleanup is the Lambda behind POST /api/v1/assets/cleanup.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/mediatrail/mediatrail/shared/app"
)

func main() {
	lambda.Start(app.ColdStart(app.AssetCleanup))
}
