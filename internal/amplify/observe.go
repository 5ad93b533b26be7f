package amplify

import (
	"context"
	"fmt"
	"time"

	"github.com/coder/websocket"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/liveness"
)

// admit asks the admission control for this capture before its
// challenge; a refusal is the protocol's ThrottlingException (the client
// may retry), never a validation error about the video.
func (c *stream) admit() (release func(), err error) {
	a := c.h.cfg.Admission
	if a == nil {
		return func() {}, nil
	}
	if !a.TryAcquire(1) {
		return nil, &streamError{exception: excThrottling, message: "Too many requests", close: websocket.StatusTryAgainLater,
			err: fmt.Errorf("amplify: capture refused at the door: %w", livenessd.ErrOverloaded)}
	}
	c.began = time.Now()
	return func() { a.Release(1) }, nil
}

// reportOutcome tells the observer how a begun capture ended.
func (c *stream) reportOutcome(ctx context.Context, res *livenessd.Result, reason string, frames int) {
	o := c.h.cfg.Outcomes
	if o == nil || c.sess == nil {
		return
	}
	now := time.Now()
	out := livenessd.CaptureOutcome{Transport: livenessd.TransportAmplify, SessionID: c.sess.ID,
		Status: livenessd.StatusFailed, Reason: reason, Frames: frames}
	if !c.began.IsZero() {
		out.Duration = now.Sub(c.began)
	}
	if res != nil {
		out.SetVerdict(res, liveness.Validations)
		if !c.streamEnd.IsZero() {
			out.VerdictLag = now.Sub(c.streamEnd)
		}
	}
	o.CaptureOutcome(ctx, out)
}
