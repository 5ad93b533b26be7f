// Package web serves the browser side of livenessd from files embedded in
// the binary: the JavaScript SDK, the hosted capture page and the demo.
//
// Routes of Handler (mount each prefix of Patterns on the server's mux):
//
//	GET  /sdk/liveness.js      the SDK, an ES module (CORS: any origin)
//	GET  /sdk/liveness.d.ts    its TypeScript declarations
//	GET  /sdk/liveness.css     its styles (loaded by the SDK into its shadow root)
//	GET  /assets/{file}        page.css, capture.js, demo.js, favicon.svg
//	GET  /capture              hosted capture page: ?session=&token=[&locale=][&redirect=][&origin=]
//	GET  /demo                 the demo page (Config.Demo)
//	POST /demo/api/session                      → POST /v1/liveness/session (Config.Demo)
//	GET  /demo/api/results/{id}                 → GET  /v1/liveness/session/{id}/results
//	POST /demo/api/verify-with-document/{id}    → POST /v1/liveness/verify-with-document/{id}
//	POST /demo/api/identity-scan                → POST /v1/identity/scan
//
// The demo routes stand in for a customer's backend: they call the public
// API in process (Config.DemoAPI, the same http.Handler that serves /v1/)
// with a demo API key the server holds (Config.DemoAPIKey), so the browser
// never sees a key. Calling in process rather than over loopback needs no
// listen address, TLS setting or port, and exercises the real handlers with
// their auth, limits and error bodies. Anyone who can reach /demo can create
// sessions with the demo key: it is for `--dev` and trials, off by default in
// production.
//
// Pages carry a strict Content-Security-Policy (scripts, styles and
// connections to the same origin only; no inline code), no-referrer (the
// capture URL holds a token) and no-store.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"
)

//go:embed static
var static embed.FS

// DefaultMaxDocumentBytes bounds the demo's document upload (the API keeps
// its own, usually lower, limit).
const DefaultMaxDocumentBytes = 12 << 20

// Config configures Handler. The zero value serves the SDK and the capture
// page, with the demo off.
type Config struct {
	// FrameAncestors are the origins allowed to show /capture in an iframe
	// (CSP frame-ancestors), e.g. "https://shop.example.com". Empty: none
	// ('none'): a page that runs the camera for a session is not framed by
	// a site nobody chose (clickjacking); embedding is opted into.
	FrameAncestors []string
	// RedirectOrigins are the origins /capture may send the browser to after
	// the check (its redirect parameter), besides its own origin. A redirect
	// elsewhere is refused with 400, so a capture link cannot become an open
	// redirect.
	RedirectOrigins []string

	// Demo serves /demo and /demo/api/*.
	Demo bool
	// DemoAPI is the public API handler the demo routes call in process.
	DemoAPI http.Handler
	// DemoAPIKey is the bearer key the demo routes use with DemoAPI.
	DemoAPIKey string
	// DemoAuditImages is the auditImagesLimit of demo sessions (0-4). Default 4.
	DemoAuditImages int
	// MaxDocumentBytes bounds the demo's document upload. Default
	// DefaultMaxDocumentBytes.
	MaxDocumentBytes int64

	// Logger receives demo-route failures. Default slog.Default().
	Logger *slog.Logger
}

// Patterns are the path prefixes Handler serves, for mounting on a mux:
// for _, p := range web.Patterns(cfg) { mux.Handle(p, h) }.
func Patterns(cfg Config) []string {
	p := []string{"/sdk/", "/assets/", "/capture"}
	if cfg.Demo {
		p = append(p, "/demo", "/demo/")
	}
	return p
}

// asset is one embedded file, ready to serve.
type asset struct {
	name  string
	ctype string
	body  []byte
	etag  string
}

type server struct {
	cfg    Config
	assets map[string]*asset // by URL path
	log    *slog.Logger
}

