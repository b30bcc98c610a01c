// Package static holds the constructors of the functions that serve fixed
// content and build no AWS client: the contract and the review console.
package static

import (
	"context"

	openapi "github.com/mediatrail/mediatrail"
	"github.com/mediatrail/mediatrail/shared/app"
	"github.com/mediatrail/mediatrail/shared/console"
	"github.com/mediatrail/mediatrail/shared/httpapi"
)

// APISpec serves GET /api/v1/openapi.json: openapi.yaml as JSON, to anyone.
func APISpec(context.Context, *app.Env) (httpapi.LambdaHandler, error) {
	return httpapi.Document(openapi.JSON), nil
}

// Console serves the review console's static files under /console.
func Console(_ context.Context, e *app.Env) (httpapi.LambdaHandler, error) {
	return console.New(e.Config.Storage).Handler(), nil
}
