package amplify

import (
	"context"
	"errors"
	"image"
	"time"

	"github.com/coder/websocket"

	"github.com/livenessd/livenessd/internal/liveness"
)

// analysis is one capture's liveness run, fed frame by frame as the video
// decodes.
type analysis struct {
	run           *liveness.Run
	frames        int
	width, height int
	firstWall     time.Time
}

// streamDecode is a decode running while the video arrives.
type streamDecode struct {
	vs     *VideoStream
	a      *analysis
	cancel context.CancelFunc // ends the analysis of frames still coming
	closed bool
}

// feed takes the next video chunk: a WebM stream is decoded and analysed
// while it arrives (ffmpeg reads a pipe), so the verdict follows the end
// of the stream closely; other containers are kept for a decode at the
// end.
func (c *stream) feed(ctx context.Context, chunk []byte) error {
	c.videoBytes += len(chunk)
	if c.chunks == 0 && !c.h.cfg.DecodeAfterStream && Streamable(chunk) {
		a := &analysis{}
		actx, cancel := context.WithCancel(ctx)
		vs, err := c.h.cfg.Video.Stream(actx, chunk, c.analyse(actx, a, c.h.cfg.Acquire))
		if err != nil {
			cancel()
			return &streamError{exception: excInternal, message: "Internal server error", close: websocket.StatusInternalError, reason: "video decoder failed", err: err}
		}
		c.decoding = &streamDecode{vs: vs, a: a, cancel: cancel}
		return nil
	}
	if c.decoding != nil {
		c.decoding.vs.Write(chunk) // queued: reading the stream never waits for the decode
		return nil
	}
	c.video.Write(chunk)
	return nil
}

// analyse returns the decoder's frame callback: each frame waits for a
// worker of the shared pool (acquire, when not nil, as the SDK's frames
// do) and goes through the liveness analysis.
func (c *stream) analyse(ctx context.Context, a *analysis, acquire func(context.Context) (func(), error)) FrameFunc {
	return func(i int, at time.Duration, img *image.RGBA) error {
		if a.run == nil {
			a.width, a.height = img.Rect.Dx(), img.Rect.Dy()
			a.run = liveness.NewRun(c.h.cfg.Observer, analysisChallenge(c.sess.Challenge), c.sess.Settings, c.h.cfg.Liveness)
			a.firstWall = time.Now()
		}
		start := time.Now()
		if acquire != nil {
			release, err := acquireRetry(ctx, acquire)
			if err != nil {
				return err
			}
			defer release()
		}
		_, _, _, err := a.run.AddFrame(ctx, liveness.Frame{Index: i, At: at, Image: img})
		a.frames = i + 1
		if f := c.h.cfg.Frames; f != nil {
			now := time.Now()
			f.FrameAnalysed(now.Sub(start), max(0, now.Sub(a.firstWall)-at))
		}
		if errors.Is(err, liveness.ErrTooManyFrames) {
			return nil
		}
		return err
	}
}

// decodeAll returns the analysed frames: it waits for the end of the
// streaming decode, or decodes the kept video now (one of the endpoint's
// MaxConcurrent slots and a worker for the whole decode).
func (c *stream) decodeAll(ctx context.Context) (*analysis, error) {
	var n int
	var err error
	a := &analysis{}
	if d := c.decoding; d != nil {
		d.closed = true
		n, err = d.vs.Close()
		d.cancel()
		a = d.a
	} else {
		select {
		case c.h.slots <- struct{}{}:
			defer func() { <-c.h.slots }()
		case <-ctx.Done():
			return nil, &streamError{exception: excServiceUnavailable, message: "Service busy", close: websocket.StatusTryAgainLater, reason: "service busy", err: ctx.Err()}
		}
		if acq := c.h.cfg.Acquire; acq != nil {
			release, err := acquireRetry(ctx, acq)
			if err != nil {
				return nil, &streamError{exception: excServiceUnavailable, message: "Service busy", close: websocket.StatusTryAgainLater, reason: "service busy", err: err}
			}
			defer release()
		}
		// The whole decode holds one worker already.
		n, err = c.h.cfg.Video.Decode(ctx, c.video.Bytes(), c.analyse(ctx, a, nil))
	}
	switch {
	case errors.Is(err, ErrUnsupportedVideo):
		return nil, validation("video container format not supported", err)
	case errors.Is(err, ErrDecodeTimeout):
		// The server was too slow: not the client's video.
		return nil, &streamError{exception: excServiceUnavailable, message: "Service busy", close: websocket.StatusTryAgainLater, reason: "service busy: video decoding took too long", err: err}
	case errors.Is(err, ErrVideoDecode):
		return nil, validation("video quality or size is invalid", err)
	case err != nil:
		return nil, &streamError{exception: excInternal, message: "Internal server error", close: websocket.StatusInternalError, reason: "analysis failed", err: err}
	case a.run == nil:
		return nil, validation("video quality or size is invalid", errors.New("no frames"))
	}
	a.frames = n
	return a, nil
}

// stopDecode ends a streaming decode the capture no longer needs (the
// stream failed before its end).
func (c *stream) stopDecode() {
	if d := c.decoding; d != nil && !d.closed {
		d.closed = true
		d.cancel()
		d.vs.Abort()
	}
}
