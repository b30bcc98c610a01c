package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/mediatrail/mediatrail/internal/localstack"
	"github.com/mediatrail/mediatrail/shared/testenv"
)

// stack is the template's API in process, on 127.0.0.1, over fresh resources
// in the emulators `make test` starts, with one workspace and its key.
type stack struct {
	*localstack.Stack
	key string
}

func newStack(t *testing.T, env map[string]string) *stack {
	t.Helper()
	s3, _ := testenv.S3(t)
	key := "cli-" + testenv.UniqueName("key")
	_, file, _, _ := runtime.Caller(0)
	st, err := localstack.Start(testenv.Context(t), localstack.Options{
		Root: filepath.Join(filepath.Dir(file), "..", ".."), Runtime: localstack.RuntimeInProcess, Env: env,
		Emulators: &localstack.Emulators{
			DynamoDBURL: testenv.Endpoint(t, testenv.EnvDynamoDB),
			S3URL:       s3.Endpoint, S3AccessKey: s3.AccessKey, S3SecretKey: s3.SecretKey,
		},
		Table: testenv.Table(t, "cli"), Bucket: testenv.UniqueName("cli"),
		APIKeys: map[string]string{key: testenv.UniqueName("ws")},
	})
	if err != nil {
		t.Fatalf("start stack: %v", err)
	}
	t.Cleanup(func() { _ = st.Close(context.Background()) })
	return &stack{Stack: st, key: key}
}

// result is one run of the CLI.
type result struct {
	code           int
	stdout, stderr string
}

// runOptions tune one run: standard input, extra environment (over the
// stack's URL and key; "" unsets), and the storage transport.
type runOptions struct {
	stdin   string
	env     map[string]string
	storage func(http.RoundTripper) http.RoundTripper
}

// mt runs the CLI against the stack with its key, the profile file in the
// test's directory, and every API exchange held to openapi.yaml.
func (s *stack) mt(t *testing.T, o runOptions, args ...string) result {
	t.Helper()
	vars := map[string]string{envURL: s.URL, envAPIKey: s.key, envConfig: filepath.Join(t.TempDir(), "config.toml")}
	for k, v := range o.env {
		vars[k] = v
	}
	var storage http.RoundTripper = http.DefaultTransport
	if o.storage != nil {
		storage = o.storage(storage)
	}
	return runCLI(t, o.stdin, func(k string) string { return vars[k] },
		&http.Client{Transport: &contractTransport{t: t, api: s.URL + "/api/", next: http.DefaultTransport, storage: storage}}, args...)
}

func runCLI(t *testing.T, stdin string, getenv func(string) string, hc *http.Client, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(testenv.Context(t), args, env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errOut, getenv: getenv, http: hc})
	return result{code, out.String(), errOut.String()}
}

// want fails the test unless the run exited with code.
func (r result) want(t *testing.T, code int) result {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, code, r.stdout, r.stderr)
	}
	return r
}

// contractTransport sends API requests (under api) checking each exchange
// against openapi.yaml, and everything else (storage) through storage.
type contractTransport struct {
	t             *testing.T
	api           string
	next, storage http.RoundTripper
}

func (c *contractTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !strings.HasPrefix(req.URL.String(), c.api) {
		return c.storage.RoundTrip(req)
	}
	var sent []byte
	if req.Body != nil {
		sent, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(sent))
	}
	resp, err := c.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(raw))
	testenv.CheckContract(c.t, req, sent, resp.StatusCode, resp.Header, raw)
	return resp, nil
}

// cutAfter is a storage transport whose GET bodies break after n bytes, as a
// dropped connection does.
func cutAfter(n int64) func(http.RoundTripper) http.RoundTripper {
	return func(next http.RoundTripper) http.RoundTripper {
		return roundTripper(func(req *http.Request) (*http.Response, error) {
			resp, err := next.RoundTrip(req)
			if err == nil && req.Method == "GET" {
				resp.Body = &cutBody{ReadCloser: resp.Body, left: n}
			}
			return resp, err
		})
	}
}

type cutBody struct {
	io.ReadCloser
	left int64
}

func (b *cutBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errors.New("connection reset by peer")
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}

// counting is a storage transport that adds the GET body bytes it passes to
// *n and records the Range headers sent.
func counting(n *atomic.Int64, ranges *[]string) func(http.RoundTripper) http.RoundTripper {
	return func(next http.RoundTripper) http.RoundTripper {
		return roundTripper(func(req *http.Request) (*http.Response, error) {
			resp, err := next.RoundTrip(req)
			if err == nil && req.Method == "GET" {
				*ranges = append(*ranges, req.Header.Get("Range"))
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				n.Add(int64(len(body)))
				resp.Body = io.NopCloser(bytes.NewReader(body))
			}
			return resp, err
		})
	}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }
