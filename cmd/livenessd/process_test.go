package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	xdraw "golang.org/x/image/draw"

	"github.com/livenessd/livenessd/internal/imageio"
	"github.com/livenessd/livenessd/internal/session"
	"github.com/livenessd/livenessd/internal/simulate"
	"github.com/livenessd/livenessd/internal/testutil"
)

// These tests run the real livenessd binary as separate processes: what a
// crash (kill -9), a SIGTERM or a second replica does can only be seen
// from outside the process.

var (
	binOnce sync.Once
	binPath string
	binErr  error
	binDir  string
)

// livenessdBinary builds the command once per test binary.
func livenessdBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "livenessd-bin-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "livenessd")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v: %s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// proc is one `livenessd serve` process.
type proc struct {
	t      *testing.T
	cmd    *exec.Cmd
	base   string
	stderr *syncBuffer
	done   chan struct{}
	err    error
}

// startProc starts `livenessd serve` with args on a free port and waits
// until /readyz answers 200.
func startProc(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	testutil.Cache(t)
	setDataKey(t) // images sealed at rest, one key for every process of the test
	addr := freeAddr(t)
	cmd := exec.Command(livenessdBinary(t), append([]string{"serve", "--addr", addr, "--models", testutil.ModelDir(t),
		"--log-level", "info", "--workers", "2", "--threads", "1",
		// The simulated client shares a loaded machine and runs with -race:
		// a frame may take seconds to render.
		"--capture-read-timeout", "60s", "--capture-max-duration", "3m", "--capture-max-lag", "0"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	p := &proc{t: t, cmd: cmd, base: "http://" + addr, stderr: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stderr = p.stderr
	cmd.Stdout = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill()
			<-p.done
		}
	})
	deadline := time.Now().Add(90 * time.Second)
	for {
		res, err := http.Get(p.base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return p
			}
		}
		select {
		case <-p.done:
			t.Fatalf("livenessd exited before ready: %v\n%s", p.err, p.stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("livenessd not ready within 90 s:\n%s", p.stderr.String())
		}
	}
}

// wait waits for the process to exit and returns its exit code.
func (p *proc) wait(limit time.Duration) (int, time.Duration) {
	p.t.Helper()
	start := time.Now()
	select {
	case <-p.done:
	case <-time.After(limit):
		p.t.Fatalf("livenessd still running %v after the signal:\n%s", limit, p.stderr.String())
	}
	code := 0
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		code = ee.ExitCode()
	}
	return code, time.Since(start)
}

func (p *proc) signal(s os.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(s); err != nil {
		p.t.Fatal(err)
	}
}

// startCapture creates a session on api and opens its capture on stream
// (another replica or the same), sending a few real frames; the session
// is then IN_PROGRESS.
func startCapture(t *testing.T, api, stream, key string) (id string, ws *simulate.WSClient) {
	t.Helper()
	code, m := call(t, "POST", api+"/v1/liveness/session", key, `{"settings":{"auditImagesLimit":1}}`)
	if code != 200 {
		t.Fatalf("create: %d %v", code, m)
	}
	id = m["sessionId"].(string)
	jpg := captureFrame(t) // before the dial: the capture waits for frames
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ws, err := simulate.Dial(ctx, "ws"+strings.TrimPrefix(stream, "http")+"/v1/liveness/session/"+id+"/stream", m["clientToken"].(string), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := ws.Frame(ctx, time.Duration(i)*66*time.Millisecond, jpg); err != nil {
			t.Fatal(err)
		}
	}
	return id, ws
}

// resultStatus reads a session's status and reason.
func resultStatus(t *testing.T, base, key, id string) (string, string) {
	t.Helper()
	code, m := call(t, "GET", base+"/v1/liveness/session/"+id+"/results", key, "")
	if code != 200 {
		t.Fatalf("results: %d %v", code, m)
	}
	reason, _ := m["details"].(map[string]any)["reason"].(string)
	return m["status"].(string), reason
}

