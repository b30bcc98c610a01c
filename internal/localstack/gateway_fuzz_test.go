package localstack

import (
	"net/http"
	"net/url"
	"testing"
)

// route answers the route the gateway picks for GET path, with its
// parameters; ok is false when none matches (or path is no URL path).
func route(g *Gateway, path string) (match, bool) {
	u, err := url.Parse(path)
	if err != nil {
		return match{}, false
	}
	m, ok, err := g.find(&http.Request{Method: http.MethodGet, URL: u})
	return m, ok && err == nil
}

// FuzzMatchPath: a path built from a route's pattern by substituting escaped
// values matches it with exactly those values (a value may hold "/" or "%"),
// a path with a segment more or less does not, and no pattern or path panics
// (a pattern the ServeMux refuses is an error of the routing table).
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
	parts := &Gateway{Routes: []Route{
		{Method: "GET", Path: "/api/v1/assets/{id}/parts/{proxy+}", Function: "Parts"},
		{Method: "GET", Path: "/api/v1/assets/{id}/signed-url", Function: "Signed"},
	}}
	f.Fuzz(func(t *testing.T, pattern, v1, v2 string) {
		any := &Gateway{Routes: []Route{{Method: "GET", Path: pattern, Function: "F"}}}
		route(any, v1) // any input: no panic
		route(any, "/"+v1+"/"+v2)

		if dotOrEmpty(v1) || dotOrEmpty(v2) {
			return // clients and the ServeMux clean "." and ".." away
		}
		m, ok := route(parts, "/api/v1/assets/"+url.PathEscape(v1)+"/parts/"+url.PathEscape(v2))
		if !ok || m.route.Function != "Parts" || m.params["id"] != v1 || m.params["proxy"] != v2 {
			t.Fatalf("%q, %q: %+v, %v", v1, v2, m, ok)
		}
		if m, ok := route(parts, "/api/v1/assets/"+url.PathEscape(v1)+"/signed-url/"+url.PathEscape(v2)); ok {
			t.Fatalf("a longer path matches %+v", m.route)
		}
		if m, ok := route(parts, "/api/v1/assets/signed-url"); ok {
			t.Fatalf("a shorter path matches %+v", m.route)
		}
	})
}

func dotOrEmpty(v string) bool { return v == "" || v == "." || v == ".." }
