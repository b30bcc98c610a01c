package testenv_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/mediatrail/mediatrail/shared/testenv"
)

// recorder is a testing.TB that keeps failures instead of reporting them.
type recorder struct {
	testing.TB
	failures []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.failures = append(r.failures, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatal(args ...any) { r.failures = append(r.failures, fmt.Sprint(args...)) }

const (
	listBody   = `{"data":[],"meta":{"total":0,"page":1,"limit":20,"pages":0,"total_pages":0,"next_cursor":""}}`
	errorOf    = `{"error":{"code":%q,"message":"m","details":{"request_id":"r1"}}}`
	anAssetID  = "2bF3hY8wZQmS9vT1uK4nR7pL0aX"
	retention  = `{"data":{"retention_days":30,"source":"workspace"}}`
	contractOK = ""
)

// CheckContract passes exchanges the spec allows and flags each kind of drift.
func TestCheckContract(t *testing.T) {
	for _, tc := range []struct {
		name, method, path, key, reqBody string
		status                           int
		body                             string
		want                             string // part of the failure; "" for none
	}{
		{"valid list", "GET", "/api/v1/assets?limit=5", "k", "", 200, listBody, contractOK},
		{"list without meta", "GET", "/api/v1/assets", "k", "", 200, `{"data":[]}`, "does not match"},
		{"undeclared status", "GET", "/api/v1/assets", "k", "", 418, fmt.Sprintf(errorOf, "validation_error"), "does not match"},
		{"error code of another status", "GET", "/api/v1/assets", "k", "", 400, fmt.Sprintf(errorOf, "not_found"), "does not match"},
		{"error without request id", "GET", "/api/v1/assets/" + anAssetID, "k", "", 404, `{"error":{"code":"not_found","message":"m","details":{}}}`, "does not match"},
		{"missing key answered 401", "GET", "/api/v1/assets", "", "", 401, fmt.Sprintf(errorOf, "unauthenticated"), contractOK},
		{"missing key answered 200", "GET", "/api/v1/assets", "", "", 200, listBody, "rejects"},
		{"limit out of range answered 400", "GET", "/api/v1/assets?limit=1000", "k", "", 400, fmt.Sprintf(errorOf, "validation_error"), contractOK},
		{"limit out of range answered 200", "GET", "/api/v1/assets?limit=1000", "k", "", 200, listBody, "rejects"},
		{"body not JSON answered 400", "PUT", "/api/v1/workspace/retention", "k", "{", 400, fmt.Sprintf(errorOf, "validation_error"), contractOK},
		{"wrong retention answered 200", "PUT", "/api/v1/workspace/retention", "k", `{"retention_days":3}`, 200, retention, "rejects"},
		{"valid put", "PUT", "/api/v1/workspace/retention", "k", `{"retention_days":30}`, 200, retention, contractOK},
		{"delete answered 204", "DELETE", "/api/v1/assets/" + anAssetID, "k", "", 204, "", contractOK},
		{"unknown route answered 404", "GET", "/api/v1/nothing", "k", "", 404, `{"message":"Not Found"}`, contractOK},
		{"unknown route answered 200", "GET", "/api/v1/nothing", "k", "", 200, `{"data":{}}`, "not in openapi.yaml"},
		{"the document needs no key", "GET", "/api/v1/openapi.json", "", "", 200, `{"openapi":"3.1.0","paths":{}}`, contractOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, "http://127.0.0.1:1"+tc.path, strings.NewReader(tc.reqBody))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			if tc.key != "" {
				req.Header.Set("X-API-Key", tc.key)
			}
			header := http.Header{"Content-Type": {"application/json"}}
			rec := &recorder{TB: t}
			testenv.CheckContract(rec, req, []byte(tc.reqBody), tc.status, header, []byte(tc.body))
			got := strings.Join(rec.failures, "\n")
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Errorf("failures %q, want one containing %q", got, tc.want)
			}
		})
	}
}
