package capture

import (
	"context"
	"time"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/liveness"
)

// OutcomeObserver is told how each capture that got its challenge ended.
type OutcomeObserver interface {
	CaptureOutcome(ctx context.Context, o livenessd.CaptureOutcome)
}

// FrameObserver is told, after each frame's analysis, how long the
// analysis took and how far it runs behind the client's stream
// (admission.Controller).
type FrameObserver interface {
	FrameAnalysed(cost, lag time.Duration)
}

// frameTiming follows one capture's frames on the server's clock.
type frameTiming struct {
	lastRecv time.Time // when the last analysed frame arrived
	frames   int
}

// frameAnalysed records a frame whose analysis started at start and that
// arrived at recv: the time from its arrival to the end of its analysis
// is how far the analysis runs behind the stream (the client's clock is
// not used: a slow network would read as a slow server).
func (c *captureConn) frameAnalysed(start, recv time.Time) {
	now := time.Now()
	c.timing.frames++
	c.timing.lastRecv = recv
	if f := c.h.cfg.Frames; f != nil {
		f.FrameAnalysed(now.Sub(start), max(0, now.Sub(recv)))
	}
}

// reportOutcome tells the observer how the capture ended: res for a
// verdict, reason for a capture aborted before one.
func (c *captureConn) reportOutcome(ctx context.Context, res *livenessd.Result, reason string) {
	o := c.h.cfg.Outcomes
	if o == nil {
		return
	}
	now := time.Now()
	out := livenessd.CaptureOutcome{
		Transport: livenessd.TransportSDK, SessionID: c.id, Status: livenessd.StatusFailed,
		Reason: reason, Frames: c.timing.frames, Duration: now.Sub(c.start),
	}
	if res != nil {
		out.SetVerdict(res, liveness.Validations)
		if t := c.timing; t.frames > 0 {
			out.VerdictLag = now.Sub(t.lastRecv) // last frame in -> verdict
		}
	}
	o.CaptureOutcome(ctx, out)
}
