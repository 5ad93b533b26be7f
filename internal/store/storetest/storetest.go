// Package storetest is the conformance suite every session.Store passes:
// round trips, compare-and-set transitions (one winner among racing
// replicas), capture leases and API keys. Each store's tests call Run.
package storetest

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/auth"
	"github.com/livenessd/livenessd/internal/session"
)

// Store is what the suite needs: a session store that also keeps keys.
type Store interface {
	session.Store
	session.Lockouts
	auth.KeyStore
}

// Open returns a fresh, empty store for one subtest. Several calls within
// one subtest must share the data (they stand for several replicas).
type Open func(t *testing.T) func() Store

// Session returns a CREATED session with every field set, created at now.
func Session(id string, now time.Time) *livenessd.Session {
	return &livenessd.Session{
		ID:       id,
		Tenant:   "t_abc",
		Status:   livenessd.StatusCreated,
		Settings: livenessd.Settings{AuditImagesLimit: 3},
		Challenge: livenessd.Challenge{
			ID: "c1", Type: livenessd.ChallengeMovementAndLight, Version: "1",
			Oval:   livenessd.Oval{CenterX: 0.5, CenterY: 0.45, Width: 0.4, Height: 0.55},
			Colors: []livenessd.ColorStep{{Color: livenessd.RGB{255, 0, 0}, Duration: 400 * time.Millisecond}},
		},
		CreatedAt:       now,
		ExpiresAt:       now.Add(10 * time.Minute),
		UpdatedAt:       now,
		ClientTokenHash: auth.Hash("token"),
	}
}

// Result is a final result with images.
func Result(now time.Time) *livenessd.Result {
	return &livenessd.Result{
		Status: livenessd.StatusSucceeded, Confidence: 98.25, IsLive: true,
		ReferenceImage: []byte{0xff, 0xd8, 1, 2, 3},
		ReferenceBox:   livenessd.BoundingBox{Width: 0.3, Height: 0.4, Left: 0.2, Top: 0.1},
		AuditImages:    []livenessd.AuditImage{{JPEG: []byte{0xff, 0xd8, 9}, Box: livenessd.BoundingBox{Width: 0.5}}},
		Signals:        map[string]float64{"texture": 0.97},
		Validations:    []string{"face_detected"},
		Message:        "Liveness verified with 98.25% confidence",
		Timestamp:      now,
	}
}

const (
	id1 = "2450bd2e-220b-42c8-90f1-14293292ac79"
	id2 = "00000000-0000-4000-8000-000000000000"
)

// Run runs the suite.
func Run(t *testing.T, open Open) {
	t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, open(t)()) })
	t.Run("CompareAndSet", func(t *testing.T) { testCompareAndSet(t, open(t)()) })
	t.Run("OneWinnerAcrossReplicas", func(t *testing.T) { testOneWinner(t, open(t)) })
	t.Run("Leases", func(t *testing.T) { testLeases(t, open(t)()) })
	t.Run("APIKeys", func(t *testing.T) { testKeys(t, open(t)()) })
	t.Run("Lockouts", func(t *testing.T) { testLockouts(t, open(t)) })
}

func testLockouts(t *testing.T, open func() Store) {
	ctx := context.Background()
	s, replica := open(), open()
	now := time.Now().UTC().Truncate(time.Millisecond)
	const window = 3 * time.Minute
	for i, at := range []time.Duration{0, time.Minute, 2 * time.Minute} {
		// Failures counted on two replicas add up.
		st := s
		if i%2 == 1 {
			st = replica
		}
		n, err := st.AddFailure(ctx, "k1", now.Add(at), window)
		if err != nil {
			t.Fatal(err)
		}
		if n != i+1 {
			t.Fatalf("failure %d: count %d", i+1, n)
		}
	}
	// Past the window the first failure no longer counts.
	if n, err := s.AddFailure(ctx, "k1", now.Add(window+time.Second), window); err != nil || n != 3 {
		t.Fatalf("count after the window = %d, %v; want 3", n, err)
	}
	if n, _ := s.AddFailure(ctx, "k2", now, window); n != 1 {
		t.Fatalf("another key counted %d", n)
	}
	if until, err := s.LockedUntil(ctx, "k1"); err != nil || !until.IsZero() {
		t.Fatalf("LockedUntil before a lock = %v, %v", until, err)
	}
	until := time.Now().UTC().Add(30 * time.Minute).Truncate(time.Millisecond)
	if err := s.Lock(ctx, "k1", until); err != nil {
		t.Fatal(err)
	}
	if got, err := replica.LockedUntil(ctx, "k1"); err != nil || !got.Equal(until) {
		t.Fatalf("LockedUntil = %v, %v; want %v", got, err, until)
	}
	if got, _ := replica.LockedUntil(ctx, "k2"); !got.IsZero() {
		t.Fatalf("k2 locked until %v", got)
	}
}

