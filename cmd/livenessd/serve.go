package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/admission"
	"github.com/livenessd/livenessd/internal/api"
	"github.com/livenessd/livenessd/internal/api/apiface"
	"github.com/livenessd/livenessd/internal/auth"
	"github.com/livenessd/livenessd/internal/capture"
	"github.com/livenessd/livenessd/internal/document"
	"github.com/livenessd/livenessd/internal/face"
	"github.com/livenessd/livenessd/internal/guard"
	"github.com/livenessd/livenessd/internal/imageio"
	"github.com/livenessd/livenessd/internal/infer"
	"github.com/livenessd/livenessd/internal/liveness"
	"github.com/livenessd/livenessd/internal/logging"
	"github.com/livenessd/livenessd/internal/metrics"
	"github.com/livenessd/livenessd/internal/models"
	"github.com/livenessd/livenessd/internal/session"
	"github.com/livenessd/livenessd/internal/workpool"
)

// serveConfig is the configuration of `livenessd serve`. Every field comes
// from a flag whose default is read from its LIVENESS_* variable.
type serveConfig struct {
	Addr                string
	DataDir             string
	Store               string // store.go: empty (SQLite) or redis://...
	CaptureLease        time.Duration
	CaptureMaxDuration  time.Duration
	CaptureMaxLag       time.Duration
	CaptureReadTimeout  time.Duration
	ModelsDir           string
	Dev                 bool
	APIKeys             string
	SessionTTL          time.Duration
	Retention           time.Duration
	RecordTTL           time.Duration
	PurgeInterval       time.Duration
	Threads             int
	Workers             int
	MaxCaptures         int
	QueueWait           time.Duration
	RateLimit           float64
	RateBurst           int
	SimilarityThreshold float64
	LivenessThreshold   float64
	ShadingThreshold    float64 // light_shading's threshold (liveness.Thresholds.Shading)
	ParallaxThreshold   float64 // parallax's threshold (liveness.Thresholds.Parallax; 0: reported only)
	FaceConfig          string  // JSON overriding the face models (docs/MODELS.md)
	ShutdownTimeout     time.Duration
	DrainDelay          time.Duration
	LogLevel            string
	TrustedProxies      string
	AllowPlaintext      bool
	DecodeMemoryMB      int
	StreamsPerAddress   int
	LogFormat           string
	MetricsAddr         string
	Webhooks            webhookFlags // observe.go
	Lockout             session.LockoutPolicy
	Demo                demoFlag     // web.go
	Amplify             amplifyFlags // amplify.go: Amplify endpoint and TLS
}

// envFlags registers flags with LIVENESS_* defaults and remembers a bad
// environment value to report after parsing.
type envFlags struct {
	fs  *flag.FlagSet
	err error
}

func (e *envFlags) str(p *string, name, env, def, usage string) {
	e.fs.StringVar(p, name, envOr(env, def), usage+" (env "+env+")")
}

func (e *envFlags) boolean(p *bool, name, env string, def bool, usage string) {
	v := def
	if s := os.Getenv(env); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			e.err = errors.Join(e.err, fmt.Errorf("%s=%q: %v", env, s, err))
		}
		v = b
	}
	e.fs.BoolVar(p, name, v, usage+" (env "+env+")")
}

func (e *envFlags) duration(p *time.Duration, name, env string, def time.Duration, usage string) {
	v := def
	if s := os.Getenv(env); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			e.err = errors.Join(e.err, fmt.Errorf("%s=%q: %v", env, s, err))
		}
		v = d
	}
	e.fs.DurationVar(p, name, v, usage+" (env "+env+")")
}

func (e *envFlags) integer(p *int, name, env string, def int, usage string) {
	v := def
	if s := os.Getenv(env); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			e.err = errors.Join(e.err, fmt.Errorf("%s=%q: %v", env, s, err))
		}
		v = n
	}
	e.fs.IntVar(p, name, v, usage+" (env "+env+")")
}

func (e *envFlags) float(p *float64, name, env string, def float64, usage string) {
	v := def
	if s := os.Getenv(env); s != "" {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			e.err = errors.Join(e.err, fmt.Errorf("%s=%q: %v", env, s, err))
		}
		v = f
	}
	e.fs.Float64Var(p, name, v, usage+" (env "+env+")")
}

