package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/aws/aws-lambda-go/events"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// statusByCode is the one map from error codes to HTTP statuses.
var statusByCode = map[string]int{
	mediatrail.EINVALID:         http.StatusBadRequest,
	mediatrail.EUNAUTHENTICATED: http.StatusUnauthorized,
	mediatrail.EQUOTA:           http.StatusPaymentRequired,
	mediatrail.EFORBIDDEN:       http.StatusForbidden,
	mediatrail.ENOTFOUND:        http.StatusNotFound,
	mediatrail.ECONFLICT:        http.StatusConflict,
	mediatrail.ETOOLARGE:        http.StatusRequestEntityTooLarge,
	mediatrail.EUNPROCESSABLE:   http.StatusUnprocessableEntity,
	mediatrail.ERATELIMITED:     http.StatusTooManyRequests,
	mediatrail.EINTERNAL:        http.StatusInternalServerError,
	mediatrail.EPROVIDER:        http.StatusBadGateway,
	mediatrail.EUNAVAILABLE:     http.StatusServiceUnavailable,
	mediatrail.ETIMEOUT:         http.StatusGatewayTimeout,

	mediatrail.ECREDENTIALMISSING: http.StatusUnprocessableEntity,
	mediatrail.ETOOLNOTATTACHED:   http.StatusForbidden,
	mediatrail.EPROVIDERAUTH:      http.StatusFailedDependency,
	mediatrail.EBUDGET:            http.StatusPaymentRequired,
}

// StatusFor returns the HTTP status of an error code (500 for unknown codes).
func StatusFor(code string) int {
	if s, ok := statusByCode[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Meta is the paging block of a list response.
type Meta struct {
	Total      int    `json:"total"`
	Page       int    `json:"page"`
	Limit      int    `json:"limit"`
	Pages      int    `json:"pages"`
	NextCursor string `json:"next_cursor"`
	TotalPages int    `json:"total_pages"` // = Pages, for older SDK releases (api.md "Round 2")
}

// NewMeta computes pages from total and limit.
func NewMeta(total, page, limit int, next string) Meta {
	pages := 0
	if limit > 0 {
		pages = (total + limit - 1) / limit
	}
	return Meta{Total: total, Page: page, Limit: limit, Pages: pages, TotalPages: pages, NextCursor: next}
}

// Result is what an endpoint answers on success.
type Result struct {
	Status  int
	Data    any   // wrapped as {"data": Data}; nil with 204
	Meta    *Meta // list responses only
	Headers map[string]string
}

// OK is a 200 with data; Created a 201; NoContent a 204.
func OK(data any) Result      { return Result{Status: http.StatusOK, Data: data} }
func Created(data any) Result { return Result{Status: http.StatusCreated, Data: data} }
func NoContent() Result       { return Result{Status: http.StatusNoContent} }

// List is a 200 list envelope.
func List(data any, m Meta) Result { return Result{Status: http.StatusOK, Data: data, Meta: &m} }

type errorBody struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Details map[string]any `json:"details"`
}

func response(status int, body any, requestID string, extra map[string]string) events.APIGatewayV2HTTPResponse {
	headers := map[string]string{"X-Request-Id": requestID}
	for k, v := range extra {
		headers[k] = v
	}
	resp := events.APIGatewayV2HTTPResponse{StatusCode: status, Headers: headers}
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return errorResponse(errors.New("encode response"), requestID)
		}
		headers["Content-Type"] = "application/json; charset=utf-8"
		resp.Body = string(b)
	}
	return resp
}

func successResponse(r Result, requestID string) events.APIGatewayV2HTTPResponse {
	if r.Status == http.StatusNoContent {
		return response(r.Status, nil, requestID, r.Headers)
	}
	body := map[string]any{"data": r.Data}
	if r.Meta != nil {
		body["meta"] = r.Meta
	}
	return response(r.Status, body, requestID, r.Headers)
}

// errorResponse writes the error envelope. Only *mediatrail.Error messages and
// details reach the client; every other error becomes a generic 500.
func errorResponse(err error, requestID string) events.APIGatewayV2HTTPResponse {
	code := mediatrail.ErrorCode(err)
	details := map[string]any{}
	headers := map[string]string{}
	var e *mediatrail.Error
	if errors.As(err, &e) {
		for k, v := range e.Details {
			details[k] = v
		}
		if e.RetryAfterSeconds > 0 {
			headers["Retry-After"] = strconv.Itoa(e.RetryAfterSeconds)
		}
	}
	details["request_id"] = requestID
	body := map[string]any{"error": errorBody{Code: code, Message: mediatrail.ErrorMessage(err), Details: details}}
	return response(StatusFor(code), body, requestID, headers)
}
