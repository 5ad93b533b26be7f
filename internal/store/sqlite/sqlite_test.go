package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/auth"
	"github.com/livenessd/livenessd/internal/session"
	"github.com/livenessd/livenessd/internal/store/sqlite"
	"github.com/livenessd/livenessd/internal/store/storetest"
)

func mustOpen(tb testing.TB, path string) *sqlite.Store {
	tb.Helper()
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func testSession(now time.Time) *livenessd.Session {
	return &livenessd.Session{
		ID:       "2450bd2e-220b-42c8-90f1-14293292ac79",
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

// TestStore_ReopenKeepsSessionsAndResults: a restart (close, reopen the
// same file) keeps sessions, results, images and API keys.
func TestStore_ReopenKeepsSessionsAndResults(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "x.db")
	now := time.Date(2026, 11, 24, 12, 30, 0, 123456789, time.UTC)
	s := mustOpen(t, path)
	sess := testSession(now)
	if err := s.Create(ctx, sess); err != nil {
		t.Fatal(err)
	}
	sess.Status = livenessd.StatusSucceeded
	sess.UpdatedAt = now.Add(time.Second)
	sess.Result = &livenessd.Result{
		Status: livenessd.StatusSucceeded, Confidence: 98.25, IsLive: true,
		ReferenceImage: []byte{0xff, 0xd8, 1, 2, 3},
		ReferenceBox:   livenessd.BoundingBox{Width: 0.3, Height: 0.4, Left: 0.2, Top: 0.1},
		AuditImages:    []livenessd.AuditImage{{JPEG: []byte{0xff, 0xd8, 9}, Box: livenessd.BoundingBox{Width: 0.5}}},
		Signals:        map[string]float64{"texture": 0.97},
		Validations:    []string{"face_detected"},
		Message:        "Liveness verified with 98.25% confidence",
		Timestamp:      now.Add(time.Second),
	}
	if err := s.Update(ctx, sess, livenessd.StatusCreated, 0); err != nil {
		t.Fatal(err)
	}
	_, key, err := auth.NewKey("ci", now)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateAPIKey(ctx, key); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = mustOpen(t, path)
	defer s.Close()
	got, err := s.Get(ctx, sess.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, sess) {
		t.Fatalf("after reopen:\n got %+v\n     %+v\nwant %+v\n     %+v", got, got.Result, sess, sess.Result)
	}
	keys, err := s.APIKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || !reflect.DeepEqual(keys[0], key) {
		t.Fatalf("keys after reopen = %+v, want %+v", keys, key)
	}
}

func TestStore_UpdateIsCompareAndSet(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, filepath.Join(t.TempDir(), "x.db"))
	defer s.Close()
	now := time.Now().UTC()
	sess := testSession(now)
	if err := s.Create(ctx, sess); err != nil {
		t.Fatal(err)
	}
	if err := s.Create(ctx, sess); err == nil {
		t.Fatal("duplicate Create succeeded")
	}
	a, _ := s.Get(ctx, sess.ID)
	b, _ := s.Get(ctx, sess.ID)
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
	missing := testSession(now)
	missing.ID = "00000000-0000-4000-8000-000000000000"
	if err := s.Update(ctx, missing, livenessd.StatusCreated, 0); !errors.Is(err, session.ErrConflict) {
		t.Fatalf("update of a missing session: err=%v", err)
	}
	if _, err := s.Get(ctx, missing.ID); !errors.Is(err, livenessd.ErrSessionNotFound) {
		t.Fatalf("get missing: err=%v", err)
	}
	if err := s.Delete(ctx, sess.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, sess.ID); err != nil {
		t.Fatalf("second delete: %v", err)
	}
	if _, err := s.Get(ctx, sess.ID); !errors.Is(err, livenessd.ErrSessionNotFound) {
		t.Fatalf("get deleted: err=%v", err)
	}
}

func TestStore_RefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "x.db")
	s := mustOpen(t, path)
	if err := s.Exec(ctx, `PRAGMA user_version = 99`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := sqlite.Open(ctx, path); err == nil {
		t.Fatal("opened a database with a newer schema")
	}
}

func TestStore_Conformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) func() storetest.Store {
		path := filepath.Join(t.TempDir(), "x.db")
		return func() storetest.Store {
			s := mustOpen(t, path)
			t.Cleanup(func() { s.Close() })
			return s
		}
	})
}

// TestStore_SealedAtRest: with encryption at rest, the database file and
// its WAL hold no JPEG or PNG bytes.
func TestStore_SealedAtRest(t *testing.T) {
	storetest.SealedAtRest(t, func(t *testing.T) (storetest.Store, func() []byte) {
		path := filepath.Join(t.TempDir(), "x.db")
		s := mustOpen(t, path)
		t.Cleanup(func() { s.Close() })
		return s, func() []byte {
			var all []byte
			for _, f := range []string{path, path + "-wal"} {
				b, err := os.ReadFile(f)
				if err != nil && !errors.Is(err, os.ErrNotExist) {
					t.Fatal(err)
				}
				all = append(all, b...)
			}
			return all
		}
	})
}

// TestStore_WALStaysBounded: thousands of sessions with images, held
// readers or not, leave a WAL no larger than MaxWALBytes once the purge
// loop's checkpoint ran.
func TestStore_WALStaysBounded(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "x.db")
	s := mustOpen(t, path)
	defer s.Close()
	now := time.Now().UTC()
	img := make([]byte, 32<<10)
	for i := range img {
		img[i] = byte(i * 7)
	}
	var peak int64
	for i := range 1500 {
		sess := storetest.Session(fmt.Sprintf("%08x-0000-4000-8000-000000000000", i), now.Add(-time.Hour))
		sess.ExpiresAt = now.Add(-time.Minute)
		if err := s.Create(ctx, sess); err != nil {
			t.Fatal(err)
		}
		sess.Status = livenessd.StatusSucceeded
		sess.Result = storetest.Result(now)
		sess.Result.ReferenceImage = img
		if err := s.Update(ctx, sess, livenessd.StatusCreated, 0); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(path + "-wal"); err == nil {
			peak = max(peak, fi.Size())
		}
	}
	if _, err := s.PurgeBiometrics(ctx, now); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteExpired(ctx, now); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("WAL peak %d bytes, after purge %d bytes (%d MB written)", peak, fi.Size(), 1500*len(img)>>20)
	if fi.Size() > sqlite.MaxWALBytes || peak > 2*sqlite.MaxWALBytes {
		t.Fatalf("WAL %d bytes after purge (peak %d), bound %d", fi.Size(), peak, sqlite.MaxWALBytes)
	}
}
