// Command video-notify is the Notify step (callback) of the video job state machine.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/mediatrail/mediatrail/shared/app"
)

func main() {
	lambda.Start(app.MustLoad(context.Background()).Handler("video-notify"))
}
