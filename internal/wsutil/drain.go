package wsutil

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Streams counts a handler's running streams for its graceful shutdown.
// Once Drain has begun, Enter refuses new streams; a stream is either
// refused or waited for (checking "shutting down" apart from counting the
// stream left a window in which a stream that passed the check was not
// waited for). The zero value is ready to use.
type Streams struct {
	mu      sync.Mutex
	closed  bool
	running sync.WaitGroup
}

// Enter counts a new stream; false once Drain has begun (the caller
// refuses the stream). A counted stream calls Leave when it ends.
func (s *Streams) Enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.running.Add(1)
	return true
}

// Leave ends a stream that Enter counted.
func (s *Streams) Leave() { s.running.Done() }

// Drain refuses new streams and waits for the running ones until ctx
// ends, then calls abort (the streams still running end) and waits at
// most grace more.
func (s *Streams) Drain(ctx context.Context, abort func(), grace time.Duration) error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.running.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	abort()
	select {
	case <-done:
		return nil
	case <-time.After(grace):
		return fmt.Errorf("streams still running: %w", ctx.Err())
	}
}
