// Command credential-delete is the Lambda behind DELETE /api/v1/credentials/{id}.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/mediatrail/mediatrail/shared/app"
	"github.com/mediatrail/mediatrail/shared/app/media"
)

func main() {
	lambda.Start(app.ColdStart(media.CredentialDelete))
}