func parseServeFlags(args []string, stderr io.Writer) (serveConfig, error) {
	var c serveConfig
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	e := &envFlags{fs: fs}
	e.str(&c.Addr, "addr", "LIVENESS_ADDR", "127.0.0.1:8080", "listen address")
	e.str(&c.DataDir, "data", "LIVENESS_DATA_DIR", "var/data", "data directory (SQLite database)")
	registerStoreFlag(e, &c.Store)
	e.duration(&c.CaptureReadTimeout, "capture-read-timeout", "LIVENESS_CAPTURE_READ_TIMEOUT", capture.DefaultReadTimeout,
		"longest silence of an SDK capture's client between two messages before the capture fails (close code 4408)")
	e.duration(&c.CaptureMaxDuration, "capture-max-duration", "LIVENESS_CAPTURE_MAX_DURATION", capture.DefaultMaxDuration,
		"longest SDK capture, from the upgrade to the result (slow hardware may need more)")
	e.duration(&c.CaptureMaxLag, "capture-max-lag", "LIVENESS_CAPTURE_MAX_LAG", capture.DefaultMaxFrameLag,
		"how far SDK capture frames may fall behind the server's clock before the capture is refused (4425); 0 turns the check off")
	e.duration(&c.CaptureLease, "capture-lease", "LIVENESS_CAPTURE_LEASE", session.DefaultLeaseTTL, "a capture whose server stopped renewing it (crash) is marked FAILED after this long")
	e.str(&c.ModelsDir, "models", models.EnvDir, models.DefaultDir, "model cache directory (filled by `make models`)")
	e.boolean(&c.Dev, "dev", "LIVENESS_DEV", false, "development mode: make a temporary API key when none is configured, enable the demo page")
	if err := registerDemoFlag(fs, &c.Demo); err != nil {
		e.err = errors.Join(e.err, err)
	}
	registerAmplifyFlags(e, &c.Amplify) // amplify.go
	e.str(&c.APIKeys, "api-keys", "LIVENESS_API_KEYS", "", "comma-separated API keys (held only as SHA-256 hashes)")
	e.duration(&c.SessionTTL, "session-ttl", "LIVENESS_SESSION_TTL", session.DefaultTTL, "session lifetime (expiryDate = createdAt + TTL)")
	e.duration(&c.Retention, "retention", "LIVENESS_RETENTION", session.DefaultRetention, "how long results and images are kept after expiry")
	e.duration(&c.RecordTTL, "record-ttl", "LIVENESS_RECORD_TTL", session.DefaultRecordTTL, "how long the image-free session record is kept after expiry+retention")
	e.duration(&c.PurgeInterval, "purge-interval", "LIVENESS_PURGE_INTERVAL", session.DefaultPurgeInterval, "period of the purge of expired data")
	e.integer(&c.Threads, "threads", "LIVENESS_THREADS", 0, "ONNX Runtime intra-op threads per model run (0: each model's measured count, docs/BENCHMARKS.md)")
	e.integer(&c.Workers, "workers", "LIVENESS_WORKERS", runtime.NumCPU(), "concurrent analyses/comparisons (bounded worker pool)")
	e.integer(&c.MaxCaptures, "max-captures", "LIVENESS_MAX_CAPTURES", 0,
		"bound on captures at once; below it new captures are admitted while the measured frame cost lets the workers keep up (0: 4 per worker)")
	e.duration(&c.QueueWait, "queue-wait", "LIVENESS_QUEUE_WAIT", 2*time.Second, "how long a request waits for a worker before 503 5001")
	e.float(&c.RateLimit, "rate-limit", "LIVENESS_RATE_LIMIT", 10, "requests per second per tenant, all its keys together (0 = unlimited)")
	e.integer(&c.RateBurst, "rate-burst", "LIVENESS_RATE_BURST", 20, "burst of the per-key rate limit")
	e.float(&c.SimilarityThreshold, "similarity-threshold", "LIVENESS_SIMILARITY_THRESHOLD", api.DefaultSimilarityThreshold, "default face match threshold (0-100)")
	e.float(&c.LivenessThreshold, "liveness-threshold", "LIVENESS_THRESHOLD", liveness.DefaultThreshold, "confidence (0-100) from which a capture is live")
	e.float(&c.ShadingThreshold, "liveness-shading-threshold", "LIVENESS_SHADING_THRESHOLD", liveness.DefaultThresholds().Shading,
		"light_shading threshold: the screen light's fall-off towards the face outline a capture must allow; higher refuses more flat prints and more live captures (docs/ACCURACY.md)")
	e.float(&c.ParallaxThreshold, "liveness-parallax-threshold", "LIVENESS_PARALLAX_THRESHOLD", liveness.DefaultThresholds().Parallax,
		"parallax threshold: how much more the face's front must grow than its outline during the approach; 0 reports it without grading it (then raise the shading threshold to 0.16; docs/ACCURACY.md)")
	e.str(&c.FaceConfig, "face-config", "LIVENESS_FACE_CONFIG", "", "JSON file overriding the face models: use your own ONNX detector/embedder (docs/MODELS.md)")
	e.duration(&c.ShutdownTimeout, "shutdown-timeout", "LIVENESS_SHUTDOWN_TIMEOUT", 20*time.Second, "graceful shutdown limit: on SIGTERM the process exits within it")
	e.duration(&c.DrainDelay, "drain-delay", "LIVENESS_DRAIN_DELAY", 3*time.Second, "on SIGTERM, how long /readyz answers 503 while requests are still served, so load balancers stop sending new ones")
	e.str(&c.LogLevel, "log-level", "LIVENESS_LOG_LEVEL", "info", "debug, info, warn or error")
	e.boolean(&c.AllowPlaintext, "allow-plaintext", "LIVENESS_ALLOW_PLAINTEXT", false,
		"start without LIVENESS_DATA_KEYS, storing reference and audit images unencrypted (development does so with a warning)")
	e.integer(&c.DecodeMemoryMB, "decode-memory", "LIVENESS_DECODE_MEMORY", imageio.DefaultDecodeBudget>>20,
		"megabytes that image decodes in flight may use together; an image needing more alone is refused (413 1020)")
	e.integer(&c.StreamsPerAddress, "streams-per-address", "LIVENESS_STREAMS_PER_ADDRESS", guard.DefaultStreamsPerAddress,
		"capture streams (SDK and Amplify, open or being refused) one client address may hold at once; 0 = no limit")
	e.str(&c.TrustedProxies, "trusted-proxies", "LIVENESS_TRUSTED_PROXIES", "",
		"comma-separated addresses/CIDRs of reverse proxies whose X-Forwarded-For names the client (per-address limits)")
	e.str(&c.LogFormat, "log-format", "LIVENESS_LOG_FORMAT", "text", "text or json (one object per line)")
	registerWebhookFlags(e, &c.Webhooks)
	e.integer(&c.Lockout.Failures, "lockout-failures", "LIVENESS_LOCKOUT_FAILURES", session.DefaultLockout.Failures, "FAILED checks of one externalUserId within --lockout-window that lock it out")
	e.duration(&c.Lockout.Window, "lockout-window", "LIVENESS_LOCKOUT_WINDOW", session.DefaultLockout.Window, "window in which --lockout-failures failures lock an externalUserId out")
	e.duration(&c.Lockout.Duration, "lockout-duration", "LIVENESS_LOCKOUT_DURATION", session.DefaultLockout.Duration, "how long new sessions of a locked-out externalUserId are refused (429 / 1030)")
	e.str(&c.MetricsAddr, "metrics-addr", "LIVENESS_METRICS_ADDR", "", "Prometheus /metrics: empty serves it on --addr, host:port on a separate listener, off disables it")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: livenessd serve [flags]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if e.err != nil {
		return c, fmt.Errorf("%w: %v", errUsage, e.err)
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	}
	switch {
	case c.SessionTTL <= 0:
		return c, fmt.Errorf("%w: --session-ttl must be positive", errUsage)
	case c.StreamsPerAddress < 0:
		return c, fmt.Errorf("%w: --streams-per-address must not be negative", errUsage)
	case c.CaptureMaxLag < 0:
		return c, fmt.Errorf("%w: --capture-max-lag must not be negative", errUsage)
	case c.DecodeMemoryMB < 16:
		return c, fmt.Errorf("%w: --decode-memory must be at least 16 (MB)", errUsage)
	case c.CaptureReadTimeout < time.Second:
		return c, fmt.Errorf("%w: --capture-read-timeout must be at least 1s", errUsage)
	case c.CaptureMaxDuration < time.Second:
		return c, fmt.Errorf("%w: --capture-max-duration must be at least 1s", errUsage)
	case c.Lockout.Failures < 1 || c.Lockout.Window <= 0 || c.Lockout.Duration <= 0:
		return c, fmt.Errorf("%w: --lockout-failures must be at least 1, --lockout-window and --lockout-duration positive", errUsage)
	case c.ShutdownTimeout < time.Second || c.DrainDelay < 0 || c.DrainDelay >= c.ShutdownTimeout/2:
		return c, fmt.Errorf("%w: --shutdown-timeout must be at least 1s and --drain-delay less than half of it", errUsage)
	case c.CaptureLease < time.Second:
		return c, fmt.Errorf("%w: --capture-lease must be at least 1s", errUsage)
	case c.Retention < 0 || c.RecordTTL < 0 || c.PurgeInterval <= 0:
		return c, fmt.Errorf("%w: --retention/--record-ttl must not be negative, --purge-interval must be positive", errUsage)
	case c.Threads < 0 || c.Threads > runtime.NumCPU() || c.Workers < 1 || c.MaxCaptures < 0:
		return c, fmt.Errorf("%w: --threads must be 0 (per model) to the CPU count, --workers at least 1, --max-captures not negative", errUsage)
	case c.RateLimit < 0:
		return c, fmt.Errorf("%w: --rate-limit must not be negative", errUsage)
	case c.SimilarityThreshold <= 0 || c.SimilarityThreshold > 100 || c.LivenessThreshold <= 0 || c.LivenessThreshold > 100:
		return c, fmt.Errorf("%w: thresholds must be within (0, 100]", errUsage)
	case c.ShadingThreshold < -1 || c.ShadingThreshold > 2:
		return c, fmt.Errorf("%w: --liveness-shading-threshold must be within [-1, 2]", errUsage)
	case c.ParallaxThreshold < 0 || c.ParallaxThreshold > 1:
		return c, fmt.Errorf("%w: --liveness-parallax-threshold must be within [0, 1]", errUsage)
	}
	return c, nil
}

