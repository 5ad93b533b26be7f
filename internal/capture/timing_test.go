package capture_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/capture"
	"github.com/livenessd/livenessd/internal/liveness"
	"github.com/livenessd/livenessd/internal/simulate"
)

// TestHandler_StreamClock: a stream whose clock runs slower than the
// server's (frames sent 15 a second, stamped 10 ms apart: rendered at a
// sixth of real time, or the report's frames arriving seconds after their
// timestamps) is refused with 4425 once it is MaxFrameLag behind; one
// whose stamps run ahead of the server's clock (frames stamped 66 ms apart
// sent as fast as possible: recorded before it was streamed) once it is
// MaxFrameLag ahead. The session fails.
func TestHandler_StreamClock(t *testing.T) {
	for _, test := range []struct {
		name    string
		every   time.Duration // sending pace (0: as fast as possible)
		stamp   time.Duration // timestamp step
		message string
	}{
		{"Slow", 66 * time.Millisecond, 10 * time.Millisecond, "later than the fastest one"},
		{"AheadOfTime", 0, 66 * time.Millisecond, "more than the server's clock"},
	} {
		t.Run(test.name, func(t *testing.T) {
			e := MustOpenEnv(t, capture.Config{MaxFrameLag: time.Second, MaxDuration: time.Minute})
			id, token := e.create(t)
			conn, m := dialRaw(t, e.streamURL(id)+"?token="+token)
			if m["type"] != "challenge" {
				t.Fatalf("first message %v", m)
			}
			f := jpegFrame(t, 160, 120)
			sent := make(chan struct{})
			go func() {
				defer close(sent)
				for i := 1; i <= 60; i++ {
					if test.every > 0 {
						time.Sleep(test.every) // the pace of the stream under test
					}
					if conn.Write(t.Context(), websocket.MessageBinary, capture.EncodeFrame(time.Duration(i)*test.stamp, f)) != nil {
						return // refused
					}
				}
			}()
			msg := expectError(t, conn, capture.CodeLate)
			<-sent
			if !strings.Contains(msg, test.message) {
				t.Errorf("message %q, want it to say %q", msg, test.message)
			}
			if got := e.status(t, id); got != livenessd.StatusFailed {
				t.Errorf("status = %s, want FAILED", got)
			}
		})
	}
}

// lateColors shows the first colour late: it holds it back by delay and
// stamps it with the time it really appears, so the stream's own clock
// stays consistent and only the gap after the flash gives it away.
type lateColors struct {
	*simulate.WSClient
	delay time.Duration
	once  sync.Once
	shift time.Duration
}

func (l *lateColors) Color(ctx context.Context, c liveness.ColorShown) error {
	l.once.Do(func() {
		select {
		case <-time.After(l.delay):
		case <-ctx.Done():
		}
		l.shift = l.delay
	})
	c.At += l.shift
	return l.WSClient.Color(ctx, c)
}

func (l *lateColors) Frame(ctx context.Context, at time.Duration, jpg []byte) error {
	return l.WSClient.Frame(ctx, at+l.shift, jpg)
}

func (l *lateColors) End(ctx context.Context, at time.Duration) error {
	return l.WSClient.End(ctx, at+l.shift)
}

// TestHandler_LateFirstColour: a real capture (real face pipeline) whose
// first colour starts well after the server's flash is refused with 4425;
// the same capture on time succeeds (TestHandler_EndToEnd).
func TestHandler_LateFirstColour(t *testing.T) {
	p := MustPipeline(t)
	e := MustOpenEnvWith(t, capture.Config{Observer: p, MessageRate: 1000, MaxDuration: 3 * time.Minute, ReadTimeout: time.Minute,
		FirstColorWithin: time.Second,
		MaxFrameLag:      -1, // only the first colour is tested here; the simulator under -race is slower than real time
	}, fixedChallenge)
	src, other := mustSource(t, p, 1), mustSource(t, p, 2)
	id, token := e.create(t)
	c, err := simulate.Dial(t.Context(), e.streamURL(id), token, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	pl, err := simulate.NewPlayer(src, simulate.ChallengeOf(c.Challenge), simulate.Options{Strength: 0.08, Seed: 7, Other: &other})
	if err != nil {
		t.Fatal(err)
	}
	tgt := &lateColors{WSClient: c, delay: 4 * time.Second}
	_ = simulate.Play(t.Context(), pl, tgt, simulate.PlayOptions{Realtime: true}) // ends when the server closes
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	_, err = c.Wait(ctx)
	if err == nil || !strings.Contains(err.Error(), "4425") || !strings.Contains(err.Error(), "first colour") {
		t.Fatalf("wait: %v, want error 4425 about the first colour", err)
	}
	if got := e.status(t, id); got != livenessd.StatusFailed {
		t.Errorf("status = %s, want FAILED", got)
	}
}
