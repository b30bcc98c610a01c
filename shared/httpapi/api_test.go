package httpapi_test

import (
	"testing"

	"github.com/mediatrail/mediatrail/shared/httpapi"
)

func TestRequestKey(t *testing.T) {
	cases := []struct {
		name    string
		headers map[string]string
		want    string
	}{
		{"x-api-key", map[string]string{"x-api-key": " k1 "}, "k1"},
		{"bearer", map[string]string{"authorization": "Bearer k2"}, "k2"},
		{"bearer in any case", map[string]string{"authorization": "bearer   k3 "}, "k3"},
		{"x-api-key wins", map[string]string{"x-api-key": "k1", "authorization": "Bearer k2"}, "k1"},
		{"other scheme", map[string]string{"authorization": "Basic dXNlcjpwYXNz"}, ""},
		{"scheme only", map[string]string{"authorization": "Bearer"}, ""},
		{"none", map[string]string{}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := httpapi.RequestKey(func(name string) string { return tc.headers[name] }); got != tc.want {
				t.Errorf("RequestKey = %q, want %q", got, tc.want)
			}
		})
	}
}
