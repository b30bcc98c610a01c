// Command agent-media-tools-set is the Lambda behind PUT /api/v1/agents/{agent_id}/media-tools.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/mediatrail/mediatrail/shared/app"
)

func main() {
	lambda.Start(app.MustLoad(context.Background()).Handler("agent-media-tools-set"))
}
