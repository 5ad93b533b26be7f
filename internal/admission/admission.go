// Package admission decides, before a capture gets its challenge, whether
// the server can analyse one more capture in time. A capture refused at
// the door is told to retry (503 5001 + Retry-After, or Amplify's
// ThrottlingException); a capture admitted and then starved would fail
// midway, or get its verdict seconds after its last frame.
//
// Two signals, both measured on this process:
//   - demand: the analysis cost of a frame (an exponentially weighted mean
//     of the time the analysis held a worker per frame) times the frame
//     rate is the worker time one capture needs per second; the workers
//     divided by that is how many captures keep up;
//   - lag: how far the analysis of a running capture is behind its stream
//     (from a frame's arrival to the end of its analysis). While any
//     capture lags by more than MaxLag, no new one is admitted.
package admission

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/livenessd/livenessd"
)

// Defaults of Config.
const (
	DefaultFPS    = 15
	DefaultMaxLag = 500 * time.Millisecond
	// DefaultCapturesPerWorker bounds the captures at once per worker when
	// Config.MaxCaptures is not set.
	DefaultCapturesPerWorker = 4
	// DefaultFrameCost is the cost assumed until frames were measured:
	// the face pipeline's per-frame cost on one core, rounded up.
	DefaultFrameCost = 40 * time.Millisecond
	DefaultGrace     = time.Second
	// lagMemory: a lag sample older than this no longer blocks admission
	// (the capture caught up or ended).
	lagMemory = 2 * time.Second
	// costWeight is the EWMA weight of one new frame cost sample.
	costWeight = 0.02
)

// Config configures a Controller.
type Config struct {
	// Workers is the number of analyses that run at once (the work pool).
	Workers int
	// FPS is the frame rate a capture streams at (DefaultFPS).
	FPS float64
	// MaxLag is the analysis lag behind the stream past which new
	// captures are refused (DefaultMaxLag).
	MaxLag time.Duration
	// MaxCaptures is a hard bound on captures at once
	// (DefaultCapturesPerWorker per worker).
	MaxCaptures int
	// FrameCost is the per-frame cost assumed before measurements
	// (DefaultFrameCost).
	FrameCost time.Duration
	// Grace is how long TryAcquire waits for a capture that is ending
	// (sending its verdict, closing its socket) to free its place before
	// refusing for lack of capacity (DefaultGrace). A lagging server
	// refuses at once.
	Grace time.Duration
	// OnRefuse, when set, is called for each refusal (metrics).
	OnRefuse func()
	Now      func() time.Time
}

// Controller admits captures. It implements the capture transports'
// slot limiter (TryAcquire, Acquire, Release). Safe for concurrent use.
type Controller struct {
	cfg Config

	mu      sync.Mutex
	active  int
	cost    float64   // EWMA seconds of worker time per frame
	lag     float64   // worst recent lag, seconds
	lagAt   time.Time // when lag was seen
	changed chan struct{}
}

// New returns a Controller.
func New(cfg Config) *Controller {
	if cfg.Workers < 1 {
		cfg.Workers = 1
	}
	if cfg.FPS <= 0 {
		cfg.FPS = DefaultFPS
	}
	if cfg.MaxLag <= 0 {
		cfg.MaxLag = DefaultMaxLag
	}
	if cfg.MaxCaptures <= 0 {
		cfg.MaxCaptures = DefaultCapturesPerWorker * max(1, cfg.Workers)
	}
	if cfg.FrameCost <= 0 {
		cfg.FrameCost = DefaultFrameCost
	}
	if cfg.Grace <= 0 {
		cfg.Grace = DefaultGrace
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Controller{cfg: cfg, cost: cfg.FrameCost.Seconds(), changed: make(chan struct{})}
}

// Capacity is how many captures the measured frame cost lets the workers
// analyse in real time, within [1, MaxCaptures].
func (c *Controller) Capacity() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.capacity()
}

func (c *Controller) capacity() int {
	n := int(math.Floor(float64(c.cfg.Workers) / (c.cfg.FPS * c.cost)))
	return max(1, min(n, c.cfg.MaxCaptures))
}

// lagging reports whether a running capture recently fell behind.
func (c *Controller) lagging() bool {
	return c.lag > c.cfg.MaxLag.Seconds() && c.cfg.Now().Sub(c.lagAt) < lagMemory
}

// TryAcquire admits n captures, or none. A server without captures always
// admits one: the bound is never below one. When only the count stands in
// the way, it waits up to Grace for a capture to end.
func (c *Controller) TryAcquire(n int64) bool {
	deadline := time.NewTimer(c.cfg.Grace)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		lagging := c.active > 0 && c.lagging()
		ok := !lagging && c.active+int(n) <= c.capacity()
		if ok {
			c.active += int(n)
		}
		ch := c.changed
		c.mu.Unlock()
		if ok {
			return true
		}
		if !lagging {
			select {
			case <-ch:
				continue
			case <-deadline.C:
			}
		}
		if c.cfg.OnRefuse != nil {
			c.cfg.OnRefuse()
		}
		return false
	}
}

// Acquire waits until n captures are admitted or ctx ends.
func (c *Controller) Acquire(ctx context.Context, n int64) error {
	for {
		c.mu.Lock()
		ok := c.active+int(n) <= c.capacity() && (c.active == 0 || !c.lagging())
		if ok {
			c.active += int(n)
		}
		ch := c.changed
		c.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("admission: %w: %w", ctx.Err(), livenessd.ErrOverloaded)
		case <-ch:
		case <-time.After(lagMemory):
		}
	}
}

// Release ends n captures.
func (c *Controller) Release(n int64) {
	c.mu.Lock()
	c.active = max(0, c.active-int(n))
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
}

// FrameAnalysed feeds one frame's analysis cost (time it held a worker)
// and the capture's lag behind its stream after it.
func (c *Controller) FrameAnalysed(cost, lag time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cost += costWeight * (cost.Seconds() - c.cost)
	now := c.cfg.Now()
	if l := lag.Seconds(); l >= c.lag || now.Sub(c.lagAt) >= lagMemory/2 {
		c.lag, c.lagAt = l, now
	}
}

// Active is the number of captures admitted and not released.
func (c *Controller) Active() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.active
}
