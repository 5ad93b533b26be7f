package wsutil_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/livenessd/livenessd/internal/wsutil"
)

// Drain returns once the streams end: by themselves before the deadline
// (not aborted), or once aborted; a stream that ignores the abort makes
// it fail after the grace period. Streams entering after it began are
// refused.
func TestStreams_Drain(t *testing.T) {
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
			var streams wsutil.Streams
			abort := make(chan struct{})
			started, ended, end := make(chan struct{}), make(chan struct{}), make(chan struct{})
			defer close(end)
			if test.stream != nil {
				if !streams.Enter() {
					t.Fatal("a stream was refused before the drain")
				}
				go func() {
					defer close(ended)
					defer streams.Leave()
					close(started)
					test.stream(abort, end)
				}()
				<-started
			}
			if !test.wantAborted && test.stream != nil {
				<-ended // ends in time: before the deadline
			}
			ctx, cancel := context.WithCancel(context.Background())
			if test.wantAborted {
				cancel() // the deadline has passed
			}
			defer cancel()
			aborted := false
			err := streams.Drain(ctx, func() { aborted = true; close(abort) }, 50*time.Millisecond)
			if aborted != test.wantAborted || (err != nil) != test.wantErr {
				t.Errorf("aborted %v, err %v; want aborted %v, error %v", aborted, err, test.wantAborted, test.wantErr)
			}
			if streams.Enter() {
				t.Error("a stream entered after the drain")
			}
		})
	}
}

// A stream is either refused or waited for, however its Enter and the
// drain interleave: streams entering while Drain begins have all left
// when it returns.
func TestStreams_EnterDuringDrain(t *testing.T) {
	for range 200 {
		var streams wsutil.Streams
		var inside atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				if !streams.Enter() {
					return
				}
				inside.Add(1)
				time.Sleep(time.Millisecond) // a short stream
				inside.Add(-1)
				streams.Leave()
			}()
		}
		close(start)
		if err := streams.Drain(context.Background(), func() {}, time.Second); err != nil {
			t.Fatal(err)
		}
		if n := inside.Load(); n != 0 {
			t.Fatalf("Drain returned with %d streams running", n)
		}
		wg.Wait()
	}
}