// Handler returns the handler of the routes listed in the package comment.
// Unknown paths under them answer 404.
func Handler(cfg Config) http.Handler {
	if cfg.DemoAuditImages <= 0 || cfg.DemoAuditImages > 4 {
		cfg.DemoAuditImages = 4
	}
	if cfg.MaxDocumentBytes <= 0 {
		cfg.MaxDocumentBytes = DefaultMaxDocumentBytes
	}
	s := &server{cfg: cfg, assets: map[string]*asset{}, log: cfg.Logger}
	if s.log == nil {
		s.log = slog.Default()
	}
	for urlPath, file := range map[string]string{
		"/sdk/liveness.js":    "static/sdk/liveness.js",
		"/sdk/liveness.d.ts":  "static/sdk/liveness.d.ts",
		"/sdk/liveness.css":   "static/sdk/liveness.css",
		"/assets/page.css":    "static/assets/page.css",
		"/assets/capture.js":  "static/assets/capture.js",
		"/assets/favicon.svg": "static/assets/favicon.svg",
		"/assets/demo.js":     "static/assets/demo.js",
		"/capture":            "static/pages/capture.html",
		"/demo":               "static/pages/demo.html",
	} {
		if !cfg.Demo && (urlPath == "/demo" || urlPath == "/assets/demo.js") {
			continue
		}
		b, err := fs.ReadFile(static, file)
		if err != nil {
			// The files are compiled in; a missing one is a build mistake
			// caught by the package's tests.
			panic(fmt.Sprintf("web: embedded %s: %v", file, err))
		}
		sum := sha256.Sum256(b)
		s.assets[urlPath] = &asset{name: path.Base(file), ctype: contentType(file), body: b, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /sdk/{file}", s.serveSDK)
	mux.HandleFunc("GET /assets/{file}", s.serveAsset)
	mux.HandleFunc("GET /capture", s.serveCapture)
	if cfg.Demo {
		mux.HandleFunc("GET /demo", s.serveDemo)
		d := &demo{api: cfg.DemoAPI, key: cfg.DemoAPIKey, audit: cfg.DemoAuditImages, maxDoc: cfg.MaxDocumentBytes, log: s.log}
		mux.HandleFunc("POST /demo/api/session", d.createSession)
		mux.HandleFunc("GET /demo/api/results/{id}", d.results)
		mux.HandleFunc("POST /demo/api/verify-with-document/{id}", d.verifyWithDocument)
		mux.HandleFunc("POST /demo/api/identity-scan", d.identityScan)
	}
	return securityHeaders(mux)
}

func contentType(file string) string {
	switch {
	case strings.HasSuffix(file, ".d.ts"):
		return "application/typescript; charset=utf-8"
	case strings.HasSuffix(file, ".js"):
		return "text/javascript; charset=utf-8"
	case strings.HasSuffix(file, ".css"):
		return "text/css; charset=utf-8"
	case strings.HasSuffix(file, ".html"):
		return "text/html; charset=utf-8"
	case strings.HasSuffix(file, ".svg"):
		return "image/svg+xml"
	}
	return "application/octet-stream"
}

// securityHeaders adds the headers every response of this package carries.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(w, r)
	})
}

// serveFile writes an asset with its type, ETag and cache policy; it answers
// If-None-Match with 304.
func (s *server) serveFile(w http.ResponseWriter, r *http.Request, a *asset, cache string) {
	h := w.Header()
	h.Set("Content-Type", a.ctype)
	h.Set("Cache-Control", cache)
	h.Set("ETag", a.etag)
	http.ServeContent(w, r, a.name, time.Time{}, bytes.NewReader(a.body))
}

