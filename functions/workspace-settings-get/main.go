// Command workspace-settings-get is the Lambda behind GET /api/v1/workspace/settings.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/mediatrail/mediatrail/shared/app"
)

func main() {
	lambda.Start(app.ColdStart(app.WorkspaceSettingsGet))
}
