package workpool_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/workpool"
)

func TestPool_BoundsAndSheds(t *testing.T) {
	p := workpool.New(2, 20*time.Millisecond)
	var running, peak atomic.Int32
	var wg sync.WaitGroup
	var overloaded atomic.Int32
	start := make(chan struct{})
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			err := p.Do(context.Background(), func(context.Context) error {
				n := running.Add(1)
				for {
					old := peak.Load()
					if n <= old || peak.CompareAndSwap(old, n) {
						break
					}
				}
				time.Sleep(100 * time.Millisecond)
				running.Add(-1)
				return nil
			})
			if errors.Is(err, livenessd.ErrOverloaded) {
				overloaded.Add(1)
			} else if err != nil {
				t.Error(err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if peak.Load() > 2 {
		t.Fatalf("peak concurrency %d > 2", peak.Load())
	}
	if overloaded.Load() != 4 {
		t.Fatalf("%d of 6 shed, want 4 (2 slots, 20 ms wait, 100 ms jobs)", overloaded.Load())
	}
	if p.InUse() != 0 {
		t.Fatalf("%d slots leaked", p.InUse())
	}
}

func TestPool_ContextAndWeighted(t *testing.T) {
	p := workpool.New(2, time.Hour)
	w := p.Weighted()
	if !w.TryAcquire(2) {
		t.Fatal("TryAcquire(2) on an empty pool failed")
	}
	if w.TryAcquire(1) {
		t.Fatal("TryAcquire on a full pool succeeded")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := p.Acquire(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Acquire on a full pool with a short ctx: %v", err)
	}
	if err := w.Acquire(ctx, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Weighted.Acquire: %v", err)
	}
	w.Release(2)
	if err := w.Acquire(context.Background(), 3); !errors.Is(err, livenessd.ErrOverloaded) {
		t.Fatalf("more slots than the pool has: %v", err)
	}
	if p.InUse() != 0 {
		t.Fatalf("%d slots held", p.InUse())
	}
}
