// Package localstack deploys the SAM application on one machine, the way
// `sam local` would, from template.yaml as the one source of truth:
//
//   - LoadTemplate parses the template with goformation, keeping intrinsic
//     functions, and merges Globals; Template.Resolve evaluates them against
//     local resources (a Deployment: names, ARNs, environments, state machine
//     definitions after DefinitionSubstitutions, S3 event sources). The
//     bucket gets a local name; where the template spells the bucket's own
//     BucketName instead of referencing it, that name means the local bucket.
//   - StartEmulators runs the real local services: DynamoDB Local and
//     versitygw (S3), whose event webhook reports object changes.
//   - Functions run either as their bootstrap, built for the host, under
//     aws-lambda-rie with a small pool of processes per function (RIE), or
//     as in-process handlers built by the shared/app constructor each main
//     names (InProcess, for fast tests; the table is in functions.go).
//   - Gateway emulates the API Gateway HTTP API (payload format 2.0) for the
//     template's routes (selected by a net/http.ServeMux) and CORS; the
//     template uses no authorizers, and none is emulated.
//   - One local AWS endpoint serves the Lambda Invoke API, the Step Functions
//     API subset (StartExecution, DescribeExecution, StopExecution, run by
//     aws-local-stepfunctions in Node) and the S3 event webhook, which
//     invokes the subscribed functions with AWS's event shape.
//
// Start wires all of it into a Stack. Functions reach the endpoint through
// AWS_ENDPOINT_URL_LAMBDA and AWS_ENDPOINT_URL_SFN, so they use
// aws-sdk-go-v2 unchanged; the state machines call functions back through the
// same Invoke API.
package localstack
