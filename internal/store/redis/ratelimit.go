package redis

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/go-redis/redis_rate/v10"
)

// RateLimiter is a per-tenant rate limit shared by every replica on the
// same Redis (GCRA, github.com/go-redis/redis_rate).
type RateLimiter struct {
	limiter *redis_rate.Limiter
	limit   redis_rate.Limit
	prefix  string
}

// RateLimiter returns a limiter of rate requests per second with bursts of
// burst, kept in this store's Redis.
func (s *Store) RateLimiter(rate float64, burst int) (*RateLimiter, error) {
	if rate <= 0 || burst < 1 {
		return nil, fmt.Errorf("redis: rate limit %v/s burst %d: both must be positive", rate, burst)
	}
	// redis_rate counts whole requests per period: 10/s is 10 per second,
	// 0.5/s is 1 per 2 s.
	lim := redis_rate.Limit{Rate: int(math.Round(rate)), Burst: burst, Period: time.Second}
	if rate < 1 {
		lim = redis_rate.Limit{Rate: 1, Burst: burst, Period: time.Duration(float64(time.Second) / rate)}
	}
	return &RateLimiter{limiter: redis_rate.NewLimiter(s.rdb), limit: lim, prefix: s.keys.prefix + "rate:"}, nil
}

// Allow takes one request of tenant's budget; when none is left it says
// how long until one is. Errors (Redis unreachable) are returned as they
// are; the caller decides whether to fail open.
func (l *RateLimiter) Allow(ctx context.Context, tenant string) (bool, time.Duration, error) {
	res, err := l.limiter.Allow(ctx, l.prefix+tenant, l.limit)
	if err != nil {
		return false, 0, fmt.Errorf("redis: rate limit: %w", err)
	}
	if res.Allowed > 0 {
		return true, 0, nil
	}
	return false, max(res.RetryAfter, time.Millisecond), nil
}