func (s *server) serveSDK(w http.ResponseWriter, r *http.Request) {
	a, ok := s.assets[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	// Customers' pages import the module from this origin: module scripts
	// are fetched with CORS.
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Cross-Origin-Resource-Policy", "cross-origin")
	// Unversioned URL: short max-age, then revalidate by ETag.
	s.serveFile(w, r, a, "public, max-age=300")
}

func (s *server) serveAsset(w http.ResponseWriter, r *http.Request) {
	a, ok := s.assets[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Cross-Origin-Resource-Policy", "same-origin")
	s.serveFile(w, r, a, "public, max-age=300")
}

// pageCSP is the Content-Security-Policy of the pages: everything from this
// origin only, nothing inline, camera frames to this origin's WebSocket.
func pageCSP(r *http.Request, frameAncestors, formAction string) string {
	host := r.Host
	connect := "'self'"
	if host != "" && !strings.ContainsAny(host, " ;,'\"") {
		connect += " ws://" + host + " wss://" + host
	}
	return strings.Join([]string{
		"default-src 'none'",
		"script-src 'self'",
		"style-src 'self'",
		"img-src 'self' data: blob:",
		"media-src 'self' blob: mediastream:",
		"connect-src " + connect,
		"base-uri 'none'",
		"object-src 'none'",
		"form-action " + formAction,
		"frame-ancestors " + frameAncestors,
	}, "; ")
}

func pageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Permissions-Policy", "camera=(self), microphone=(), geolocation=(), payment=()")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
}

func (s *server) serveCapture(w http.ResponseWriter, r *http.Request) {
	if red := r.URL.Query().Get("redirect"); red != "" {
		if err := checkRedirect(red, requestOrigin(r), s.cfg.RedirectOrigins); err != nil {
			http.Error(w, "capture: "+err.Error(), http.StatusBadRequest)
			return
		}
	}
	fa := "'none'"
	if len(s.cfg.FrameAncestors) > 0 {
		fa = "'self' " + strings.Join(cleanOrigins(s.cfg.FrameAncestors), " ")
	}
	pageHeaders(w)
	w.Header().Set("Content-Security-Policy", pageCSP(r, fa, "'none'"))
	s.serveFile(w, r, s.assets["/capture"], "no-store")
}

func (s *server) serveDemo(w http.ResponseWriter, r *http.Request) {
	pageHeaders(w)
	w.Header().Set("Content-Security-Policy", pageCSP(r, "'none'", "'self'"))
	w.Header().Set("Cross-Origin-Opener-Policy", "same-origin")
	w.Header().Set("X-Frame-Options", "DENY")
	s.serveFile(w, r, s.assets["/demo"], "no-store")
}

// requestOrigin is the origin the browser used to reach this server.
func requestOrigin(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// cleanOrigins drops entries that could break out of a CSP directive.
func cleanOrigins(in []string) []string {
	out := make([]string, 0, len(in))
	for _, o := range in {
		o = strings.TrimSpace(o)
		if o != "" && !strings.ContainsAny(o, " ;,'\"\r\n") {
			out = append(out, o)
		}
	}
	return out
}

// checkRedirect accepts a path on this server ("/done?x=1") or an absolute
// http(s) URL whose origin is self or in allowed.
func checkRedirect(raw, self string, allowed []string) error {
	if len(raw) > 2048 {
		return fmt.Errorf("redirect too long")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("redirect: %w", err)
	}
	if strings.ContainsAny(raw, "\\\r\n\t") {
		return fmt.Errorf("redirect %q: not allowed characters", raw)
	}
	if u.Scheme == "" && u.Host == "" && u.User == nil {
		if strings.HasPrefix(u.Path, "/") && !strings.HasPrefix(raw, "//") {
			return nil
		}
		return fmt.Errorf("redirect %q: a relative redirect must start with a single /", raw)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("redirect %q: scheme must be http or https", raw)
	}
	if u.User != nil || u.Host == "" {
		return fmt.Errorf("redirect %q: bad host", raw)
	}
	origin := u.Scheme + "://" + strings.ToLower(u.Host)
	if origin == strings.ToLower(self) {
		return nil
	}
	for _, a := range allowed {
		if strings.EqualFold(strings.TrimRight(strings.TrimSpace(a), "/"), origin) {
			return nil
		}
	}
	return fmt.Errorf("redirect origin %s is not in the allowed redirect origins", origin)
}
