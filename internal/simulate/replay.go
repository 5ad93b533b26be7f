package simulate

import (
	"bytes"
	"context"
	"fmt"
	"image/jpeg"
	"time"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/liveness"
)

// Replay is a live capture rendered and JPEG-encoded ahead of time, so a
// load generator pays for the frames once instead of once per session and
// leaves the machine to the server it measures. It holds the approach to
// a canonical oval and then the held face, each held frame under no
// screen light and under every palette colour; Play picks, frame by
// frame, the one the session's own colours call for.
//
// The face ends in the canonical oval, not the session's: the server
// draws ovals 0.40-0.50 of the frame wide with centres within 0.04 of the
// frame's, and the face is placed to fill every such oval within the fit
// rule (liveness.FitMin-FitMax, centre within liveness.FitMaxOffset).
type Replay struct {
	dt       time.Duration
	lag      time.Duration
	approach [][]byte
	// hold[k][0] is held frame k without screen light, hold[k][1+i] under
	// liveness.Palette[i].
	hold [][][]byte
}

// Replay geometry: the canonical oval's width (frame widths), and the
// range of face contour widths (frame widths) accepted for the end of
// the approach, which fill every oval the server draws.
const (
	replayOval       = 0.45
	replayContourMin = 0.41
	replayContourMax = 0.44
	// replayStartMax bounds the face's contour width at the start: inside
	// the smallest start oval the server draws, with a tenth to spare.
	replayStartMax = 0.9 * liveness.FitStart * liveness.StartScale * liveness.OvalMinWidth
)

// NewReplay renders a live capture of src with opt (its seed drawing the
// person's movement and the scene's noise): the approach from a far start
// until the face has settled in the canonical oval, then holdFrames held
// frames, each under no light and under each palette colour. The scene
// must keep the camera's automatic exposure and white balance off: a held
// frame is rendered once per colour, not in the order the colours come.
func NewReplay(src Source, opt Options, holdFrames int) (*Replay, error) {
	if holdFrames < 2 {
		return nil, fmt.Errorf("simulate: replay needs at least 2 held frames, got %d", holdFrames)
	}
	if opt.Attack != "" && opt.Attack != AttackNone {
		return nil, fmt.Errorf("simulate: replay plays live captures only, not %q", opt.Attack)
	}
	opt.Start = StartFar
	if opt.Scene != nil && (opt.Scene.AE || opt.Scene.AWB) || opt.AWB {
		return nil, fmt.Errorf("simulate: replay needs automatic exposure and white balance off")
	}
	h := replayOval * liveness.OvalAspect * 4 / 3
	oval := livenessd.Oval{CenterX: 0.5, CenterY: 0.5, Width: replayOval, Height: h}
	ch := livenessd.Challenge{Type: livenessd.ChallengeMovementAndLight, Version: liveness.ChallengeV1, Oval: oval,
		Start: oval.Scale(liveness.StartScale)}
	// Draw movements until the face starts inside every start oval the
	// server draws and settles at a size that fills every target oval.
	var p *Player
	for try := range 64 {
		o := opt
		o.Seed = opt.Seed + uint64(try)*0x9e37
		q, err := NewPlayer(src, ch, o)
		if err != nil {
			return nil, err
		}
		perBox := src.contour() / src.Face.W / float64(q.opt.Width)
		c, c0 := q.mo.goal*perBox, q.mo.w*perBox
		if c >= replayContourMin && c <= replayContourMax && c0 <= replayStartMax {
			p = q
			break
		}
	}
	if p == nil {
		return nil, fmt.Errorf("simulate: replay: no movement settles in the canonical oval")
	}
	r := &Replay{dt: time.Duration(float64(time.Second) / p.opt.FPS), lag: p.lag}
	var buf bytes.Buffer
	encode := func(t time.Duration, light [3]float64, lit bool) ([]byte, error) {
		buf.Reset()
		if err := jpeg.Encode(&buf, p.render(t, light, lit), &jpeg.Options{Quality: p.scene.JPEGQuality}); err != nil {
			return nil, fmt.Errorf("simulate: replay: encode: %w", err)
		}
		return bytes.Clone(buf.Bytes()), nil
	}
	// The approach, until the face has settled for half a second.
	var t time.Duration
	settled := time.Duration(-1)
	for ; settled < 0 || t < settled+500*time.Millisecond; t += r.dt {
		if t > 10*time.Second {
			return nil, fmt.Errorf("simulate: replay: the approach never settled")
		}
		p.Guide(t, "")
		if settled < 0 && p.mo.phase == phaseSettle {
			settled = t
		}
		f, err := encode(t, [3]float64{}, false)
		if err != nil {
			return nil, err
		}
		r.approach = append(r.approach, f)
	}
	// The held face: the person holds still while the colours play.
	p.mo.hold(t, p.scene.ColourDrift)
	for range holdFrames {
		variants := make([][]byte, 1+len(liveness.Palette))
		var err error
		if variants[0], err = encode(t, [3]float64{}, false); err != nil {
			return nil, err
		}
		for i, c := range liveness.Palette {
			light := [3]float64{float64(c[0]) / 255, float64(c[1]) / 255, float64(c[2]) / 255}
			if variants[1+i], err = encode(t, light, true); err != nil {
				return nil, err
			}
		}
		r.hold = append(r.hold, variants)
		t += r.dt
	}
	return r, nil
}

