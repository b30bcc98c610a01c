package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/mediatrail/mediatrail/shared/httpapi"
)

// TestUnknownInputsRefused: unknown query parameters, bodies on body-less
// routes and unknown JSON fields are 400 validation_error naming them, and
// the endpoint never runs for the first two.
func TestUnknownInputsRefused(t *testing.T) {
	type in struct {
		ExecutionID string `json:"execution_id"`
	}
	cases := []struct {
		name, route, query, body string
		wantStatus               int
		wantField                string
	}{
		{"typo on a list", "GET /api/v1/assets", "exec_id=e1", "", 400, "exec_id"},
		{"known parameter", "GET /api/v1/assets", "execution_id=e1&page=1&limit=5", "", 200, ""},
		{"sdk trace filters", "GET /api/v1/traces/summary", "model_name=m&session_id=s&status=ok&level=x", "", 200, ""},
		{"parameter on a delete", "DELETE /api/v1/assets/{id}", "exec_id=e1", "", 400, "exec_id"},
		{"undeclared route is strict", "GET /api/v1/new", "page=1", "", 400, "page"},
		{"body on a delete", "DELETE /api/v1/assets/{id}", "", `{"exec_id":"e1"}`, 400, "body"},
		{"empty object on a body-less route", "POST /api/v1/media/jobs/{id}/cancel", "", `{}`, 200, ""},
		{"unknown body field", "POST /api/v1/assets", "", `{"exec_id":"e1"}`, 400, "exec_id"},
		{"known body field", "POST /api/v1/assets", "", `{"execution_id":"e1"}`, 200, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			api := &httpapi.API{Keys: keys{}}
			ran := false
			h := api.Handler(func(_ context.Context, r *httpapi.Request) (httpapi.Result, error) {
				ran = true
				if tc.body != "" && tc.body != "{}" {
					var v in
					if err := r.DecodeJSON(&v); err != nil {
						return httpapi.Result{}, err
					}
				}
				return httpapi.OK(map[string]any{}), nil
			})
			resp, _ := h(context.Background(), events.APIGatewayV2HTTPRequest{
				RouteKey: tc.route, RawQueryString: tc.query, Body: tc.body,
				Headers: map[string]string{"x-api-key": fuzzKey},
			})
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.wantStatus, resp.Body)
			}
			if tc.wantStatus == http.StatusOK {
				return
			}
			var env struct {
				Error struct {
					Code    string         `json:"code"`
					Details map[string]any `json:"details"`
				} `json:"error"`
			}
			if err := json.Unmarshal([]byte(resp.Body), &env); err != nil {
				t.Fatal(err)
			}
			if env.Error.Code != "validation_error" || env.Error.Details["field"] != tc.wantField {
				t.Errorf("error %+v, want validation_error on %s", env.Error, tc.wantField)
			}
			if tc.query != "" && ran {
				t.Error("the endpoint ran despite an unknown query parameter")
			}
		})
	}
}
