package wsutil

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Drain is a handler's graceful shutdown of its streams: it waits for
// running until ctx ends, then calls abort (the streams still running
// end) and waits at most grace more.
func Drain(ctx context.Context, running *sync.WaitGroup, abort func(), grace time.Duration) error {
	done := make(chan struct{})
	go func() { running.Wait(); close(done) }()
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