// Frames is how many frames the replay holds (every variant counted).
func (r *Replay) Frames() int { return len(r.approach) + len(r.hold)*(1+len(liveness.Palette)) }

// Play sends the replay to tgt in real time for a session of challenge ch
// (its colours): the approach, then the held face, under the colour the
// screen shows a lag earlier once tgt reports the flash, and the end after
// the last colour. Held frames play forwards and back, so the slow sway
// they hold has no jump.
func (r *Replay) Play(ctx context.Context, ch livenessd.Challenge, tgt Target, po PlayOptions) error {
	if po.MaxDuration <= 0 {
		po.MaxDuration = 12 * time.Second
	}
	if po.UIDelay <= 0 {
		po.UIDelay = 50 * time.Millisecond
	}
	index := map[livenessd.RGB]int{}
	for i, c := range liveness.Palette {
		index[c] = 1 + i
	}
	for i, c := range ch.Colors {
		if index[c.Color] == 0 {
			return fmt.Errorf("simulate: replay: colour %d (%v) is not in the palette", i, c.Color)
		}
	}
	start := time.Now()
	var colors []liveness.ColorShown
	next := 0
	flashAt, end := time.Duration(-1), time.Duration(0)
	held := 0
	for i := 0; ; i++ {
		t := time.Duration(i) * r.dt
		if err := po.pace(ctx, start.Add(t)); err != nil {
			return err
		}
		if flashAt < 0 && tgt.Flashed() {
			flashAt = t + po.UIDelay
			at := flashAt
			for k, c := range ch.Colors {
				colors = append(colors, liveness.ColorShown{Index: k, At: at})
				at += c.Duration
			}
			end = at
		}
		for next < len(colors) && colors[next].At <= t {
			if err := tgt.Color(ctx, colors[next]); err != nil {
				return fmt.Errorf("simulate: replay: colour %d: %w", next, err)
			}
			next++
		}
		if flashAt >= 0 && t >= end {
			if err := tgt.End(ctx, end); err != nil {
				return fmt.Errorf("simulate: replay: end: %w", err)
			}
			return nil
		}
		if flashAt < 0 && t > po.MaxDuration {
			return ErrNeverFlashed
		}
		var frame []byte
		if flashAt < 0 && i < len(r.approach) {
			frame = r.approach[i]
		} else {
			variant := 0
			for k := len(colors) - 1; k >= 0; k-- {
				if colors[k].At <= t-r.lag {
					variant = index[ch.Colors[k].Color]
					break
				}
			}
			frame = r.hold[pingPong(held, len(r.hold))][variant]
			held++
		}
		if err := tgt.Frame(ctx, t, frame); err != nil {
			return fmt.Errorf("simulate: replay: frame %d: %w", i, err)
		}
	}
}

// pingPong maps a step count onto 0..n-1 forwards, then back, and so on.
func pingPong(i, n int) int {
	period := 2 * (n - 1)
	k := i % period
	if k >= n {
		k = period - k
	}
	return k
}
