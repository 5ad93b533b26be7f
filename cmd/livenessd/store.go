package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/livenessd/livenessd/internal/api"
	"github.com/livenessd/livenessd/internal/auth"
	"github.com/livenessd/livenessd/internal/session"
	"github.com/livenessd/livenessd/internal/store/redis"
	"github.com/livenessd/livenessd/internal/store/sqlite"
)

// store is what serve and keys need of the configured store.
type store interface {
	session.Store
	session.Lockouts
	auth.KeyStore
	Close() error
}

// storeConfig selects the store: --store (LIVENESS_STORE) empty or
// "sqlite" is the SQLite file in the data directory; redis:// or
// rediss:// is Redis, shared by every replica.
type storeConfig struct {
	URL       string
	DataDir   string
	Retention time.Duration
	RecordTTL time.Duration
	// OnUnavailable counts calls the store could not serve (metrics).
	OnUnavailable func(op string)
}

func registerStoreFlag(e *envFlags, p *string) {
	e.str(p, "store", "LIVENESS_STORE", "", "session store: empty for the SQLite file in the data directory, or redis://[user:pass@]host:port[/db] (rediss:// for TLS) shared by several replicas")
}

// isRedisURL reports whether u selects the Redis store.
func isRedisURL(u string) bool {
	return strings.HasPrefix(u, "redis://") || strings.HasPrefix(u, "rediss://")
}

// openStore opens the configured store; exclusive is true when this
// process owns it alone (SQLite), which crash recovery relies on.
func openStore(ctx context.Context, c storeConfig) (st store, exclusive bool, err error) {
	switch {
	case isRedisURL(c.URL):
		s, err := redis.Open(ctx, redis.Options{URL: c.URL, Retention: c.Retention, RecordTTL: c.RecordTTL, OnUnavailable: c.OnUnavailable})
		if err != nil {
			return nil, false, err
		}
		return s, false, nil
	case c.URL == "" || c.URL == "sqlite":
		if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
			return nil, false, fmt.Errorf("data directory: %w", err)
		}
		s, err := sqlite.Open(ctx, filepath.Join(c.DataDir, sqlite.DefaultFile))
		if err != nil {
			return nil, false, err
		}
		return s, true, nil
	}
	return nil, false, fmt.Errorf("%w: --store %q: want empty, sqlite, redis:// or rediss://", errUsage, redis.RedactURL(c.URL))
}

// storeName names the store for the log, without a password.
func storeName(u string) string {
	if u == "" {
		return "sqlite"
	}
	return redis.RedactURL(u)
}

// sharedRateLimiter is the per-tenant rate limit kept in Redis, so every
// replica counts against one budget; nil (the in-process bucket) with
// SQLite or without a rate limit.
func sharedRateLimiter(st store, rate float64, burst int) (api.TenantLimiter, error) {
	rs, ok := st.(*redis.Store)
	if !ok || rate <= 0 {
		return nil, nil
	}
	if burst <= 0 {
		burst = max(1, int(2*rate))
	}
	l, err := rs.RateLimiter(rate, burst)
	if err != nil {
		return nil, fmt.Errorf("%w: --rate-limit: %v", errUsage, err)
	}
	return l, nil
}
