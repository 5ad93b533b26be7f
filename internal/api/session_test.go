package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/api"
	"github.com/livenessd/livenessd/internal/guard"
	"github.com/livenessd/livenessd/internal/session"
)

func TestCreateSession(t *testing.T) {
	ts := newServer(t, serverOpts{noFaces: true})
	const path = "/v1/liveness/session"

	t.Run("OK", func(t *testing.T) {
		r := ts.postJSON(t, path, keyA, map[string]any{"settings": map[string]any{"auditImagesLimit": 4}})
		if r.status != http.StatusOK {
			t.Fatalf("%d %s", r.status, r.body)
		}
		m := r.json(t)
		if !session.ValidID(m["sessionId"].(string)) || m["status"] != "CREATED" {
			t.Fatalf("body %s", r.body)
		}
		created, err1 := time.Parse(time.RFC3339, m["createdAt"].(string))
		expiry, err2 := time.Parse(time.RFC3339, m["expiryDate"].(string))
		if err1 != nil || err2 != nil || !created.Equal(ts.clk.Now()) || expiry.Sub(created) != session.DefaultTTL {
			t.Fatalf("createdAt %v expiryDate %v: want now and now+%v", created, expiry, session.DefaultTTL)
		}
		tok, err := base64.RawURLEncoding.DecodeString(m["clientToken"].(string))
		if err != nil || len(tok) != 32 {
			t.Fatalf("clientToken %q: want 32 bytes base64url", m["clientToken"])
		}
		if len(m) != 5 {
			t.Fatalf("unexpected fields: %s", r.body)
		}
	})
	t.Run("EmptyBody", func(t *testing.T) {
		if r := ts.do(t, http.MethodPost, path, keyA, "", nil); r.status != http.StatusOK {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if r := ts.do(t, http.MethodPost, path, keyA, "application/json", []byte(`{}`)); r.status != http.StatusOK {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	for _, tc := range []struct {
		name, ct, body string
		status, code   int
	}{
		{"AuditLimitTooHigh", "application/json", `{"settings":{"auditImagesLimit":5}}`, 400, api.CodeInvalidRequest},
		{"AuditLimitNegative", "application/json", `{"settings":{"auditImagesLimit":-1}}`, 400, api.CodeInvalidRequest},
		{"AuditLimitNotInt", "application/json", `{"settings":{"auditImagesLimit":"4"}}`, 400, api.CodeInvalidRequest},
		{"MalformedJSON", "application/json", `{"settings":`, 400, api.CodeInvalidRequest},
		{"NotAnObject", "application/json", `[1,2]`, 400, api.CodeInvalidRequest},
		{"UnknownField", "application/json", `{"setting":{}}`, 400, api.CodeInvalidRequest},
		{"TrailingData", "application/json", `{} {}`, 400, api.CodeInvalidRequest},
		{"WrongContentType", "text/plain", `{}`, 415, api.CodeUnsupportedMedia},
		{"BadContentType", "application/json; =", `{}`, 415, api.CodeUnsupportedMedia},
		{"BodyTooLarge", "application/json", `{"settings":{"auditImagesLimit":1}}` + strings.Repeat(" ", 70<<10), 413, api.CodeBodyTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, ts.do(t, http.MethodPost, path, keyA, tc.ct, []byte(tc.body)), tc.status, tc.code)
		})
	}
}

func TestAuth(t *testing.T) {
	ts := newServer(t, serverOpts{noFaces: true})
	for _, tc := range []struct{ name, header string }{
		{"Missing", ""},
		{"WrongKey", "Bearer not-a-key-0123456789"},
		{"NotBearer", "Basic " + keyA},
		{"EmptyBearer", "Bearer "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, ep := range []struct{ method, path string }{
				{"POST", "/v1/liveness/session"},
				{"GET", "/v1/liveness/session/2450bd2e-220b-42c8-90f1-14293292ac79/results"},
				{"POST", "/v1/liveness/verify/2450bd2e-220b-42c8-90f1-14293292ac79"},
				{"POST", "/v1/liveness/verify-with-document/2450bd2e-220b-42c8-90f1-14293292ac79"},
				{"POST", "/v1/liveness/compare-faces"},
			} {
				req, _ := http.NewRequest(ep.method, ts.URL+ep.path, nil)
				if tc.header != "" {
					req.Header.Set("Authorization", tc.header)
				}
				res, err := ts.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				if res.StatusCode != 401 || !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer") {
					t.Fatalf("%s %s: %d, WWW-Authenticate %q", ep.method, ep.path, res.StatusCode, res.Header.Get("WWW-Authenticate"))
				}
			}
		})
	}
	wantError(t, ts.do(t, "POST", "/v1/liveness/session", "", "", nil), 401, api.CodeUnauthorized)
}

