// Package api is livenessd's HTTP API: the seed's /v1/liveness endpoints,
// Bearer API key auth, one error table mapping error kinds to the seed's
// error body, rate limits, load shedding, health and the OpenAPI document.
// Other transports (the capture WebSocket, the Amplify endpoint, web
// assets) are mounted with Server.Handle.
package api

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/guard"
	"github.com/livenessd/livenessd/internal/imageio"
	"github.com/livenessd/livenessd/internal/logging"
	"github.com/livenessd/livenessd/internal/session"
	"github.com/livenessd/livenessd/internal/workpool"
)

// Defaults of Config.
const (
	DefaultSimilarityThreshold = 90.0
	DefaultLivenessThreshold   = 90.0
	// DefaultMaxJSONBody bounds JSON bodies: two base64 images of 15 MB
	// (4/3 * 15 MB = 20 MB each) plus slack.
	DefaultMaxJSONBody = 42 << 20
	// DefaultMaxMultipartBody bounds multipart bodies: one 15 MB document
	// plus form overhead.
	DefaultMaxMultipartBody = 16 << 20
	// DefaultMaxScanBody bounds identity scans: two 15 MB images plus form
	// overhead.
	DefaultMaxScanBody = 31 << 20
	// DefaultMaxSmallBody bounds bodies of endpoints without images.
	DefaultMaxSmallBody = 64 << 10
	DefaultRetryAfter   = 2 * time.Second
)

// Authenticator turns a Bearer key into a tenant id (auth.Keyring).
type Authenticator interface {
	Authenticate(ctx context.Context, key string) (tenant string, err error)
}

// FaceComparer compares one face of source with one face of target, as
// opt selects them (face.Pipeline through internal/api/apiface). Errors
// wrap livenessd.ErrNoSourceFace / ErrNoTargetFace when an image has no
// face, livenessd.ErrInvalidRequest when a face index is beyond the faces
// found.
type FaceComparer interface {
	CompareFaces(ctx context.Context, source, target image.Image, opt livenessd.CompareOptions) (*FaceComparison, error)
}

// FaceComparison is the outcome of a comparison.
type FaceComparison struct {
	Similarity      float64 // 0-100, calibrated
	Confidence      float64 // 0-100
	Threshold       float64
	IsMatch         bool
	Source, Target  FaceDetail
	SourceFaceCount int
	TargetFaceCount int
	// SourceFaces and TargetFaces are every face found, largest first (the
	// order a face index counts in); SourceIndex and TargetIndex are the
	// compared faces' positions there.
	SourceFaces, TargetFaces []FaceBox
	SourceIndex, TargetIndex int
}

// FaceBox is one face found in an image.
type FaceBox struct {
	BoundingBox livenessd.BoundingBox `json:"boundingBox"`
	Confidence  float64               `json:"confidence"` // detector confidence 0-100
}

// FaceDetail describes one compared face, as in the response.
type FaceDetail struct {
	BoundingBox livenessd.BoundingBox `json:"boundingBox"`
	Confidence  float64               `json:"confidence"` // detector confidence 0-100
	Quality     livenessd.Quality     `json:"quality"`
	Pose        livenessd.Pose        `json:"pose"`
}

// Config configures a Server. Sessions and Auth are required.
type Config struct {
	Sessions *session.Service
	Auth     Authenticator
	// Faces compares faces; nil answers compare endpoints with 503 5001.
	Faces FaceComparer
	// Documents reads identity documents (POST /v1/identity/scan) and
	// extracts the portrait verify-with-document compares; nil answers
	// the scan with 503 5001 and verify-with-document compares the
	// document's largest face as compare-faces does.
	Documents DocumentScanner
	// Pool bounds concurrent comparisons; nil makes one with 2 slots.
	Pool *workpool.Pool
	// RateLimit is requests per second per tenant (token bucket); 0 disables.
	RateLimit float64
	// RateBurst is the bucket size (default 2*RateLimit, at least 1).
	RateBurst int
	// Addresses finds a request's client address (behind trusted proxies).
	Addresses guard.Addresses
	// AuthFailures limits failed API key checks per client address: over
	// it, 429 1005 with Retry-After before the key is looked at. Share it
	// with the capture stream. Nil: one of the server's own with the
	// guard package's defaults.
	AuthFailures guard.FailureLimiter
	// SimilarityThreshold is compare-faces' default threshold (90).
	SimilarityThreshold float64
	// LivenessThreshold is the confidence a session needs (reported in
	// 1009 details; the verdict itself is the analysis').
	LivenessThreshold float64
	// ImageLimits bound every image decoded (default imageio.DefaultLimits()
	// with a budget of imageio.DefaultDecodeBudget); share the budget with
	// every other decoding part of the process.
	ImageLimits imageio.Limits
	// FaceImageSide is the longer side, in pixels, that compared images need
	// (face.Pipeline.ImageSide): larger JPEGs are decoded at a reduced DCT
	// scale that keeps at least this much. 0 decodes at full size.
	FaceImageSide    int
	MaxJSONBody      int64         // default DefaultMaxJSONBody
	MaxMultipartBody int64         // default DefaultMaxMultipartBody
	MaxScanBody      int64         // default DefaultMaxScanBody
	RetryAfter       time.Duration // Retry-After on 429/503 (default 2 s)
	// Ready, when set, is called by /readyz in addition to the store ping.
	Ready func(ctx context.Context) error
	// Requests, when set, is told about every request (metrics).
	Requests RequestObserver
	// TenantLimiter, when set, replaces the in-process token bucket with a
	// rate limit shared by the replicas (the Redis store's).
	TenantLimiter TenantLimiter
	// CheckCallback vets a session's callbackUrl (webhook.Dispatcher's
	// CheckURL); nil refuses every callbackUrl (webhooks off).
	CheckCallback func(url string) error
	Logger        *slog.Logger
	Now           func() time.Time
}

