package session_test

import (
	"context"
	"encoding/base64"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/liveness"
	"github.com/livenessd/livenessd/internal/session"
	"github.com/livenessd/livenessd/internal/store/sqlite"
	"github.com/livenessd/livenessd/internal/testutil"
)

type env struct {
	svc   *session.Service
	store *sqlite.Store
	clk   *testutil.Clock
	path  string
}

func newEnv(t *testing.T, mod func(*session.Config)) *env {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sessions.db")
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clk := testutil.NewClock(time.Date(2026, 11, 24, 12, 30, 0, 0, time.UTC))
	cfg := session.Config{
		Store:      st,
		Challenges: func() (livenessd.Challenge, error) { return liveness.NewChallenge("") },
		Now:        clk.Now,
	}
	if mod != nil {
		mod(&cfg)
	}
	svc, err := session.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	return &env{svc: svc, store: st, clk: clk, path: path}
}

func tokenAuth(svc *session.Service, token string) func(*livenessd.Session) error {
	return func(s *livenessd.Session) error { return svc.CheckClientToken(s, token) }
}

func liveResult() livenessd.Result {
	return livenessd.Result{
		Status: livenessd.StatusSucceeded, Confidence: 97.5, IsLive: true,
		ReferenceImage: []byte("\xff\xd8reference-jpeg"),
		AuditImages:    []livenessd.AuditImage{{JPEG: []byte("\xff\xd8audit-1")}, {JPEG: []byte("\xff\xd8audit-2")}},
		Signals:        map[string]float64{"light_z": 6.1},
		Validations:    []string{"face_detected", "quality_check", "anti_spoofing", "challenge_response"},
	}
}