func TestRateLimit(t *testing.T) {
	ts := newServer(t, serverOpts{noFaces: true, mod: func(c *api.Config) { c.RateLimit = 1; c.RateBurst = 2 }})
	for i := range 2 {
		if r := ts.do(t, "POST", "/v1/liveness/session", keyA, "", nil); r.status != 200 {
			t.Fatalf("request %d: %d", i, r.status)
		}
	}
	r := ts.do(t, "POST", "/v1/liveness/session", keyA, "", nil)
	wantError(t, r, 429, api.CodeRateLimited)
	if r.header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	// Another key has its own bucket; time refills the first one.
	if r := ts.do(t, "POST", "/v1/liveness/session", keyB, "", nil); r.status != 200 {
		t.Fatalf("other key: %d", r.status)
	}
	ts.clk.Advance(time.Second)
	if r := ts.do(t, "POST", "/v1/liveness/session", keyA, "", nil); r.status != 200 {
		t.Fatalf("after refill: %d", r.status)
	}
}

func liveResult(ref []byte, audit int) livenessd.Result {
	res := livenessd.Result{
		Status: livenessd.StatusSucceeded, Confidence: 97.456, IsLive: true,
		ReferenceImage: ref,
		ReferenceBox:   livenessd.BoundingBox{Width: 0.3, Height: 0.4, Left: 0.35, Top: 0.2},
		Signals:        map[string]float64{"light_z": 6.2, "texture": 0.98, "frames": 61},
		Checks: []livenessd.SignalCheck{
			{Name: "light_z", Value: 6.2, Threshold: 2, Passed: true, Kind: "challenge"},
			{Name: "texture", Value: 0.98, Threshold: 0.5, Passed: true, Kind: "attack"},
		},
		Validations: []string{"face_detected", "quality_check", "anti_spoofing", "challenge_response"},
	}
	for i := range audit {
		res.AuditImages = append(res.AuditImages, livenessd.AuditImage{JPEG: append([]byte{0xff, 0xd8}, byte(i))})
	}
	return res
}

