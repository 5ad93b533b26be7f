package main

import (
	"context"
	"encoding/json"
	"image"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/livenessd/livenessd/internal/session"
	"github.com/livenessd/livenessd/internal/simulate"
	"github.com/livenessd/livenessd/internal/testutil"
	"github.com/livenessd/livenessd/internal/testutil/facetest"
	"github.com/livenessd/livenessd/internal/testutil/redistest"
	"github.com/livenessd/livenessd/internal/webhook"

	_ "image/jpeg"
)

// replicas starts n livenessd processes on one real Redis.
func replicas(t *testing.T, n int, args ...string) (*redistest.Server, []*proc) {
	t.Helper()
	srv := redistest.Start(t)
	env := []string{"LIVENESS_API_KEYS=" + procKey}
	var ps []*proc
	for range n {
		ps = append(ps, startProc(t, env, append([]string{"--data", t.TempDir(), "--store", srv.URL()}, args...)...))
	}
	return srv, ps
}

// TestReplicas_CreateCaptureVerify: a session created on replica A is
// captured on replica B (a full simulated live capture over the
// WebSocket), and its results and verification are read on A.
func TestReplicas_CreateCaptureVerify(t *testing.T) {
	const secret = "replica-test-webhook-secret"
	hooks := make(chan webhookCall, 4)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		err := webhook.Verify([]byte(secret), r.Header.Get(webhook.HeaderTimestamp), r.Header.Get(webhook.HeaderSignature), body, time.Now(), time.Minute)
		hooks <- webhookCall{body, err}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer recv.Close()
	_, ps := replicas(t, 2, "--webhook-hosts", "127.0.0.1:*", "--webhook-allow-http", "--webhook-secret", secret)
	a, b := ps[0], ps[1]
	code, m := call(t, "POST", a.base+"/v1/liveness/session", procKey, `{"settings":{"auditImagesLimit":1},"callbackUrl":"`+recv.URL+`/liveness"}`)
	if code != 200 {
		t.Fatalf("create on A: %d %v", code, m)
	}
	id, m0token := m["sessionId"].(string), m["clientToken"].(string)
	if st, _ := resultStatus(t, b.base, procKey, id); st != "CREATED" {
		t.Fatalf("B reads %s", st)
	}

	pipe := facetest.Pipeline(t)
	f, err := os.Open(testutil.Sample(t, 1))
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := image.Decode(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	src, err := simulate.DetectSource(t.Context(), pipe, img)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	ws, err := simulate.Dial(ctx, "ws"+strings.TrimPrefix(b.base, "http")+"/v1/liveness/session/"+id+"/stream", m0token, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	pl, err := simulate.NewPlayer(src, simulate.ChallengeOf(ws.Challenge), simulate.Options{Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if err := simulate.Play(ctx, pl, ws, simulate.PlayOptions{Realtime: true}); err != nil {
		t.Fatalf("play on B: %v\nB's log:\n%s", err, b.stderr.String())
	}
	status, err := ws.Wait(ctx)
	if err != nil {
		t.Fatalf("capture on B: %v", err)
	}
	st, reason := resultStatus(t, a.base, procKey, id)
	t.Logf("capture on B: %s; results on A: %s %q", status, st, reason)
	if st != status || (st != "SUCCEEDED" && st != "FAILED") {
		t.Fatalf("A reads %s, B's client got %s", st, status)
	}
	code, m = call(t, "POST", a.base+"/v1/liveness/verify/"+id, procKey, "")
	switch {
	case st == "SUCCEEDED" && code != 200:
		t.Fatalf("verify on A of a SUCCEEDED session: %d %v", code, m)
	case st == "FAILED" && (code != 422 || m["errorCode"] != float64(1009)):
		t.Fatalf("verify on A of a FAILED session: %d %v", code, m)
	}

	// Neither replica logged the API key, the capture token or image data,
	// and B logged one outcome line for the capture.
	token := m0token
	for name, p := range map[string]*proc{"A": a, "B": b} {
		logs := p.stderr.String()
		for what, secret := range map[string]string{"API key": procKey, "client token": token, "JPEG (base64)": "/9j/", "webhook secret": secret} {
			if strings.Contains(logs, secret) {
				t.Errorf("replica %s logged the %s", name, what)
			}
		}
	}
	if n := strings.Count(b.stderr.String(), `msg="capture outcome" transport=sdk session=`+id); n != 1 {
		t.Errorf("B logged %d outcome lines for the capture, want 1", n)
	}

	// B, which ran the capture, posted the signed results without images.
	select {
	case h := <-hooks:
		var got struct {
			SessionID, Status, ReferenceImage string
			AuditImages                       []string
		}
		if h.err != nil || json.Unmarshal(h.body, &got) != nil {
			t.Fatalf("webhook: %v %q", h.err, h.body)
		}
		if got.SessionID != id || got.Status != st || got.ReferenceImage != "" || len(got.AuditImages) != 0 {
			t.Fatalf("webhook body %+v", got)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no webhook within 30 s of the verdict")
	}
}

type webhookCall struct {
	body []byte
	err  error
}

// TestReplicas_OneCaptureWins: two captures of one session opened at once
// on two replicas: exactly one gets the challenge, the other is told the
// session is used.
func TestReplicas_OneCaptureWins(t *testing.T) {
	_, ps := replicas(t, 2)
	for round := range 3 {
		code, m := call(t, "POST", ps[0].base+"/v1/liveness/session", procKey, "")
		if code != 200 {
			t.Fatalf("create: %d %v", code, m)
		}
		id, token := m["sessionId"].(string), m["clientToken"].(string)
		var wg sync.WaitGroup
		results := make([]error, 2)
		clients := make([]*simulate.WSClient, 2)
		start := make(chan struct{})
		for i, p := range ps {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				clients[i], results[i] = simulate.Dial(ctx, "ws"+strings.TrimPrefix(p.base, "http")+"/v1/liveness/session/"+id+"/stream", token, nil)
			}()
		}
		close(start)
		wg.Wait()
		wins := 0
		for i, err := range results {
			if err == nil {
				wins++
				clients[i].Conn().CloseNow()
			} else if !strings.Contains(err.Error(), "already used") && !strings.Contains(err.Error(), "4409") {
				t.Fatalf("round %d: loser's error %v, want session already used", round, err)
			}
		}
		if wins != 1 {
			t.Fatalf("round %d: %d captures won, want exactly 1 (%v)", round, wins, results)
		}
	}
}

// TestReplicas_CrashedReplicaLease: replica A is killed (-9) mid-capture;
// replica B marks the capture FAILED once A's lease ran out.
func TestReplicas_CrashedReplicaLease(t *testing.T) {
	_, ps := replicas(t, 2, "--capture-lease", "2s")
	a, b := ps[0], ps[1]
	id, ws := startCapture(t, b.base, a.base, procKey)
	defer ws.Conn().CloseNow()
	if st, _ := resultStatus(t, b.base, procKey, id); st != "IN_PROGRESS" {
		t.Fatalf("during the capture: %s", st)
	}
	a.signal(syscall.SIGKILL)
	a.wait(10 * time.Second)
	if reason := waitStatus(t, b.base, procKey, id, "FAILED", 20*time.Second); reason != session.InterruptedReason {
		t.Fatalf("reason %q, want %q", reason, session.InterruptedReason)
	}
}

// TestReplicas_RedisOutage: with Redis stopped the API answers 503 / 5001
// (never 500) and /readyz 503; once Redis is back the same process serves
// again.
func TestReplicas_RedisOutage(t *testing.T) {
	srv, ps := replicas(t, 1)
	p := ps[0]
	srv.Stop()
	for _, path := range []string{"/v1/liveness/session", "/v1/liveness/session/2450bd2e-220b-42c8-90f1-14293292ac79/results"} {
		method := "POST"
		if strings.HasSuffix(path, "/results") {
			method = "GET"
		}
		code, m := call(t, method, p.base+path, procKey, "")
		if code != 503 || m["errorCode"] != float64(5001) {
			t.Fatalf("%s %s with Redis down: %d %v", method, path, code, m)
		}
	}
	if code, _ := call(t, "GET", p.base+"/readyz", "", ""); code != 503 {
		t.Fatalf("/readyz with Redis down: %d", code)
	}
	srv.Start()
	code, m := call(t, "POST", p.base+"/v1/liveness/session", procKey, "")
	if code != 200 {
		t.Fatalf("create after Redis came back: %d %v", code, m)
	}
	if st, _ := resultStatus(t, p.base, procKey, m["sessionId"].(string)); st != "CREATED" {
		t.Fatalf("after recovery: %s", st)
	}
}

// TestReplicas_SharedRateLimit: a tenant's rate budget is one budget for
// both replicas (kept in Redis), not one per replica.
func TestReplicas_SharedRateLimit(t *testing.T) {
	_, ps := replicas(t, 2, "--rate-limit", "0.2", "--rate-burst", "3")
	allowed, limited := 0, 0
	for i := range 8 {
		code, m := call(t, "POST", ps[i%2].base+"/v1/liveness/session", procKey, "")
		switch {
		case code == 200:
			allowed++
		case code == 429 && m["errorCode"] == float64(1005):
			limited++
		default:
			t.Fatalf("request %d: %d %v", i, code, m)
		}
	}
	if allowed != 3 || limited != 5 {
		t.Fatalf("%d allowed, %d limited across two replicas; want the one shared burst of 3", allowed, limited)
	}
}
