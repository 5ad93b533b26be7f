package amplify_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/draw"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/amplify"
	"github.com/livenessd/livenessd/internal/amplify/sigv4"
	"github.com/livenessd/livenessd/internal/api"
	"github.com/livenessd/livenessd/internal/auth"
	"github.com/livenessd/livenessd/internal/face"
	"github.com/livenessd/livenessd/internal/liveness"
	"github.com/livenessd/livenessd/internal/session"
	"github.com/livenessd/livenessd/internal/simulate"
	"github.com/livenessd/livenessd/internal/store/sqlite"
	"github.com/livenessd/livenessd/internal/testutil"
	"github.com/livenessd/livenessd/internal/testutil/facetest"
	_ "image/jpeg"
)

// needFFmpeg skips without the ffmpeg program, or fails under
// LIVENESS_REQUIRE_MODELS=1 (make test installs it).
func needFFmpeg(tb testing.TB) {
	tb.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		if os.Getenv("LIVENESS_REQUIRE_MODELS") == "1" {
			tb.Fatalf("ffmpeg not installed (apt-get install ffmpeg): %v", err)
		}
		tb.Skipf("ffmpeg not installed: %v", err)
	}
}

// observer is the real face pipeline, loaded once for the package.
func observer(tb testing.TB) *face.Pipeline { return facetest.Pipeline(tb) }

// fixture is a livenessd with a real session service (SQLite) behind the
// Amplify endpoint.
type fixture struct {
	svc *session.Service
	srv *httptest.Server
	h   *amplify.Handler
}

func newFixture(t *testing.T, mod func(*amplify.Config)) *fixture {
	t.Helper()
	return newFixtureWith(t, func() (livenessd.Challenge, error) {
		return liveness.NewChallenge(livenessd.ChallengeMovementAndLight)
	}, mod)
}

// fixedChallenge is a valid light challenge that does not change between
// runs, so the end-to-end signals are reproducible.
func fixedChallenge() (livenessd.Challenge, error) {
	ch := livenessd.Challenge{
		ID: "e2e-fixed", Type: livenessd.ChallengeMovementAndLight, Version: liveness.ChallengeV1,
		Oval: livenessd.Oval{CenterX: 0.51, CenterY: 0.49, Width: 0.45, Height: 0.45 * liveness.OvalAspect * 4 / 3},
	}
	for i, c := range []livenessd.RGB{{255, 0, 0}, {0, 255, 255}, {0, 0, 0}, {255, 255, 0}, {0, 0, 255}, {255, 255, 255}, {0, 255, 0}, {255, 0, 255}} {
		ch.Colors = append(ch.Colors, livenessd.ColorStep{Color: c, Duration: time.Duration(350+50*(i%3)) * time.Millisecond})
	}
	if !liveness.ValidColors(ch.Colors) {
		return ch, fmt.Errorf("fixed challenge colours are not valid")
	}
	return ch, nil
}

func newFixtureWith(t *testing.T, challenges session.ChallengeFunc, mod func(*amplify.Config)) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "sessions.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc, err := session.New(session.Config{
		Store:      st,
		Challenges: challenges,
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	logs := &testWriter{t: t}
	keyring, err := auth.NewKeyring(ctx, []string{"amplify-test-key-0123456789"}, nil, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	apiSrv, err := api.New(api.Config{Sessions: svc, Auth: keyring, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	cfg := amplify.Config{
		Captures:   svc,
		Observer:   nopObserver{},
		WriteError: apiSrv.WriteError,
		Logger:     slog.New(slog.NewTextHandler(logs, nil)),
	}
	if mod != nil {
		mod(&cfg)
	}
	h, err := amplify.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Mounted on the API server, as in production (cmd/livenessd).
	apiSrv.Handle("GET "+amplify.Path, h)
	srv := httptest.NewServer(apiSrv)
	t.Cleanup(srv.Close)
	// Stream goroutines can outlive the test (hijacked connections are not
	// waited for): stop logging to t before it completes.
	t.Cleanup(logs.stop)
	// Streams run on hijacked connections, which srv.Close does not wait
	// for: wait for them (cleanups run last-in first-out) before the
	// server, the store and its directory go.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := h.Shutdown(ctx); err != nil {
			t.Errorf("amplify handler shutdown: %v", err)
		}
	})
	return &fixture{svc: svc, srv: srv, h: h}
}

// nopObserver stands in where a test never reaches the analysis.
type nopObserver struct{}

