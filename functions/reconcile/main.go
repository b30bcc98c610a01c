// Command reconcile is the Lambda behind the scheduled reconciliation of records and blobs.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/mediatrail/mediatrail/shared/app"
)

func main() {
	lambda.Start(app.MustLoad(context.Background()).Handler("reconcile"))
}
