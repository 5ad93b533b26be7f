// Package workpool bounds how much CPU-heavy work (face comparison,
// liveness analysis) runs at once. A caller that cannot get a slot within a
// short wait is refused with livenessd.ErrOverloaded, so load is shed with
// a 503 instead of queueing without bound.
package workpool

import (
	"context"
	"fmt"
	"time"

	"github.com/livenessd/livenessd"
)

// Pool is a counting semaphore with a bounded wait. The zero value is not
// usable; use New.
type Pool struct {
	slots chan struct{}
	wait  time.Duration
	obs   WaitObserver
}

// WaitObserver is told how long each Acquire waited and whether it was
// refused (metrics).
type WaitObserver interface {
	PoolWait(d time.Duration, refused bool)
}

// WithObserver sets the pool's wait observer; call it before first use.
func (p *Pool) WithObserver(o WaitObserver) *Pool {
	p.obs = o
	return p
}

// New returns a pool running at most size jobs at once; Acquire waits at
// most wait for a slot. size < 1 is treated as 1.
func New(size int, wait time.Duration) *Pool {
	if size < 1 {
		size = 1
	}
	return &Pool{slots: make(chan struct{}, size), wait: wait}
}

// Size is the number of slots.
func (p *Pool) Size() int { return cap(p.slots) }

// InUse is the number of slots taken now.
func (p *Pool) InUse() int { return len(p.slots) }

// Acquire takes a slot, waiting at most the pool's wait (or until ctx is
// done). The returned release must be called exactly once. When no slot
// frees in time the error wraps livenessd.ErrOverloaded.
func (p *Pool) Acquire(ctx context.Context) (release func(), err error) {
	select {
	case p.slots <- struct{}{}:
		p.observe(0, false)
		return p.release, nil
	default:
	}
	start := time.Now()
	t := time.NewTimer(p.wait)
	defer t.Stop()
	select {
	case p.slots <- struct{}{}:
		p.observe(time.Since(start), false)
		return p.release, nil
	case <-t.C:
		p.observe(time.Since(start), true)
		return nil, fmt.Errorf("workpool: all %d workers busy for %v: %w", cap(p.slots), p.wait, livenessd.ErrOverloaded)
	case <-ctx.Done():
		return nil, fmt.Errorf("workpool: %w", ctx.Err())
	}
}

func (p *Pool) observe(d time.Duration, refused bool) {
	if p.obs != nil {
		p.obs.PoolWait(d, refused)
	}
}

func (p *Pool) release() { <-p.slots }

// Do runs fn in a slot.
func (p *Pool) Do(ctx context.Context, fn func(context.Context) error) error {
	release, err := p.Acquire(ctx)
	if err != nil {
		return err
	}
	defer release()
	return fn(ctx)
}

// Weighted is a view of a Pool with the method set of
// golang.org/x/sync/semaphore.Weighted (capture.Limiter), sharing the same
// slots: Acquire blocks until the slots are free or ctx is done.
type Weighted struct{ p *Pool }

// Weighted returns the pool's slots as a semaphore.Weighted-style limiter,
// so the capture transport's frame analyses and the API's comparisons
// share one bound.
func (p *Pool) Weighted() Weighted { return Weighted{p} }

// Acquire takes n slots, blocking until they are free or ctx is done (then
// it returns ctx.Err() and holds nothing).
func (w Weighted) Acquire(ctx context.Context, n int64) error {
	if n > int64(cap(w.p.slots)) {
		return fmt.Errorf("workpool: %d slots requested of %d: %w", n, cap(w.p.slots), livenessd.ErrOverloaded)
	}
	start := time.Now()
	for i := int64(0); i < n; i++ {
		select {
		case w.p.slots <- struct{}{}:
		case <-ctx.Done():
			w.Release(i)
			return ctx.Err()
		}
	}
	w.p.observe(time.Since(start), false)
	return nil
}

// TryAcquire takes n slots without waiting, or none.
func (w Weighted) TryAcquire(n int64) bool {
	for i := int64(0); i < n; i++ {
		select {
		case w.p.slots <- struct{}{}:
		default:
			w.Release(i)
			return false
		}
	}
	return true
}

// Release returns n slots.
func (w Weighted) Release(n int64) {
	for i := int64(0); i < n; i++ {
		<-w.p.slots
	}
}
