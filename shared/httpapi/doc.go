// Package httpapi adapts API Gateway HTTP API (payload 2.0) events to the domain:
// authentication by X-API-Key, request parsing and validation, and the one
// response writer with the success and error envelopes of api.md.
//
// Every error that reaches a client has a code from the domain and a status from
// the one map in this package; any other error is logged with the request id and
// answered as a generic 500.
package httpapi
