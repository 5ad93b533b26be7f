package web_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/livenessd/livenessd/web"
)

func get(t *testing.T, h http.Handler, target string, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestAssets(t *testing.T) {
	h := web.Handler(web.Config{Demo: true})
	for _, test := range []struct {
		path, ctype, cache, cors string
		status                   int
		contains                 string
	}{
		{"/sdk/liveness.js", "text/javascript; charset=utf-8", "public, max-age=300", "*", 200, "export async function start("},
		{"/sdk/liveness.d.ts", "application/typescript; charset=utf-8", "public, max-age=300", "*", 200, "export interface LivenessOptions"},
		{"/sdk/liveness.css", "text/css; charset=utf-8", "public, max-age=300", "*", 200, ".lv-flash"},
		{"/assets/page.css", "text/css; charset=utf-8", "public, max-age=300", "", 200, ".page-capture"},
		{"/assets/capture.js", "text/javascript; charset=utf-8", "public, max-age=300", "", 200, "livenessd:result"},
		{"/assets/demo.js", "text/javascript; charset=utf-8", "public, max-age=300", "", 200, "/demo/api/session"},
		{"/assets/favicon.svg", "image/svg+xml", "public, max-age=300", "", 200, "<svg"},
		{"/capture?session=a&token=b", "text/html; charset=utf-8", "no-store", "", 200, "/assets/capture.js"},
		{"/demo", "text/html; charset=utf-8", "no-store", "", 200, "/assets/demo.js"},
		{"/sdk/nothing.js", "", "", "", 404, ""},
		{"/assets/liveness.js", "", "", "", 404, ""},
		{"/assets/", "", "", "", 404, ""},
	} {
		t.Run(test.path, func(t *testing.T) {
			rec := get(t, h, test.path, nil)
			if got, want := rec.Code, test.status; got != want {
				t.Fatalf("status=%d, want %d", got, want)
			}
			if got := rec.Header().Get("X-Content-Type-Options"); got != "nosniff" && test.status == 200 {
				t.Errorf("X-Content-Type-Options=%q, want nosniff", got)
			}
			if test.status != 200 {
				return
			}
			if got, want := rec.Header().Get("Content-Type"), test.ctype; got != want {
				t.Errorf("Content-Type=%q, want %q", got, want)
			}
			if got, want := rec.Header().Get("Cache-Control"), test.cache; got != want {
				t.Errorf("Cache-Control=%q, want %q", got, want)
			}
			if got, want := rec.Header().Get("Access-Control-Allow-Origin"), test.cors; got != want {
				t.Errorf("Access-Control-Allow-Origin=%q, want %q", got, want)
			}
			if rec.Header().Get("ETag") == "" {
				t.Error("no ETag")
			}
			if !strings.Contains(rec.Body.String(), test.contains) {
				t.Errorf("body does not contain %q", test.contains)
			}
		})
	}
}

func TestETagRevalidation(t *testing.T) {
	h := web.Handler(web.Config{})
	first := get(t, h, "/sdk/liveness.js", nil)
	etag := first.Header().Get("ETag")
	if etag == "" || !strings.HasPrefix(etag, `"`) {
		t.Fatalf("ETag=%q, want a quoted strong validator", etag)
	}
	if got, want := get(t, h, "/sdk/liveness.js", map[string]string{"If-None-Match": etag}).Code, http.StatusNotModified; got != want {
		t.Errorf("matching If-None-Match: status=%d, want %d", got, want)
	}
	if got, want := get(t, h, "/sdk/liveness.js", map[string]string{"If-None-Match": `"other"`}).Code, http.StatusOK; got != want {
		t.Errorf("other If-None-Match: status=%d, want %d", got, want)
	}
}

// TestPageSecurity checks the headers that keep the pages safe: a CSP
// without inline code, no referrer (the capture URL holds a token), framing
// rules.
func TestPageSecurity(t *testing.T) {
	for _, test := range []struct {
		name           string
		cfg            web.Config
		path           string
		frameAncestors string
	}{
		{"CaptureDefault", web.Config{}, "/capture", "frame-ancestors 'none'"},
		{"CaptureRestricted", web.Config{FrameAncestors: []string{"https://shop.example", "bad; script-src *"}}, "/capture", "frame-ancestors 'self' https://shop.example"},
		{"Demo", web.Config{Demo: true}, "/demo", "frame-ancestors 'none'"},
	} {
		t.Run(test.name, func(t *testing.T) {
			h := web.Handler(test.cfg)
			req := httptest.NewRequest(http.MethodGet, test.path, nil)
			req.Host = "verify.example:8080"
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != 200 {
				t.Fatalf("status=%d", rec.Code)
			}
			csp := rec.Header().Get("Content-Security-Policy")
			for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self' ws://verify.example:8080 wss://verify.example:8080", "object-src 'none'", "base-uri 'none'"} {
				if !strings.Contains(csp, want) {
					t.Errorf("CSP %q lacks %q", csp, want)
				}
			}
			directives := strings.Split(csp, "; ")
			if got := directives[len(directives)-1]; got != test.frameAncestors {
				t.Errorf("last directive=%q, want %q", got, test.frameAncestors)
			}
			if strings.Contains(csp, "unsafe") {
				t.Errorf("CSP allows unsafe code: %q", csp)
			}
			if got := rec.Header().Get("Referrer-Policy"); got != "no-referrer" {
				t.Errorf("Referrer-Policy=%q, want no-referrer", got)
			}
		})
	}
}

