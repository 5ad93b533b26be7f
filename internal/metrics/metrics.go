// Package metrics holds the service's Prometheus collectors (client_golang)
// on one registry, and the small methods the other packages' hooks call:
// the API's request observer, the capture transports' outcome observer,
// the worker pool's waits, inference runs, webhook deliveries, store
// errors. Domain packages never import it; cmd/livenessd wires it in.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/liveness"
	"github.com/livenessd/livenessd/internal/session"
)

const namespace = "livenessd"

// Latency buckets in seconds: from a fast JSON answer to a slow capture.
var (
	requestBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}
	lagBuckets     = []float64{.05, .1, .25, .5, .75, 1, 1.5, 2, 3, 5, 10}
	runBuckets     = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1}
)

// Metrics is the set of collectors. Its methods are safe for concurrent
// use; a nil *Metrics ignores every call, so tests may leave it out.
type Metrics struct {
	reg *prometheus.Registry

	requests       *prometheus.CounterVec
	requestLatency *prometheus.HistogramVec
	captures       *prometheus.CounterVec
	captureFailed  *prometheus.CounterVec
	verdictLag     *prometheus.HistogramVec
	captureTime    *prometheus.HistogramVec
	admission      prometheus.Counter
	poolWait       prometheus.Histogram
	poolRefused    prometheus.Counter
	inference      *prometheus.HistogramVec
	webhooks       *prometheus.CounterVec
	storeErrors    *prometheus.CounterVec
	inFlight       *prometheus.GaugeVec
}

