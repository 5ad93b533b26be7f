package metrics_test

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/liveness"
	"github.com/livenessd/livenessd/internal/metrics"
	"github.com/livenessd/livenessd/internal/session"
)

func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

func TestMetrics_Exposition(t *testing.T) {
	m := metrics.New()
	m.ObserveRequest("POST /v1/liveness/session", "POST", 200, 12*time.Millisecond, false)
	m.ObserveRequest("", "GET", 404, time.Millisecond, false)
	m.ObserveRequest("GET /v1/liveness/session/{sessionId}/stream", "GET", 101, 9*time.Second, true)
	m.CaptureOutcome(livenessd.CaptureOutcome{Transport: "sdk", Status: livenessd.StatusSucceeded, Analysed: true, VerdictLag: 300 * time.Millisecond, Duration: 6 * time.Second})
	m.CaptureOutcome(livenessd.CaptureOutcome{Transport: "amplify", Status: livenessd.StatusFailed, Analysed: true, Reason: liveness.ReasonLight})
	m.CaptureOutcome(livenessd.CaptureOutcome{Transport: "sdk", Status: livenessd.StatusFailed, Reason: "frame: image could not be decoded"})
	m.CaptureOutcome(livenessd.CaptureOutcome{Transport: "sdk", Status: livenessd.StatusFailed, Reason: session.InterruptedReason})
	m.CaptureRefused()
	m.PoolWait(50*time.Millisecond, true)
	m.ObserveRun("fr_detect", 4*time.Millisecond)
	m.WebhookDelivery("delivered")
	m.StoreError("get")
	out := scrape(t, m)
	for _, want := range []string{
		`livenessd_http_requests_total{code="200",method="POST",route="POST /v1/liveness/session"} 1`,
		`livenessd_http_requests_total{code="404",method="GET",route="other"} 1`,
		`livenessd_http_request_duration_seconds_count{route="POST /v1/liveness/session"} 1`,
		`livenessd_captures_total{status="SUCCEEDED",transport="sdk"} 1`,
		`livenessd_capture_failures_total{signal="light_challenge",transport="amplify"} 1`,
		`livenessd_capture_failures_total{signal="aborted",transport="sdk"} 1`,
		`livenessd_capture_failures_total{signal="interrupted",transport="sdk"} 1`,
		`livenessd_capture_verdict_lag_seconds_bucket{transport="sdk",le="0.5"} 1`,
		`livenessd_capture_refusals_total 1`,
		`livenessd_workpool_refusals_total 1`,
		`livenessd_inference_duration_seconds_count{model="fr_detect"} 1`,
		`livenessd_webhook_deliveries_total{outcome="delivered"} 1`,
		`livenessd_store_errors_total{op="get"} 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(out, want+"\n") && !strings.Contains(out, want+" ") && !strings.Contains(out, want) {
			t.Errorf("exposition lacks %s", want)
		}
	}
	// A streamed (WebSocket) request is counted, but its duration is no latency.
	if strings.Contains(out, `livenessd_http_request_duration_seconds_count{route="GET /v1/liveness/session/{sessionId}/stream"}`) {
		t.Error("a WebSocket capture's duration was recorded as a request latency")
	}
}

func TestMetrics_NilIgnoresCalls(t *testing.T) {
	var m *metrics.Metrics
	m.ObserveRequest("x", "GET", 200, time.Second, false)
	m.CaptureOutcome(livenessd.CaptureOutcome{})
	m.PoolWait(time.Second, true)
	m.ObserveRun("x", time.Second)
}
