// Command noop is the bootstrap of the no-op function `make load` runs under
// aws-lambda-rie beside the stack (see cmd/load). It is a dev tool, not part
// of template.yaml.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/mediatrail/mediatrail/cmd/load/internal/noop"
)

func main() { lambda.Start(noop.Handle) }