var (
	inlineScript = regexp.MustCompile(`(?i)<script(?:\s[^>]*)?>\s*[^<\s]`)
	inlineStyle  = regexp.MustCompile(`(?i)(<style|\sstyle=|\son[a-z]+=)`)
	linkRef      = regexp.MustCompile(`(?:src|href)="(/[^"]*)"`)
)

// TestPagesWorkUnderTheirCSP fails when a page carries inline code the CSP
// would block, or links to a file the handler does not serve.
func TestPagesWorkUnderTheirCSP(t *testing.T) {
	h := web.Handler(web.Config{Demo: true})
	for _, page := range []string{"/capture", "/demo"} {
		t.Run(strings.TrimPrefix(page, "/"), func(t *testing.T) {
			body := get(t, h, page, nil).Body.String()
			if m := inlineScript.FindString(body); m != "" {
				t.Errorf("inline script: %q", m)
			}
			if m := inlineStyle.FindString(body); m != "" {
				t.Errorf("inline style or handler: %q", m)
			}
			refs := linkRef.FindAllStringSubmatch(body, -1)
			if len(refs) < 2 {
				t.Fatalf("found %d local references, want the stylesheet and the script at least", len(refs))
			}
			for _, ref := range refs {
				if rec := get(t, h, ref[1], nil); rec.Code != 200 {
					t.Errorf("%s links %s: status %d", page, ref[1], rec.Code)
				}
			}
		})
	}
}

func TestCaptureRedirect(t *testing.T) {
	h := web.Handler(web.Config{RedirectOrigins: []string{"https://shop.example"}})
	for _, test := range []struct {
		name, redirect string
		status         int
	}{
		{"None", "", 200},
		{"RelativePath", "/done?x=1", 200},
		{"SelfOrigin", "http://example.com/back", 200},
		{"Allowed", "https://shop.example/kyc/done", 200},
		{"AllowedOtherScheme", "http://shop.example/kyc/done", 400},
		{"Elsewhere", "https://evil.example/", 400},
		{"ProtocolRelative", "//evil.example/", 400},
		{"Javascript", "javascript:alert(1)", 400},
		{"Userinfo", "https://shop.example@evil.example/", 400},
		{"Backslash", "/\\evil.example", 400},
	} {
		t.Run(test.name, func(t *testing.T) {
			target := "/capture?session=s&token=t"
			if test.redirect != "" {
				target += "&redirect=" + urlQueryEscape(test.redirect)
			}
			if got := get(t, h, target, nil).Code; got != test.status {
				t.Errorf("status=%d, want %d", got, test.status)
			}
		})
	}
}