func TestResultsAndVerify(t *testing.T) {
	ts := newServer(t, serverOpts{noFaces: true})
	ref := []byte{0xff, 0xd8, 0xff, 0xe0, 'r', 'e', 'f'}
	id, token := ts.createSession(t, keyA, 2)
	results := "/v1/liveness/session/" + id + "/results"
	verify := "/v1/liveness/verify/" + id

	t.Run("Created", func(t *testing.T) {
		r := ts.do(t, "GET", results, keyA, "", nil)
		if m := r.json(t); r.status != 200 || m["status"] != "CREATED" || m["isLive"] != false {
			t.Fatalf("%d %s", r.status, r.body)
		}
		wantError(t, ts.do(t, "POST", verify, keyA, "", nil), 409, api.CodeResultsNotReady)
	})
	t.Run("OtherTenant", func(t *testing.T) {
		wantError(t, ts.do(t, "GET", results, keyB, "", nil), 404, api.CodeSessionNotFound)
		wantError(t, ts.do(t, "POST", verify, keyB, "", nil), 404, api.CodeSessionNotFound)
	})
	t.Run("Unknown", func(t *testing.T) {
		wantError(t, ts.do(t, "GET", "/v1/liveness/session/00000000-0000-4000-8000-000000000000/results", keyA, "", nil), 404, api.CodeSessionNotFound)
		wantError(t, ts.do(t, "GET", "/v1/liveness/session/not-a-uuid/results", keyA, "", nil), 404, api.CodeSessionNotFound)
	})
	if _, err := ts.svc.BeginCapture(context.Background(), id, func(s *livenessd.Session) error { return ts.svc.CheckClientToken(s, token) }); err != nil {
		t.Fatal(err)
	}
	t.Run("InProgress", func(t *testing.T) {
		r := ts.do(t, "GET", results, keyA, "", nil)
		if m := r.json(t); m["status"] != "IN_PROGRESS" {
			t.Fatalf("%s", r.body)
		}
		wantError(t, ts.do(t, "POST", verify, keyA, "", nil), 409, api.CodeResultsNotReady)
	})
	ts.clk.Advance(4 * time.Second)
	if err := ts.svc.Complete(context.Background(), id, liveResult(ref, 3)); err != nil {
		t.Fatal(err)
	}
	t.Run("Succeeded", func(t *testing.T) {
		r := ts.do(t, "GET", results, keyA, "", nil)
		if r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		m := r.json(t)
		for _, k := range []string{"sessionId", "status", "confidence", "isLive", "referenceImage", "auditImages", "timestamp", "message", "details", "referenceBoundingBox"} {
			if _, ok := m[k]; !ok {
				t.Fatalf("results lack %q: %s", k, r.body)
			}
		}
		if m["status"] != "SUCCEEDED" || m["isLive"] != true || m["confidence"] != 97.46 {
			t.Fatalf("%s", r.body)
		}
		if got, _ := base64.StdEncoding.DecodeString(m["referenceImage"].(string)); !bytes.Equal(got, ref) {
			t.Fatal("referenceImage does not round-trip")
		}
		if n := len(m["auditImages"].([]any)); n != 2 {
			t.Fatalf("%d audit images, want auditImagesLimit=2", n)
		}
		if m["message"] != "Liveness verified with 97.46% confidence" {
			t.Fatalf("message %q", m["message"])
		}
		if ts, _ := time.Parse(time.RFC3339, m["timestamp"].(string)); !ts.Equal(time.Date(2026, 11, 24, 12, 30, 4, 0, time.UTC)) {
			t.Fatalf("timestamp %v", m["timestamp"])
		}
		d := m["details"].(map[string]any)
		sig := d["signals"].(map[string]any)
		lz := sig["light_z"].(map[string]any)
		if lz["value"] != 6.2 || lz["threshold"] != 2.0 || lz["passed"] != true || lz["kind"] != "challenge" || len(d["validationsPassed"].([]any)) != 4 {
			t.Fatalf("details %v", d)
		}
		// A reported-only signal has a value and nothing else.
		if fr := sig["frames"].(map[string]any); fr["value"] != 61.0 || len(fr) != 1 {
			t.Fatalf("frames signal %v", fr)
		}
		if _, ok := d["failedSignals"]; ok {
			t.Fatalf("failedSignals on a live result: %v", d)
		}
	})
	t.Run("Verify", func(t *testing.T) {
		r := ts.do(t, "POST", verify, keyA, "", nil)
		if r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		m := r.json(t)
		if m["sessionId"] != id || m["isLive"] != true || m["confidence"] != 97.46 || len(m["validationsPassed"].([]any)) != 4 || len(m) != 4 {
			t.Fatalf("%s", r.body)
		}
	})
	t.Run("OneTimeUse", func(t *testing.T) {
		_, err := ts.svc.BeginCapture(context.Background(), id, func(s *livenessd.Session) error { return ts.svc.CheckClientToken(s, token) })
		if !errors.Is(err, livenessd.ErrSessionUsed) {
			t.Fatalf("second capture: %v", err)
		}
		// Mounted capture handlers answer with the same table.
		r := ts.do(t, "GET", "/test/capture/"+id, "", "", nil)
		wantError(t, r, 409, api.CodeSessionUsed)
	})
	t.Run("ExpiredAfterRetention", func(t *testing.T) {
		ts.clk.Advance(session.DefaultTTL)
		wantError(t, ts.do(t, "GET", results, keyA, "", nil), 400, api.CodeSessionExpired)
		wantError(t, ts.do(t, "POST", verify, keyA, "", nil), 400, api.CodeSessionExpired)
		// The purge removes the images from the store too.
		if n, _, err := ts.svc.Purge(context.Background()); err != nil || n != 1 {
			t.Fatalf("purge: %d, %v", n, err)
		}
		s, err := ts.store.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if s.Result.ReferenceImage != nil || s.Result.AuditImages != nil {
			t.Fatal("images survived the purge")
		}
	})
}

