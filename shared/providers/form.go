package providers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"mime/multipart"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// form builds a multipart/form-data body.
type form struct {
	buf bytes.Buffer
	w   *multipart.Writer
}

func newForm() *form {
	f := &form{}
	f.w = multipart.NewWriter(&f.buf)
	return f
}

// set adds a field unless v is nil or empty. A list of scalars becomes repeated
// fields (OpenAI's timestamp_granularities[]); other lists and objects are sent
// as JSON text (ElevenLabs' additional_formats).
func (f *form) set(name string, v any) {
	if list, ok := v.([]any); ok && !slices.ContainsFunc(list, func(x any) bool { _, ok := scalar(x); return !ok }) {
		for _, x := range list {
			f.set(name, x)
		}
		return
	}
	if s := text(v); s != "" {
		_ = f.w.WriteField(name, s)
	}
}

// setAll adds every option, in key order so that bodies are reproducible.
func (f *form) setAll(o options) {
	for _, k := range slices.Sorted(maps.Keys(o)) {
		f.set(k, o[k])
	}
}

var quoteEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

// file adds a file part with its own content type (multipart.CreateFormFile
// would send application/octet-stream, which some providers refuse).
func (f *form) file(name string, in file) {
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="%s"; filename="%s"`, quoteEscaper.Replace(name), quoteEscaper.Replace(in.name)))
	h.Set("Content-Type", in.contentType)
	w, _ := f.w.CreatePart(h)
	_, _ = w.Write(in.data)
}

func (f *form) call(method, path string) call {
	_ = f.w.Close()
	return call{method: method, path: path, body: f.buf.Bytes(), contentType: f.w.FormDataContentType()}
}

// options are a request's Config: clients take the entries they place in a URL,
// header or field of their own and pass the rest through as the provider names them.
type options map[string]any

func optionsOf(config map[string]any) options {
	o := make(options, len(config)+4)
	maps.Copy(o, config)
	return o
}

// take removes key and returns its value.
func (o options) take(key string) (any, bool) {
	v, ok := o[key]
	delete(o, key)
	return v, ok && v != nil
}

// text removes key and returns its value as text, or def when absent or empty.
func (o options) text(key, def string) string {
	v, _ := o.take(key)
	if s := text(v); s != "" {
		return s
	}
	return def
}

// number removes key and returns its numeric value, or def when absent. Numbers
// sent as strings count, and so do durations in seconds ("5", "5s").
func (o options) number(key string, def float64) (float64, error) {
	v, ok := o.take(key)
	if !ok {
		return def, nil
	}
	n, err := strconv.ParseFloat(strings.TrimSuffix(text(v), "s"), 64)
	if err != nil {
		return 0, mediatrail.Invalid("config."+key, "config.%s must be a number", key)
	}
	return n, nil
}

// query sets every option as a URL query parameter.
func (o options) query(q url.Values) url.Values {
	for k, v := range o {
		q.Set(k, text(v))
	}
	return q
}

// scalar formats a JSON scalar; ok is false for lists and objects.
func scalar(v any) (string, bool) {
	switch v := v.(type) {
	case nil:
		return "", true
	case string:
		return v, true
	case bool:
		return strconv.FormatBool(v), true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	case float32:
		return strconv.FormatFloat(float64(v), 'f', -1, 32), true
	case int:
		return strconv.Itoa(v), true
	case int64:
		return strconv.FormatInt(v, 10), true
	case json.Number:
		return v.String(), true
	}
	return "", false
}

// text formats a config value for a form field or query: scalars as text,
// anything else as JSON.
func text(v any) string {
	if s, ok := scalar(v); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}
