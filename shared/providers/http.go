package providers

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // image sizes of provider outputs
	_ "image/jpeg"
	_ "image/png"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gabriel-vasile/mimetype"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// Bounds on what a client holds in memory.
const (
	maxJSONBytes  = 64 << 20 // a JSON answer; base64 images are large
	maxErrorBytes = 64 << 10 // an error answer; only its message is kept
	sniffBytes    = 8 << 10  // peeked from a media stream: MIME sniffing and image size
)

// requestIDHeaders are where providers put their request id (providers.md).
var requestIDHeaders = []string{"request-id", "x-request-id", "dg-request-id", "x-fal-request-id"}

func requestID(h http.Header) string {
	for _, k := range requestIDHeaders {
		if v := h.Get(k); v != "" {
			return v
		}
	}
	return ""
}

// call is one provider request. Its body is bytes so that every attempt resends it.
type call struct {
	method, path string // path is appended to the base URL
	query        url.Values
	body         []byte
	contentType  string
	accept       string            // default application/json
	header       map[string]string // per-call headers, e.g. Prefer
	err          error             // building the body failed; send returns it
}

// jsonCall is a call with v as its JSON body.
func jsonCall(method, path string, v any) call {
	c := call{method: method, path: path, contentType: "application/json"}
	if c.body, c.err = json.Marshal(v); c.err != nil {
		c.err = mediatrail.Invalid("config", "config must hold JSON values only")
	}
	return c
}

// answer is a 2xx response: its headers and either the whole body (data) or the
// first bytes (data) and the rest of the body still to read (stream).
type answer struct {
	status int
	header http.Header
	data   []byte
	stream io.ReadCloser
}

// send runs c under the retry policy. A non-2xx answer becomes a
// *mediatrail.ProviderError. With stream set the body stays open after its first
// bytes, and the caller closes answer.stream; else it is read whole, so that a
// body cut short is retried like any broken connection.
func (p *provider) send(ctx context.Context, c call, stream bool) (*answer, error) {
	if c.err != nil {
		return nil, c.err
	}
	var a *answer
	err := p.retry.Do(ctx, func(ctx context.Context) error {
		var err error
		a, err = p.attempt(ctx, c, stream)
		return err
	})
	return a, err
}

func (p *provider) attempt(ctx context.Context, c call, stream bool) (*answer, error) {
	u := p.baseURL + c.path
	if len(c.query) > 0 {
		u += "?" + c.query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, c.method, u, bytes.NewReader(c.body))
	if err != nil {
		return nil, err
	}
	req.Header.Set(p.authHeader, p.authScheme+p.key)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "mediatrail")
	if c.contentType != "" {
		req.Header.Set("Content-Type", c.contentType)
	}
	if c.accept != "" {
		req.Header.Set("Accept", c.accept)
	}
	for _, h := range []map[string]string{p.header, c.header} {
		for k, v := range h {
			req.Header.Set(k, v)
		}
	}
	resp, err := p.http.Do(req)
	if err != nil {
		return nil, p.broken(ctx, 0, "", err)
	}
	rid := requestID(resp.Header)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBytes))
		return nil, p.refusal(resp, body)
	}
	a := &answer{status: resp.StatusCode, header: resp.Header}
	if stream {
		br := bufio.NewReaderSize(resp.Body, sniffBytes)
		a.data, err = br.Peek(sniffBytes)
		if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
			resp.Body.Close()
			return nil, p.broken(ctx, resp.StatusCode, rid, err)
		}
		a.stream = &mediaStream{r: br, c: resp.Body, provider: p, requestID: rid}
		return a, nil
	}
	defer resp.Body.Close()
	if a.data, err = io.ReadAll(io.LimitReader(resp.Body, maxJSONBytes+1)); err != nil {
		return nil, p.broken(ctx, resp.StatusCode, rid, err)
	}
	if len(a.data) > maxJSONBytes {
		return nil, p.malformed(a, fmt.Errorf("answer exceeds %d bytes", maxJSONBytes))
	}
	return a, nil
}

