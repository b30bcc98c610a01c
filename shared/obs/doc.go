// Package obs is what an operator reads: structured JSON logs (log/slog) that
// never hold a key, token or signature, one log line per request or
// invocation, and CloudWatch metrics written as Embedded Metric Format lines.
//
// Lambda sends a function's stdout and stderr to CloudWatch Logs; CloudWatch
// turns each EMF line into metrics without an API call, so recording a metric
// costs a write and never fails a request. Logs go to stderr and metrics to
// stdout, so the local stack can tell them apart.
package obs
