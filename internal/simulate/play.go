package simulate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/jpeg"
	"math/rand/v2"
	"time"

	"github.com/livenessd/livenessd/internal/imageio"
	"github.com/livenessd/livenessd/internal/liveness"
)

// Target receives a capture: the in-process analysis (RunTarget) or the
// capture WebSocket (the simulate command's client).
type Target interface {
	// Frame delivers one JPEG frame captured at at.
	Frame(ctx context.Context, at time.Duration, jpg []byte) error
	// Flashed reports whether the server has asked for the colours.
	Flashed() bool
	// LastGuidance is the latest guidance the server gave ("" before any).
	LastGuidance() liveness.Guidance
	Color(ctx context.Context, c liveness.ColorShown) error
	End(ctx context.Context, at time.Duration) error
}

// ErrNeverFlashed is returned by Play when the server never asked for the
// colours within MaxDuration.
var ErrNeverFlashed = errors.New("simulate: the server never started the colours")

// PlayOptions control the timing of Play.
type PlayOptions struct {
	// Realtime paces the frames on the wall clock (the WebSocket client);
	// otherwise frames go as fast as the target takes them.
	Realtime bool
	// JPEGQuality of the frames (the scene's).
	JPEGQuality int
	// MaxDuration gives up when the colours never start (12 s).
	MaxDuration time.Duration
	// UIDelay is the time from the flash request to the first colour on
	// screen (50 ms).
	UIDelay time.Duration
}

// Play renders the capture frame by frame into tgt: frames at the
// player's fps with the scene's timestamp jitter and dropped frames, the
// colours once the target reports the flash, a colour event as each
// colour appears, and the end after the last colour.
func Play(ctx context.Context, p *Player, tgt Target, po PlayOptions) error {
	if po.JPEGQuality <= 0 {
		po.JPEGQuality = p.scene.JPEGQuality
	}
	if po.MaxDuration <= 0 {
		po.MaxDuration = 12 * time.Second
	}
	if po.UIDelay <= 0 {
		po.UIDelay = 50 * time.Millisecond
	}
	dt := time.Duration(float64(time.Second) / p.opt.FPS)
	start := time.Now()
	var colors []liveness.ColorShown
	next := 0
	var buf bytes.Buffer
	timing := rand.New(rand.NewPCG(p.opt.Seed, 0x71e))
	last := time.Duration(-1)
	for i := 0; ; i++ {
		t := time.Duration(i) * dt
		if j := p.scene.JitterMS; j > 0 && i > 0 {
			t += time.Duration(timing.NormFloat64() * j * float64(time.Millisecond))
		}
		t = max(t, last+time.Millisecond) // timestamps increase strictly
		dropped := i > 0 && timing.Float64() < p.scene.DropRate
		if err := po.pace(ctx, start.Add(t)); err != nil {
			return err
		}
		p.Guide(t, tgt.LastGuidance())
		if !p.flashed && tgt.Flashed() {
			colors = p.Flash(t + po.UIDelay)
		}
		for next < len(colors) && colors[next].At <= t {
			if err := tgt.Color(ctx, colors[next]); err != nil {
				return fmt.Errorf("simulate: colour %d: %w", next, err)
			}
			next++
		}
		if p.flashed && t >= p.End() {
			if err := tgt.End(ctx, p.End()); err != nil {
				return fmt.Errorf("simulate: end: %w", err)
			}
			return nil
		}
		if !p.flashed && t > po.MaxDuration {
			return ErrNeverFlashed
		}
		if dropped {
			continue // the camera lost this frame
		}
		last = t
		img := p.Render(t)
		buf.Reset()
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: po.JPEGQuality}); err != nil {
			return fmt.Errorf("simulate: encode frame %d: %w", i, err)
		}
		if err := tgt.Frame(ctx, t, bytes.Clone(buf.Bytes())); err != nil {
			return fmt.Errorf("simulate: frame %d: %w", i, err)
		}
	}
}

// pace waits until at when playing in real time, and reports a cancelled
// ctx either way.
func (po PlayOptions) pace(ctx context.Context, at time.Time) error {
	if d := time.Until(at); po.Realtime && d > 0 {
		select {
		case <-ctx.Done():
		case <-time.After(d):
		}
	}
	return ctx.Err()
}

// RunTarget feeds a capture straight into a liveness.Run, decoding each
// JPEG as the server would.
type RunTarget struct {
	Run     *liveness.Run
	flashed bool
	n       int
	// Guidance collects the guidance after every frame.
	Guidance []liveness.Guidance
}

var _ Target = (*RunTarget)(nil)

// Frame decodes one frame as the capture handler does and analyses it.
func (r *RunTarget) Frame(ctx context.Context, at time.Duration, jpg []byte) error {
	img, err := imageio.DecodeReduced(jpg, imageio.DefaultLimits(), 0)
	if err != nil {
		return fmt.Errorf("simulate: decode: %w", err)
	}
	g, _, flash, err := r.Run.AddFrame(ctx, liveness.Frame{Index: r.n, At: at, Image: img})
	if err != nil {
		return err
	}
	r.n++
	r.Guidance = append(r.Guidance, g)
	r.flashed = r.flashed || flash
	return nil
}

// Flashed reports whether the run asked for the colours.
func (r *RunTarget) Flashed() bool { return r.flashed }

// LastGuidance is the guidance after the latest frame.
func (r *RunTarget) LastGuidance() liveness.Guidance {
	if len(r.Guidance) == 0 {
		return ""
	}
	return r.Guidance[len(r.Guidance)-1]
}

// Color records a colour onset.
func (r *RunTarget) Color(_ context.Context, c liveness.ColorShown) error {
	r.Run.ColorShown(c)
	return nil
}

// End records the end of the capture.
func (r *RunTarget) End(_ context.Context, at time.Duration) error {
	r.Run.End(at)
	return nil
}
