package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/livenessd/livenessd/internal/amplify"
	"github.com/livenessd/livenessd/internal/amplify/eventstream"
	"github.com/livenessd/livenessd/internal/testutil"
	"github.com/livenessd/livenessd/internal/tlsutil"
)

// TestServe_AmplifyOverTLS runs `livenessd serve --dev --tls-self-signed`
// and does what the Amplify component does first: fetch the model and a
// WASM binary, open the wss:// stream with the session's clientToken and
// receive its challenge; the app backend then reads the AWS-shaped
// results.
func TestServe_AmplifyOverTLS(t *testing.T) {
	testutil.Cache(t)
	t.Setenv("LIVENESS_API_KEYS", "")
	setDataKey(t)
	data := t.TempDir()
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", addr, "--models", testutil.ModelDir(t), "--log-level", "warn",
			"--dev", "--data", data, "--tls-self-signed"}, stdout, stderr)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop")
		}
	})

	// The certificate exists once serve listens; trust it like a browser
	// told to.
	pool := x509.NewCertPool()
	certPath := filepath.Join(data, tlsutil.SelfSignedCert)
	client := &http.Client{Timeout: 10 * time.Second}
	deadline := time.Now().Add(60 * time.Second)
	base := "https://localhost:" + addr[strings.LastIndexByte(addr, ':')+1:]
	for {
		if pem, err := os.ReadFile(certPath); err == nil && pool.AppendCertsFromPEM(pem) {
			client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
			if res, err := client.Get(base + "/readyz"); err == nil {
				res.Body.Close()
				if res.StatusCode == 200 {
					break
				}
			}
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited with %d: %s", code, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve not ready over TLS within 60 s: %s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if res, err := http.Get("http://" + addr + "/readyz"); err == nil {
		res.Body.Close()
		if res.StatusCode == 200 {
			t.Error("plain HTTP still served on the TLS listener")
		}
	}
	key := regexp.MustCompile(`lvd_[A-Za-z0-9_-]{43}`).FindString(stdout.String())
	if !strings.Contains(stdout.String(), "https://") {
		t.Errorf("startup text does not advertise https: %q", stdout.String())
	}

	for _, p := range []string{amplify.ModelURLPath, amplify.WasmURLPath + "tfjs-backend-wasm-simd.wasm"} {
		res, err := client.Get(base + p)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Errorf("GET %s: %d", p, res.StatusCode)
		}
	}

	req, _ := http.NewRequest("POST", base+"/v1/liveness/session", strings.NewReader(`{"settings":{"auditImagesLimit":1}}`))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var created struct{ SessionID, ClientToken string }
	json.NewDecoder(res.Body).Decode(&created)
	res.Body.Close()
	if created.SessionID == "" || created.ClientToken == "" {
		t.Fatalf("create session: %d %+v", res.StatusCode, created)
	}

	q := url.Values{
		"session-id": {created.SessionID}, "challenge-versions": {"FaceMovementAndLightChallenge_2.0.0,FaceMovementChallenge_1.0.0"},
		"video-width": {"640"}, "video-height": {"480"}, "X-Amz-Security-Token": {created.ClientToken},
	}
	wsURL := "wss" + strings.TrimPrefix(base, "https") + amplify.Path + "?" + q.Encode()
	dctx, dcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer dcancel()
	conn, _, err := websocket.Dial(dctx, wsURL, &websocket.DialOptions{HTTPClient: client})
	if err != nil {
		t.Fatalf("wss dial: %v", err)
	}
	defer conn.CloseNow()
	_, b, err := conn.Read(dctx)
	if err != nil {
		t.Fatal(err)
	}
	m, err := eventstream.Decode(b, eventstream.Limits{})
	if err != nil || m.Headers.GetString(":event-type") != "ServerSessionInformationEvent" {
		t.Fatalf("first message %+v, %v", m.Headers, err)
	}
	conn.Close(4003, "")

	req, _ = http.NewRequest("GET", base+"/v1/liveness/session/"+created.SessionID+"/aws-results", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	res, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var aws map[string]any
	json.NewDecoder(res.Body).Decode(&aws)
	res.Body.Close()
	if res.StatusCode != 200 || aws["SessionId"] != created.SessionID || aws["Challenge"] == nil {
		t.Fatalf("aws-results: %d %v", res.StatusCode, aws)
	}
	req, _ = http.NewRequest("GET", base+"/v1/liveness/session/00000000-0000-4000-8000-000000000000/aws-results", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	if res, err = client.Do(req); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 400 {
		t.Errorf("aws-results of an unknown session: %d, want 400 SessionNotFoundException", res.StatusCode)
	}
}
