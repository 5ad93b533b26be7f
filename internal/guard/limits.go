package guard

import (
	"context"
	"sync"
	"time"
)

// Defaults of the limits.
const (
	// DefaultStreamsPerAddress bounds the capture streams (open or being
	// refused) one client address holds at once.
	DefaultStreamsPerAddress = 4
	// DefaultFailureBurst failed authentications are allowed from one
	// address before it must wait; then one more every
	// DefaultFailureInterval.
	DefaultFailureBurst    = 10
	DefaultFailureInterval = 6 * time.Second
	// maxTracked bounds the addresses a limit remembers; past it, entries
	// that no longer restrict anything are dropped first.
	maxTracked = 100_000
)

// ConnLimit counts what each address holds open (WebSocket streams).
type ConnLimit struct {
	max int

	mu sync.Mutex
	n  map[string]int
}

// NewConnLimit allows max concurrent holds per address (max <= 0: no limit).
func NewConnLimit(max int) *ConnLimit { return &ConnLimit{max: max, n: map[string]int{}} }

// Acquire takes one hold for addr; ok is false when addr already holds
// max. Call release exactly once when ok.
func (l *ConnLimit) Acquire(addr string) (release func(), ok bool) {
	if l == nil || l.max <= 0 {
		return func() {}, true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n[addr] >= l.max {
		return nil, false
	}
	l.n[addr]++
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			if l.n[addr]--; l.n[addr] <= 0 {
				delete(l.n, addr)
			}
		})
	}, true
}

// FailureLimiter limits failed authentications per client address. Allow
// is asked before a credential is checked, so an address over its limit
// costs no lookup at all; Failed records a refused credential.
// *FailureLimit implements it in memory.
type FailureLimiter interface {
	// Allow reports whether addr may try to authenticate now, and if not,
	// how long it must wait.
	Allow(ctx context.Context, addr string) (retryAfter time.Duration, ok bool)
	// Failed records one failed authentication from addr.
	Failed(ctx context.Context, addr string)
}

// FailureLimit is a token bucket of failures per address: Burst failures,
// then one more per Interval. An address with an empty bucket is refused
// every attempt (a correct credential included) until a token returns.
type FailureLimit struct {
	burst    float64
	interval time.Duration
	now      func() time.Time

	mu      sync.Mutex
	buckets map[string]*TokenBucket
}

// TokenBucket is one key's bucket of a token-bucket limiter (this
// package's FailureLimit, the API's per-tenant rate limit).
type TokenBucket struct {
	Tokens float64
	Last   time.Time
}

// Refill adds the tokens earned since the last refill at perSecond, up to
// burst.
func (b *TokenBucket) Refill(now time.Time, perSecond, burst float64) {
	if dt := now.Sub(b.Last).Seconds(); dt > 0 {
		b.Tokens = min(burst, b.Tokens+dt*perSecond)
	}
	b.Last = now
}

var _ FailureLimiter = (*FailureLimit)(nil)

// NewFailureLimit allows burst failures per address, then one per interval.
// now is the clock (nil: time.Now).
func NewFailureLimit(burst int, interval time.Duration, now func() time.Time) *FailureLimit {
	if burst <= 0 {
		burst = DefaultFailureBurst
	}
	if interval <= 0 {
		interval = DefaultFailureInterval
	}
	if now == nil {
		now = time.Now
	}
	return &FailureLimit{burst: float64(burst), interval: interval, now: now, buckets: map[string]*TokenBucket{}}
}

// refill brings b up to date; the caller holds l.mu.
func (l *FailureLimit) refill(b *TokenBucket, now time.Time) {
	b.Refill(now, 1/l.interval.Seconds(), l.burst)
}

// Allow implements FailureLimiter.
func (l *FailureLimit) Allow(_ context.Context, addr string) (time.Duration, bool) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[addr]
	if !ok {
		return 0, true
	}
	l.refill(b, now)
	if b.Tokens >= 1 {
		return 0, true
	}
	wait := time.Duration((1 - b.Tokens) * float64(l.interval))
	return max(wait, time.Second), false
}

// Failed implements FailureLimiter.
func (l *FailureLimit) Failed(_ context.Context, addr string) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[addr]
	if !ok {
		if len(l.buckets) >= maxTracked {
			l.sweep(now)
		}
		b = &TokenBucket{Tokens: l.burst, Last: now}
		l.buckets[addr] = b
	}
	l.refill(b, now)
	b.Tokens = max(0, b.Tokens-1)
}

// sweep drops the buckets that have refilled (they restrict nothing); if
// every address is still restricted, it drops them all rather than grow
// without bound. The caller holds l.mu.
func (l *FailureLimit) sweep(now time.Time) {
	for addr, b := range l.buckets {
		l.refill(b, now)
		if b.Tokens >= l.burst {
			delete(l.buckets, addr)
		}
	}
	if len(l.buckets) >= maxTracked {
		clear(l.buckets)
	}
}

// RetryError is a refusal that the client may retry after After; the HTTP
// layer sends it as Retry-After.
type RetryError struct {
	After time.Duration
	Err   error
}

func (e *RetryError) Error() string { return e.Err.Error() }

func (e *RetryError) Unwrap() error { return e.Err }
