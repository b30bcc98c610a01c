// Command mcp is the Lambda behind POST /mcp: the media tools as a stateless
// Streamable HTTP MCP server (GET and DELETE answer 405).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/mediatrail/mediatrail/shared/app"
	"github.com/mediatrail/mediatrail/shared/app/media"
)

func main() {
	lambda.Start(app.ColdStart(media.MCP))
}