func urlQueryEscape(s string) string {
	r := strings.NewReplacer("%", "%25", "&", "%26", "#", "%23", "+", "%2B", "?", "%3F", "\\", "%5C", " ", "%20")
	return r.Replace(s)
}

func TestDemoOff(t *testing.T) {
	h := web.Handler(web.Config{})
	for _, p := range []string{"/demo", "/assets/demo.js", "/demo/api/results/abc"} {
		if got := get(t, h, p, nil).Code; got != http.StatusNotFound {
			t.Errorf("%s: status=%d, want 404 with the demo off", p, got)
		}
	}
	req := httptest.NewRequest(http.MethodPost, "/demo/api/session", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotFound {
		t.Errorf("POST /demo/api/session: status=%d, want 404", rec.Code)
	}
	if got := web.Patterns(web.Config{}); len(got) != 3 {
		t.Errorf("Patterns without demo=%v, want 3 prefixes", got)
	}
}

// fakeAPI records the requests the demo routes make and answers them.
type fakeAPI struct {
	mu   sync.Mutex
	reqs []recorded
	// ServeFn answers; default 200 {"ok":true}.
	ServeFn func(w http.ResponseWriter, r *http.Request)
}

type recorded struct {
	method, path, auth, ctype string
	body                      []byte
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.reqs = append(f.reqs, recorded{r.Method, r.URL.Path, r.Header.Get("Authorization"), r.Header.Get("Content-Type"), b})
	f.mu.Unlock()
	if f.ServeFn != nil {
		f.ServeFn(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"ok":true}`))
}

func (f *fakeAPI) last(t *testing.T) recorded {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.reqs) == 0 {
		t.Fatal("the API was not called")
	}
	return f.reqs[len(f.reqs)-1]
}

func multipartBody(t *testing.T, field string, data []byte) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile(field, "id.jpg")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = fw.Write(data)
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return mw.FormDataContentType(), buf.Bytes()
}

func TestDemoRoutes(t *testing.T) {
	api := &fakeAPI{}
	h := web.Handler(web.Config{Demo: true, DemoAPI: api, DemoAPIKey: "demo-key", MaxDocumentBytes: 1 << 16})
	ctype, doc := multipartBody(t, "document", bytes.Repeat([]byte{0xff}, 1000))
	_, bigDoc := multipartBody(t, "document", bytes.Repeat([]byte{0xff}, 1<<17))

	for _, test := range []struct {
		name, method, target, ctype string
		body                        []byte
		hdr                         map[string]string
		status                      int
		apiPath                     string // "" = API must not be called
		apiBody                     string
	}{
		{name: "CreateSession", method: "POST", target: "/demo/api/session", status: 200, apiPath: "/v1/liveness/session", apiBody: `{"settings":{"auditImagesLimit":4}}`},
		{name: "Results", method: "GET", target: "/demo/api/results/3f2a-77", status: 200, apiPath: "/v1/liveness/session/3f2a-77/results"},
		{name: "ResultsBadID", method: "GET", target: "/demo/api/results/a.b", status: 404},
		{name: "VerifyWithDocument", method: "POST", target: "/demo/api/verify-with-document/abc", ctype: ctype, body: doc, status: 200, apiPath: "/v1/liveness/verify-with-document/abc", apiBody: string(doc)},
		{name: "VerifyTooLarge", method: "POST", target: "/demo/api/verify-with-document/abc", ctype: ctype, body: bigDoc, status: 413},
		{name: "VerifyWrongType", method: "POST", target: "/demo/api/verify-with-document/abc", ctype: "text/plain", body: doc, status: 415},
		{name: "IdentityScan", method: "POST", target: "/demo/api/identity-scan", ctype: ctype, body: doc, status: 200, apiPath: "/v1/identity/scan", apiBody: string(doc)},
		{name: "IdentityScanTooLarge", method: "POST", target: "/demo/api/identity-scan", ctype: ctype, body: bigDoc, status: 413},
		{name: "IdentityScanJSON", method: "POST", target: "/demo/api/identity-scan", ctype: "application/json", body: []byte(`{}`), status: 415},
		{name: "CrossSiteOrigin", method: "POST", target: "/demo/api/session", hdr: map[string]string{"Origin": "https://evil.example"}, status: 403},
		{name: "CrossSiteFetch", method: "POST", target: "/demo/api/session", hdr: map[string]string{"Sec-Fetch-Site": "cross-site"}, status: 403},
		{name: "SameOrigin", method: "POST", target: "/demo/api/session", hdr: map[string]string{"Origin": "http://example.com", "Sec-Fetch-Site": "same-origin"}, status: 200, apiPath: "/v1/liveness/session"},
	} {
		t.Run(test.name, func(t *testing.T) {
			api.mu.Lock()
			api.reqs = nil
			api.mu.Unlock()
			req := httptest.NewRequest(test.method, test.target, bytes.NewReader(test.body))
			if test.ctype != "" {
				req.Header.Set("Content-Type", test.ctype)
			}
			for k, v := range test.hdr {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if got, want := rec.Code, test.status; got != want {
				t.Fatalf("status=%d, want %d (body %s)", got, want, rec.Body)
			}
			if test.apiPath == "" {
				api.mu.Lock()
				n := len(api.reqs)
				api.mu.Unlock()
				if n != 0 {
					t.Fatalf("API called %d times, want 0", n)
				}
				return
			}
			got := api.last(t)
			if got.path != test.apiPath || got.method != test.method {
				t.Errorf("API request %s %s, want %s %s", got.method, got.path, test.method, test.apiPath)
			}
			if got.auth != "Bearer demo-key" {
				t.Errorf("Authorization=%q, want the demo key", got.auth)
			}
			if test.apiBody != "" && string(got.body) != test.apiBody {
				t.Errorf("API body=%.80q, want %.80q", got.body, test.apiBody)
			}
			if test.ctype != "" && got.ctype != test.ctype {
				t.Errorf("API Content-Type=%q, want %q", got.ctype, test.ctype)
			}
			if rec.Body.String() != `{"ok":true}` {
				t.Errorf("body=%q, want the API's answer passed through", rec.Body)
			}
		})
	}
}

// TestDemoPassesAPIErrors checks that the API's status, error body and
// Retry-After reach the page unchanged.
func TestDemoPassesAPIErrors(t *testing.T) {
	api := &fakeAPI{ServeFn: func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Retry-After", "2")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"errorCode":5001,"message":"Liveness service error","status":503}`))
	}}
	h := web.Handler(web.Config{Demo: true, DemoAPI: api, DemoAPIKey: "k"})
	rec := get(t, h, "/demo/api/results/abc", nil)
	if rec.Code != 503 || rec.Header().Get("Retry-After") != "2" || !strings.Contains(rec.Body.String(), `"errorCode":5001`) {
		t.Errorf("got %d Retry-After=%q body=%s, want the API's 503 passed through", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
}

func TestDemoNotConfigured(t *testing.T) {
	h := web.Handler(web.Config{Demo: true})
	req := httptest.NewRequest(http.MethodPost, "/demo/api/session", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("status=%d, want 503 without a demo key", rec.Code)
	}
	if got := rec.Header().Get("Content-Type"); !strings.HasPrefix(got, "application/json") {
		t.Errorf("Content-Type=%q, want JSON", got)
	}
}
