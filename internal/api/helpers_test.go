package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/api"
	"github.com/livenessd/livenessd/internal/api/apiface"
	"github.com/livenessd/livenessd/internal/auth"
	"github.com/livenessd/livenessd/internal/face"
	"github.com/livenessd/livenessd/internal/imageio"
	"github.com/livenessd/livenessd/internal/liveness"
	"github.com/livenessd/livenessd/internal/session"
	"github.com/livenessd/livenessd/internal/store/sqlite"
	"github.com/livenessd/livenessd/internal/testutil"
	"github.com/livenessd/livenessd/internal/testutil/doctest"
	"github.com/livenessd/livenessd/internal/testutil/facetest"
	"github.com/livenessd/livenessd/internal/workpool"
)

const (
	keyA = "test-key-tenant-a-0123456789"
	keyB = "test-key-tenant-b-0123456789"
)

// pipeline is the real face pipeline, loaded once per test binary.
func pipeline(tb testing.TB) *face.Pipeline { return facetest.Pipeline(tb) }

type testServer struct {
	*httptest.Server
	api   *api.Server
	svc   *session.Service
	store *sqlite.Store
	clk   *testutil.Clock
	pool  *workpool.Pool
}

type serverOpts struct {
	faces       api.FaceComparer // default: the real pipeline
	noFaces     bool
	noDocuments bool // no document scanner (default: the real one, with faces)
	mod         func(*api.Config)
	sessionConf func(*session.Config)
}

// newServer starts the real API wiring: SQLite in t.TempDir(), the keyring,
// the session service with an injected clock and the real face pipeline.
func newServer(t testing.TB, o serverOpts) *testServer {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "api.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clk := testutil.NewClock(time.Date(2026, 11, 24, 12, 30, 0, 0, time.UTC))
	scfg := session.Config{
		Store:      st,
		Challenges: func() (livenessd.Challenge, error) { return liveness.NewChallenge("") },
		Now:        clk.Now,
		Logger:     slog.New(slog.DiscardHandler),
	}
	if o.sessionConf != nil {
		o.sessionConf(&scfg)
	}
	svc, err := session.New(scfg)
	if err != nil {
		t.Fatal(err)
	}
	kr, err := auth.NewKeyring(ctx, []string{keyA, keyB}, st, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	pool := workpool.New(2, 200*time.Millisecond)
	cfg := api.Config{Sessions: svc, Auth: kr, Pool: pool, Now: clk.Now, Logger: slog.New(slog.DiscardHandler)}
	switch {
	case o.faces != nil:
		cfg.Faces = o.faces
	case !o.noFaces:
		cfg.Faces = apiface.New(pipeline(t))
	}
	if o.faces == nil && !o.noFaces && !o.noDocuments {
		cfg.Documents = doctest.Scanner(t)
	}
	if o.mod != nil {
		o.mod(&cfg)
	}
	srv, err := api.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	ts := &testServer{Server: hs, api: srv, svc: svc, store: st, clk: clk, pool: pool}
	if mountCaptureForTest != nil {
		mountCaptureForTest(ts)
	}
	return ts
}

// mountCaptureForTest mounts a minimal capture endpoint (set in
// session_test.go) that begins a capture and answers errors through
// Server.WriteError, as a real capture transport does before upgrading.
var mountCaptureForTest func(*testServer)

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", r.body, err)
	}
	return m
}