func testRoundTrip(t *testing.T, s Store) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	sess := Session(id1, now)
	if err := s.Create(ctx, sess); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, id1)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, sess) {
		t.Fatalf("created:\n got %+v\nwant %+v", got, sess)
	}
	sess.Status = livenessd.StatusInProgress
	sess.LeaseUntil = now.Add(time.Minute)
	if err := s.Update(ctx, sess, livenessd.StatusCreated, 0); err != nil {
		t.Fatal(err)
	}
	sess.Status = livenessd.StatusSucceeded
	sess.Result = Result(now)
	sess.UpdatedAt = now.Add(time.Second)
	if err := s.Update(ctx, sess, livenessd.StatusInProgress, 1); err != nil {
		t.Fatal(err)
	}
	if got, err = s.Get(ctx, id1); err != nil {
		t.Fatal(err)
	}
	// A finished capture's lease means nothing; stores may drop it.
	got.LeaseUntil, sess.LeaseUntil = time.Time{}, time.Time{}
	if !reflect.DeepEqual(got, sess) || !reflect.DeepEqual(got.Result, sess.Result) {
		t.Fatalf("finished:\n got %+v %+v\nwant %+v %+v", got, got.Result, sess, sess.Result)
	}
	if err := s.Create(ctx, sess); err == nil {
		t.Fatal("duplicate Create succeeded")
	}
	if err := s.Delete(ctx, id1); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, id1); err != nil {
		t.Fatalf("second delete: %v", err)
	}
	if _, err := s.Get(ctx, id1); !errors.Is(err, livenessd.ErrSessionNotFound) {
		t.Fatalf("get deleted: err=%v", err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}

func testCompareAndSet(t *testing.T, s Store) {
	ctx := context.Background()
	now := time.Now().UTC()
	if err := s.Create(ctx, Session(id1, now)); err != nil {
		t.Fatal(err)
	}
	a, _ := s.Get(ctx, id1)
	b, _ := s.Get(ctx, id1)
	a.Status = livenessd.StatusInProgress
	if err := s.Update(ctx, a, livenessd.StatusCreated, 0); err != nil {
		t.Fatal(err)
	}
	if a.Version != 1 {
		t.Fatalf("version after update = %d, want 1", a.Version)
	}
	b.Status = livenessd.StatusInProgress
	for _, tc := range []struct {
		name    string
		prev    livenessd.Status
		version int64
	}{
		{"StaleVersion", livenessd.StatusCreated, 0},
		{"WrongStatus", livenessd.StatusCreated, 1},
		{"FutureVersion", livenessd.StatusInProgress, 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.Update(ctx, b, tc.prev, tc.version); !errors.Is(err, session.ErrConflict) {
				t.Fatalf("err=%v, want ErrConflict", err)
			}
		})
	}
	missing := Session(id2, now)
	if err := s.Update(ctx, missing, livenessd.StatusCreated, 0); !errors.Is(err, session.ErrConflict) {
		t.Fatalf("update of a missing session: err=%v", err)
	}
	if _, err := s.Get(ctx, id2); !errors.Is(err, livenessd.ErrSessionNotFound) {
		t.Fatalf("get missing: err=%v", err)
	}
}

// testOneWinner races 8 replicas (separate store handles on the same
// data) to begin the capture of one session: exactly one wins.
func testOneWinner(t *testing.T, open func() Store) {
	ctx := context.Background()
	first := open()
	if err := first.Create(ctx, Session(id1, time.Now().UTC())); err != nil {
		t.Fatal(err)
	}
	const replicas = 8
	stores := []Store{first}
	for len(stores) < replicas {
		stores = append(stores, open())
	}
	var wins, conflicts atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, s := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sess, err := s.Get(ctx, id1)
			if err != nil {
				t.Error(err)
				return
			}
			<-start
			sess.Status = livenessd.StatusInProgress
			switch err := s.Update(ctx, sess, livenessd.StatusCreated, sess.Version); {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, session.ErrConflict):
				conflicts.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if wins.Load() != 1 || conflicts.Load() != replicas-1 {
		t.Fatalf("%d wins, %d conflicts of %d replicas; want exactly one win", wins.Load(), conflicts.Load(), replicas)
	}
}