func init() {
	mountCaptureForTest = func(ts *testServer) {
		ts.api.Handle("GET /test/capture/{id}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, err := ts.svc.BeginCapture(r.Context(), r.PathValue("id"), nil); err != nil {
				ts.api.WriteError(w, r, err)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		}))
	}
}

func TestFailedSession(t *testing.T) {
	ts := newServer(t, serverOpts{noFaces: true})
	id, token := ts.createSession(t, keyA, 0)
	ts.finish(t, id, token, livenessd.Result{
		Status: livenessd.StatusFailed, Confidence: 41.2, Reason: "Poor lighting conditions",
		Signals: map[string]float64{"brightness_margin": -25, "texture": 0.9},
		Checks: []livenessd.SignalCheck{
			{Name: "brightness_margin", Value: -25, Threshold: 0, Passed: false, Kind: "acquisition"},
			{Name: "texture", Value: 0.9, Threshold: 0.5, Passed: true, Kind: "attack"},
		},
	})
	r := ts.do(t, "GET", "/v1/liveness/session/"+id+"/results", keyA, "", nil)
	m := r.json(t)
	if m["status"] != "FAILED" || m["isLive"] != false || m["message"] != "Liveness check failed: Poor lighting conditions" {
		t.Fatalf("%s", r.body)
	}
	e := wantError(t, ts.do(t, "POST", "/v1/liveness/verify/"+id, keyA, "", nil), 422, api.CodeLowConfidence)
	d := e["details"].(map[string]any)
	if d["confidence"] != 41.2 || d["threshold"] != 90.0 || d["reason"] != "Poor lighting conditions (failed: brightness_margin)" {
		t.Fatalf("details %v", d)
	}
	if f := d["failedSignals"].([]any); len(f) != 1 || f[0] != "brightness_margin" {
		t.Fatalf("failedSignals %v", d["failedSignals"])
	}
	rd := m["details"].(map[string]any)
	if rd["reason"] != "Poor lighting conditions (failed: brightness_margin)" || rd["signals"].(map[string]any)["brightness_margin"].(map[string]any)["passed"] != false {
		t.Fatalf("results details %v", rd)
	}
	if e["message"] != "Liveness confidence 41.20% is below required threshold 90.00%" {
		t.Fatalf("message %q", e["message"])
	}
	wantError(t, ts.postJSON(t, "/v1/liveness/verify-with-document/"+id, keyA, map[string]string{"document": b64(noFaceImage(t))}), 422, api.CodeLowConfidence)
}

func TestExpiredSession(t *testing.T) {
	ts := newServer(t, serverOpts{noFaces: true, sessionConf: func(c *session.Config) { c.TTL = 3 * time.Minute }})
	id, token := ts.createSession(t, keyA, 0)
	ts.clk.Advance(3 * time.Minute)
	r := ts.do(t, "GET", "/v1/liveness/session/"+id+"/results", keyA, "", nil)
	if m := r.json(t); r.status != 200 || m["status"] != "EXPIRED" {
		t.Fatalf("%d %s", r.status, r.body)
	}
	wantError(t, ts.do(t, "POST", "/v1/liveness/verify/"+id, keyA, "", nil), 400, api.CodeSessionExpired)
	_, err := ts.svc.BeginCapture(context.Background(), id, func(s *livenessd.Session) error { return ts.svc.CheckClientToken(s, token) })
	if !errors.Is(err, livenessd.ErrSessionExpired) {
		t.Fatalf("capture after expiry: %v", err)
	}
	wantError(t, ts.do(t, "GET", "/test/capture/"+id, "", "", nil), 400, api.CodeSessionExpired)
}

