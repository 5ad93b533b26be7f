package api_test

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/livenessd/livenessd/internal/api"
	"github.com/livenessd/livenessd/internal/imageio"
	"github.com/livenessd/livenessd/internal/tlsutil"
)

// rawRequest writes req on a new connection to addr (through TLS when tc
// is set) and reads one response. The write runs beside the read, so a
// server that answers before it has read everything is still heard.
func rawRequest(t *testing.T, addr string, tc *tls.Config, req string) response {
	t.Helper()
	var conn net.Conn
	var err error
	if tc != nil {
		conn, err = tls.Dial("tcp", addr, tc)
	} else {
		conn, err = net.Dial("tcp", addr)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	go io.WriteString(conn, req)
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// TestErrorBodies_EveryPath: answers that the router or net/http give
// by themselves, and plain-text errors of mounted handlers, carry the
// seed's error body: unknown paths inside and outside /v1, a wrong method,
// non-canonical paths (refused, not redirected, before any credential is
// looked at), headers over the limit (431), an unparseable request.
func TestErrorBodies_EveryPath(t *testing.T) {
	ts := newServer(t, serverOpts{noFaces: true})
	ts.api.Handle("GET /test/plain404", http.HandlerFunc(http.NotFound))
	ts.api.Handle("GET /test/plain503", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "busy right now", http.StatusServiceUnavailable)
	}))
	ts.api.Handle("GET /test/json409", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(http.StatusConflict)
		io.WriteString(w, `{"__type":"AWSShaped"}`)
	}))
	// The same server behind the listener serve uses (MaxHeaderBytes as serve).
	raw := httptest.NewUnstartedServer(ts.api)
	raw.Listener = ts.api.Listener(raw.Listener)
	raw.Config.MaxHeaderBytes = 64 << 10
	raw.Start()
	t.Cleanup(raw.Close)
	addr := strings.TrimPrefix(raw.URL, "http://")

	for _, test := range []struct {
		name, method, path, key string
		status, code            int
	}{
		{"OutsideV1", "GET", "/nothing/here", "", 404, api.CodeRouteNotFound},
		{"Favicon", "GET", "/favicon.ico", "", 404, api.CodeRouteNotFound},
		{"InsideV1", "GET", "/v1/liveness/nothing", keyA, 404, api.CodeRouteNotFound},
		{"WrongMethod", "POST", "/healthz", "", 405, api.CodeMethodNotAllowed},
		{"WrongMethodV1", "DELETE", "/v1/liveness/session", keyA, 405, api.CodeMethodNotAllowed},
		{"DotDot", "GET", "/v1/liveness/session/x/../../../healthz", "", 400, api.CodeInvalidRequest},
		{"DoubleSlash", "POST", "//v1/liveness/session", "", 400, api.CodeInvalidRequest},
		{"Dot", "GET", "/v1/liveness/./session/2450bd2e-220b-42c8-90f1-14293292ac79/results", "wrong-key-0123456789", 400, api.CodeInvalidRequest},
		{"MountedPlain404", "GET", "/test/plain404", "", 404, api.CodeRouteNotFound},
		{"MountedPlain503", "GET", "/test/plain503", "", 503, api.CodeServiceUnavailable},
	} {
		t.Run(test.name, func(t *testing.T) {
			req := test.method + " " + test.path + " HTTP/1.1\r\nHost: x\r\n"
			if test.key != "" {
				req += "Authorization: Bearer " + test.key + "\r\n"
			}
			r := rawRequest(t, addr, nil, req+"Content-Length: 0\r\n\r\n")
			m := wantError(t, r, test.status, test.code)
			switch test.status {
			case 405:
				if r.header.Get("Allow") == "" {
					t.Error("405 without Allow")
				}
			case 400:
				if r.header.Get("Location") != "" || !strings.Contains(m["message"].(string), "canonical") {
					t.Errorf("non-canonical path: Location %q, message %q", r.header.Get("Location"), m["message"])
				}
			case 503:
				if !strings.Contains(m["message"].(string), "temporarily unavailable") || r.header.Get("Retry-After") == "" {
					t.Errorf("503: %v, Retry-After %q", m, r.header.Get("Retry-After"))
				}
			}
		})
	}
	t.Run("MountedJSONKept", func(t *testing.T) {
		r := rawRequest(t, addr, nil, "GET /test/json409 HTTP/1.1\r\nHost: x\r\n\r\n")
		if r.status != 409 || string(r.body) != `{"__type":"AWSShaped"}` {
			t.Fatalf("a JSON error of a mounted handler was rewritten: %d %s", r.status, r.body)
		}
	})
	t.Run("HeaderTooLarge", func(t *testing.T) {
		id := strings.Repeat("a", 1<<20) // the 1 MB session id of the report
		r := rawRequest(t, addr, nil, "GET /v1/liveness/session/"+id+"/results HTTP/1.1\r\nHost: x\r\n\r\n")
		wantError(t, r, 431, api.CodeHeaderTooLarge)
	})
	t.Run("Unparseable", func(t *testing.T) {
		r := rawRequest(t, addr, nil, "GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n")
		wantError(t, r, 400, api.CodeInvalidRequest)
	})
	t.Run("StillServes", func(t *testing.T) {
		if r := rawRequest(t, addr, nil, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"); r.status != 200 {
			t.Fatalf("healthz: %d %s", r.status, r.body)
		}
	})
}

