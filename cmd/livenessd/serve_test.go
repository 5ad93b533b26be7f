package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livenessd/livenessd/internal/imageio"
	"github.com/livenessd/livenessd/internal/liveness"
	"github.com/livenessd/livenessd/internal/simulate"
	"github.com/livenessd/livenessd/internal/store/sealed"
	"github.com/livenessd/livenessd/internal/store/storetest"
	"github.com/livenessd/livenessd/internal/testutil"
	"github.com/livenessd/livenessd/internal/testutil/facetest"
)

// syncBuffer is a bytes.Buffer safe for a writer goroutine and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// setDataKey gives serve a fresh data key (production refuses to start
// without one), unless the test set LIVENESS_DATA_KEYS itself.
func setDataKey(t *testing.T) {
	t.Helper()
	if os.Getenv("LIVENESS_DATA_KEYS") != "" {
		return
	}
	k, err := sealed.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("LIVENESS_DATA_KEYS", k)
}

// startServe runs `livenessd serve args...` until the returned stop is
// called; stop returns the exit code.
func startServe(t *testing.T, args ...string) (base string, stdout, stderr *syncBuffer, stop func() int) {
	t.Helper()
	setDataKey(t)
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	stdout, stderr = &syncBuffer{}, &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--addr", addr, "--models", testutil.ModelDir(t), "--log-level", "warn", "--drain-delay", "0s"}, args...), stdout, stderr)
	}()
	base = "http://" + addr
	deadline := time.Now().Add(60 * time.Second)
	for {
		res, err := http.Get(base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				break
			}
		}
		select {
		case code := <-done:
			cancel()
			t.Fatalf("serve exited with %d before ready: %s", code, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("serve not ready within 60 s: %s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	var once sync.Once
	code := -1
	stop = func() int {
		once.Do(func() {
			cancel()
			select {
			case code = <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("serve did not shut down within 30 s")
			}
		})
		return code
	}
	t.Cleanup(func() { stop() })
	return base, stdout, stderr, stop
}

func call(t *testing.T, method, url, key, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s %s: %d %q", method, url, res.StatusCode, b)
	}
	return res.StatusCode, m
}

// TestServe_KeysRestartShutdown: a key made by `keys create` authenticates,
// sessions survive a restart on the same data directory, and SIGINT-style
// cancellation shuts down cleanly (exit 0).
func TestServe_KeysRestartShutdown(t *testing.T) {
	testutil.Cache(t)
	t.Setenv("LIVENESS_API_KEYS", "")
	data := t.TempDir()
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"keys", "create", "--name", "ci", "--data", data}, &out, &errOut); code != 0 {
		t.Fatalf("keys create: %d %s", code, errOut.String())
	}
	key := strings.TrimSpace(out.String())
	if !strings.HasPrefix(key, "lvd_") || strings.Contains(errOut.String(), key) {
		t.Fatalf("keys create printed %q / %q", key, errOut.String())
	}
	db, err := os.ReadFile(filepath.Join(data, "livenessd.db"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(db, []byte(key)) {
		t.Fatal("the key itself is stored in the database")
	}
	out.Reset()
	if code := run(context.Background(), []string{"keys", "list", "--data", data}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "\tci\n") || strings.Contains(out.String(), key) {
		t.Fatalf("keys list: %d %q", code, out.String())
	}

	base, _, _, stop := startServe(t, "--data", data)
	code, m := call(t, "POST", base+"/v1/liveness/session", key, `{"settings":{"auditImagesLimit":1}}`)
	if code != 200 {
		t.Fatalf("create: %d %v", code, m)
	}
	id := m["sessionId"].(string)
	if code, _ := call(t, "POST", base+"/v1/liveness/session", "lvd_wrong", ""); code != 401 {
		t.Fatalf("wrong key: %d", code)
	}
	if code := stop(); code != 0 {
		t.Fatalf("shutdown exit code %d", code)
	}

	base, _, _, stop = startServe(t, "--data", data)
	code, m = call(t, "GET", base+"/v1/liveness/session/"+id+"/results", key, "")
	if code != 200 || m["status"] != "CREATED" {
		t.Fatalf("after restart: %d %v", code, m)
	}
	if code := stop(); code != 0 {
		t.Fatalf("shutdown exit code %d", code)
	}
}

func TestServe_DevKey(t *testing.T) {
	testutil.Cache(t)
	t.Setenv("LIVENESS_API_KEYS", "")
	base, stdout, _, _ := startServe(t, "--dev", "--data", t.TempDir())
	key := regexp.MustCompile(`lvd_[A-Za-z0-9_-]{43}`).FindString(stdout.String())
	if key == "" || !strings.Contains(stdout.String(), "curl") {
		t.Fatalf("no dev key with a curl example in %q", stdout.String())
	}
	if code, m := call(t, "POST", base+"/v1/liveness/session", key, ""); code != 200 {
		t.Fatalf("dev key: %d %v", code, m)
	}
}

func TestServe_StartupErrors(t *testing.T) {
	t.Setenv("LIVENESS_API_KEYS", "")
	setDataKey(t)
	noKeys := []string{"--models", testutil.ModelDir(t), "--data", t.TempDir(), "--addr", "127.0.0.1:0"}
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		code int
		want string
	}{
		{"BadModels", []string{"--models", t.TempDir()}, nil, 1, "make models"},
		{"NoKeys", []string{"--models", testutil.ModelDir(t), "--data", t.TempDir(), "--addr", "127.0.0.1:0"}, nil, 1, "LIVENESS_API_KEYS"},
		{"BadEnvDuration", nil, map[string]string{"LIVENESS_SESSION_TTL": "ten minutes"}, 2, "LIVENESS_SESSION_TTL"},
		{"BadThreshold", []string{"--similarity-threshold", "120"}, nil, 2, "thresholds"},
		{"BadShadingThreshold", nil, map[string]string{"LIVENESS_SHADING_THRESHOLD": "5"}, 2, "--liveness-shading-threshold"},
		{"ShortKey", []string{"--models", testutil.ModelDir(t), "--data", t.TempDir(), "--api-keys", "short"}, nil, 2, "too short"},
		// Production refuses to store biometric data in the clear.
		{"NoDataKey", noKeys, map[string]string{"LIVENESS_DATA_KEYS": ""}, 2, "LIVENESS_DATA_KEYS is not set"},
		{"BadDataKey", noKeys, map[string]string{"LIVENESS_DATA_KEYS": "c2hvcnQ="}, 2, "not 32 bytes"},
		// --allow-plaintext passes that check (and then stops for lack of API keys).
		{"AllowPlaintext", append(noKeys, "--allow-plaintext"), map[string]string{"LIVENESS_DATA_KEYS": ""}, 1, "LIVENESS_API_KEYS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			var out, errOut bytes.Buffer
			code := run(context.Background(), append([]string{"serve"}, tc.args...), &out, &errOut)
			if code != tc.code || !strings.Contains(errOut.String(), tc.want) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", code, errOut.String(), tc.code, tc.want)
			}
			if tc.name == "BadModels" && strings.Count(strings.TrimSpace(errOut.String()), "\n") != 0 {
				t.Fatalf("model error is not one line: %q", errOut.String())
			}
		})
	}
}