// TenantLimiter takes one request of a tenant's rate budget, or says how
// long until one is free. An error (store unreachable) lets the request
// through: the limit protects capacity, it is not an authorisation.
type TenantLimiter interface {
	Allow(ctx context.Context, tenant string) (ok bool, retryAfter time.Duration, err error)
}

// RequestObserver is told about every request: the route pattern ("" when
// none matched), method, status and duration; streamed is true for
// upgraded connections (WebSocket captures), whose duration is not a
// latency.
type RequestObserver interface {
	ObserveRequest(route, method string, status int, d time.Duration, streamed bool)
}

// Server serves the API. It is an http.Handler.
type Server struct {
	cfg      Config
	log      *slog.Logger
	mux      *http.ServeMux
	limiter  *rateLimiter
	draining atomic.Bool

	mu     sync.Mutex
	routes []string // patterns of the API's own routes (checked against openapi.json)
	extra  []string // patterns mounted with Handle
}

// New returns a Server with every API route registered.
func New(cfg Config) (*Server, error) {
	if cfg.Sessions == nil {
		return nil, errors.New("api: Sessions required")
	}
	if cfg.Auth == nil {
		return nil, errors.New("api: Auth required")
	}
	if cfg.Pool == nil {
		cfg.Pool = workpool.New(2, 2*time.Second)
	}
	if cfg.SimilarityThreshold == 0 {
		cfg.SimilarityThreshold = DefaultSimilarityThreshold
	}
	if cfg.LivenessThreshold == 0 {
		cfg.LivenessThreshold = DefaultLivenessThreshold
	}
	if cfg.ImageLimits == (imageio.Limits{}) {
		cfg.ImageLimits = imageio.DefaultLimits()
	}
	if cfg.ImageLimits.Budget == nil {
		cfg.ImageLimits.Budget = imageio.NewBudget(imageio.DefaultDecodeBudget, 0)
	}
	if cfg.MaxJSONBody <= 0 {
		cfg.MaxJSONBody = DefaultMaxJSONBody
	}
	if cfg.MaxMultipartBody <= 0 {
		cfg.MaxMultipartBody = DefaultMaxMultipartBody
	}
	if cfg.MaxScanBody <= 0 {
		cfg.MaxScanBody = DefaultMaxScanBody
	}
	if cfg.RetryAfter <= 0 {
		cfg.RetryAfter = DefaultRetryAfter
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.AuthFailures == nil {
		cfg.AuthFailures = guard.NewFailureLimit(0, 0, cfg.Now)
	}
	s := &Server{cfg: cfg, log: cfg.Logger, mux: http.NewServeMux()}
	if cfg.RateLimit > 0 {
		burst := cfg.RateBurst
		if burst <= 0 {
			burst = max(1, int(2*cfg.RateLimit))
		}
		s.limiter = newRateLimiter(cfg.RateLimit, burst, cfg.Now)
	}
	s.routesInit()
	return s, nil
}

func (s *Server) routesInit() {
	s.route("POST /v1/liveness/session", s.authed(s.serveCreateSession))
	s.route("GET /v1/liveness/session/{sessionId}/results", s.authed(s.serveResults))
	s.route("POST /v1/liveness/verify/{sessionId}", s.authed(s.serveVerify))
	s.route("POST /v1/liveness/verify-with-document/{sessionId}", s.authed(s.serveVerifyWithDocument))
	s.route("POST /v1/liveness/compare-faces", s.authed(s.serveCompareFaces))
	s.route("POST /v1/identity/scan", s.authed(s.serveIdentityScan))
	s.route("GET /healthz", s.serveHealthz)
	s.route("GET /readyz", s.serveReadyz)
	s.route("GET /openapi.json", s.serveOpenAPI)
	// Unknown paths and methods: ServeHTTP (fallback.go).
}

// handlerFunc is a handler that returns its error for writeError.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (s *Server) handler(f handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := f(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

func (s *Server) route(pattern string, f handlerFunc) {
	s.mu.Lock()
	s.routes = append(s.routes, pattern)
	s.mu.Unlock()
	s.mux.Handle(pattern, s.wrap(s.handler(f)))
}

// Handle mounts h at pattern (a net/http ServeMux pattern such as
// "GET /v1/liveness/session/{sessionId}/stream" or "/sdk/"), behind the
// server's panic recovery and access log but without API key auth: the
// mounted handler checks its own credential (clientToken, SigV4...) or
// wraps itself with RequireAPIKey.
func (s *Server) Handle(pattern string, h http.Handler) {
	s.mu.Lock()
	s.extra = append(s.extra, pattern)
	s.mu.Unlock()
	s.mux.Handle(pattern, s.wrap(h))
}

// RequireAPIKey wraps h with the API's Bearer key check and rate limit;
// the tenant is then available through TenantFromContext.
func (s *Server) RequireAPIKey(h http.Handler) http.Handler {
	return s.handler(s.authed(func(w http.ResponseWriter, r *http.Request) error {
		h.ServeHTTP(w, r)
		return nil
	}))
}

// Routes returns the patterns of the API's own routes.
func (s *Server) Routes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.routes...)
}

