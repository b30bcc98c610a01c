// Package sfn runs job workflows on AWS Step Functions: each job is one
// execution of the video job state machine (statemachines/video-job.asl.json),
// named after the job, so that starting it twice starts it once.
package sfn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssfn "github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// API is the part of *sfn.Client the workflow uses.
type API interface {
	StartExecution(ctx context.Context, in *awssfn.StartExecutionInput, optFns ...func(*awssfn.Options)) (*awssfn.StartExecutionOutput, error)
}

var _ API = (*awssfn.Client)(nil)

// Workflow starts executions of one state machine.
type Workflow struct {
	Client          API
	StateMachineARN string
}

var _ mediatrail.Workflow = (*Workflow)(nil)

// Start starts the execution named t.JobID with t as its input. An execution
// of that name that already exists (a retried request) is not an error: the
// job runs once.
func (w *Workflow) Start(ctx context.Context, t mediatrail.JobTask) error {
	input, err := json.Marshal(t)
	if err != nil {
		return err
	}
	_, err = w.Client.StartExecution(ctx, &awssfn.StartExecutionInput{
		StateMachineArn: aws.String(w.StateMachineARN),
		Name:            aws.String(t.JobID),
		Input:           aws.String(string(input)),
	})
	var exists *types.ExecutionAlreadyExists
	if err != nil && !errors.As(err, &exists) {
		return fmt.Errorf("sfn: start execution %s: %w", t.JobID, err)
	}
	return nil
}
