// Command workspace-retention-set is the Lambda behind PUT /api/v1/workspace/retention.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/mediatrail/mediatrail/shared/app"
)

func main() {
	lambda.Start(app.MustLoad(context.Background()).Handler("workspace-retention-set"))
}