func TestRetentionKeepsResults(t *testing.T) {
	ts := newServer(t, serverOpts{noFaces: true, sessionConf: func(c *session.Config) { c.Retention = time.Hour }})
	id, token := ts.createSession(t, keyA, 1)
	ts.finish(t, id, token, liveResult([]byte{0xff, 0xd8, 1}, 1))
	ts.clk.Advance(session.DefaultTTL + 59*time.Minute)
	if n, _, _ := ts.svc.Purge(context.Background()); n != 0 {
		t.Fatal("purged inside the retention")
	}
	r := ts.do(t, "GET", "/v1/liveness/session/"+id+"/results", keyA, "", nil)
	if m := r.json(t); r.status != 200 || m["referenceImage"] == "" || len(m["auditImages"].([]any)) != 1 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	ts.clk.Advance(time.Minute)
	wantError(t, ts.do(t, "GET", "/v1/liveness/session/"+id+"/results", keyA, "", nil), 400, api.CodeSessionExpired)
}

func TestHealthAndRoutes(t *testing.T) {
	ts := newServer(t, serverOpts{noFaces: true})
	if r := ts.do(t, "GET", "/healthz", "", "", nil); r.status != 200 {
		t.Fatalf("healthz %d", r.status)
	}
	if r := ts.do(t, "GET", "/readyz", "", "", nil); r.status != 200 {
		t.Fatalf("readyz %d %s", r.status, r.body)
	}
	ts.api.SetDraining(true)
	r := ts.do(t, "GET", "/readyz", "", "", nil)
	wantError(t, r, 503, api.CodeServiceUnavailable)
	ts.api.SetDraining(false)
	wantError(t, ts.do(t, "GET", "/v1/liveness/nothing", keyA, "", nil), 404, api.CodeRouteNotFound)
	// The path exists, the method does not: 405 with Allow.
	r = ts.do(t, "DELETE", "/v1/liveness/session", keyA, "", nil)
	wantError(t, r, 405, api.CodeMethodNotAllowed)
	if r.header.Get("Allow") != "POST" {
		t.Errorf("Allow = %q, want POST", r.header.Get("Allow"))
	}
}

func TestPanicRecovery(t *testing.T) {
	ts := newServer(t, serverOpts{noFaces: true})
	ts.api.Handle("GET /test/panic", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]int
		m["boom"]++ // nil map write: a real runtime panic
	}))
	r := ts.do(t, "GET", "/test/panic", "", "", nil)
	e := wantError(t, r, 500, api.CodeInternal)
	if strings.Contains(string(r.body), "nil map") {
		t.Fatalf("panic text leaked to the client: %s", r.body)
	}
	_ = e
	// The server keeps serving.
	if r := ts.do(t, "GET", "/healthz", "", "", nil); r.status != 200 {
		t.Fatal("server dead after a panic")
	}
}

func TestRequireAPIKey(t *testing.T) {
	ts := newServer(t, serverOpts{noFaces: true})
	ts.api.Handle("GET /test/demo", ts.api.RequireAPIKey(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tenant, ok := api.TenantFromContext(r.Context())
		if !ok {
			t.Error("no tenant in context")
		}
		w.Write([]byte(tenant))
	})))
	wantError(t, ts.do(t, "GET", "/test/demo", "", "", nil), 401, api.CodeUnauthorized)
	a := ts.do(t, "GET", "/test/demo", keyA, "", nil)
	b := ts.do(t, "GET", "/test/demo", keyB, "", nil)
	if a.status != 200 || !strings.HasPrefix(string(a.body), "t_") || string(a.body) == string(b.body) {
		t.Fatalf("tenants %q %q", a.body, b.body)
	}
	found := false
	for _, p := range ts.api.MountedRoutes() {
		found = found || p == "GET /test/demo"
	}
	if !found {
		t.Fatal("mounted route not listed")
	}
}

