// Command mcp is the Lambda behind POST /mcp: the media tools as a stateless
// Streamable HTTP MCP server (GET and DELETE answer 405).
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/mediatrail/mediatrail/shared/app"
)

func main() {
	lambda.Start(app.MustLoad(context.Background()).Handler("mcp"))
}
