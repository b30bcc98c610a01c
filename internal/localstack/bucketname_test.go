package localstack_test

import (
	"testing"
)

// A template that spells its bucket's name (BucketName) instead of
// referencing the bucket, as a function subscribed to the bucket must, gets
// the local bucket wherever that name, or an S3 ARN of it, appears.
func TestBucketNameMeansTheLocalBucket(t *testing.T) {
	d := resolve(t, writeTemplate(t, `Transform: AWS::Serverless-2016-10-31
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub ["app-${Id}", { Id: !Select [2, !Split ["/", !Ref AWS::StackId]] }]
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: .
      Handler: bootstrap
      Runtime: provided.al2023
      Environment:
        Variables:
          NAME: !Sub ["app-${Id}", { Id: !Select [2, !Split ["/", !Ref AWS::StackId]] }]
          REF: !Ref Bucket
          OTHER: !Sub ["app-${Id}-logs", { Id: !Select [2, !Split ["/", !Ref AWS::StackId]] }]
          OTHER_ARN: !Sub ["arn:aws:s3:::app-${Id}-logs/x", { Id: !Select [2, !Split ["/", !Ref AWS::StackId]] }]
`))
	for expr, want := range map[string]string{
		"NAME":      "bkt",
		"REF":       "bkt",
		"OTHER":     "app-local-logs",
		"OTHER_ARN": "arn:aws:s3:::app-local-logs/x",
	} {
		if got := d.Functions["Fn"].Env[expr]; got != want {
			t.Errorf("%s = %q, want %q", expr, got, want)
		}
	}
	for _, arn := range []string{"arn:aws:s3:::app-local", "arn:aws:s3:::app-local/workspaces/*"} {
		got, _, err := d.Resolve(arn)
		if want := "arn:aws:s3:::bkt" + arn[len("arn:aws:s3:::app-local"):]; err != nil || got != want {
			t.Errorf("Resolve(%q) = %q, %v; want %q", arn, got, err, want)
		}
	}
}