// New registers every collector, with the Go runtime and process ones.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "http_requests_total",
		Help: "HTTP requests by route pattern, method and status code.",
	}, []string{"route", "method", "code"})
	m.requestLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Name: "http_request_duration_seconds",
		Help: "HTTP request latency by route pattern (WebSocket captures excluded).", Buckets: requestBuckets,
	}, []string{"route"})
	m.captures = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "captures_total",
		Help: "Finished captures by transport (sdk, amplify) and final status.",
	}, []string{"transport", "status"})
	m.captureFailed = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "capture_failures_total",
		Help: "Failed captures by transport and failing signal (the first liveness check that failed, or aborted/interrupted).",
	}, []string{"transport", "signal"})
	m.verdictLag = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Name: "capture_verdict_lag_seconds",
		Help: "Time from the end of the client's stream (last frame or end of video) to the stored verdict: how far analysis runs behind the stream.", Buckets: lagBuckets,
	}, []string{"transport"})
	m.captureTime = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Name: "capture_duration_seconds",
		Help: "Capture duration from the challenge to the verdict.", Buckets: []float64{1, 2, 4, 6, 8, 10, 15, 20, 30, 60},
	}, []string{"transport"})
	m.admission = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: namespace, Name: "capture_refusals_total",
		Help: "Captures (both transports) refused at the door, before their challenge, because the server could not analyse them in time.",
	})
	m.poolWait = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: namespace, Name: "workpool_wait_seconds",
		Help: "Time a job waited for a worker slot.", Buckets: []float64{.001, .005, .01, .05, .1, .25, .5, 1, 2, 5},
	})
	m.poolRefused = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: namespace, Name: "workpool_refusals_total",
		Help: "Jobs refused (503 5001) because no worker freed within the queue wait.",
	})
	m.inference = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Name: "inference_duration_seconds",
		Help: "ONNX Runtime run latency by model.", Buckets: runBuckets,
	}, []string{"model"})
	m.webhooks = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "webhook_deliveries_total",
		Help: "Webhook delivery attempts by outcome (delivered, retry, failed, dropped).",
	}, []string{"outcome"})
	m.storeErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "store_errors_total",
		Help: "Session store calls that failed because the store was unavailable, by operation.",
	}, []string{"op"})
	m.inFlight = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: namespace, Name: "captures_in_progress",
		Help: "Captures running on this replica, by transport.",
	}, []string{"transport"})
	m.reg.MustRegister(m.requests, m.requestLatency, m.captures, m.captureFailed, m.verdictLag, m.captureTime,
		m.admission, m.poolWait, m.poolRefused, m.inference, m.webhooks, m.storeErrors, m.inFlight,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Registry is the registry, for tests and extra collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// ObserveRequest records one HTTP request. route is the mux pattern ("" for
// unmatched paths, reported as "other" so paths never become labels).
func (m *Metrics) ObserveRequest(route, method string, status int, d time.Duration, streamed bool) {
	if m == nil {
		return
	}
	if route == "" {
		route = "other"
	}
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	if !streamed {
		m.requestLatency.WithLabelValues(route).Observe(d.Seconds())
	}
}

// CaptureStarted and CaptureEnded track captures in progress.
func (m *Metrics) CaptureStarted(transport string) {
	if m != nil {
		m.inFlight.WithLabelValues(transport).Inc()
	}
}

// CaptureEnded is CaptureStarted's pair.
func (m *Metrics) CaptureEnded(transport string) {
	if m != nil {
		m.inFlight.WithLabelValues(transport).Dec()
	}
}

// CaptureOutcome records one finished capture.
func (m *Metrics) CaptureOutcome(o livenessd.CaptureOutcome) {
	if m == nil {
		return
	}
	m.captures.WithLabelValues(o.Transport, string(o.Status)).Inc()
	if o.Status == livenessd.StatusFailed {
		m.captureFailed.WithLabelValues(o.Transport, FailingSignal(o)).Inc()
	}
	if o.VerdictLag > 0 {
		m.verdictLag.WithLabelValues(o.Transport).Observe(o.VerdictLag.Seconds())
	}
	if o.Duration > 0 {
		m.captureTime.WithLabelValues(o.Transport).Observe(o.Duration.Seconds())
	}
}

// CaptureRefused records a capture refused at the door.
func (m *Metrics) CaptureRefused() {
	if m != nil {
		m.admission.Inc()
	}
}

// PoolWait records a wait for a worker slot; refused when none came.
func (m *Metrics) PoolWait(d time.Duration, refused bool) {
	if m == nil {
		return
	}
	m.poolWait.Observe(d.Seconds())
	if refused {
		m.poolRefused.Inc()
	}
}

// ObserveRun records one model run (infer.RunObserver).
func (m *Metrics) ObserveRun(model string, d time.Duration) {
	if m != nil {
		m.inference.WithLabelValues(model).Observe(d.Seconds())
	}
}

// WebhookDelivery records one delivery attempt's outcome.
func (m *Metrics) WebhookDelivery(outcome string) {
	if m != nil {
		m.webhooks.WithLabelValues(outcome).Inc()
	}
}

// StoreError records a failed store call.
func (m *Metrics) StoreError(op string) {
	if m != nil {
		m.storeErrors.WithLabelValues(op).Inc()
	}
}

// signals names the analysis' failure reasons as label values; the set is
// closed so free-text abort reasons never become labels.
var signals = map[string]string{
	liveness.ReasonNoFace:        "no_face",
	liveness.ReasonMultipleFaces: "multiple_faces",
	liveness.ReasonLighting:      "lighting",
	liveness.ReasonBlurry:        "blur",
	liveness.ReasonPose:          "pose",
	liveness.ReasonIncomplete:    "incomplete",
	liveness.ReasonFaceChanged:   "face_changed",
	liveness.ReasonMovement:      "movement",
	liveness.ReasonLight:         "light_challenge",
	liveness.ReasonSpoof:         "spoof",
	session.InterruptedReason:    "interrupted",
}

// FailingSignal is the label of a failed capture: the analysis' failing
// check, "low_confidence" for a verdict below the threshold without one,
// "interrupted" for a capture cut by a crash, "aborted" for one that
// ended before its verdict.
func FailingSignal(o livenessd.CaptureOutcome) string {
	if s, ok := signals[o.Reason]; ok {
		return s
	}
	if o.Analysed {
		return "low_confidence"
	}
	return "aborted"
}