// livenessConfig is the liveness analysis the configuration asks for.
func (c serveConfig) livenessConfig() liveness.Config {
	th := liveness.DefaultThresholds()
	th.Shading, th.Parallax = c.ShadingThreshold, c.ParallaxThreshold
	return liveness.Config{Threshold: c.LivenessThreshold, Thresholds: &th}
}

func newLogger(format, level string, w io.Writer) (*slog.Logger, error) {
	log, err := logging.New(format, level, w)
	if err != nil {
		return nil, fmt.Errorf("%w: --log-format/--log-level: %v", errUsage, err)
	}
	return log, nil
}

// mountEnv is what the handlers mounted beside the API (capture WebSocket,
// Amplify endpoint, web assets) get from the server's wiring. See mounts.go.
type mountEnv struct {
	Server   *api.Server
	Sessions *session.Service
	Pipeline *face.Pipeline
	Runtime  *infer.Runtime
	Pool     *workpool.Pool
	Config   serveConfig
	Logger   *slog.Logger
	// Addresses and AuthFailures are the per-client-address limits shared
	// by the API and the capture transports.
	Addresses    guard.Addresses
	AuthFailures guard.FailureLimiter
	// ImageLimits (with the process's decode memory budget) bound every
	// image decoded by a request.
	ImageLimits imageio.Limits
	// Documents is the identity document scanner (nil: none).
	Documents *document.Scanner
	Metrics   *metrics.Metrics
	// Admission admits captures at the door (both transports); Outcomes
	// logs and counts how they end (observe.go).
	Admission *admission.Controller
	Outcomes  captureObserver
	// onShutdown functions run after the HTTP server drained and before
	// in-progress sessions are aborted (close WebSocket captures here).
	onShutdown []func(context.Context) error
}

