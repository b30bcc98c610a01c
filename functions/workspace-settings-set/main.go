// Command workspace-settings-set is the Lambda behind PUT /api/v1/workspace/settings.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/mediatrail/mediatrail/shared/app"
)

func main() {
	lambda.Start(app.ColdStart(app.WorkspaceSettingsSet))
}