// do sends a request with key as Bearer token (none when empty).
func (ts *testServer) do(t *testing.T, method, path, key, contentType string, body []byte) response {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

func (ts *testServer) postJSON(t *testing.T, path, key string, v any) response {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return ts.do(t, http.MethodPost, path, key, "application/json", b)
}

// wantError checks the seed's error body: exact field set, status, code.
func wantError(t *testing.T, r response, status, code int) map[string]any {
	t.Helper()
	if r.status != status {
		t.Fatalf("status=%d, want %d; body %s", r.status, status, r.body)
	}
	m := r.json(t)
	for _, k := range []string{"errorCode", "message", "status", "timestamp", "details"} {
		if _, ok := m[k]; !ok {
			t.Fatalf("error body lacks %q: %s", k, r.body)
		}
	}
	if len(m) != 5 {
		t.Fatalf("error body has extra fields: %s", r.body)
	}
	if got := int(m["errorCode"].(float64)); got != code {
		t.Fatalf("errorCode=%d, want %d; body %s", got, code, r.body)
	}
	if got := int(m["status"].(float64)); got != status {
		t.Fatalf("body status=%d, want %d", got, status)
	}
	if _, err := time.Parse(time.RFC3339, m["timestamp"].(string)); err != nil {
		t.Fatalf("timestamp: %v", err)
	}
	if _, ok := m["details"].(map[string]any); !ok {
		t.Fatalf("details is not an object: %s", r.body)
	}
	if m["message"].(string) == "" {
		t.Fatal("empty message")
	}
	return m
}

// createSession creates a session for key and returns id and client token.
func (ts *testServer) createSession(t *testing.T, key string, auditLimit int) (string, string) {
	t.Helper()
	r := ts.postJSON(t, "/v1/liveness/session", key, map[string]any{"settings": map[string]any{"auditImagesLimit": auditLimit}})
	if r.status != http.StatusOK {
		t.Fatalf("create session: %d %s", r.status, r.body)
	}
	m := r.json(t)
	return m["sessionId"].(string), m["clientToken"].(string)
}

// finish runs a session through capture to a verdict with res.
func (ts *testServer) finish(t *testing.T, id, token string, res livenessd.Result) {
	t.Helper()
	ctx := context.Background()
	if _, err := ts.svc.BeginCapture(ctx, id, func(s *livenessd.Session) error { return ts.svc.CheckClientToken(s, token) }); err != nil {
		t.Fatal(err)
	}
	if err := ts.svc.Complete(ctx, id, res); err != nil {
		t.Fatal(err)
	}
}

// sampleFaces holds a real group photo and crops of its two largest faces.
type sampleFaces struct {
	photo        []byte // the original JPEG
	faceA, faceB []byte // JPEG crops (margin around the face, rescaled)
}

var (
	facesOnce sync.Once
	faces     sampleFaces
	facesErr  error
)

// sampleCrops analyses sample1.jpg with the real pipeline and crops its two
// largest faces with a wide margin, rescaled, as a reference image or a
// document portrait would be.
func sampleCrops(t *testing.T) sampleFaces {
	t.Helper()
	p := pipeline(t)
	path := testutil.Sample(t, 1)
	facesOnce.Do(func() {
		data, err := os.ReadFile(path)
		if err != nil {
			facesErr = err
			return
		}
		img, err := imageio.Decode(data, imageio.DefaultLimits())
		if err != nil {
			facesErr = err
			return
		}
		obs, err := p.Analyze(context.Background(), img)
		if err != nil {
			facesErr = err
			return
		}
		if len(obs) < 2 {
			facesErr = io.ErrUnexpectedEOF
			return
		}
		crop := func(o livenessd.FaceObservation, scale float64) []byte {
			c := o.Box.Center()
			side := 2.2 * max(o.Box.W, o.Box.H)
			r := imageio.RectFromFloat(c.X-side/2, c.Y-side/2, side, side).Intersect(img.Bounds())
			m := imageio.Crop(img, r)
			m = imageio.Resize(m, int(float64(r.Dx())*scale), int(float64(r.Dy())*scale))
			b, err := imageio.EncodeJPEG(m, 90)
			if err != nil {
				facesErr = err
			}
			return b
		}
		faces = sampleFaces{photo: data, faceA: crop(obs[0], 0.8), faceB: crop(obs[1], 1.0)}
	})
	if facesErr != nil {
		t.Fatalf("sample faces: %v", facesErr)
	}
	return faces
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// pngImage encodes a w x h image filled by f.
func pngImage(t *testing.T, w, h int, f func(x, y int) color.Color) []byte {
	t.Helper()
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			m.Set(x, y, f(x, y))
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, m); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// noFaceImage is a smooth gradient: a valid image without any face.
func noFaceImage(t *testing.T) []byte {
	return pngImage(t, 320, 240, func(x, y int) color.Color {
		return color.NRGBA{uint8(x * 255 / 320), uint8(y * 255 / 240), 128, 255}
	})
}