func TestService_Lifecycle(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil)
	sess, token, err := e.svc.Create(ctx, "tenantA", livenessd.Settings{AuditImagesLimit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if !session.ValidID(sess.ID) {
		t.Fatalf("id %q is not a UUID", sess.ID)
	}
	if got, want := sess.Status, livenessd.StatusCreated; got != want {
		t.Fatalf("status=%v, want %v", got, want)
	}
	if got, want := sess.ExpiresAt.Sub(sess.CreatedAt), session.DefaultTTL; got != want {
		t.Fatalf("ttl=%v, want %v", got, want)
	}
	if len(token) != 43 {
		t.Fatalf("client token %q: want 43 base64url characters", token)
	}
	if len(sess.Challenge.Colors) < liveness.MinColors {
		t.Fatalf("challenge has %d colours", len(sess.Challenge.Colors))
	}

	// Wrong token: refused, and the session stays CREATED.
	if _, err := e.svc.BeginCapture(ctx, sess.ID, tokenAuth(e.svc, token+"x")); !errors.Is(err, livenessd.ErrUnauthorized) {
		t.Fatalf("wrong token: err=%v, want ErrUnauthorized", err)
	}
	got, err := e.svc.Get(ctx, "tenantA", sess.ID)
	if err != nil || got.Status != livenessd.StatusCreated {
		t.Fatalf("after refused capture: %v %v", got, err)
	}
	// Right token: IN_PROGRESS; a second capture is refused.
	if _, err := e.svc.BeginCapture(ctx, sess.ID, tokenAuth(e.svc, token)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.BeginCapture(ctx, sess.ID, tokenAuth(e.svc, token)); !errors.Is(err, livenessd.ErrSessionUsed) {
		t.Fatalf("second capture: err=%v, want ErrSessionUsed", err)
	}
	if err := e.svc.Complete(ctx, sess.ID, livenessd.Result{Status: livenessd.StatusInProgress}); !errors.Is(err, livenessd.ErrInvalidRequest) {
		t.Fatalf("complete with a non-final status: err=%v", err)
	}
	e.clk.Advance(3 * time.Second)
	if err := e.svc.Complete(ctx, sess.ID, liveResult()); err != nil {
		t.Fatal(err)
	}
	got, err = e.svc.Get(ctx, "tenantA", sess.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != livenessd.StatusSucceeded || got.Result == nil || got.Result.Confidence != 97.5 ||
		string(got.Result.ReferenceImage) != "\xff\xd8reference-jpeg" || len(got.Result.AuditImages) != 2 {
		t.Fatalf("completed session = %+v / %+v", got, got.Result)
	}
	if !got.Result.Timestamp.Equal(e.clk.Now()) {
		t.Fatalf("result timestamp %v, want the clock's %v", got.Result.Timestamp, e.clk.Now())
	}
	if got.Version != 2 {
		t.Fatalf("version=%d, want 2 (two transitions)", got.Version)
	}
	// Completing or aborting again changes nothing.
	if err := e.svc.Complete(ctx, sess.ID, liveResult()); !errors.Is(err, livenessd.ErrSessionUsed) {
		t.Fatalf("second complete: err=%v", err)
	}
	if err := e.svc.Abort(ctx, sess.ID, "late"); err != nil {
		t.Fatalf("abort of a final session: %v", err)
	}
	if got, _ := e.svc.Get(ctx, "tenantA", sess.ID); got.Status != livenessd.StatusSucceeded {
		t.Fatalf("abort changed a final session to %v", got.Status)
	}
}

func TestService_TenantIsolation(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil)
	sess, _, err := e.svc.Create(ctx, "tenantA", livenessd.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, tenant, id string
	}{
		{"OtherTenant", "tenantB", sess.ID},
		{"EmptyTenant", "", sess.ID},
		{"UnknownID", "tenantA", "00000000-0000-4000-8000-000000000000"},
		{"NotAUUID", "tenantA", "../../etc/passwd"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := e.svc.Get(ctx, tc.tenant, tc.id); !errors.Is(err, livenessd.ErrSessionNotFound) {
				t.Fatalf("err=%v, want ErrSessionNotFound", err)
			}
		})
	}
}

func TestService_CreateValidation(t *testing.T) {
	e := newEnv(t, nil)
	for _, n := range []int{-1, 5, 100} {
		if _, _, err := e.svc.Create(context.Background(), "t", livenessd.Settings{AuditImagesLimit: n}); !errors.Is(err, livenessd.ErrInvalidRequest) {
			t.Errorf("auditImagesLimit %d: err=%v, want ErrInvalidRequest", n, err)
		}
	}
	failing := newEnv(t, func(c *session.Config) {
		c.Challenges = func() (livenessd.Challenge, error) { return livenessd.Challenge{}, errors.New("entropy exhausted") }
	})
	if _, _, err := failing.svc.Create(context.Background(), "t", livenessd.Settings{}); !errors.Is(err, livenessd.ErrSessionCreate) {
		t.Fatalf("challenge failure: err=%v, want ErrSessionCreate", err)
	}
}

func TestService_Expiry(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, func(c *session.Config) { c.TTL = 3 * time.Minute })
	sess, token, err := e.svc.Create(ctx, "t", livenessd.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := sess.ExpiresAt, e.clk.Now().Add(3*time.Minute); !got.Equal(want) {
		t.Fatalf("ExpiresAt=%v, want %v", got, want)
	}
	e.clk.Advance(3*time.Minute - time.Millisecond)
	if err := e.svc.CheckClientToken(sess, token); err != nil {
		t.Fatalf("token just before expiry: %v", err)
	}
	e.clk.Advance(time.Millisecond)
	got, err := e.svc.Get(ctx, "t", sess.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != livenessd.StatusExpired {
		t.Fatalf("status at ExpiresAt = %v, want EXPIRED", got.Status)
	}
	if err := e.svc.CheckClientToken(sess, token); !errors.Is(err, livenessd.ErrSessionExpired) {
		t.Fatalf("token at expiry: err=%v", err)
	}
	if _, err := e.svc.BeginCapture(ctx, sess.ID, nil); !errors.Is(err, livenessd.ErrSessionExpired) {
		t.Fatalf("capture after expiry: err=%v, want ErrSessionExpired", err)
	}
}

func TestService_ClientTokenTTL(t *testing.T) {
	e := newEnv(t, func(c *session.Config) { c.ClientTokenTTL = time.Minute })
	sess, token, err := e.svc.Create(context.Background(), "t", livenessd.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(time.Minute)
	if err := e.svc.CheckClientToken(sess, token); !errors.Is(err, livenessd.ErrSessionExpired) {
		t.Fatalf("token after its TTL: err=%v", err)
	}
}

// TestService_ConcurrentCapture: of many simultaneous captures exactly one
// wins (compare-and-set in the store).
func TestService_ConcurrentCapture(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil)
	sess, token, err := e.svc.Create(ctx, "t", livenessd.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	var wins, used atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.svc.BeginCapture(ctx, sess.ID, tokenAuth(e.svc, token))
			switch {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, livenessd.ErrSessionUsed):
				used.Add(1)
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 || used.Load() != 7 {
		t.Fatalf("wins=%d used=%d, want 1 and 7", wins.Load(), used.Load())
	}
}

func TestService_AbortActive(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil)
	var ids []string
	for range 3 {
		sess, _, err := e.svc.Create(ctx, "t", livenessd.Settings{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.BeginCapture(ctx, sess.ID, nil); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, sess.ID)
	}
	if err := e.svc.Complete(ctx, ids[0], liveResult()); err != nil {
		t.Fatal(err)
	}
	n, err := e.svc.AbortActive(ctx, "server shutting down")
	if err != nil || n != 2 {
		t.Fatalf("AbortActive = %d, %v; want 2", n, err)
	}
	for i, id := range ids {
		got, err := e.svc.Get(ctx, "t", id)
		if err != nil {
			t.Fatal(err)
		}
		want := livenessd.StatusFailed
		if i == 0 {
			want = livenessd.StatusSucceeded
		}
		if got.Status != want {
			t.Errorf("session %d: %v, want %v", i, got.Status, want)
		}
		if i > 0 && got.Result.Reason != "server shutting down" {
			t.Errorf("session %d: reason %q", i, got.Result.Reason)
		}
	}
}

// TestService_Purge: images are deleted at expiry + retention, the record
// at expiry + retention + RecordTTL, and nothing earlier.
func TestService_Purge(t *testing.T) {
	ctx := context.Background()
	const retention = 5 * time.Minute
	e := newEnv(t, func(c *session.Config) {
		c.TTL = 10 * time.Minute
		c.Retention = retention
		c.RecordTTL = time.Hour
	})
	sess, _, err := e.svc.Create(ctx, "t", livenessd.Settings{AuditImagesLimit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.BeginCapture(ctx, sess.ID, nil); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Complete(ctx, sess.ID, liveResult()); err != nil {
		t.Fatal(err)
	}
	other, _, err := e.svc.Create(ctx, "t", livenessd.Settings{}) // never captured
	if err != nil {
		t.Fatal(err)
	}

	markers := []string{"reference-jpeg", base64.StdEncoding.EncodeToString([]byte("\xff\xd8audit-1"))}
	for _, marker := range markers {
		if !dbContains(t, e, marker) {
			t.Fatalf("control: %q not found in the database before the purge", marker)
		}
	}

	e.clk.Advance(10*time.Minute + retention - time.Second) // just before expiry + retention
	if n, d, err := e.svc.Purge(ctx); err != nil || n != 0 || d != 0 {
		t.Fatalf("early purge = %d, %d, %v; want nothing", n, d, err)
	}
	got, _ := e.store.Get(ctx, sess.ID)
	if len(got.Result.ReferenceImage) == 0 || e.svc.Purged(got) {
		t.Fatal("images gone before expiry + retention")
	}

	e.clk.Advance(2 * time.Second)
	if !e.svc.Purged(got) {
		t.Fatal("Purged false after expiry + retention")
	}
	if n, d, err := e.svc.Purge(ctx); err != nil || n != 1 || d != 0 {
		t.Fatalf("purge = %d, %d, %v; want 1 session's images, no deletion", n, d, err)
	}
	got, err = e.store.Get(ctx, sess.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Result == nil || got.Result.ReferenceImage != nil || got.Result.AuditImages != nil {
		t.Fatalf("after purge: reference=%d bytes, audit=%d images; want none", len(got.Result.ReferenceImage), len(got.Result.AuditImages))
	}
	if got.Result.Confidence != 97.5 || got.Status != livenessd.StatusSucceeded {
		t.Fatalf("purge lost the verdict: %+v", got.Result)
	}
	// The raw database file holds no image bytes any more.
	for _, marker := range markers {
		if dbContains(t, e, marker) {
			t.Fatalf("database file still contains %q after the purge", marker)
		}
	}

	e.clk.Advance(time.Hour)
	if _, d, err := e.svc.Purge(ctx); err != nil || d != 2 {
		t.Fatalf("record purge deleted %d, %v; want 2", d, err)
	}
	for _, id := range []string{sess.ID, other.ID} {
		if _, err := e.store.Get(ctx, id); !errors.Is(err, livenessd.ErrSessionNotFound) {
			t.Fatalf("session %s after record TTL: err=%v", id, err)
		}
	}
}

// dbContains reports whether the database file or its WAL (after a
// checkpoint) contains marker anywhere, including free space.
func dbContains(t *testing.T, e *env, marker string) bool {
	t.Helper()
	if err := e.store.Checkpoint(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{e.path, e.path + "-wal"} {
		b, err := readFileIfExists(p)
		if err != nil {
			t.Fatal(err)
		}
		if containsBytes(b, []byte(marker)) {
			return true
		}
	}
	return false
}

func TestService_PurgeLoop(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, func(c *session.Config) { c.PurgeInterval = 5 * time.Millisecond })
	sess, _, err := e.svc.Create(ctx, "t", livenessd.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.BeginCapture(ctx, sess.ID, nil); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Complete(ctx, sess.ID, liveResult()); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Open(); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Open(); err == nil {
		t.Fatal("second Open succeeded")
	}
	e.clk.Advance(session.DefaultTTL)
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, err := e.store.Get(ctx, sess.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Result.ReferenceImage == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("purge loop did not delete the images within 5 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := e.svc.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestNewID(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id, err := session.NewID()
		if err != nil {
			t.Fatal(err)
		}
		if !session.ValidID(id) || id[14] != '4' || (id[19] != '8' && id[19] != '9' && id[19] != 'a' && id[19] != 'b') {
			t.Fatalf("%q is not a version 4 UUID", id)
		}
		if seen[id] {
			t.Fatalf("duplicate id %s", id)
		}
		seen[id] = true
	}
	for _, bad := range []string{"", "abc", "2450BD2E-220B-42C8-90F1-14293292AC79", "2450bd2e-220b-42c8-90f1-14293292ac7g", "2450bd2e0220b-42c8-90f1-14293292ac79"} {
		if session.ValidID(bad) {
			t.Errorf("ValidID(%q) = true", bad)
		}
	}
}

// TestService_RecoverInterrupted: a capture whose process died (it never
// renews its lease) is marked FAILED with a readable reason by another
// replica once the lease ran out, never before, and never a capture the
// recovering process runs itself. An Exclusive store recovers at Open.
func TestService_RecoverInterrupted(t *testing.T) {
	ctx := context.Background()
	crashed := newEnv(t, func(c *session.Config) { c.LeaseTTL = 30 * time.Second })
	sess, token, err := crashed.svc.Create(ctx, "t1", livenessd.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := crashed.svc.BeginCapture(ctx, sess.ID, tokenAuth(crashed.svc, token)); err != nil {
		t.Fatal(err)
	}
	// A second replica on the same store, with the same clock.
	var finished []string
	replica, err := session.New(session.Config{
		Store: crashed.store, Now: crashed.clk.Now, LeaseTTL: 30 * time.Second,
		Challenges: func() (livenessd.Challenge, error) { return liveness.NewChallenge("") },
		OnFinish:   func(_ context.Context, s *livenessd.Session) { finished = append(finished, s.ID+" "+string(s.Status)) },
	})
	if err != nil {
		t.Fatal(err)
	}
	own, ownToken, _ := replica.Create(ctx, "t1", livenessd.Settings{})
	if _, err := replica.BeginCapture(ctx, own.ID, tokenAuth(replica, ownToken)); err != nil {
		t.Fatal(err)
	}
	if n, err := replica.RecoverInterrupted(ctx, crashed.clk.Now()); err != nil || n != 0 {
		t.Fatalf("recovered %d (%v) while the lease runs", n, err)
	}
	crashed.clk.Advance(31 * time.Second)
	if n, err := replica.RecoverInterrupted(ctx, crashed.clk.Now()); err != nil || n != 1 {
		t.Fatalf("recovered %d (%v) after the lease, want 1 (not the replica's own capture)", n, err)
	}
	got, err := replica.Get(ctx, "t1", sess.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != livenessd.StatusFailed || got.Result == nil || got.Result.Reason != session.InterruptedReason {
		t.Fatalf("crashed capture: %s %+v", got.Status, got.Result)
	}
	if len(finished) != 1 || finished[0] != sess.ID+" FAILED" {
		t.Fatalf("OnFinish calls %v", finished)
	}
	if got, _ := replica.Get(ctx, "t1", own.ID); got.Status != livenessd.StatusInProgress {
		t.Fatalf("the replica's own capture became %s", got.Status)
	}

	// Restart on an exclusive store: the capture left IN_PROGRESS by the
	// previous run fails at Open, lease or not.
	st, err := sqlite.Open(ctx, crashed.path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc, err := session.New(session.Config{Store: st, Exclusive: true, Now: crashed.clk.Now,
		Challenges: func() (livenessd.Challenge, error) { return liveness.NewChallenge("") }})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Open(); err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	if got, _ := svc.Get(ctx, "t1", own.ID); got.Status != livenessd.StatusFailed || got.Result.Reason != session.InterruptedReason {
		t.Fatalf("after an exclusive restart: %s %+v", got.Status, got.Result)
	}
}

// TestService_Lockout: 5 FAILED checks of one externalUserId within 3
// minutes lock it out for 30 minutes; other users, other tenants and
// server-caused failures are not affected.
func TestService_Lockout(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil)
	svc, err := session.New(session.Config{Store: e.store, Lockouts: e.store, Now: e.clk.Now,
		Challenges: func() (livenessd.Challenge, error) { return liveness.NewChallenge("") }})
	if err != nil {
		t.Fatal(err)
	}
	fail := func(tenant, user, reason string) error {
		t.Helper()
		sess, token, err := svc.Create(ctx, tenant, livenessd.Settings{ExternalUserID: user})
		if err != nil {
			return err
		}
		if _, err := svc.BeginCapture(ctx, sess.ID, tokenAuth(svc, token)); err != nil {
			t.Fatal(err)
		}
		if err := svc.Abort(ctx, sess.ID, reason); err != nil {
			t.Fatal(err)
		}
		e.clk.Advance(20 * time.Second)
		return nil
	}
	// Failures of the server do not count.
	for range 5 {
		if err := fail("t1", "alice", session.ShutdownReason); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 5 {
		if err := fail("t1", "alice", "client closed the connection"); err != nil {
			t.Fatalf("failure %d refused: %v", i+1, err)
		}
	}
	err = fail("t1", "alice", "x")
	var locked *session.LockedError
	if !errors.As(err, &locked) || !errors.Is(err, livenessd.ErrUserLocked) {
		t.Fatalf("sixth session after 5 failures: %v", err)
	}
	if d := locked.Until.Sub(e.clk.Now()); d <= 29*time.Minute || d > 30*time.Minute {
		t.Fatalf("locked for %v more, want about 30 min", d)
	}
	for _, other := range [][2]string{{"t1", "bob"}, {"t2", "alice"}, {"t1", ""}} {
		if err := fail(other[0], other[1], "x"); err != nil {
			t.Fatalf("tenant %s user %q refused: %v", other[0], other[1], err)
		}
	}
	e.clk.Advance(30 * time.Minute)
	if err := fail("t1", "alice", "x"); err != nil {
		t.Fatalf("after the lock: %v", err)
	}
}