// waitStatus polls the results until the status is want (an event the
// server produces on its own: a lease running out).
func waitStatus(t *testing.T, base, key, id, want string, limit time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		st, reason := resultStatus(t, base, key, id)
		if st == want {
			return reason
		}
		if time.Now().After(deadline) {
			t.Fatalf("session %s still %s after %v, want %s", id, st, limit, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

const procKey = "process-test-key-0123456789"

// TestProcess_CrashMidCapture: kill -9 during a capture; after a restart
// on the same data directory the session is FAILED with a readable
// reason, not IN_PROGRESS until it expires.
func TestProcess_CrashMidCapture(t *testing.T) {
	data := t.TempDir()
	env := []string{"LIVENESS_API_KEYS=" + procKey}
	p := startProc(t, env, "--data", data)
	id, ws := startCapture(t, p.base, p.base, procKey)
	defer ws.Conn().CloseNow()
	if st, _ := resultStatus(t, p.base, procKey, id); st != "IN_PROGRESS" {
		t.Fatalf("during the capture: %s", st)
	}
	p.signal(syscall.SIGKILL)
	p.wait(10 * time.Second)

	p = startProc(t, env, "--data", data)
	st, reason := resultStatus(t, p.base, procKey, id)
	if st != "FAILED" || reason != session.InterruptedReason {
		t.Fatalf("after kill -9 and restart: %s %q, want FAILED %q", st, reason, session.InterruptedReason)
	}
	p.signal(syscall.SIGTERM)
	if code, _ := p.wait(30 * time.Second); code != 0 {
		t.Fatalf("exit code %d after SIGTERM:\n%s", code, p.stderr.String())
	}
}

// TestProcess_SIGTERM: on SIGTERM /readyz turns 503 at once while the
// server still answers, a long request in flight (a compare-faces of two
// large photos) is answered, a running capture is let finish, and the
// process exits 0 within --shutdown-timeout.
func TestProcess_SIGTERM(t *testing.T) {
	const timeout = 8 * time.Second
	p := startProc(t, []string{"LIVENESS_API_KEYS=" + procKey}, "--data", t.TempDir(),
		"--shutdown-timeout", timeout.String(), "--drain-delay", "2s")
	frame := captureFrame(t)
	id, ws := startCapture(t, p.base, p.base, procKey)
	defer ws.Conn().CloseNow()

	body := compareBody(t)
	type answer struct {
		code int
		m    map[string]any
	}
	inflight := make(chan answer, 1)
	started := make(chan struct{})
	go func() {
		close(started)
		code, m := callNoFatal(p.base+"/v1/liveness/compare-faces", procKey, body)
		inflight <- answer{code, m}
	}()
	<-started
	time.Sleep(200 * time.Millisecond) // let the request reach the server before the signal
	signalled := time.Now()
	p.signal(syscall.SIGTERM)

	// /readyz answers 503 while the listener is still open.
	deadline := time.Now().Add(1500 * time.Millisecond)
	for {
		res, err := http.Get(p.base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusServiceUnavailable {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz did not answer 503 during the drain delay (last: %v)", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// A new capture is refused while draining; the running one goes on.
	code, m := call(t, "POST", p.base+"/v1/liveness/session", procKey, "")
	if code == 200 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := simulate.Dial(ctx, "ws"+strings.TrimPrefix(p.base, "http")+"/v1/liveness/session/"+m["sessionId"].(string)+"/stream", m["clientToken"].(string), nil)
		cancel()
		if err == nil {
			t.Fatal("a new capture was accepted while draining")
		}
	}
	if err := ws.Frame(context.Background(), 300*time.Millisecond, frame); err != nil {
		t.Fatalf("the running capture was cut at once: %v", err)
	}

	a := <-inflight
	if a.code != 200 && (a.code != 503 || a.m["errorCode"] != float64(5001)) {
		t.Fatalf("in-flight compare-faces answered %d %v", a.code, a.m)
	}
	code, took := p.wait(timeout + 5*time.Second)
	total := time.Since(signalled)
	t.Logf("in-flight request: %d; exited %d after %v (timeout %v)", a.code, code, total.Round(time.Millisecond), timeout)
	if code != 0 || total > timeout+time.Second {
		t.Fatalf("exit %d after %v (waited %v), want 0 within %v:\n%s", code, total, took, timeout, p.stderr.String())
	}
	_ = id
}

// captureFrame is a sample photo scaled to 640 px wide, as a camera
// frame within the capture protocol's limits.
func captureFrame(t *testing.T) []byte {
	t.Helper()
	img, err := imageio.ReadFile(testutil.Sample(t, 1), imageio.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, 640, 640*b.Dy()/b.Dx()))
	xdraw.ApproxBiLinear.Scale(dst, dst.Bounds(), img, b, xdraw.Src, nil)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, dst, &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// compareBody is a compare-faces request of two sample photos.
func compareBody(t *testing.T) string {
	t.Helper()
	a := base64.StdEncoding.EncodeToString(mustRead(t, testutil.Sample(t, 1)))
	b := base64.StdEncoding.EncodeToString(mustRead(t, testutil.Sample(t, 2)))
	return `{"sourceImage":"` + a + `","targetImage":"` + b + `"}`
}

// callNoFatal is call for goroutines: errors come back as code 0.
func callNoFatal(url, key, body string) (int, map[string]any) {
	req, err := http.NewRequest("POST", url, strings.NewReader(body))
	if err != nil {
		return 0, map[string]any{"err": err.Error()}
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, map[string]any{"err": err.Error()}
	}
	defer res.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(res.Body).Decode(&m)
	return res.StatusCode, m
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestProcess_AdmissionAtTheDoor: a server with one worker admits one
// capture at a time (the measured frame cost times 15 fps fills it); a
// second is refused before its challenge with 503 5001 and Retry-After,
// its session untouched, and is admitted once the first ended.
func TestProcess_AdmissionAtTheDoor(t *testing.T) {
	p := startProc(t, []string{"LIVENESS_API_KEYS=" + procKey}, "--data", t.TempDir(), "--workers", "1")
	_, first := startCapture(t, p.base, p.base, procKey)
	code, m := call(t, "POST", p.base+"/v1/liveness/session", procKey, "")
	if code != 200 {
		t.Fatalf("create: %d %v", code, m)
	}
	id, token := m["sessionId"].(string), m["clientToken"].(string)
	req, _ := http.NewRequest("GET", p.base+"/v1/liveness/session/"+id+"/stream?token="+token, nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Sec-WebSocket-Version", "13")
	req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	req.Header.Set("Sec-WebSocket-Protocol", "livenessd.v1")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	_ = json.NewDecoder(res.Body).Decode(&body)
	res.Body.Close()
	if res.StatusCode != 503 || body["errorCode"] != float64(5001) || res.Header.Get("Retry-After") == "" {
		t.Fatalf("second capture: %d %v (Retry-After %q), want 503 5001 with Retry-After", res.StatusCode, body, res.Header.Get("Retry-After"))
	}
	if st, _ := resultStatus(t, p.base, procKey, id); st != "CREATED" {
		t.Fatalf("the refused capture's session is %s, want CREATED (nothing used up)", st)
	}
	first.Conn().CloseNow()
	// The first capture ends (its session FAILED: connection lost); then
	// the refused session is admitted.
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		ws, err := simulate.Dial(ctx, "ws"+strings.TrimPrefix(p.base, "http")+"/v1/liveness/session/"+id+"/stream", token, nil)
		cancel()
		if err == nil {
			ws.Conn().CloseNow()
			break
		}
		if !strings.Contains(err.Error(), "503") || time.Now().After(deadline) {
			t.Fatalf("after the first capture ended: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	res, err = http.Get(p.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	exposition, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !regexp.MustCompile(`(?m)^livenessd_capture_refusals_total [1-9]`).Match(exposition) {
		t.Fatalf("/metrics does not count the refusal:\n%s", grepLines(string(exposition), "refusals"))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
