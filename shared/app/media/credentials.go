package media

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/mediatrail/mediatrail/shared/app"
)

// kmsClient honours AWS_ENDPOINT_URL_KMS from the function's environment, as
// Env.DynamoDB does for DynamoDB (the local stack runs local-kms).
func kmsClient(e *app.Env) *awskms.Client {
	ep := e.Endpoint("KMS")
	return awskms.NewFromConfig(e.AWS, func(o *awskms.Options) {
		if ep != "" {
			o.BaseEndpoint = aws.String(ep)
		}
	})
}
