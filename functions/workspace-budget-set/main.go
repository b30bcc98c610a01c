// Command workspace-budget-set is the Lambda behind PUT /api/v1/workspace/budget.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/mediatrail/mediatrail/shared/app"
	"github.com/mediatrail/mediatrail/shared/app/budget"
)

func main() {
	lambda.Start(app.ColdStart(budget.WorkspaceBudgetSet))
}