func (nopObserver) ObserveFrame(context.Context, image.Image) ([]livenessd.FaceObservation, error) {
	return nil, livenessd.ErrNoFace
}

type testWriter struct {
	mu   sync.Mutex
	t    *testing.T
	done bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(string(bytes.TrimRight(p, "\n")))
	}
	return len(p), nil
}

func (w *testWriter) stop() {
	w.mu.Lock()
	w.done = true
	w.mu.Unlock()
}

func (f *fixture) create(t *testing.T, tenant string) (*livenessd.Session, string) {
	t.Helper()
	sess, token, err := f.svc.Create(context.Background(), tenant, livenessd.Settings{AuditImagesLimit: 2})
	if err != nil {
		t.Fatal(err)
	}
	return sess, token
}

func (f *fixture) status(t *testing.T, tenant, id string) *livenessd.Session {
	t.Helper()
	sess, err := f.svc.Get(context.Background(), tenant, id)
	if err != nil {
		t.Fatal(err)
	}
	return sess
}

// TestRefusals checks that every refusal reaches the client as the
// exception the component can show, after an accepted upgrade.
func TestRefusals(t *testing.T) {
	keys, err := sigv4.NewStaticKeys(
		sigv4.Credential{AccessKeyID: "AKIDA", Secret: "secret-a", Tenant: "tenant-a"},
		sigv4.Credential{AccessKeyID: "AKIDB", Secret: "secret-b", Tenant: "tenant-b"},
	)
	if err != nil {
		t.Fatal(err)
	}
	plain := newFixture(t, nil)
	signed := newFixture(t, func(c *amplify.Config) { c.Keys = keys })

	t.Run("UnknownSession", func(t *testing.T) {
		id, _ := session.NewID()
		dial(t, plain.srv, dialOptions{sessionID: id, token: "x"}).expectException("SessionNotFoundException")
	})
	t.Run("MalformedSessionID", func(t *testing.T) {
		dial(t, plain.srv, dialOptions{sessionID: "../../etc", token: "x"}).expectException("SessionNotFoundException")
	})
	// A wrong or missing token reads as an unknown session: the answer
	// must not tell which session ids exist.
	t.Run("WrongToken", func(t *testing.T) {
		sess, _ := plain.create(t, "tenant-a")
		dial(t, plain.srv, dialOptions{sessionID: sess.ID, token: "wrong"}).expectException("SessionNotFoundException")
		if got := plain.status(t, "tenant-a", sess.ID).Status; got != livenessd.StatusCreated {
			t.Errorf("refused stream changed the session to %s", got)
		}
	})
	t.Run("NoToken", func(t *testing.T) {
		sess, _ := plain.create(t, "tenant-a")
		dial(t, plain.srv, dialOptions{sessionID: sess.ID}).expectException("SessionNotFoundException")
	})
	t.Run("UsedSession", func(t *testing.T) {
		sess, token := plain.create(t, "tenant-a")
		c := dial(t, plain.srv, dialOptions{sessionID: sess.ID, token: token})
		c.sessionInfo()
		dial(t, plain.srv, dialOptions{sessionID: sess.ID, token: token}).expectException("SessionNotFoundException")
	})
	t.Run("BadQuery", func(t *testing.T) {
		sess, token := plain.create(t, "tenant-a")
		dial(t, plain.srv, dialOptions{sessionID: sess.ID, token: token, width: "64000"}).expectException("ValidationException")
	})
	t.Run("ChallengeNotOffered", func(t *testing.T) {
		sess, token := plain.create(t, "tenant-a")
		dial(t, plain.srv, dialOptions{sessionID: sess.ID, token: token, challenges: "FaceMovementChallenge_1.0.0"}).expectException("ValidationException")
		if got := plain.status(t, "tenant-a", sess.ID).Status; got != livenessd.StatusCreated {
			t.Errorf("refused stream changed the session to %s", got)
		}
	})
	t.Run("SignedOK", func(t *testing.T) {
		sess, _ := signed.create(t, "tenant-a")
		s := &sigv4.Signer{Credential: sigv4.Credential{AccessKeyID: "AKIDA", Secret: "secret-a"}, Region: "us-east-1"}
		c := dial(t, signed.srv, dialOptions{sessionID: sess.ID, signer: s})
		if ch := c.sessionInfo(); len(ch) != 1 {
			t.Fatalf("challenge %v", ch)
		}
		// A tampered event breaks the chain.
		c.signer = &sigv4.Signer{Credential: sigv4.Credential{AccessKeyID: "AKIDA", Secret: "wrong"}, Region: "us-east-1"}
		if err := c.signer.Presign(&url.URL{Scheme: "wss", Host: "x", Path: "/"}, time.Now(), time.Minute); err != nil {
			t.Fatal(err)
		}
		if err := c.send("VideoEvent", videoEvent([]byte{0x1a, 0x45, 0xdf, 0xa3}, time.Now().UnixMilli())); err != nil {
			t.Fatal(err)
		}
		c.expectException("AccessDeniedException")
		if got := signed.status(t, "tenant-a", sess.ID); got.Status != livenessd.StatusFailed {
			t.Errorf("session after a bad signature: %s, want FAILED", got.Status)
		}
	})
	t.Run("SignedOtherTenant", func(t *testing.T) {
		sess, _ := signed.create(t, "tenant-a")
		s := &sigv4.Signer{Credential: sigv4.Credential{AccessKeyID: "AKIDB", Secret: "secret-b"}, Region: "us-east-1"}
		dial(t, signed.srv, dialOptions{sessionID: sess.ID, signer: s}).expectException("SessionNotFoundException")
	})
	t.Run("SignedWrongSecret", func(t *testing.T) {
		sess, _ := signed.create(t, "tenant-a")
		s := &sigv4.Signer{Credential: sigv4.Credential{AccessKeyID: "AKIDA", Secret: "guess"}, Region: "us-east-1"}
		dial(t, signed.srv, dialOptions{sessionID: sess.ID, signer: s}).expectException("AccessDeniedException")
	})
	t.Run("SignedExpired", func(t *testing.T) {
		sess, _ := signed.create(t, "tenant-a")
		s := &sigv4.Signer{Credential: sigv4.Credential{AccessKeyID: "AKIDA", Secret: "secret-a"}, Region: "us-east-1"}
		dial(t, signed.srv, dialOptions{sessionID: sess.ID, signer: s, signedAt: time.Now().Add(-20 * time.Minute)}).expectException("AccessDeniedException")
	})
	t.Run("TextFrame", func(t *testing.T) {
		sess, token := plain.create(t, "tenant-a")
		c := dial(t, plain.srv, dialOptions{sessionID: sess.ID, token: token})
		c.sessionInfo()
		if err := c.conn.Write(context.Background(), websocket.MessageText, []byte(`{"VideoChunk":""}`)); err != nil {
			t.Fatal(err)
		}
		c.expectException("ValidationException")
	})
	t.Run("GarbageFrame", func(t *testing.T) {
		sess, token := plain.create(t, "tenant-a")
		c := dial(t, plain.srv, dialOptions{sessionID: sess.ID, token: token})
		c.sessionInfo()
		if err := c.conn.Write(context.Background(), websocket.MessageBinary, []byte("\x00\x00\x00\x10garbage!")); err != nil {
			t.Fatal(err)
		}
		c.expectException("ValidationException")
	})
	t.Run("NotAVideo", func(t *testing.T) {
		sess, token := plain.create(t, "tenant-a")
		c := dial(t, plain.srv, dialOptions{sessionID: sess.ID, token: token})
		c.sessionInfo()
		if err := c.send("VideoEvent", videoEvent([]byte("GIF89a not a video"), time.Now().UnixMilli())); err != nil {
			t.Fatal(err)
		}
		c.expectException("ValidationException")
	})
	t.Run("VideoTooLarge", func(t *testing.T) {
		small := newFixture(t, func(c *amplify.Config) { c.MaxVideoBytes = 4096 })
		sess, token := small.create(t, "tenant-a")
		c := dial(t, small.srv, dialOptions{sessionID: sess.ID, token: token})
		c.sessionInfo()
		chunk := append([]byte{0x1a, 0x45, 0xdf, 0xa3}, make([]byte, 3000)...)
		for range 2 {
			if err := c.send("VideoEvent", videoEvent(chunk, time.Now().UnixMilli())); err != nil {
				t.Fatal(err)
			}
		}
		c.expectException("ValidationException")
		if got := small.status(t, "tenant-a", sess.ID); got.Status != livenessd.StatusFailed {
			t.Errorf("session after an oversized video: %s, want FAILED", got.Status)
		}
	})
	t.Run("LegacyClient", func(t *testing.T) {
		// Clients before 3.4.0 offer only the light challenge 1.0.0.
		sess, token := plain.create(t, "tenant-a")
		c := dial(t, plain.srv, dialOptions{sessionID: sess.ID, token: token, challenges: "FaceMovementAndLightChallenge_1.0.0"})
		if _, ok := c.sessionInfo()["FaceMovementAndLightChallenge"]; !ok {
			t.Fatal("no light challenge for a legacy client")
		}
	})
	t.Run("NoStartEvent", func(t *testing.T) {
		sess, token := plain.create(t, "tenant-a")
		c := dial(t, plain.srv, dialOptions{sessionID: sess.ID, token: token})
		c.sessionInfo()
		for _, chunk := range [][]byte{{0x1a, 0x45, 0xdf, 0xa3, 1, 2, 3}, nil} {
			if err := c.send("VideoEvent", videoEvent(chunk, time.Now().UnixMilli())); err != nil {
				t.Fatal(err)
			}
		}
		c.expectException("ValidationException")
	})
	t.Run("EndOfStreamFrame", func(t *testing.T) {
		// The SDK's own end frame (an envelope without an inner message)
		// ends the video like the empty VideoChunk: here the video is junk,
		// so the decode fails, which shows the end was acted upon.
		needFFmpeg(t)
		sess, token := plain.create(t, "tenant-a")
		c := dial(t, plain.srv, dialOptions{sessionID: sess.ID, token: token})
		c.sessionInfo()
		now := time.Now().UnixMilli()
		if err := c.send("VideoEvent", videoEvent([]byte{0x1a, 0x45, 0xdf, 0xa3, 1, 2, 3}, now)); err != nil {
			t.Fatal(err)
		}
		if err := c.send("ClientSessionInformationEvent", challengeEvent("FaceMovementAndLightChallenge", map[string]any{"ChallengeId": "x", "VideoStartTimestamp": now})); err != nil {
			t.Fatal(err)
		}
		if err := c.sendInner(nil); err != nil {
			t.Fatal(err)
		}
		c.expectException("ValidationException")
		if got := plain.status(t, "tenant-a", sess.ID); got.Status != livenessd.StatusFailed || got.Result == nil || got.Result.Reason != "video quality or size is invalid" {
			t.Errorf("session %s %+v", got.Status, got.Result)
		}
	})
	t.Run("UnknownEventIgnored", func(t *testing.T) {
		sess, token := plain.create(t, "tenant-a")
		c := dial(t, plain.srv, dialOptions{sessionID: sess.ID, token: token})
		c.sessionInfo()
		if err := c.send("SomeFutureEvent", map[string]any{"X": 1}); err != nil {
			t.Fatal(err)
		}
		if err := c.conn.Write(context.Background(), websocket.MessageText, []byte("x")); err != nil {
			t.Fatal(err)
		}
		// The unknown event was skipped: the next error is the text frame's.
		c.expectException("ValidationException")
	})
	t.Run("ClientCancels", func(t *testing.T) {
		sess, token := plain.create(t, "tenant-a")
		c := dial(t, plain.srv, dialOptions{sessionID: sess.ID, token: token})
		c.sessionInfo()
		c.conn.Close(4003, "")
		deadline := time.Now().Add(5 * time.Second)
		for {
			got := plain.status(t, "tenant-a", sess.ID)
			if got.Status == livenessd.StatusFailed {
				if got.Result == nil || got.Result.Reason != "user cancelled" {
					t.Errorf("result %+v, want reason user cancelled", got.Result)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("session still %s after the client cancelled", got.Status)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// TestShutdown: a stream running when the server shuts down ends, once
// the shutdown's grace period is over, with ServiceUnavailableException
// (the component offers to try again) and its session aborted; Shutdown
// returns once it closed, and a stream opened afterwards is refused 503.
func TestShutdown(t *testing.T) {
	f := newFixture(t, nil)
	sess, token := f.create(t, "tenant-a")
	c := dial(t, f.srv, dialOptions{sessionID: sess.ID, token: token})
	c.sessionInfo()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	shut := make(chan error, 1)
	go func() { shut <- f.h.Shutdown(ctx) }()
	c.expectException("ServiceUnavailableException")
	select {
	case err := <-shut:
		if err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Shutdown did not return after its stream closed")
	}
	if got := f.status(t, "tenant-a", sess.ID); got.Status != livenessd.StatusFailed {
		t.Errorf("session %s after shutdown, want FAILED", got.Status)
	}
	u := "ws" + strings.TrimPrefix(f.srv.URL, "http") + amplify.Path + "?session-id=" + sess.ID
	_, resp, err := websocket.Dial(t.Context(), u, nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("a stream opened after shutdown: %v, response %v; want 503", err, resp)
	}
}

// TestSessionInformation checks the challenge as the component reads it:
// every field it needs non-zero, the session's own oval and colours.
func TestSessionInformation(t *testing.T) {
	f := newFixture(t, nil)
	for _, width := range []string{"640", "1280"} {
		t.Run(width, func(t *testing.T) {
			sess, token := f.create(t, "tenant-a")
			c := dial(t, f.srv, dialOptions{sessionID: sess.ID, token: token, width: width})
			chs := c.sessionInfo()
			ch, ok := chs["FaceMovementAndLightChallenge"]
			if !ok || len(chs) != 1 {
				t.Fatalf("challenge keys %v", chs)
			}
			o := ch.OvalParameters
			if o.Width <= 0 || o.Height <= 0 || o.CenterX <= 0 || o.CenterY <= 0 {
				t.Fatalf("oval %+v has a zero field", o)
			}
			W := map[string]float64{"640": 640, "1280": 1280}[width]
			if got, want := o.CenterX/W, sess.Challenge.Oval.CenterX; abs(got-want) > 0.01 {
				t.Errorf("oval centre x %.3f of the frame, session %.3f", got, want)
			}
			if got := o.Height / o.Width; abs(got-ch.ChallengeConfig["OvalHeightWidthRatio"]) > 0.01 || got < 1.1 {
				t.Errorf("oval ratio %.3f, config %.3f", got, ch.ChallengeConfig["OvalHeightWidthRatio"])
			}
			for _, k := range []string{"FaceDistanceThreshold", "FaceDistanceThresholdMin", "OvalHeightWidthRatio", "OvalIouThreshold",
				"OvalIouHeightThreshold", "OvalIouWidthThreshold", "FaceIouHeightThreshold", "FaceIouWidthThreshold"} {
				if !(ch.ChallengeConfig[k] > 0) {
					t.Errorf("ChallengeConfig.%s = %v, the client needs it non-zero", k, ch.ChallengeConfig[k])
				}
			}
			if ch.LightChallengeType != "SEQUENTIAL" {
				t.Errorf("LightChallengeType %q", ch.LightChallengeType)
			}
			if got, want := len(ch.ColorSequences), len(sess.Challenge.Colors)+1; got != want {
				t.Fatalf("%d colour entries, want %d (lead + session colours)", got, want)
			}
			for i, col := range sess.Challenge.Colors {
				e := ch.ColorSequences[i+1]
				if e.FreshnessColor.RGB != [3]int{int(col.Color[0]), int(col.Color[1]), int(col.Color[2])} {
					t.Errorf("entry %d colour %v, session %v", i+1, e.FreshnessColor.RGB, col.Color)
				}
				if e.DownscrollDuration <= 0 || e.FlatDisplayDuration <= 0 {
					t.Errorf("entry %d durations %v/%v", i+1, e.DownscrollDuration, e.FlatDisplayDuration)
				}
				if got := time.Duration(e.DownscrollDuration+e.FlatDisplayDuration) * time.Millisecond; got != col.Duration {
					t.Errorf("entry %d lasts %v, session colour %v", i+1, got, col.Duration)
				}
			}
		})
	}
}

// TestMovementChallenge: a session drawn as FaceMovementChallenge is sent
// as that challenge, without colours.
func TestMovementChallenge(t *testing.T) {
	f := newFixtureWith(t, func() (livenessd.Challenge, error) { return liveness.NewChallenge(livenessd.ChallengeMovement) }, nil)
	sess, token := f.create(t, "tenant-a")
	chs := dial(t, f.srv, dialOptions{sessionID: sess.ID, token: token}).sessionInfo()
	ch, ok := chs["FaceMovementChallenge"]
	if !ok || len(chs) != 1 {
		t.Fatalf("challenge keys %v", chs)
	}
	if ch.LightChallengeType != "" || len(ch.ColorSequences) != 0 || ch.OvalParameters.Width <= 0 || ch.ChallengeConfig["FaceDistanceThreshold"] <= 0 {
		t.Errorf("movement challenge %+v", ch)
	}
	// A client that offers only the light challenge cannot run it.
	sess, token = f.create(t, "tenant-a")
	dial(t, f.srv, dialOptions{sessionID: sess.ID, token: token, challenges: "FaceMovementAndLightChallenge_2.0.0"}).expectException("ValidationException")
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}

// sampleSource crops the largest face of a sample photo with a margin, so
// no other face of the group photo enters the frame.
func sampleSource(t *testing.T, n int) simulate.Source {
	t.Helper()
	raw, err := os.ReadFile(testutil.Sample(t, n))
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := image.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	faces, err := observer(t).Analyze(context.Background(), img)
	if err != nil || len(faces) == 0 {
		t.Fatalf("sample%d: faces %d, %v", n, len(faces), err)
	}
	best := faces[0]
	for _, f := range faces {
		if f.Box.Area() > best.Box.Area() {
			best = f
		}
	}
	b := best.Box
	m := image.Rect(int(b.X-0.45*b.W), int(b.Y-0.5*b.H), int(b.X+1.45*b.W), int(b.Y+1.4*b.H)).Intersect(img.Bounds())
	crop := image.NewNRGBA(image.Rect(0, 0, m.Dx(), m.Dy()))
	draw.Draw(crop, crop.Bounds(), img, m.Min, draw.Src)
	return simulate.Source{Img: crop, Face: livenessd.Rect{X: b.X - float64(m.Min.X), Y: b.Y - float64(m.Min.Y), W: b.W, H: b.H}}
}

// encodeWebM renders the player's frames at 15 fps up to end and encodes
// them as VP8 WebM through a pipe, the way Chrome's MediaRecorder writes
// it (no cues, no duration).
func encodeWebM(t *testing.T, p *simulate.Player, end time.Duration) []byte {
	t.Helper()
	const fps = 15
	cmd := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgba",
		"-s", "640x480", "-r", fmt.Sprint(fps), "-i", "pipe:0",
		"-pix_fmt", "yuv420p", "-c:v", "libvpx", "-b:v", "1M", "-deadline", "realtime", "-cpu-used", "8", "-threads", "1", "-f", "webm", "pipe:1")
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for i := 0; time.Duration(i)*time.Second/fps <= end; i++ {
		if _, err := in.Write(p.Render(time.Duration(i) * time.Second / fps).Pix); err != nil {
			t.Fatalf("ffmpeg stdin: %v: %s", err, stderr.String())
		}
	}
	in.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, stderr.String())
	}
	return out.Bytes()
}

// playCapture sends a whole capture as the 3.6.8 component does: the first
// video chunk, the start event, chunks about every second interleaved with
// the colour events (two at the first tick, then a wipe and a flat event
// per colour), the end event and the empty chunk.
//
// Events go out in real time, each when the wall clock reaches its stamp,
// as the component sends them; afterTheFact sends them all at once at the
// end instead, stamped as if captured just before (a stream replayed or
// rendered after the fact), which the server refuses.
func playCapture(t *testing.T, c *fakeClient, sess *livenessd.Session, video []byte, flash time.Duration, onsets []liveness.ColorShown, end time.Duration, afterTheFact bool) error {
	t.Helper()
	base := time.Now().UnixMilli()
	if afterTheFact {
		base = time.Now().Add(-end).UnixMilli() // "the capture happened just now"
	}
	key := "FaceMovementAndLightChallenge"
	chID := "1f0c9a6e-0000-4000-8000-000000000000"
	type ev struct {
		at   int64
		kind string
		body any
	}
	var evs []ev
	nChunks := int(end/time.Second) + 1
	size := (len(video) + nChunks - 1) / nChunks
	for i := range nChunks {
		lo, hi := i*size, min((i+1)*size, len(video))
		if lo >= hi {
			break
		}
		at := base + int64(i+1)*1000
		evs = append(evs, ev{at, "VideoEvent", videoEvent(video[lo:hi], at)})
	}
	evs = append(evs, ev{base + 1001, "ClientSessionInformationEvent", challengeEvent(key, map[string]any{
		"ChallengeId": chID, "VideoStartTimestamp": base,
		"InitialFace": map[string]any{"BoundingBox": map[string]float64{"Width": 0.2, "Height": 0.3, "Left": 0.4, "Top": 0.3}, "InitialFaceDetectedTimestamp": base - 50},
	})})
	rgb := func(c livenessd.RGB) map[string]any {
		return map[string]any{"RGB": []int{int(c[0]), int(c[1]), int(c[2])}}
	}
	colorEv := func(seq int, cur, prev livenessd.RGB, at int64) map[string]any {
		return challengeEvent(key, map[string]any{"ChallengeId": chID, "ColorDisplayed": map[string]any{
			"CurrentColor": rgb(cur), "SequenceNumber": seq, "CurrentColorStartTimestamp": at, "PreviousColor": rgb(prev)}})
	}
	prev := livenessd.RGB{}
	for _, o := range onsets {
		col := sess.Challenge.Colors[o.Index]
		wipe := min(100*time.Millisecond, col.Duration/2)
		wipeStart := base + (o.At - wipe/2).Milliseconds()
		if o.Index == 0 {
			evs = append(evs, ev{wipeStart, "ClientSessionInformationEvent", colorEv(0, livenessd.RGB{}, livenessd.RGB{}, wipeStart)})
		}
		evs = append(evs, ev{wipeStart, "ClientSessionInformationEvent", colorEv(o.Index+1, col.Color, prev, wipeStart)})
		flat := wipeStart + wipe.Milliseconds()
		evs = append(evs, ev{flat, "ClientSessionInformationEvent", colorEv(o.Index+1, col.Color, col.Color, flat)})
		prev = col.Color
	}
	endAt := base + end.Milliseconds()
	oval := sess.Challenge.Oval
	evs = append(evs, ev{endAt + 2000, "ClientSessionInformationEvent", challengeEvent(key, map[string]any{
		"ChallengeId": chID, "VideoEndTimestamp": endAt,
		"InitialFace": map[string]any{"BoundingBox": map[string]float64{"Width": 0.2, "Height": 0.3, "Left": 0.4, "Top": 0.3}, "InitialFaceDetectedTimestamp": base - 50},
		"TargetFace": map[string]any{"BoundingBox": map[string]float64{"Width": oval.Width, "Height": oval.Height, "Left": oval.CenterX - oval.Width/2, "Top": oval.CenterY - oval.Height/2},
			"FaceDetectedInTargetPositionStartTimestamp": base + flash.Milliseconds() - 1000, "FaceDetectedInTargetPositionEndTimestamp": base + flash.Milliseconds() - 1000},
	})})
	evs = append(evs, ev{endAt + 2001, "VideoEvent", videoEvent(nil, endAt+2001)})
	// Stable sort by time keeps the order of equal timestamps.
	for i := 1; i < len(evs); i++ {
		for j := i; j > 0 && evs[j].at < evs[j-1].at; j-- {
			evs[j], evs[j-1] = evs[j-1], evs[j]
		}
	}
	// As seen from Chrome, the first video chunk precedes the start event.
	for _, e := range evs {
		if !afterTheFact {
			if d := time.Until(time.UnixMilli(e.at)); d > 0 {
				time.Sleep(d) // the event is not due yet: the client is a real-time one
			}
		}
		if err := c.send(e.kind, e.body); err != nil {
			return fmt.Errorf("send %s: %w", e.kind, err)
		}
	}
	return nil
}

// TestCaptureEndToEnd plays rendered captures of a real face (a live one
// answering the colours, and a replay answering another sequence) as WebM
// through the real handler, ffmpeg, the face pipeline and the analysis,
// and reads the stored verdicts.
func TestCaptureEndToEnd(t *testing.T) {
	needFFmpeg(t)
	obs := observer(t)
	keys, err := sigv4.NewStaticKeys(sigv4.Credential{AccessKeyID: "AKIDA", Secret: "secret-a", Tenant: "tenant-a"})
	if err != nil {
		t.Fatal(err)
	}
	f := newFixtureWith(t, fixedChallenge, func(c *amplify.Config) { c.Observer = obs; c.Keys = keys })
	src := sampleSource(t, 5)
	// The Amplify transport must hand the analysis what it needs: every
	// frame decoded with the face in it, the colour onsets on the video's
	// clock (a wrong mapping, one colour off or without the
	// VideoStartTimestamp offset, collapses the correlation), and a stored
	// final verdict: SUCCEEDED for the live face through VP8, FAILED for a
	// replay answering another colour sequence.
	for _, test := range []struct {
		name    string
		attack  simulate.Attack
		minCorr float64 // light_correlation at least
		maxCorr float64 // light_correlation at most
		want    livenessd.Status
	}{
		{"Live", simulate.AttackNone, 0.7, 1, livenessd.StatusSucceeded},
		{"Replay", simulate.AttackReplay, -1, 0.5, livenessd.StatusFailed},
	} {
		t.Run(test.name, func(t *testing.T) {
			sess, _ := f.create(t, "tenant-a")
			p, err := simulate.NewPlayer(src, sess.Challenge, simulate.Options{Attack: test.attack, Seed: 7, Strength: 0.06})
			if err != nil {
				t.Fatal(err)
			}
			flash := 2800 * time.Millisecond
			onsets := p.Flash(flash)
			end := p.End() + 300*time.Millisecond
			video := encodeWebM(t, p, end)

			s := &sigv4.Signer{Credential: sigv4.Credential{AccessKeyID: "AKIDA", Secret: "secret-a"}, Region: "local"}
			c := dial(t, f.srv, dialOptions{sessionID: sess.ID, signer: s})
			c.sessionInfo()
			if err := playCapture(t, c, sess, video, flash, onsets, end, false); err != nil {
				t.Fatal(err)
			}
			began := time.Now()
			m, err := c.read(2 * time.Minute)
			if err != nil {
				t.Fatalf("waiting for DisconnectionEvent: %v", err)
			}
			if m.eventType != "DisconnectionEvent" {
				t.Fatalf("got %s %s%s: %s", m.messageType, m.eventType, m.exceptionType, m.payload)
			}
			latency := time.Since(began)
			if _, err := c.read(10 * time.Second); websocket.CloseStatus(err) != websocket.StatusNormalClosure {
				t.Fatalf("after DisconnectionEvent: %v, want close 1000", err)
			}
			got := f.status(t, "tenant-a", sess.ID)
			if got.Result == nil {
				t.Fatalf("session %s has no result", got.Status)
			}
			t.Logf("%s: %s confidence %.1f reason %q, %d bytes of video, verdict %v after the last event; signals %v",
				test.name, got.Status, got.Result.Confidence, got.Result.Reason, len(video), latency.Round(time.Millisecond), got.Result.Signals)
			if !got.Status.Final() || got.Status == livenessd.StatusExpired {
				t.Fatalf("status %s after the capture", got.Status)
			}
			if got.Status != test.want {
				t.Errorf("status %s (reason %q), want %s", got.Status, got.Result.Reason, test.want)
			}
			sig := got.Result.Signals
			if sig["light_timing"] != 1 {
				t.Errorf("the colour events did not map onto the challenge: light_timing %v", sig["light_timing"])
			}
			if c := sig["light_correlation"]; c < test.minCorr || c > test.maxCorr {
				t.Errorf("light_correlation %.3f outside [%.2f, %.2f]", c, test.minCorr, test.maxCorr)
			}
			if sig["face_frames"] < 0.9 || sig["frames"] < 60 {
				t.Errorf("decoded %v frames, face in %.2f of the observed ones", sig["frames"], sig["face_frames"])
			}
			if len(got.Result.ReferenceImage) == 0 {
				t.Error("no reference image")
			}
		})
	}
}

// TestCaptureAfterTheFact: a capture whose colour events arrive long after
// their timestamps (all sent at once at the end, as a stream rendered or
// replayed after the fact) is refused with a ValidationException before
// its video is analysed, and the session fails.
func TestCaptureAfterTheFact(t *testing.T) {
	f := newFixtureWith(t, fixedChallenge, nil)
	sess, token := f.create(t, "tenant-a")
	flash := 2800 * time.Millisecond
	var onsets []liveness.ColorShown
	at := flash
	for i, c := range sess.Challenge.Colors {
		onsets = append(onsets, liveness.ColorShown{Index: i, At: at})
		at += c.Duration
	}
	end := at + 300*time.Millisecond
	video := append([]byte{0x1a, 0x45, 0xdf, 0xa3}, make([]byte, 4096)...) // WebM magic; never decoded
	c := dial(t, f.srv, dialOptions{sessionID: sess.ID, token: token})
	c.sessionInfo()
	_ = playCapture(t, c, sess, video, flash, onsets, end, true) // the server may hang up midway
	c.expectException("ValidationException")
	got := f.status(t, "tenant-a", sess.ID)
	if got.Status != livenessd.StatusFailed || got.Result == nil || !strings.Contains(got.Result.Reason, "server's clock") {
		t.Fatalf("status %s (%+v), want FAILED for the timing", got.Status, got.Result)
	}
}
