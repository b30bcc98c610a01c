package httpapi

import (
	"context"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// Document serves a fixed JSON document as it is (no envelope) to anyone: no
// key is asked for. It serves GET /api/v1/openapi.json with the contract. A
// document that cannot be produced is a 500 envelope.
func Document(doc func() ([]byte, error)) LambdaHandler {
	return func(_ context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		requestID := ev.RequestContext.RequestID
		if requestID == "" {
			requestID = mediatrail.NewID()
		}
		body, err := doc()
		if err != nil {
			return errorResponse(err, requestID), nil
		}
		return events.APIGatewayV2HTTPResponse{
			StatusCode: http.StatusOK,
			Headers: map[string]string{
				"Content-Type":  "application/json; charset=utf-8",
				"Cache-Control": "public, max-age=300",
				"X-Request-Id":  requestID,
			},
			Body: string(body),
		}, nil
	}
}
