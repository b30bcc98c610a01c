// Command provenance-lookup is the Lambda behind POST /api/v1/provenance.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/mediatrail/mediatrail/shared/app"
)

func main() {
	lambda.Start(app.ColdStart(app.ProvenanceLookup))
}
