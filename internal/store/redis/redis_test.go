package redis_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/store/redis"
	"github.com/livenessd/livenessd/internal/store/storetest"
	"github.com/livenessd/livenessd/internal/testutil/redistest"
)

func open(tb testing.TB, srv *redistest.Server, opt redis.Options) *redis.Store {
	tb.Helper()
	opt.URL = srv.URL()
	s, err := redis.Open(context.Background(), opt)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func TestStore_Conformance(t *testing.T) {
	srv := redistest.Start(t)
	storetest.Run(t, func(t *testing.T) func() storetest.Store {
		// One key prefix per subtest: an empty store on the shared server.
		prefix := "t:" + strings.ReplaceAll(t.Name(), "/", ":") + ":"
		return func() storetest.Store { return open(t, srv, redis.Options{Prefix: prefix}) }
	})
}

// TestStore_SealedAtRest: with encryption at rest, no Redis value holds
// JPEG or PNG bytes.
func TestStore_SealedAtRest(t *testing.T) {
	srv := redistest.Start(t)
	storetest.SealedAtRest(t, func(t *testing.T) (storetest.Store, func() []byte) {
		prefix := "t:" + strings.ReplaceAll(t.Name(), "/", ":") + ":"
		s := open(t, srv, redis.Options{Prefix: prefix})
		return s, func() []byte { return dumpValues(t, s, prefix) }
	})
}

// dumpValues returns every value under prefix, whatever its type.
func dumpValues(t *testing.T, s *redis.Store, prefix string) []byte {
	t.Helper()
	ctx := context.Background()
	rdb := s.Client()
	var all []byte
	iter := rdb.Scan(ctx, 0, prefix+"*", 100).Iterator()
	for iter.Next(ctx) {
		key := iter.Val()
		typ, err := rdb.Type(ctx, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		switch typ {
		case "string":
			v, err := rdb.Get(ctx, key).Bytes()
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, v...)
		case "hash":
			m, err := rdb.HGetAll(ctx, key).Result()
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range m {
				all = append(append(all, k...), v...)
			}
		case "zset":
			vs, err := rdb.ZRange(ctx, key, 0, -1).Result()
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range vs {
				all = append(all, v...)
			}
		default:
			t.Fatalf("key %s of type %s: dump it too", key, typ)
		}
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	return all
}

// TestStore_TTLs: every key expires by itself, images at
// ExpiresAt+Retention and the record RecordTTL later, and an image whose
// time has come is gone without any purge.
func TestStore_TTLs(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	const retention, recordTTL = time.Hour, 24 * time.Hour
	s := open(t, srv, redis.Options{Prefix: "ttl:", Retention: retention, RecordTTL: recordTTL})
	rdb := s.Client()
	now := time.Now().UTC()
	sess := storetest.Session("2450bd2e-220b-42c8-90f1-14293292ac79", now)
	if err := s.Create(ctx, sess); err != nil {
		t.Fatal(err)
	}
	sess.Status = livenessd.StatusSucceeded
	sess.Result = storetest.Result(now)
	if err := s.Update(ctx, sess, livenessd.StatusCreated, 0); err != nil {
		t.Fatal(err)
	}
	keys, err := rdb.Keys(ctx, "ttl:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 {
		t.Fatalf("keys %v, want the record and its images", keys)
	}
	for _, k := range keys {
		ttl, err := rdb.PTTL(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		want := 10*time.Minute + retention
		if strings.HasPrefix(k, "ttl:s:") {
			want += recordTTL
		}
		if d := want - ttl; ttl <= 0 || d < 0 || d > time.Minute {
			t.Errorf("%s: TTL %v, want about %v", k, ttl, want)
		}
	}

	// A session that expires now: its images vanish, the record stays.
	short := open(t, srv, redis.Options{Prefix: "short:", RecordTTL: time.Hour})
	sess = storetest.Session("00000000-0000-4000-8000-000000000000", now)
	sess.ExpiresAt = time.Now().Add(300 * time.Millisecond)
	if err := short.Create(ctx, sess); err != nil {
		t.Fatal(err)
	}
	sess.Status, sess.Result = livenessd.StatusSucceeded, storetest.Result(now)
	if err := short.Update(ctx, sess, livenessd.StatusCreated, 0); err != nil {
		t.Fatal(err)
	}
	got, err := short.Get(ctx, sess.ID)
	if err != nil || len(got.Result.ReferenceImage) == 0 {
		t.Fatalf("images missing before expiry: %v", err)
	}
	imgKey := "short:img:" + sess.ID
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := rdb.Exists(ctx, imgKey).Result()
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("images still stored 10 s after expiry")
		}
		// Redis expires keys on access too: poll until the TTL ran out.
		time.Sleep(50 * time.Millisecond)
	}
	got, err = short.Get(ctx, sess.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != livenessd.StatusSucceeded || len(got.Result.ReferenceImage) != 0 || len(got.Result.AuditImages) != 0 {
		t.Fatalf("after expiry: status %s, %d reference bytes, %d audit images", got.Status, len(got.Result.ReferenceImage), len(got.Result.AuditImages))
	}
}

// TestStore_Outage: with Redis down every call fails fast with
// ErrStoreUnavailable, and the same Store works again once Redis is back.
func TestStore_Outage(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	s := open(t, srv, redis.Options{})
	now := time.Now().UTC()
	if err := s.Create(ctx, storetest.Session("2450bd2e-220b-42c8-90f1-14293292ac79", now)); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	start := time.Now()
	_, err := s.Get(ctx, "2450bd2e-220b-42c8-90f1-14293292ac79")
	if !errors.Is(err, livenessd.ErrStoreUnavailable) {
		t.Fatalf("get with Redis down: %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("get with Redis down took %v", d)
	}
	if err := s.Ping(ctx); !errors.Is(err, livenessd.ErrStoreUnavailable) {
		t.Fatalf("ping with Redis down: %v", err)
	}
	if err := s.Create(ctx, storetest.Session("00000000-0000-4000-8000-000000000000", now)); !errors.Is(err, livenessd.ErrStoreUnavailable) {
		t.Fatalf("create with Redis down: %v", err)
	}
	srv.Start()
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("ping after restart: %v", err)
	}
	if err := s.Create(ctx, storetest.Session("00000000-0000-4000-8000-000000000000", now)); err != nil {
		t.Fatalf("create after restart: %v", err)
	}
}

func TestOpen_BadURL(t *testing.T) {
	for _, u := range []string{"", "http://x", "redis://127.0.0.1:1", "redis://user:s3cret@127.0.0.1:1/0"} {
		_, err := redis.Open(context.Background(), redis.Options{URL: u})
		if err == nil {
			t.Errorf("Open(%q) succeeded", u)
		} else if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Open(%q): the error shows the password: %v", u, err)
		}
	}
}

// TestRateLimiter_SharedAcrossReplicas: two replicas' limiters on one
// Redis share a tenant's budget; another tenant has its own.
func TestRateLimiter_SharedAcrossReplicas(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	var limiters []*redis.RateLimiter
	for range 2 {
		s := open(t, srv, redis.Options{Prefix: "rl:"})
		l, err := s.RateLimiter(1, 4)
		if err != nil {
			t.Fatal(err)
		}
		limiters = append(limiters, l)
	}
	allowed := 0
	var retry time.Duration
	for i := range 8 {
		ok, after, err := limiters[i%2].Allow(ctx, "t_a")
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			allowed++
		} else {
			retry = after
		}
	}
	// A burst of 4 at 1/s: 4 (at most 5 if a second passed) of 8 pass,
	// whichever replica they reach.
	if allowed < 4 || allowed > 5 {
		t.Fatalf("%d of 8 requests allowed across two replicas, want the shared burst of 4", allowed)
	}
	if retry <= 0 || retry > time.Second {
		t.Fatalf("retry after %v, want within a second", retry)
	}
	if ok, _, err := limiters[1].Allow(ctx, "t_b"); err != nil || !ok {
		t.Fatalf("another tenant refused: %v %v", ok, err)
	}
	if _, err := (&redis.Store{}).RateLimiter(0, 1); err == nil {
		t.Fatal("a zero rate was accepted")
	}
}