// TestServe_ReadmeListsEveryFlag: the README's Configuration table names
// every serve flag and its environment variable.
func TestServe_ReadmeListsEveryFlag(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(testutil.RepoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var usage bytes.Buffer
	if _, err := parseServeFlags([]string{"-h"}, &usage); err == nil {
		t.Fatal("-h did not stop parsing")
	}
	flags := regexp.MustCompile(`(?m)^\s+-([a-z-]+)\b.*\n(?:\s+.*\n)*?.*\(env (LIVENESS_[A-Z_]+)\)`).FindAllStringSubmatch(usage.String(), -1)
	if len(flags) < 15 {
		t.Fatalf("found only %d flags in usage:\n%s", len(flags), usage.String())
	}
	for _, f := range flags {
		if !bytes.Contains(readme, []byte("`--"+f[1]+"`")) || !bytes.Contains(readme, []byte("`"+f[2]+"`")) {
			t.Errorf("README Configuration lacks --%s / %s", f[1], f[2])
		}
	}
}

// TestServe_ShutdownAbortsCapture: a capture in progress when the server
// shuts down ends FAILED, so no session stays IN_PROGRESS across a restart.
func TestServe_ShutdownAbortsCapture(t *testing.T) {
	testutil.Cache(t)
	const key = "serve-test-key-0123456789"
	t.Setenv("LIVENESS_API_KEYS", key)
	data := t.TempDir()
	base, _, stderr, stop := startServe(t, "--data", data)
	code, m := call(t, "POST", base+"/v1/liveness/session", key, "")
	if code != 200 {
		t.Fatalf("create: %d %v", code, m)
	}
	id, token := m["sessionId"].(string), m["clientToken"].(string)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ws, err := simulate.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/v1/liveness/session/"+id+"/stream", token, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Conn().CloseNow()
	if code, m := call(t, "GET", base+"/v1/liveness/session/"+id+"/results", key, ""); code != 200 || m["status"] != "IN_PROGRESS" {
		t.Fatalf("during capture: %d %v", code, m)
	}
	if code := stop(); code != 0 {
		t.Fatalf("shutdown exit code %d: %s", code, stderr.String())
	}

	base, _, _, stop = startServe(t, "--data", data)
	defer stop()
	code, m = call(t, "GET", base+"/v1/liveness/session/"+id+"/results", key, "")
	if code != 200 || m["status"] != "FAILED" {
		t.Fatalf("after shutdown during a capture: %d %v", code, m)
	}
}

// TestServe_KeyRotation: on a running server, a second key of the same
// tenant (`keys create --tenant`) reads the first key's sessions; `keys
// revoke` stops the first key within seconds while the second keeps
// working; `keys list` shows creation, last use and the revocation.
func TestServe_KeyRotation(t *testing.T) {
	testutil.Cache(t)
	t.Setenv("LIVENESS_API_KEYS", "")
	data := t.TempDir()
	keys := func(args ...string) (string, string) {
		t.Helper()
		var out, errOut bytes.Buffer
		if code := run(context.Background(), append([]string{"keys"}, append(args, "--data", data)...), &out, &errOut); code != 0 {
			t.Fatalf("keys %v: %d %s", args, code, errOut.String())
		}
		return strings.TrimSpace(out.String()), errOut.String()
	}
	oldKey, msg := keys("create", "--name", "old")
	oldID := regexp.MustCompile(`API key (\w+) `).FindStringSubmatch(msg)[1]
	tenant := regexp.MustCompile(`tenant (t_[0-9a-f]+)`).FindStringSubmatch(msg)[1]

	base, _, _, _ := startServe(t, "--data", data)
	code, m := call(t, "POST", base+"/v1/liveness/session", oldKey, "")
	if code != 200 {
		t.Fatalf("create with the old key: %d %v", code, m)
	}
	id := m["sessionId"].(string)

	newKey, _ := keys("create", "--name", "new", "--tenant", tenant)
	// waitFor polls until ok or 20 s: the server re-reads keys every 5 s.
	// Slowly: each refused key counts against this address's failures.
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 20 s", what)
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
	waitFor("new key accepted", func() bool {
		code, _ := call(t, "GET", base+"/v1/liveness/session/"+id+"/results", newKey, "")
		return code == 200
	})

	keys("revoke", oldID)
	start := time.Now()
	waitFor("old key refused", func() bool {
		code, _ := call(t, "POST", base+"/v1/liveness/session", oldKey, "")
		return code == 401
	})
	t.Logf("revocation took effect after %v", time.Since(start).Round(100*time.Millisecond))
	if code, m := call(t, "GET", base+"/v1/liveness/session/"+id+"/results", newKey, ""); code != 200 {
		t.Fatalf("new key after the revocation: %d %v", code, m)
	}
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"keys", "create", "--tenant", "t_000000000000000000000000", "--data", data}, &out, &errOut); code == 0 {
		t.Fatal("a key for a tenant without keys was created")
	}
	if code := run(context.Background(), []string{"keys", "revoke", "nosuchkeyid", "--data", data}, &out, &errOut); code == 0 {
		t.Fatal("revoking an unknown key id succeeded")
	}

	// Last use is recorded at the server's next key reload.
	waitFor("last use listed", func() bool {
		list, _ := keys("list")
		for _, line := range strings.Split(list, "\n") {
			f := strings.Split(line, "\t")
			if len(f) == 6 && f[5] == "new" && f[3] != "never" && f[1] == tenant {
				return true
			}
		}
		return false
	})
	list, _ := keys("list")
	if !regexp.MustCompile(oldID + `\t` + tenant + `\t\S+\t\S+\trevoked \S+\told`).MatchString(list) {
		t.Fatalf("keys list does not show the revoked key:\n%s", list)
	}
	if strings.Contains(list, oldKey) || strings.Contains(list, newKey) {
		t.Fatal("keys list shows a key")
	}
}

