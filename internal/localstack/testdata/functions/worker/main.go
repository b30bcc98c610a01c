// Command worker is a Step Functions task: it doubles n, refuses negative
// numbers, and sleeps sleepMs first when asked.
package main

import (
	"errors"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

type input struct {
	N         int    `json:"n"`
	SleepMs   int    `json:"sleepMs"`
	Execution string `json:"execution"`
}

type output struct {
	N         int    `json:"n"`
	Doubled   int    `json:"doubled"`
	Execution string `json:"execution,omitempty"`
}

func main() {
	lambda.Start(func(in input) (output, error) {
		time.Sleep(time.Duration(in.SleepMs) * time.Millisecond)
		if in.N < 0 {
			return output{}, errors.New("worker refused a negative number")
		}
		return output{N: in.N, Doubled: 2 * in.N, Execution: in.Execution}, nil
	})
}