// broken describes a request that got no (complete) answer. A cancelled ctx is
// the caller leaving, not a provider failure, and is returned as is.
func (p *provider) broken(ctx context.Context, status int, rid string, err error) error {
	if errors.Is(ctx.Err(), context.Canceled) {
		return ctx.Err()
	}
	e := &mediatrail.ProviderError{Provider: p.name, Status: status, RequestID: rid, Err: err}
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		e.Code, e.Message = mediatrail.ProviderTimeout, "no answer in time"
	case status != 0:
		e.Code, e.Message = mediatrail.ProviderTruncated, "the answer broke off"
	default:
		e.Code, e.Message = mediatrail.ProviderUnreachable, "no connection"
	}
	return e
}

func (p *provider) malformed(a *answer, err error) error {
	return &mediatrail.ProviderError{Provider: p.name, Status: a.status, Code: mediatrail.ProviderMalformed, Message: "unreadable answer", RequestID: requestID(a.header), Err: err}
}

// refusal turns a non-2xx answer into a ProviderError.
func (p *provider) refusal(resp *http.Response, body []byte) error {
	code, msg, bodyID := errorBody(body)
	if code == "" {
		code = resp.Header.Get("X-Fal-Error-Type")
	}
	if msg == "" {
		msg = http.StatusText(resp.StatusCode)
	}
	rid := requestID(resp.Header)
	if rid == "" {
		rid = bodyID
	}
	hint, _ := ParseRetryAfter(resp.Header, p.retry.Now())
	return &mediatrail.ProviderError{
		Provider: p.name, Status: resp.StatusCode, Code: p.redact(code), Message: p.redact(msg),
		RequestID: rid, RetryAfter: hint,
	}
}

// errorBody reads the error shapes of every provider in providers.md:
//
//	OpenAI      {"error":{"message","type","param","code"}}
//	Runway      {"error":"..."}
//	ElevenLabs  {"detail":{"status","message"}}, 422 {"detail":[{loc,msg,type}]}
//	fal, Luma   {"detail":"..."} (+ fal "error_type"), 422 as ElevenLabs
//	Replicate   {type,title,status,detail,instance}
//	Deepgram    {"err_code","err_msg","request_id"} or {"category","message","details","request_id"}
//	Stability   {"id","name","errors":[...]}
//	fal cancel  {"status":"ALREADY_COMPLETED"}
//
// and returns the code, a message and any request id in the body. Text that is not
// JSON becomes the message, shortened.
func errorBody(body []byte) (code, msg, requestID string) {
	var b struct {
		Error     json.RawMessage `json:"error"`
		Detail    json.RawMessage `json:"detail"`
		Title     string          `json:"title"`
		ErrCode   string          `json:"err_code"`
		ErrMsg    string          `json:"err_msg"`
		Category  string          `json:"category"`
		Message   string          `json:"message"`
		RequestID string          `json:"request_id"`
		ID        string          `json:"id"`
		Name      string          `json:"name"`
		Errors    []string        `json:"errors"`
		ErrorType string          `json:"error_type"`
		Status    json.RawMessage `json:"status"`
	}
	if err := json.Unmarshal(body, &b); err != nil {
		s := strings.TrimSpace(string(body))
		if len(s) > 200 {
			s = s[:200] + "..."
		}
		return "", s, ""
	}
	var text string
	var obj struct {
		Message, Code, Type, Status string
	}
	var list []struct {
		Loc []any  `json:"loc"`
		Msg string `json:"msg"`
	}
	switch {
	case json.Unmarshal(b.Error, &text) == nil && text != "":
		msg = text
	case json.Unmarshal(b.Error, &obj) == nil && obj.Message != "":
		code, msg = cmp.Or(obj.Code, obj.Type), obj.Message
	case json.Unmarshal(b.Detail, &text) == nil && text != "":
		msg = text
	case json.Unmarshal(b.Detail, &obj) == nil && obj.Message != "":
		code, msg = obj.Status, obj.Message
	case json.Unmarshal(b.Detail, &list) == nil && len(list) > 0:
		parts := make([]string, len(list))
		for i, d := range list {
			parts[i] = d.Msg
			if len(d.Loc) > 0 {
				parts[i] = fmt.Sprint(d.Loc[len(d.Loc)-1]) + ": " + d.Msg
			}
		}
		code, msg = "validation_error", strings.Join(parts, "; ")
	case b.ErrMsg != "":
		code, msg = b.ErrCode, b.ErrMsg
	case b.Name != "" && len(b.Errors) > 0:
		code, msg, requestID = b.Name, strings.Join(b.Errors, "; "), b.ID
	default:
		code, msg = b.Category, cmp.Or(b.Message, b.Title)
	}
	if b.Title != "" && code == "" {
		code = b.Title
	}
	if b.ErrorType != "" {
		code = b.ErrorType
	}
	if status := ""; code == "" && json.Unmarshal(b.Status, &status) == nil {
		code = status
	}
	return code, msg, cmp.Or(requestID, b.RequestID)
}