// MountedRoutes returns the patterns mounted with Handle.
func (s *Server) MountedRoutes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.extra...)
}

// SetDraining makes /readyz answer 503 (graceful shutdown: load balancers
// stop sending new requests while the server drains).
func (s *Server) SetDraining(v bool) { s.draining.Store(v) }

// Draining reports whether the server is shutting down.
func (s *Server) Draining() bool { return s.draining.Load() }

func (s *Server) now() time.Time { return s.cfg.Now() }

func (s *Server) checkCallback(u string) error {
	if s.cfg.CheckCallback == nil {
		return fmt.Errorf("webhooks are not configured on this server (--webhook-hosts): %w", livenessd.ErrInvalidRequest)
	}
	return s.cfg.CheckCallback(u)
}

func (s *Server) retryAfterSeconds() int {
	return max(1, int((s.cfg.RetryAfter+time.Second-1)/time.Second))
}

type ctxKey int

const tenantKey ctxKey = 0

// TenantFromContext returns the authenticated tenant of a request.
func TenantFromContext(ctx context.Context) (string, bool) {
	t, ok := ctx.Value(tenantKey).(string)
	return t, ok && t != ""
}

// authed checks the client address's failed authentications, then the
// Bearer key, then the tenant's rate limit, before f. A presented key that
// is refused counts as a failure of the address.
func (s *Server) authed(f handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		key, err := bearer(r)
		if err != nil {
			return err
		}
		addr := s.cfg.Addresses.Of(r)
		if wait, ok := s.cfg.AuthFailures.Allow(r.Context(), addr); !ok {
			return &guard.RetryError{After: wait, Err: fmt.Errorf("too many failed authentications from this address: %w", livenessd.ErrRateLimited)}
		}
		tenant, err := s.cfg.Auth.Authenticate(r.Context(), key)
		if err != nil {
			if errors.Is(err, livenessd.ErrUnauthorized) {
				s.cfg.AuthFailures.Failed(r.Context(), addr)
			}
			return err
		}
		if err := s.rateLimit(r.Context(), tenant); err != nil {
			return err
		}
		return f(w, r.WithContext(context.WithValue(r.Context(), tenantKey, tenant)))
	}
}

