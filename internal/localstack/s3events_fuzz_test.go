package localstack_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mediatrail/mediatrail/internal/localstack"
)

// FuzzTranslateVersitygwEvent: any webhook body either fails as malformed
// JSON or yields records whose keys decode (as the cleanup function decodes
// them) to the key versitygw named, with AWS's event names. Keys holding "%"
// are left out of the round trip: versitygw posts raw keys, which
// TranslateVersitygwEvent path-unescapes, so "a%41" would arrive as "aA"
// (open: only keys this system writes, which hold no "%", are exact).
func FuzzTranslateVersitygwEvent(f *testing.F) {
	f.Add("uploads/my photo=1.png", "s3:ObjectCreated:Put", []byte(`{"Records":[]}`))
	f.Add("a/1.txt", "s3:ObjectRemoved:DeleteObjects", []byte(`{"Records":[{"s3":{"object":{"key":"%zz"}}}]}`))
	f.Add("workspaces/ws/assets/x/résumé +.txt", "s3:ObjectCreated:CompleteMultipartUpload", []byte(`{"Records":null}`))
	f.Add("", "", []byte(`{"Records":[{"eventTime":"not a time","s3":{"object":{"eTag":null,"versionId":"v"}}}]}`))
	f.Fuzz(func(t *testing.T, key, eventName string, body []byte) {
		if recs, err := localstack.TranslateVersitygwEvent(body); err == nil {
			for _, r := range recs {
				if strings.HasPrefix(r.EventName, "s3:") {
					t.Fatalf("event name %q keeps its s3: prefix", r.EventName)
				}
				if _, err := url.QueryUnescape(r.S3.Object.Key); err != nil {
					t.Fatalf("key %q does not decode: %v", r.S3.Object.Key, err)
				}
			}
		}

		if !utf8.ValidString(key) || strings.Contains(key, "%") {
			return
		}
		rec := map[string]any{"eventName": eventName, "eventTime": "2026-11-29T20:29:01Z",
			"s3": map[string]any{"bucket": map[string]any{"name": "b"}, "object": map[string]any{"key": key, "size": 5, "sequencer": "1"}}}
		b, err := json.Marshal(map[string]any{"Records": []any{rec}})
		if err != nil {
			t.Fatal(err)
		}
		recs, err := localstack.TranslateVersitygwEvent(b)
		if err != nil || len(recs) != 1 {
			t.Fatalf("key %q: %d records, %v", key, len(recs), err)
		}
		if got, err := url.QueryUnescape(recs[0].S3.Object.Key); err != nil || got != key {
			t.Fatalf("key %q travels as %q, decodes to %q, %v", key, recs[0].S3.Object.Key, got, err)
		}
	})
}