// json sends c and decodes its JSON answer into out (nil: discard the body).
func (p *provider) json(ctx context.Context, c call, out any) (*answer, error) {
	a, err := p.send(ctx, c, false)
	if err != nil {
		return nil, err
	}
	if out != nil {
		if err := json.Unmarshal(a.data, out); err != nil {
			return nil, p.malformed(a, err)
		}
	}
	return a, nil
}

// media sends c and returns its answer as a streamed result. want is the major
// MIME type the answer must have ("audio", "image"): anything else, such as a
// JSON error inside a 200, is a malformed answer. The content type comes from the
// header or, when that is generic, from the bytes.
func (p *provider) media(ctx context.Context, c call, want string) (*mediatrail.MediaResult, http.Header, error) {
	a, err := p.send(ctx, c, true)
	if err != nil {
		return nil, nil, err
	}
	ct := contentType(a.header.Get("Content-Type"), a.data)
	if major, _, _ := strings.Cut(ct, "/"); major != want {
		a.stream.Close()
		return nil, nil, p.malformed(a, fmt.Errorf("want %s, got %s", want, ct))
	}
	res := &mediatrail.MediaResult{Body: a.stream, ContentType: ct, RequestID: requestID(a.header)}
	if want == "image" {
		res.Width, res.Height = imageSize(a.data)
	}
	return res, a.header, nil
}

// transcriptType is the content type of an stt result's Text.
const transcriptType = "text/plain; charset=utf-8"

// characters is the usage of a tts call: the characters the provider says it
// billed in header, else the characters sent.
func characters(h http.Header, header, text string) mediatrail.Usage {
	n, err := strconv.ParseFloat(h.Get(header), 64)
	if header == "" || err != nil {
		n = float64(utf8.RuneCountInString(text))
	}
	return mediatrail.Usage{Quantity: n, Unit: mediatrail.UnitCharacter}
}

// contentType is the header's media type unless it is missing or generic, then
// what the bytes look like.
func contentType(header string, head []byte) string {
	mt, params, err := mime.ParseMediaType(header)
	if err == nil && mt != "application/octet-stream" && mt != "binary/octet-stream" {
		return mime.FormatMediaType(mt, params)
	}
	return mimetype.Detect(head).String()
}

// contentTypeOf guesses a provider URL's content type from its extension.
func contentTypeOf(rawURL, def string) string {
	if u, err := url.Parse(rawURL); err == nil {
		if ct := mime.TypeByExtension(path.Ext(u.Path)); ct != "" {
			return ct
		}
	}
	return def
}

// imageSize reads width and height from an image's first bytes; 0, 0 when it cannot.
func imageSize(head []byte) (int, int) {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(head))
	if err != nil {
		return 0, 0
	}
	return cfg.Width, cfg.Height
}

// mediaStream is a streamed result body. A read error other than EOF means the
// stream broke off; it becomes a ProviderError carrying the request id.
type mediaStream struct {
	r         io.Reader
	c         io.Closer
	provider  *provider
	requestID string
}

func (s *mediaStream) Read(b []byte) (int, error) {
	n, err := s.r.Read(b)
	if err != nil && err != io.EOF {
		err = s.provider.broken(context.Background(), http.StatusOK, s.requestID, err)
	}
	return n, err
}

func (s *mediaStream) Close() error { return s.c.Close() }
