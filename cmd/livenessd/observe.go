package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/metrics"
	"github.com/livenessd/livenessd/internal/webhook"
)

// mountMetrics serves /metrics as --metrics-addr says: on the API's
// listener (empty), on a listener of its own (host:port, for a port that
// only Prometheus reaches), or not at all (off).
func mountMetrics(env *mountEnv) error {
	switch addr := env.Config.MetricsAddr; addr {
	case "off":
		return nil
	case "":
		env.Server.Handle("GET /metrics", env.Metrics.Handler())
		return nil
	default:
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("--metrics-addr: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", env.Metrics.Handler())
		hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		go func() {
			if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				env.Logger.Error("metrics listener", "err", err)
			}
		}()
		env.Logger.Info("metrics listening", "addr", ln.Addr().String())
		env.OnShutdown(func(ctx context.Context) error { return hs.Shutdown(ctx) })
		return nil
	}
}

// webhookFlags configure the webhooks (docs/WEBHOOKS.md).
type webhookFlags struct {
	Hosts     string
	Secret    string
	AllowHTTP bool
}

func registerWebhookFlags(e *envFlags, c *webhookFlags) {
	e.str(&c.Hosts, "webhook-hosts", "LIVENESS_WEBHOOK_HOSTS", "", "comma-separated host[:port] patterns a session's callbackUrl may point to; empty disables webhooks")
	e.str(&c.Secret, "webhook-secret", "LIVENESS_WEBHOOK_SECRET", "", "HMAC-SHA256 key signing every webhook (at least 16 bytes; prefer the environment variable)")
	e.boolean(&c.AllowHTTP, "webhook-allow-http", "LIVENESS_WEBHOOK_ALLOW_HTTP", false, "also accept http:// callback URLs (internal networks, tests)")
}

// finishHooks run when a session reaches a final status: the webhook.
type finishHooks struct {
	webhooks *webhook.Dispatcher // nil: webhooks off
	results  func(*livenessd.Session) ([]byte, error)
	log      *slog.Logger
}

func newFinishHooks(c webhookFlags, met *metrics.Metrics, log *slog.Logger) (*finishHooks, error) {
	h := &finishHooks{log: log}
	if c.Hosts == "" {
		if c.Secret != "" {
			log.Warn("--webhook-secret is set but --webhook-hosts is empty: webhooks are off")
		}
		return h, nil
	}
	d, err := webhook.New(webhook.Config{
		Secret: []byte(c.Secret), AllowedHosts: splitList(c.Hosts), AllowHTTP: c.AllowHTTP,
		Observe: met.WebhookDelivery, Logger: log,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	d.Start()
	h.webhooks = d
	log.Info("webhooks enabled", "hosts", strings.Join(splitList(c.Hosts), ","))
	return h, nil
}

// checkURL is the API's callbackUrl check; nil when webhooks are off.
func (h *finishHooks) checkURL() func(string) error {
	if h.webhooks == nil {
		return nil
	}
	return h.webhooks.CheckURL
}

// onFinish queues the session's webhook; it never blocks the verdict.
func (h *finishHooks) onFinish(ctx context.Context, sess *livenessd.Session) {
	if h.webhooks == nil || sess.Settings.CallbackURL == "" || h.results == nil {
		return
	}
	body, err := h.results(sess)
	if err != nil {
		h.log.ErrorContext(ctx, "webhook: results body", "session", sess.ID, "err", err)
		return
	}
	h.webhooks.Enqueue(sess.ID, sess.Settings.CallbackURL, body)
}

// drain waits (until ctx ends) for the queued webhooks.
func (h *finishHooks) drain(ctx context.Context) error {
	if h.webhooks == nil {
		return nil
	}
	return h.webhooks.Close(ctx)
}

// close drops what drain left.
func (h *finishHooks) close() {
	if h.webhooks != nil {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_ = h.webhooks.Close(ctx)
	}
}

// captureObserver writes the one INFO line per capture outcome (both
// transports) and its metrics. Lines hold ids, statuses and durations
// only: never images, keys or tokens.
type captureObserver struct {
	log *slog.Logger
	met *metrics.Metrics
}

func (o captureObserver) CaptureOutcome(ctx context.Context, c livenessd.CaptureOutcome) {
	o.met.CaptureOutcome(c)
	o.log.InfoContext(ctx, "capture outcome", "transport", c.Transport, "session", c.SessionID,
		"status", c.Status, "confidence", c.Confidence, "reason", c.Reason, "analysed", c.Analysed,
		"failed_checks", strings.Join(c.Failed, ","), "signal", signalOf(c), "frames", c.Frames,
		"duration_ms", c.Duration.Milliseconds(), "verdict_lag_ms", c.VerdictLag.Milliseconds())
}

func signalOf(c livenessd.CaptureOutcome) string {
	if c.Status != livenessd.StatusFailed {
		return ""
	}
	return metrics.FailingSignal(c)
}
