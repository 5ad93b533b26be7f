package web

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzCheckRedirect: whatever the redirect parameter holds, an accepted one
// is a same-server path or an http(s) URL on an allowed origin.
func FuzzCheckRedirect(f *testing.F) {
	for _, s := range []string{"/done", "https://shop.example/x", "//evil.example", "javascript:alert(1)", "https://a@b/", "/\\x", "http://example.com:8080/", "%2f%2fevil", "\x00"} {
		f.Add(s)
	}
	const self = "http://example.com:8080"
	allowed := []string{"https://shop.example"}
	f.Fuzz(func(t *testing.T, raw string) {
		if err := checkRedirect(raw, self, allowed); err != nil {
			return
		}
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatalf("accepted %q that does not parse: %v", raw, err)
		}
		// What a browser would resolve it to, relative to this server.
		base, _ := url.Parse(self + "/capture")
		abs := base.ResolveReference(u)
		origin := abs.Scheme + "://" + strings.ToLower(abs.Host)
		if origin != self && origin != "https://shop.example" {
			t.Fatalf("accepted %q, which resolves to origin %s", raw, origin)
		}
	})
}