// TestErrorBodies_TLS: the rewriting works under TLS too, and requests
// still see their TLS state.
func TestErrorBodies_TLS(t *testing.T) {
	ts := newServer(t, serverOpts{noFaces: true})
	ts.api.Handle("GET /test/tls", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, r.TLS != nil && r.TLS.HandshakeComplete)
	}))
	certPEM, keyPEM, err := tlsutil.Generate([]string{"127.0.0.1"}, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: ts.api, MaxHeaderBytes: 64 << 10}
	go hs.Serve(ts.api.TLSListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}}))
	t.Cleanup(func() { hs.Close() })
	client := &tls.Config{InsecureSkipVerify: true}
	addr := ln.Addr().String()

	r := rawRequest(t, addr, client, "GET /test/tls HTTP/1.1\r\nHost: x\r\n\r\n")
	if r.status != 200 || string(r.body) != "true" {
		t.Fatalf("TLS state: %d %s", r.status, r.body)
	}
	r = rawRequest(t, addr, client, "GET /"+strings.Repeat("b", 1<<20)+" HTTP/1.1\r\nHost: x\r\n\r\n")
	m := wantError(t, r, 431, api.CodeHeaderTooLarge)
	if b, _ := json.Marshal(m); len(b) == 0 {
		t.Fatal("empty body")
	}
}

// TestCompareFaces_DecodeBudget: an image whose decode alone needs more
// memory than the process's decode budget is refused 413 1020 before any
// pixel is decoded, with a message that says so.
func TestCompareFaces_DecodeBudget(t *testing.T) {
	ts := newServer(t, serverOpts{noFaces: true, mod: func(c *api.Config) {
		c.ImageLimits = imageio.DefaultLimits()
		c.ImageLimits.Budget = imageio.NewBudget(8<<20, time.Second)
	}})
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewNRGBA(image.Rect(0, 0, 1200, 1200))); err != nil { // 11.5 MB to decode
		t.Fatal(err)
	}
	r := ts.postJSON(t, "/v1/liveness/compare-faces", keyA, map[string]any{"sourceImage": b64(buf.Bytes()), "targetImage": b64(buf.Bytes())})
	m := wantError(t, r, 413, api.CodeTooManyPixels)
	if msg := m["message"].(string); !strings.Contains(msg, "decode memory budget is 8 MB") || !strings.Contains(msg, "sourceImage") {
		t.Fatalf("message %q", msg)
	}
}