// TestServe_EncryptedAtRest: a real capture (simulated camera, real face
// pipeline) on a server with LIVENESS_DATA_KEYS leaves a reference image
// that the results endpoint returns while the database file and its WAL
// hold no JPEG data at all; a restart with the key rotated (a new key in
// front) still reads it.
func TestServe_EncryptedAtRest(t *testing.T) {
	testutil.Cache(t)
	const key = "serve-test-key-0123456789"
	t.Setenv("LIVENESS_API_KEYS", key)
	oldKey, err := sealed.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("LIVENESS_DATA_KEYS", oldKey)
	data := t.TempDir()
	// Under -race the analysis runs far slower than real time.
	// The lag check off: under -race the simulator renders slower than
	// real time, which the check rightly refuses.
	base, _, _, stop := startServe(t, "--data", data, "--capture-max-duration", "5m", "--capture-max-lag", "0", "--capture-read-timeout", "60s")
	code, m := call(t, "POST", base+"/v1/liveness/session", key, `{"settings":{"auditImagesLimit":2}}`)
	if code != 200 {
		t.Fatalf("create: %d %v", code, m)
	}
	id, token := m["sessionId"].(string), m["clientToken"].(string)

	p := facetest.Pipeline(t)
	img, err := imageio.ReadFile(testutil.Sample(t, 1), imageio.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	src, err := simulate.DetectSource(t.Context(), p, img)
	if err != nil {
		t.Fatal(err)
	}
	ws, err := simulate.Dial(t.Context(), "ws"+strings.TrimPrefix(base, "http")+"/v1/liveness/session/"+id+"/stream", token, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	pl, err := simulate.NewPlayer(src, simulate.ChallengeOf(ws.Challenge), simulate.Options{Strength: 0.08, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	// In real time: the server's default message rate applies.
	if err := simulate.Play(t.Context(), pl, ws, simulate.PlayOptions{Realtime: true}); err != nil {
		t.Fatalf("play: %v (server closed with %d)", err, ws.CloseStatus())
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	status, err := ws.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	readRef := func() []byte {
		t.Helper()
		code, m := call(t, "GET", base+"/v1/liveness/session/"+id+"/results", key, "")
		ref, _ := m["referenceImage"].(string)
		b, err := base64.StdEncoding.DecodeString(ref)
		if code != 200 || err != nil || !bytes.HasPrefix(b, []byte{0xFF, 0xD8, 0xFF}) {
			t.Fatalf("results (capture %s): %d, reference image %d bytes, %v", status, code, len(b), err)
		}
		return b
	}
	ref := readRef()
	var atRest []byte
	for _, f := range []string{"livenessd.db", "livenessd.db-wal"} {
		b, err := os.ReadFile(filepath.Join(data, f))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		atRest = append(atRest, b...)
	}
	if found := storetest.FindImageBytes(atRest, ref); found != "" {
		t.Fatalf("the database holds image data in the clear: %s", found)
	}
	if code := stop(); code != 0 {
		t.Fatalf("shutdown: %d", code)
	}

	newKey, err := sealed.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("LIVENESS_DATA_KEYS", newKey+","+oldKey)
	base, _, _, _ = startServe(t, "--data", data)
	if got := readRef(); !bytes.Equal(got, ref) {
		t.Fatal("after rotation the reference image changed")
	}
}

// TestServeConfig_Liveness checks that the shading and parallax thresholds
// reach the analysis and leave every other threshold at its default.
func TestServeConfig_Liveness(t *testing.T) {
	c := serveConfig{LivenessThreshold: 95, ShadingThreshold: 0.45, ParallaxThreshold: 0.02}
	got := c.livenessConfig()
	want := liveness.DefaultThresholds()
	want.Shading, want.Parallax = 0.45, 0.02
	if got.Threshold != 95 || got.Thresholds == nil || *got.Thresholds != want {
		t.Fatalf("livenessConfig() = %+v (thresholds %+v), want threshold 95 and %+v", got, got.Thresholds, want)
	}
}
