// Command credential-check is the Lambda behind POST /api/v1/credentials/{id}/check.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/mediatrail/mediatrail/shared/app"
	"github.com/mediatrail/mediatrail/shared/app/media"
)

func main() {
	lambda.Start(app.ColdStart(media.CredentialCheck))
}
