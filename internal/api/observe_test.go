package api_test

import (
	"bytes"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livenessd/livenessd/internal/api"
	"github.com/livenessd/livenessd/internal/logging"
)

type observed struct {
	route, method string
	status        int
}

type requestLog struct {
	mu   sync.Mutex
	seen []observed
}

func (l *requestLog) ObserveRequest(route, method string, status int, _ time.Duration, _ bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seen = append(l.seen, observed{route, method, status})
}

// TestRequestIDAndObserver: every response carries X-Request-Id (the
// client's when well-formed, a new one otherwise), log lines of the
// request name it, and the observer sees the route pattern, never the
// path with its ids.
func TestRequestIDAndObserver(t *testing.T) {
	var logs syncWriter
	log, err := logging.New("json", "debug", &logs)
	if err != nil {
		t.Fatal(err)
	}
	obs := &requestLog{}
	ts := newServer(t, serverOpts{noFaces: true, mod: func(c *api.Config) { c.Requests = obs; c.Logger = log }})

	req, _ := http.NewRequest("GET", ts.URL+"/v1/liveness/session/2450bd2e-220b-42c8-90f1-14293292ac79/results", nil)
	req.Header.Set("Authorization", "Bearer "+keyA)
	req.Header.Set("X-Request-Id", "client-id.42")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if got := res.Header.Get("X-Request-Id"); got != "client-id.42" {
		t.Fatalf("X-Request-Id %q, want the client's", got)
	}
	req.Header.Set("X-Request-Id", "bad id forged=1")
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if got := res.Header.Get("X-Request-Id"); !logging.ValidRequestID(got) || strings.Contains(got, "forged") {
		t.Fatalf("X-Request-Id %q for a malformed client id", got)
	}
	if !strings.Contains(logs.String(), `"request_id":"client-id.42"`) {
		t.Fatalf("log lacks the request id:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), keyA) {
		t.Fatal("the API key was logged")
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	want := observed{"GET /v1/liveness/session/{sessionId}/results", "GET", 404}
	if len(obs.seen) != 2 || obs.seen[0] != want {
		t.Fatalf("observed %+v, want twice %+v", obs.seen, want)
	}
}

type syncWriter struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncWriter) String() string { w.mu.Lock(); defer w.mu.Unlock(); return w.b.String() }