// OnShutdown registers f to run during graceful shutdown, after the HTTP
// drain, in registration order.
func (m *mountEnv) OnShutdown(f func(context.Context) error) { m.onShutdown = append(m.onShutdown, f) }

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseServeFlags(args, stderr)
	if err != nil {
		return err
	}
	log, err := newLogger(cfg.LogFormat, cfg.LogLevel, stderr)
	if err != nil {
		return err
	}

	// Models first: one clear line naming the fix when the cache is bad.
	cache := models.NewCache(cfg.ModelsDir)
	if err := cache.Verify(); err != nil {
		return fmt.Errorf("model cache %s is not usable (run `%s`): %v", cfg.ModelsDir, models.FixCommand, firstLine(err))
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	met := metrics.New()
	dataKeys, err := loadDataKeys(cfg.Dev, cfg.AllowPlaintext)
	if err != nil {
		return err // before anything is opened: a clear refusal
	}
	store, exclusive, err := openStore(ctx, storeConfig{URL: cfg.Store, DataDir: cfg.DataDir, Retention: cfg.Retention, RecordTTL: cfg.RecordTTL, OnUnavailable: met.StoreError})
	if err != nil {
		return err
	}
	defer store.Close()

	keys, err := auth.ParseKeyList(cfg.APIKeys)
	if err != nil {
		return fmt.Errorf("%w: LIVENESS_API_KEYS: %v", errUsage, err)
	}
	stored, err := store.APIKeys(ctx)
	if err != nil {
		return err
	}
	devKey := ""
	if len(keys) == 0 && len(stored) == 0 {
		if !cfg.Dev {
			return auth.ErrNoKeys
		}
		devKey, _, err = auth.NewKey("dev", time.Now())
		if err != nil {
			return err
		}
		keys = []string{devKey}
	}
	keyring, err := auth.NewKeyring(ctx, keys, store, 5*time.Second)
	if err != nil {
		return err
	}

	// Closed (deferred) before the store: the shutdown order is HTTP drain,
	// captures, in-progress sessions, purge loop, pipeline, store.
	rt, err := infer.NewRuntime(cache.Path(models.ORTLibrary), infer.Options{IntraOpThreads: cfg.Threads, Observer: met})
	if err != nil {
		return fmt.Errorf("onnx runtime (run `%s`): %w", models.FixCommand, err)
	}
	faceCfg := face.DefaultConfig()
	if cfg.FaceConfig != "" {
		if faceCfg, err = face.LoadConfig(cfg.FaceConfig); err != nil {
			return fmt.Errorf("face config: %w", err)
		}
	}
	pipe, err := face.NewPipeline(rt, cache, faceCfg)
	if err != nil {
		return fmt.Errorf("face pipeline (run `%s`): %w", models.FixCommand, err)
	}
	defer pipe.Close()
	scanner, ocrModel, err := openScanner(rt, cache, pipe, "ppocr")
	if err != nil {
		return fmt.Errorf("document scanner (run `%s`): %w", models.FixCommand, err)
	}
	defer ocrModel.Close()

	sessionStore, err := sealStore(store, dataKeys, log)
	if err != nil {
		return err
	}
	hooks, err := newFinishHooks(cfg.Webhooks, met, log) // observe.go: webhooks
	if err != nil {
		return err
	}
	defer hooks.close()
	sessions, err := session.New(session.Config{
		Store:         sessionStore,
		Challenges:    func() (livenessd.Challenge, error) { return liveness.NewChallenge(livenessd.ChallengeMovementAndLight) },
		TTL:           cfg.SessionTTL,
		Retention:     cfg.Retention,
		RecordTTL:     cfg.RecordTTL,
		PurgeInterval: cfg.PurgeInterval,
		LeaseTTL:      cfg.CaptureLease,
		Exclusive:     exclusive,
		Lockouts:      store,
		Lockout:       cfg.Lockout,
		OnFinish:      hooks.onFinish,
		Logger:        log,
	})
	if err != nil {
		return err
	}
	if err := sessions.Open(); err != nil {
		return err
	}
	defer sessions.Close()

	proxies, err := guard.ParsePrefixes(cfg.TrustedProxies)
	if err != nil {
		return fmt.Errorf("%w: --trusted-proxies: %v", errUsage, err)
	}
	addresses := guard.Addresses{TrustedProxies: proxies}
	authFailures := guard.NewFailureLimit(guard.DefaultFailureBurst, guard.DefaultFailureInterval, nil)
	pool := workpool.New(cfg.Workers, cfg.QueueWait).WithObserver(met)
	imageLimits := imageio.DefaultLimits()
	imageLimits.Budget = imageio.NewBudget(int64(cfg.DecodeMemoryMB)<<20, cfg.QueueWait)
	tenantLimiter, err := sharedRateLimiter(store, cfg.RateLimit, cfg.RateBurst)
	if err != nil {
		return err
	}
	srv, err := api.New(api.Config{
		Sessions:            sessions,
		Auth:                keyring,
		Faces:               apiface.New(pipe),
		FaceImageSide:       pipe.ImageSide(),
		ImageLimits:         imageLimits,
		Documents:           scanner,
		Pool:                pool,
		RateLimit:           cfg.RateLimit,
		RateBurst:           cfg.RateBurst,
		TenantLimiter:       tenantLimiter,
		SimilarityThreshold: cfg.SimilarityThreshold,
		LivenessThreshold:   cfg.LivenessThreshold,
		RetryAfter:          cfg.QueueWait,
		Addresses:           addresses,
		AuthFailures:        authFailures,
		Requests:            met,
		CheckCallback:       hooks.checkURL(),
		Logger:              log,
	})
	if err != nil {
		return err
	}
	hooks.results = srv.ResultsBody
	env := &mountEnv{Server: srv, Sessions: sessions, Pipeline: pipe, Runtime: rt, Pool: pool, Config: cfg, Logger: log,
		Addresses: addresses, AuthFailures: authFailures, ImageLimits: imageLimits, Documents: scanner, Metrics: met,
		Admission: admission.New(admission.Config{Workers: cfg.Workers, MaxCaptures: cfg.MaxCaptures, OnRefuse: met.CaptureRefused}),
		Outcomes:  captureObserver{log: log, met: met}}
	if err := mountHandlers(env); err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	ln, scheme, err := listenTLS(cfg, ln, log, srv) // amplify.go: --tls-*
	if err != nil {
		return err
	}
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	base := scheme + "://" + ln.Addr().String()
	log.Info("livenessd listening", "addr", ln.Addr().String(), "data", cfg.DataDir, "store", storeName(cfg.Store), "models", cfg.ModelsDir,
		"session_ttl", cfg.SessionTTL, "retention", cfg.Retention, "workers", cfg.Workers, "keys", keyring.Len(), "dev", cfg.Dev)
	if devKey != "" {
		fmt.Fprintf(stdout, "\nDevelopment API key (shown once, valid until this process exits):\n  %s\n\n"+
			"Try it:\n  curl -s -X POST %s/v1/liveness/session -H 'Authorization: Bearer %s' "+
			"-H 'Content-Type: application/json' -d '{\"settings\":{\"auditImagesLimit\":2}}'\n\n",
			devKey, base, devKey)
	}
	if cfg.Demo.enabled(cfg.Dev) {
		fmt.Fprintf(stdout, "Demo (the whole KYC flow in the browser): %s/demo\n\n", base)
	}

	// Requests run under base: at the end of the shutdown budget it is
	// cancelled, so a request still running answers 503 instead of being cut.
	reqBase, cancelBase := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelBase()
	hs.BaseContext = func(net.Listener) context.Context { return reqBase }
	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(ln) }()
	select {
	case err := <-serveErr:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	return shutdown(shutdownPlan{
		Timeout: cfg.ShutdownTimeout, DrainDelay: cfg.DrainDelay,
		Server: srv, HTTP: hs, ServeErr: serveErr, CancelRequests: cancelBase,
		Transports: env.onShutdown, Sessions: sessions, Hooks: hooks, Log: log,
	})
}

func firstLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}
