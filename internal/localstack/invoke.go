package localstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

// MaxInvokePayloadBytes is Lambda's synchronous request payload limit.
const MaxInvokePayloadBytes = 6 << 20

// FunctionError is a function's own failure (an error returned by the handler,
// a panic, a crash or a timeout), as Lambda reports it: the invocation itself
// succeeded and its payload is {"errorType","errorMessage"}.
type FunctionError struct {
	Type, Message string
	// Payload is the error document the runtime produced.
	Payload json.RawMessage
}

func (e *FunctionError) Error() string { return e.Type + ": " + e.Message }

// newFunctionError builds a FunctionError whose payload is Lambda's error
// document.
func newFunctionError(typ, msg string) *FunctionError {
	b, _ := json.Marshal(map[string]string{"errorType": typ, "errorMessage": msg})
	return &FunctionError{Type: typ, Message: msg, Payload: b}
}

// parseFunctionError recognises the error document a Lambda runtime posts for
// a failed invocation.
func parseFunctionError(body []byte) (*FunctionError, bool) {
	var doc map[string]json.RawMessage
	if json.Unmarshal(body, &doc) != nil {
		return nil, false
	}
	var typ, msg string
	if json.Unmarshal(doc["errorType"], &typ) != nil || json.Unmarshal(doc["errorMessage"], &msg) != nil || typ == "" {
		return nil, false
	}
	for k := range doc {
		switch k {
		case "errorType", "errorMessage", "stackTrace", "trace", "cause":
		default:
			return nil, false
		}
	}
	return &FunctionError{Type: typ, Message: msg, Payload: append(json.RawMessage(nil), body...)}, true
}

// Invoker runs a function by logical id with a JSON event, as the Lambda
// service does, returning the JSON response. A failure of the function itself
// is a *FunctionError; any other error means the function could not be run.
type Invoker interface {
	Invoke(ctx context.Context, logicalID string, payload []byte) ([]byte, error)
}

// InProcess invokes handlers in this process through aws-lambda-go's handler
// adapter, so events and responses are marshalled exactly as in Lambda.
type InProcess map[string]lambda.Handler

// Invoke implements Invoker. Handler errors and panics become
// *FunctionError with the errorType the Go runtime would report.
func (p InProcess) Invoke(ctx context.Context, logicalID string, payload []byte) (out []byte, err error) {
	h, ok := p[logicalID]
	if !ok {
		return nil, fmt.Errorf("function %s has no in-process handler", logicalID)
	}
	defer func() {
		if v := recover(); v != nil {
			out, err = nil, newFunctionError(goErrorType(v), fmt.Sprint(v))
		}
	}()
	out, err = h.Invoke(ctx, payload)
	if err != nil {
		return nil, newFunctionError(goErrorType(err), err.Error())
	}
	return out, nil
}

// goErrorType names an error's type as aws-lambda-go does ("errorString").
func goErrorType(v any) string {
	t := reflect.TypeOf(v)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Name()
}

// Invocation describes one finished function invocation, for logs and tests.
type Invocation struct {
	Function string // logical id
	// Source says what invoked it: "api", "lambda" (the Invoke API), "s3"
	// or "authorizer".
	Source   string
	Payload  []byte
	Response []byte
	Err      error
	Duration time.Duration
}

// lambdaAPI serves the Lambda Invoke API:
// POST /2015-03-31/functions/{name}/invocations.
type lambdaAPI struct {
	deployment *Deployment
	invoke     func(ctx context.Context, source, logicalID string, payload []byte) ([]byte, error)
	logger     *slog.Logger
	// background runs asynchronous (Event) invocations.
	background func(func(context.Context))
}

func (a *lambdaAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	fn, ok := a.deployment.Function(name)
	if !ok {
		writeAWSRestError(w, http.StatusNotFound, "ResourceNotFoundException",
			fmt.Sprintf("Function not found: arn:aws:lambda:%s:%s:function:%s", a.deployment.Locals.Region, a.deployment.Locals.AccountID, name))
		return
	}
	payload, err := io.ReadAll(io.LimitReader(r.Body, MaxInvokePayloadBytes+1))
	if err != nil {
		writeAWSRestError(w, http.StatusBadRequest, "InvalidRequestContentException", "could not read the request body")
		return
	}
	if len(payload) > MaxInvokePayloadBytes {
		writeAWSRestError(w, http.StatusRequestEntityTooLarge, "RequestTooLargeException", "Request must be smaller than 6291456 bytes for the InvokeFunction operation")
		return
	}
	if len(payload) == 0 {
		payload = []byte("{}")
	}
	if !json.Valid(payload) {
		writeAWSRestError(w, http.StatusBadRequest, "InvalidRequestContentException", "Could not parse request body into json")
		return
	}
	w.Header().Set("X-Amz-Executed-Version", "$LATEST")
	switch typ := r.Header.Get("X-Amz-Invocation-Type"); typ {
	case "", "RequestResponse":
	case "Event":
		a.background(func(ctx context.Context) { _, _ = a.invoke(ctx, "lambda", fn.LogicalID, payload) })
		w.WriteHeader(http.StatusAccepted)
		return
	case "DryRun":
		w.WriteHeader(http.StatusNoContent)
		return
	default:
		writeAWSRestError(w, http.StatusBadRequest, "InvalidParameterValueException", "unknown invocation type "+typ)
		return
	}
	out, err := a.invoke(r.Context(), "lambda", fn.LogicalID, payload)
	var fe *FunctionError
	switch {
	case errors.As(err, &fe):
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
		out = fe.Payload
	case err != nil:
		a.logger.Error("invoke failed", "function", fn.LogicalID, "err", err)
		writeAWSRestError(w, http.StatusInternalServerError, "ServiceException", "the local stack could not run the function")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
}

// writeAWSRestError writes an error as AWS REST-JSON services do.
func writeAWSRestError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"Type": "User", "message": msg})
}