// TestAuthFailureLimit: wrong API keys from one client address are
// limited (burst, then one per interval); over the limit the address gets
// 429 1005 with Retry-After before its key is looked at, a correct key
// included, while other addresses are unaffected.
func TestAuthFailureLimit(t *testing.T) {
	proxy, err := guard.ParsePrefixes("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	var ts *testServer
	ts = newServer(t, serverOpts{noFaces: true, mod: func(c *api.Config) {
		c.Addresses = guard.Addresses{TrustedProxies: proxy}
		c.AuthFailures = guard.NewFailureLimit(3, 30*time.Second, func() time.Time { return ts.clk.Now() })
	}})
	from := func(addr, key string) response {
		req, _ := http.NewRequest("POST", ts.URL+"/v1/liveness/session", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("X-Forwarded-For", addr)
		res, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return response{status: res.StatusCode, header: res.Header, body: b}
	}
	for range 3 {
		wantError(t, from("198.51.100.4", "wrong-key-0123456789"), 401, api.CodeUnauthorized)
	}
	r := from("198.51.100.4", keyA)
	wantError(t, r, 429, api.CodeRateLimited)
	if got := r.header.Get("Retry-After"); got != "30" {
		t.Errorf("Retry-After = %q, want 30", got)
	}
	if r := from("198.51.100.5", keyA); r.status != 200 {
		t.Fatalf("another address: %d %s", r.status, r.body)
	}
	ts.clk.Advance(30 * time.Second)
	if r := from("198.51.100.4", keyA); r.status != 200 {
		t.Fatalf("after Retry-After: %d %s", r.status, r.body)
	}
	// A missing key is no guess: it does not count.
	for range 5 {
		wantError(t, from("198.51.100.6", ""), 401, api.CodeUnauthorized)
	}
	if r := from("198.51.100.6", keyA); r.status != 200 {
		t.Fatalf("missing keys counted as failures: %d", r.status)
	}
}

// TestSessionEndpoints_ForeignLikeUnknown: on every endpoint that takes a
// session id, another tenant's session gets exactly the answer of an id
// that does not exist (status, code, message with the id masked, details).
func TestSessionEndpoints_ForeignLikeUnknown(t *testing.T) {
	ts := newServer(t, serverOpts{noFaces: true})
	foreign, token := ts.createSession(t, keyA, 1)
	ts.finish(t, foreign, token, liveResult([]byte{0xff, 0xd8, 0xff, 0xdb}, 1))
	unknown := "2450bd2e-220b-42c8-90f1-14293292ac79"
	for _, ep := range []struct{ method, path, ctype, body string }{
		{"GET", "/v1/liveness/session/%s/results", "", ""},
		{"POST", "/v1/liveness/verify/%s", "application/json", `{}`},
		{"POST", "/v1/liveness/verify-with-document/%s", "application/json", `{"document":"` + b64(noFaceImage(t)) + `"}`},
	} {
		t.Run(ep.method+" "+ep.path, func(t *testing.T) {
			answer := func(id string) string {
				r := ts.do(t, ep.method, fmt.Sprintf(ep.path, id), keyB, ep.ctype, []byte(ep.body))
				m := r.json(t)
				delete(m, "timestamp")
				b, _ := json.Marshal(m)
				return fmt.Sprintf("%d %s", r.status, strings.ReplaceAll(string(b), id, "ID"))
			}
			got, want := answer(foreign), answer(unknown)
			if got != want {
				t.Fatalf("foreign session: %s\nunknown session: %s", got, want)
			}
			if !strings.HasPrefix(got, "404 ") {
				t.Fatalf("answer %s, want 404", got)
			}
		})
	}
}
