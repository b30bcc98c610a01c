package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	openapi "github.com/mediatrail/mediatrail"
)

// contract is openapi.yaml, loaded once, routed by path whatever the host:
// tests serve the API on random local ports.
var contract = sync.OnceValues(func() (routers.Router, error) {
	doc, err := openapi3.NewLoader().LoadFromData(openapi.YAML)
	if err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	doc.Servers = nil
	return legacy.NewRouter(doc)
})

// contractOptions checks that a request carries the credentials a scheme
// names; whether the key is right is the server's business (a 401 the spec
// declares).
var contractOptions = &openapi3filter.Options{
	IncludeResponseStatus: true,
	AuthenticationFunc: func(_ context.Context, in *openapi3filter.AuthenticationInput) error {
		s := in.SecurityScheme
		switch {
		case s.Type == "apiKey" && s.In == "header" && in.RequestValidationInput.Request.Header.Get(s.Name) != "":
			return nil
		case s.Type == "http" && strings.EqualFold(s.Scheme, "bearer") &&
			strings.HasPrefix(strings.ToLower(in.RequestValidationInput.Request.Header.Get("Authorization")), "bearer "):
			return nil
		}
		return errors.New("no credentials for scheme " + in.SecuritySchemeName)
	},
}

// CheckContract holds one exchange with the API to openapi.yaml, failing tb
// (without stopping it) on any drift:
//   - the route must be in the spec, unless the answer is the 404 of an
//     unknown route;
//   - every answer must be one the operation declares: its status, and a
//     body and headers matching that response's schema;
//   - a request the spec rejects (a missing key, a wrong type, a bad query
//     value, a body that is not JSON) must be answered with a 4xx the spec
//     declares for the route: tests send invalid requests on purpose, and
//     the server must refuse them as the spec says. A request the spec
//     accepts may still be refused (rules the schema cannot state).
//
// Call runs it on every request; other clients of the API may too.
func CheckContract(tb testing.TB, req *http.Request, reqBody []byte, status int, header http.Header, body []byte) {
	tb.Helper()
	router, err := contract()
	if err != nil {
		tb.Fatal(err)
	}
	req = req.Clone(context.Background())
	req.Body, req.GetBody = http.NoBody, nil
	if len(reqBody) > 0 {
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(reqBody)), nil }
	}
	exchange := req.Method + " " + req.URL.RequestURI()
	// API Gateway matches the path as sent: an escaped "/" stays inside its
	// segment (a path parameter), where a router of decoded paths would split it.
	req.URL.Path, req.URL.RawPath = req.URL.EscapedPath(), ""
	route, params, err := router.FindRoute(req)
	if err != nil {
		if status != http.StatusNotFound {
			tb.Errorf("contract: %s is not in openapi.yaml (%v) but was answered %d: add it to the spec", exchange, err, status)
		}
		return
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: contractOptions}
	reqErr := openapi3filter.ValidateRequest(context.Background(), in)
	if reqErr != nil && (status < 400 || status > 499) {
		tb.Errorf("contract: openapi.yaml rejects %s (%v) but the server answered %d", exchange, reqErr, status)
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: status, Header: header, Options: contractOptions}
	out.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		tb.Errorf("contract: the answer %d to %s does not match openapi.yaml: %v\nbody: %.2000s", status, exchange, err, body)
	}
}
