// Command s3-probe is subscribed to S3 removals; it answers with what it
// understood of each record, decoded with aws-lambda-go's S3Event.
package main

import (
	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

type seen struct {
	EventName, Bucket, BucketARN, Key, DecodedKey, ETag, ConfigurationID string
	Size                                                                 int64
}

func main() {
	lambda.Start(func(ev events.S3Event) ([]seen, error) {
		var out []seen
		for _, r := range ev.Records {
			out = append(out, seen{
				EventName: r.EventName, Bucket: r.S3.Bucket.Name, BucketARN: r.S3.Bucket.Arn,
				Key: r.S3.Object.Key, DecodedKey: r.S3.Object.URLDecodedKey, ETag: r.S3.Object.ETag,
				ConfigurationID: r.S3.ConfigurationID, Size: r.S3.Object.Size,
			})
		}
		return out, nil
	})
}