// rateLimit applies the tenant's rate limit: the shared one when set,
// else the in-process bucket.
func (s *Server) rateLimit(ctx context.Context, tenant string) error {
	if l := s.cfg.TenantLimiter; l != nil {
		ok, after, err := l.Allow(ctx, tenant)
		if err != nil {
			s.log.WarnContext(ctx, "shared rate limit unavailable; request let through", "err", err)
			return nil
		}
		if !ok {
			return &guard.RetryError{After: after, Err: fmt.Errorf("tenant over %.3g requests/s: %w", s.cfg.RateLimit, livenessd.ErrRateLimited)}
		}
		return nil
	}
	if s.limiter != nil && !s.limiter.allow(tenant) {
		return fmt.Errorf("tenant over %.3g requests/s: %w", s.cfg.RateLimit, livenessd.ErrRateLimited)
	}
	return nil
}

func bearer(r *http.Request) (string, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", fmt.Errorf("missing Authorization header: %w", livenessd.ErrUnauthorized)
	}
	scheme, key, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(key) == "" {
		return "", fmt.Errorf("Authorization header is not \"Bearer <key>\": %w", livenessd.ErrUnauthorized)
	}
	return strings.TrimSpace(key), nil
}

// wrap adds the request id, panic recovery, the access log, the request
// metrics, and the seed's error body to errors a handler writes as plain
// text.
func (s *Server) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		r = withRequestID(w, r)
		rec := &recorder{ResponseWriter: w}
		defer func() {
			if s.cfg.Requests != nil {
				s.cfg.Requests.ObserveRequest(r.Pattern, r.Method, rec.statusCode(), time.Since(start), rec.hijacked)
			}
		}()
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.ErrorContext(r.Context(), "panic in handler", "method", r.Method, "path", r.URL.Path,
					"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				if !rec.wroteHeader && !rec.hijacked {
					s.writeError(rec, r, fmt.Errorf("panic: %v", v))
				}
			}
			if !rec.hijacked {
				s.log.InfoContext(r.Context(), "http", "method", r.Method, "path", r.URL.Path,
					"status", rec.statusCode(), "bytes", rec.bytes, "dur_ms", time.Since(start).Milliseconds())
			}
		}()
		ew := &errorRewriter{ResponseWriter: rec, s: s, r: r}
		h.ServeHTTP(ew, r)
		ew.finish()
	})
}

// withRequestID gives the request an id: the client's X-Request-Id when it
// is well-formed, else a new one. It is echoed in the response and added
// to every log line written with the request's context.
func withRequestID(w http.ResponseWriter, r *http.Request) *http.Request {
	id := r.Header.Get("X-Request-Id")
	if !logging.ValidRequestID(id) {
		id = logging.NewRequestID()
	}
	w.Header().Set("X-Request-Id", id)
	return r.WithContext(logging.WithRequestID(r.Context(), id))
}

// recorder captures the status for the access log. It keeps Flush and
// Hijack (WebSocket upgrades) working and exposes Unwrap for
// http.ResponseController.
type recorder struct {
	http.ResponseWriter
	status      int
	bytes       int64
	wroteHeader bool
	hijacked    bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wroteHeader {
		r.status, r.wroteHeader = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if !r.wroteHeader {
		r.status, r.wroteHeader = http.StatusOK, true
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

func (r *recorder) statusCode() int {
	if r.status == 0 {
		return http.StatusOK
	}
	return r.status
}

func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := r.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("api: response writer cannot hijack")
	}
	c, rw, err := hj.Hijack()
	if err == nil {
		r.hijacked = true
		r.status = http.StatusSwitchingProtocols
	}
	return c, rw, err
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (s *Server) serveHealthz(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

func (s *Server) serveReadyz(w http.ResponseWriter, r *http.Request) error {
	if s.draining.Load() {
		return fmt.Errorf("shutting down: %w", livenessd.ErrOverloaded)
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.cfg.Sessions.Ping(ctx); err != nil {
		return fmt.Errorf("store: %v: %w", err, livenessd.ErrOverloaded)
	}
	if s.cfg.Ready != nil {
		if err := s.cfg.Ready(ctx); err != nil {
			return fmt.Errorf("not ready: %v: %w", err, livenessd.ErrOverloaded)
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	return nil
}

// rateLimiter is a token bucket per tenant.
type rateLimiter struct {
	rate  float64
	burst float64
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*guard.TokenBucket
}

func newRateLimiter(rate float64, burst int, now func() time.Time) *rateLimiter {
	return &rateLimiter{rate: rate, burst: float64(burst), now: now, buckets: map[string]*guard.TokenBucket{}}
}

func (l *rateLimiter) allow(tenant string) bool {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[tenant]
	if !ok {
		b = &guard.TokenBucket{Tokens: l.burst, Last: now}
		l.buckets[tenant] = b
	}
	b.Refill(now, l.rate, l.burst)
	if b.Tokens < 1 {
		return false
	}
	b.Tokens--
	return true
}
