package obs

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// NewLogger is every function's logger: JSON lines on w (stderr in a
// function), redacted (Redacting).
func NewLogger(w io.Writer) *slog.Logger {
	return slog.New(Redacting(slog.NewJSONHandler(w, nil)))
}

// Keys of the attributes every request or invocation line carries, so the
// local stack's view and CloudWatch Logs Insights queries name them alike.
const (
	KeyRequestID = "request_id"
	KeyWorkspace = "workspace"
	KeyRoute     = "route"
	KeyMethod    = "method"
	KeyPath      = "path"
	KeyStatus    = "status"
	KeyLatencyMS = "latency_ms"
	KeyProvider  = "provider"
	KeyErrorCode = "error_code"
	KeyError     = "err"
	KeyFunction  = "function"
	KeyOutcome   = "outcome"
)

// Messages of the one line per HTTP request and per other invocation.
const (
	MsgRequest    = "request"
	MsgInvocation = "invocation"
)

// fields is what the code serving one request or invocation adds to its log
// line (Annotate): the provider a media call reached, the workspace of a job
// step, ...
type fields struct {
	mu    sync.Mutex
	attrs []slog.Attr
}

type fieldsKey struct{}

// withFields returns ctx carrying a fresh set of fields and that set.
func withFields(ctx context.Context) (context.Context, *fields) {
	f := &fields{}
	return context.WithValue(ctx, fieldsKey{}, f), f
}

// Annotate adds attrs to the log line of the request or invocation ctx
// belongs to; a later attribute of the same key wins. Outside one (a test, a
// command) it does nothing.
func Annotate(ctx context.Context, attrs ...slog.Attr) {
	f, ok := ctx.Value(fieldsKey{}).(*fields)
	if !ok {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.attrs = append(f.attrs, attrs...)
}

// list returns the fields, the last of each key only.
func (f *fields) list() []slog.Attr {
	f.mu.Lock()
	defer f.mu.Unlock()
	last := map[string]int{}
	for i, a := range f.attrs {
		last[a.Key] = i
	}
	var out []slog.Attr
	for i, a := range f.attrs {
		if last[a.Key] == i {
			out = append(out, a)
		}
	}
	return out
}

// Outcome is how a request or invocation ended, as its log line says it.
type Outcome struct {
	Status    int // HTTP status; 0 for other invocations
	ErrorCode string
	Err       error
}

// level is Error for internal failures (5xx), Warn for other errors and Info
// for successes: an alert on level=ERROR finds what needs an operator.
func (o Outcome) level() slog.Level {
	switch {
	case o.Status >= 500 || (o.Status == 0 && o.ErrorCode == mediatrail.EINTERNAL):
		return slog.LevelError
	case o.Err != nil || o.Status >= 400:
		return slog.LevelWarn
	}
	return slog.LevelInfo
}

// Span is one request or invocation being served: Begin starts it, End
// writes its one log line.
type Span struct {
	logger *slog.Logger
	msg    string
	start  time.Time
	base   []slog.Attr
	fields *fields
}

// Begin starts the log line msg for the work ctx carries, with base
// attributes; the returned context collects Annotate's. The Lambda request
// id is added when ctx has one and base names none.
func Begin(ctx context.Context, logger *slog.Logger, msg string, base ...slog.Attr) (context.Context, *Span) {
	ctx, f := withFields(ctx)
	if lc, ok := lambdacontext.FromContext(ctx); ok && !hasKey(base, KeyRequestID) {
		base = append(base, slog.String(KeyRequestID, lc.AwsRequestID))
	}
	return ctx, &Span{logger: logger, msg: msg, start: time.Now(), base: base, fields: f}
}

// End writes the line: base attributes, outcome, latency and annotations.
// The error's full chain (the root cause) is logged; clients only ever see
// its safe message (mediatrail.ErrorMessage). An annotation wins over the
// outcome's attribute of the same key (a job step annotates the cause its
// Lambda error no longer carries).
func (s *Span) End(ctx context.Context, o Outcome) {
	annotated := s.fields.list()
	attrs := append([]slog.Attr{}, s.base...)
	if o.Status != 0 {
		attrs = append(attrs, slog.Int(KeyStatus, o.Status))
	}
	attrs = append(attrs, slog.Int64(KeyLatencyMS, time.Since(s.start).Milliseconds()))
	if o.ErrorCode != "" && !hasKey(annotated, KeyErrorCode) {
		attrs = append(attrs, slog.String(KeyErrorCode, o.ErrorCode))
	}
	if o.Err != nil && !hasKey(annotated, KeyError) {
		attrs = append(attrs, slog.String(KeyError, o.Err.Error()))
	}
	attrs = append(attrs, annotated...)
	s.logger.LogAttrs(context.WithoutCancel(ctx), o.level(), s.msg, attrs...)
}

func hasKey(attrs []slog.Attr, key string) bool {
	for _, a := range attrs {
		if a.Key == key {
			return true
		}
	}
	return false
}

// Invocation wraps a handler that is not an HTTP route (a job step, the
// bucket's events, reconciliation) so that each invocation writes one log
// line: the function, the Lambda request id, latency, outcome and error code,
// and what the handler annotated. f's result and error are returned as they
// are.
func Invocation[In, Out any](logger *slog.Logger, function string, f func(context.Context, In) (Out, error)) func(context.Context, In) (Out, error) {
	return func(ctx context.Context, in In) (Out, error) {
		ctx, span := Begin(ctx, logger, MsgInvocation, slog.String(KeyFunction, function))
		out, err := f(ctx, in)
		o := Outcome{ErrorCode: mediatrail.ErrorCode(err), Err: err}
		span.fields.add(slog.String(KeyOutcome, outcome(err)))
		span.End(ctx, o)
		return out, err
	}
}

func outcome(err error) string {
	if err != nil {
		return "error"
	}
	return "ok"
}

func (f *fields) add(a slog.Attr) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.attrs = append(f.attrs, a)
}
