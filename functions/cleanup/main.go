// Command cleanup is the Lambda behind the bucket's removal events (s3:ObjectRemoved:*, s3:LifecycleExpiration:*).
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/mediatrail/mediatrail/shared/app"
)

func main() {
	lambda.Start(app.MustLoad(context.Background()).Handler("cleanup"))
}
