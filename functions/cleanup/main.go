// Command cleanup is the Lambda behind the bucket's removal events (s3:ObjectRemoved:*, s3:LifecycleExpiration:*).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/mediatrail/mediatrail/shared/app"
)

func main() {
	lambda.Start(app.ColdStart(app.Cleanup))
}
