package localstack

import (
	"net/url"
	"testing"
)

// FuzzMatchPath: a path built from a route's pattern by substituting escaped
// values matches it with exactly those values (a value may hold "/" or "%"),
// a path with a segment more or less does not, and no pattern or path panics.
func FuzzMatchPath(f *testing.F) {
	for _, s := range [][3]string{
		{"/api/v1/assets/{id}/signed-url", "37dGalnvVFpJOD4LqlTAPNaciLT", "a/b"},
		{"/api/v1/{proxy+}", "a%2Fb", "c d/é"},
		{"/{a}/{b}", "%", "+"},
		{"/", "", ""},
		{"/x/{y", "{", "}"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, pattern, v1, v2 string) {
		matchPath(pattern, v1) // any input: no panic
		matchPath(pattern, "/"+v1+"/"+v2)

		if v1 == "" || v2 == "" {
			return
		}
		pattern = "/api/v1/assets/{id}/parts/{proxy+}"
		path := "/api/v1/assets/" + url.PathEscape(v1) + "/parts/" + url.PathEscape(v2)
		params, _, ok := matchPath(pattern, path)
		if !ok || params["id"] != v1 || params["proxy"] != v2 {
			t.Fatalf("%s against %s: %v, %v", path, pattern, params, ok)
		}
		pattern = "/api/v1/assets/{id}/signed-url"
		if _, _, ok := matchPath(pattern, "/api/v1/assets/"+url.PathEscape(v1)+"/signed-url/"+url.PathEscape(v2)); ok {
			t.Fatalf("a longer path matches %s", pattern)
		}
		if _, _, ok := matchPath(pattern, "/api/v1/assets/signed-url"); ok {
			t.Fatalf("a shorter path matches %s", pattern)
		}
	})
}
