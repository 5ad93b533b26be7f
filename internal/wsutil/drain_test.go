package wsutil_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/livenessd/livenessd/internal/wsutil"
)

// Drain returns once the streams end: by themselves before the deadline
// (not aborted), or once aborted; a stream that ignores the abort makes
// it fail after the grace period.
func TestDrain(t *testing.T) {
	for _, test := range []struct {
		name        string
		stream      func(abort, end <-chan struct{}) // nil: no stream; end closes when the test ends
		wantAborted bool
		wantErr     bool
	}{
		{"NoStreams", nil, false, false},
		{"EndsInTime", func(_, _ <-chan struct{}) {}, false, false},
		{"EndsOnAbort", func(abort, _ <-chan struct{}) { <-abort }, true, false},
		{"IgnoresAbort", func(_, end <-chan struct{}) { <-end }, true, true},
	} {
		t.Run(test.name, func(t *testing.T) {
			var running sync.WaitGroup
			abort := make(chan struct{})
			started, end := make(chan struct{}), make(chan struct{})
			defer close(end)
			if test.stream != nil {
				running.Add(1)
				go func() {
					defer running.Done()
					close(started)
					test.stream(abort, end)
				}()
				<-started
			}
			if !test.wantAborted && test.stream != nil {
				running.Wait() // ends in time: before the deadline
			}
			ctx, cancel := context.WithCancel(context.Background())
			if test.wantAborted {
				cancel() // the deadline has passed
			}
			defer cancel()
			aborted := false
			err := wsutil.Drain(ctx, &running, func() { aborted = true; close(abort) }, 50*time.Millisecond)
			if aborted != test.wantAborted || (err != nil) != test.wantErr {
				t.Errorf("aborted %v, err %v; want aborted %v, error %v", aborted, err, test.wantAborted, test.wantErr)
			}
		})
	}
}