func testLeases(t *testing.T, s Store) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	for _, id := range []string{id1, id2} {
		if err := s.Create(ctx, Session(id, now)); err != nil {
			t.Fatal(err)
		}
	}
	// A CREATED session is not a capture: never interrupted.
	if ids, err := s.Interrupted(ctx, now.Add(time.Hour)); err != nil || len(ids) != 0 {
		t.Fatalf("Interrupted with no capture = %v, %v", ids, err)
	}
	a, _ := s.Get(ctx, id1)
	a.Status, a.LeaseUntil = livenessd.StatusInProgress, now.Add(10*time.Second)
	if err := s.Update(ctx, a, livenessd.StatusCreated, 0); err != nil {
		t.Fatal(err)
	}
	b, _ := s.Get(ctx, id2)
	b.Status, b.LeaseUntil = livenessd.StatusInProgress, now.Add(20*time.Second)
	if err := s.Update(ctx, b, livenessd.StatusCreated, 0); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		at   time.Duration
		want []string
	}{{5 * time.Second, nil}, {15 * time.Second, []string{id1}}, {25 * time.Second, []string{id1, id2}}} {
		ids, err := s.Interrupted(ctx, now.Add(tc.at))
		if err != nil {
			t.Fatal(err)
		}
		if !sameSet(ids, tc.want) {
			t.Fatalf("Interrupted(now+%v) = %v, want %v", tc.at, ids, tc.want)
		}
	}
	// Renewal moves the lease without a new version.
	if err := s.RenewLease(ctx, id1, now.Add(30*time.Second)); err != nil {
		t.Fatal(err)
	}
	if ids, _ := s.Interrupted(ctx, now.Add(25*time.Second)); !sameSet(ids, []string{id2}) {
		t.Fatalf("after renewal: interrupted %v, want [%s]", ids, id2)
	}
	got, _ := s.Get(ctx, id1)
	if got.Version != 1 || !got.LeaseUntil.Equal(now.Add(30*time.Second)) {
		t.Fatalf("after renewal: version %d lease %v", got.Version, got.LeaseUntil)
	}
	// A finished capture leaves the index; renewing it changes nothing.
	got.Status = livenessd.StatusFailed
	got.Result = &livenessd.Result{Status: livenessd.StatusFailed, Reason: "x", Timestamp: now}
	if err := s.Update(ctx, got, livenessd.StatusInProgress, 1); err != nil {
		t.Fatal(err)
	}
	if err := s.RenewLease(ctx, id1, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if ids, _ := s.Interrupted(ctx, now.Add(2*time.Hour)); !sameSet(ids, []string{id2}) {
		t.Fatalf("after finish: interrupted %v, want [%s]", ids, id2)
	}
	if got, _ := s.Get(ctx, id1); got.Status != livenessd.StatusFailed || got.Version != 2 {
		t.Fatalf("renewal touched a finished session: %s v%d", got.Status, got.Version)
	}
}

func testKeys(t *testing.T, s Store) {
	ctx := context.Background()
	now := time.Now().UTC()
	var want []auth.APIKey
	for i, name := range []string{"first", "second"} {
		tenant := ""
		if i > 0 {
			tenant = want[0].TenantID() // a second key of the same tenant
		}
		_, k, err := auth.NewKeyFor(tenant, name, now.Add(time.Duration(i)*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.CreateAPIKey(ctx, k); err != nil {
			t.Fatal(err)
		}
		want = append(want, k)
	}
	got, err := s.APIKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("keys = %+v, want %+v", got, want)
	}
	if got[1].TenantID() != got[0].TenantID() {
		t.Fatalf("second key's tenant %q, want %q", got[1].TenantID(), got[0].TenantID())
	}

	// Revocation keeps its first time; last use keeps the latest.
	revokedAt := now.Add(time.Minute)
	if err := s.RevokeAPIKey(ctx, want[0].ID, revokedAt); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeAPIKey(ctx, want[0].ID, revokedAt.Add(time.Hour)); err != nil {
		t.Fatalf("revoking twice: %v", err)
	}
	if err := s.RevokeAPIKey(ctx, "nosuchkeyid", now); !errors.Is(err, auth.ErrKeyNotFound) {
		t.Fatalf("revoke unknown id: %v, want ErrKeyNotFound", err)
	}
	used := now.Add(2 * time.Minute)
	if err := s.TouchAPIKeys(ctx, map[string]time.Time{want[1].ID: used, "nosuchkeyid": used}); err != nil {
		t.Fatal(err)
	}
	if err := s.TouchAPIKeys(ctx, map[string]time.Time{want[1].ID: used.Add(-time.Minute)}); err != nil {
		t.Fatal(err)
	}
	want[0].RevokedAt = revokedAt
	want[1].LastUsedAt = used
	got, err = s.APIKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("after revoke and touch: keys = %+v, want %+v", got, want)
	}
	if got[0].Active() || !got[1].Active() {
		t.Fatalf("active = %v %v, want false true", got[0].Active(), got[1].Active())
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]bool{}
	for _, x := range a {
		m[x] = true
	}
	for _, x := range b {
		if !m[x] {
			return false
		}
	}
	return true
}
