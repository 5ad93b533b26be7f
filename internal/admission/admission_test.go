package admission_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/admission"
	"github.com/livenessd/livenessd/internal/testutil"
)

// feed measures n frames of the given cost with no lag.
func feed(c *admission.Controller, cost time.Duration, n int) {
	for range n {
		c.FrameAnalysed(cost, 0)
	}
}

func TestCapacityFollowsMeasuredCost(t *testing.T) {
	for _, tc := range []struct {
		workers int
		cost    time.Duration
		want    int
	}{
		{2, 100 * time.Millisecond, 1}, // 1.5 worker-s per s per capture
		{2, 60 * time.Millisecond, 2},  // 0.9
		{2, 30 * time.Millisecond, 4},  // 0.45
		{4, 30 * time.Millisecond, 8},  // bounded by MaxCaptures
		{1, time.Second, 1},            // never below one
	} {
		c := admission.New(admission.Config{Workers: tc.workers, MaxCaptures: 8, Grace: time.Millisecond})
		feed(c, tc.cost, 1000)
		if got := c.Capacity(); got != tc.want {
			t.Errorf("workers %d, frame cost %v: capacity %d, want %d", tc.workers, tc.cost, got, tc.want)
		}
		admitted := 0
		for c.TryAcquire(1) {
			admitted++
		}
		if admitted != tc.want {
			t.Errorf("workers %d, frame cost %v: admitted %d, want %d", tc.workers, tc.cost, admitted, tc.want)
		}
	}
}

func TestLagRefusesUntilCaughtUp(t *testing.T) {
	clk := testutil.NewClock(time.Unix(1000, 0))
	refused := 0
	c := admission.New(admission.Config{Workers: 2, Now: clk.Now, OnRefuse: func() { refused++ }})
	feed(c, 10*time.Millisecond, 1000) // capacity 8
	if !c.TryAcquire(1) {
		t.Fatal("first capture refused")
	}
	c.FrameAnalysed(10*time.Millisecond, 900*time.Millisecond)
	if c.TryAcquire(1) {
		t.Fatal("admitted while a capture lags 900 ms behind its stream")
	}
	if refused != 1 {
		t.Fatalf("refusals %d", refused)
	}
	// The lagging capture catches up: fresh samples below MaxLag.
	clk.Advance(1500 * time.Millisecond)
	c.FrameAnalysed(10*time.Millisecond, 50*time.Millisecond)
	if !c.TryAcquire(1) {
		t.Fatal("refused after the capture caught up")
	}
	// Alone, a capture is always admitted, lag or not.
	c.FrameAnalysed(10*time.Millisecond, 3*time.Second)
	c.Release(2)
	if !c.TryAcquire(1) {
		t.Fatal("refused with no capture running")
	}
}

func TestAcquireWaitsForRelease(t *testing.T) {
	c := admission.New(admission.Config{Workers: 1, MaxCaptures: 1})
	if !c.TryAcquire(1) {
		t.Fatal("refused")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := c.Acquire(ctx, 1); !errors.Is(err, livenessd.ErrOverloaded) {
		t.Fatalf("Acquire on a full controller: %v", err)
	}
	done := make(chan error)
	go func() { done <- c.Acquire(context.Background(), 1) }()
	c.Release(1)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if c.Active() != 1 {
		t.Fatalf("active %d", c.Active())
	}
}

// TestGraceForEndingCapture: a capture arriving while another is ending
// (full by count, not lagging) is admitted when that one releases within
// Grace; a lagging server refuses at once, without waiting.
func TestGraceForEndingCapture(t *testing.T) {
	c := admission.New(admission.Config{Workers: 1, MaxCaptures: 1, Grace: time.Minute})
	if !c.TryAcquire(1) {
		t.Fatal("refused")
	}
	admitted := make(chan bool)
	go func() { admitted <- c.TryAcquire(1) }()
	c.Release(1)
	if !<-admitted {
		t.Fatal("refused although the running capture ended within the grace")
	}
	c.FrameAnalysed(time.Millisecond, 5*time.Second)
	start := time.Now()
	if c.TryAcquire(1) {
		t.Fatal("admitted while lagging")
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("a lagging refusal waited %v", d)
	}
}
