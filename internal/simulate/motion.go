package simulate

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/liveness"
)

// Start is how far from the camera the simulated person begins.
type Start string

// Starts.
const (
	// StartFar: the face begins small, inside the start oval, and
	// approaches the target at once.
	StartFar Start = "far"
	// StartNear: the face begins as large as the target oval or larger
	// (someone sitting close to a laptop) and waits for guidance: it moves
	// back while told move_back, then approaches.
	StartNear Start = "near"
)

// Starts lists the start distances.
var Starts = []Start{StartFar, StartNear}

// ParseStart validates a start distance name.
func ParseStart(s string) (Start, error) {
	for _, v := range Starts {
		if string(v) == s {
			return v, nil
		}
	}
	return "", fmt.Errorf("simulate: unknown start %q (want far or near)", s)
}

// Contour width per detector box width of a real face (the default of
// Source.Contour; liveness measures the oval fit in contour widths).
const contourPerBox = 1.07

// motion is the person's movement: where the face is and how large, as a
// person moves who reads the server's guidance with a reaction time. It
// is advanced frame by frame (advance), deterministic given the seed and
// the guidance it was shown, so captures that see the same guidance move
// the same way.
type motion struct {
	start    Start
	reaction time.Duration
	// Sizes are face box widths in output pixels; goal is where the person
	// means to stop: their face filling 72-100% of the target oval; nearest
	// is as close as they come when told to move closer: the face filling
	// the oval FitMax times, where the oval's guidance says too_close.
	goal     float64
	nearest  float64
	target   livenessd.Point // face centre at the goal
	duration time.Duration   // of the approach

	t      time.Duration
	w      float64
	c      livenessd.Point
	phase  phase
	from   time.Duration // start of the approach
	fromW  float64
	fromC  livenessd.Point
	guides []guideAt
	holdAt time.Duration // the colours came on (-1: not yet); the person holds still a reaction time later
	drift  float64       // relative change of the face's size per second while holding
	// progress is how much of the approach is done (0 before it, 1 from
	// the goal on): the head's turn follows it.
	progress float64
}

type phase int

const (
	phaseWait     phase = iota // near start: waiting for the first guidance
	phaseBack                  // moving back while told move_back
	phaseApproach              // coming to the goal
	phaseSettle                // at the goal, adjusting to the guidance
)

type guideAt struct {
	at time.Duration
	g  liveness.Guidance
}

// newMotion draws the person's movement for challenge ch on a w x h frame
// from src (whose contour width per box width converts the server's fill
// into box widths). attack photo and noface show no perspective change.
func newMotion(rng *rand.Rand, src Source, ch livenessd.Challenge, w, h int, start Start, attack Attack) *motion {
	if start == "" {
		start = StartFar
	}
	cx, cy, ow, oh := ch.Oval.Pixels(w, h)
	_, _, sw, _ := liveness.StartOval(ch).Pixels(w, h)
	perBox := src.contour() / src.Face.W
	m := &motion{start: start, holdAt: -1}
	// The face ends filling 72-100% of the oval's width (contour), with
	// its centre a little below the oval's, and gets there in 1.0-1.6 s.
	// Many people stop as soon as the oval accepts them (from FitMin,
	// 0.70): the approach is then the least the guidance demands, and the
	// parallax the smallest (an independent client's captures with 1.5-1.6
	// times growth failed the 3-D rule three times as often as the rest).
	m.goal = ow * (0.72 + 0.28*rng.Float64()) / perBox
	m.nearest = ow * liveness.FitMax / perBox
	m.target = livenessd.Point{X: cx, Y: cy + 0.05*oh}
	m.duration = time.Duration((1.0 + 0.6*rng.Float64()) * float64(time.Second))
	m.reaction = time.Duration(250+rng.IntN(350)) * time.Millisecond
	// A live head once drew the size of a linear perspective warp here;
	// the draw is kept so that every later draw of a seed stays as it was.
	if attack.liveHead() {
		_ = rng.Float64()
	}
	off := livenessd.Point{X: (rng.Float64() - 0.5) * 0.2 * float64(w), Y: (rng.Float64() - 0.5) * 0.15 * float64(h)}
	m.c = livenessd.Point{X: m.target.X + off.X, Y: m.target.Y + off.Y}
	switch start {
	case StartNear:
		// Already filling the oval or more (100-125%), near its centre.
		m.w = ow * (1.0 + 0.25*rng.Float64()) / perBox
		m.c = livenessd.Point{X: m.target.X + 0.3*off.X, Y: m.target.Y + 0.3*off.Y}
		m.phase = phaseWait
	default:
		// Inside the start oval: 60-98% of its bound.
		m.w = sw * liveness.FitStart * (0.60 + 0.38*rng.Float64()) / perBox
		m.beginApproach(0)
	}
	return m
}

func (m *motion) beginApproach(t time.Duration) {
	m.phase, m.from, m.fromW, m.fromC = phaseApproach, t, m.w, m.c
}

// guide records the guidance the person sees at time t.
func (m *motion) guide(t time.Duration, g liveness.Guidance) {
	if g == "" || (len(m.guides) > 0 && m.guides[len(m.guides)-1].g == g) {
		return
	}
	m.guides = append(m.guides, guideAt{t, g})
}

// seen is the guidance the person acts on at time t: the latest one shown
// at least the reaction time before.
func (m *motion) seen(t time.Duration) liveness.Guidance {
	var g liveness.Guidance
	for _, x := range m.guides {
		if x.at+m.reaction <= t {
			g = x.g
		}
	}
	return g
}

// contour is the source face's contour width in its pixels (estimated
// from the box when unknown).
func (s Source) contour() float64 {
	if s.Contour > 0 {
		return s.Contour
	}
	return contourPerBox * s.Face.W
}

// zoom is the scale from src's pixels to output pixels when the face box
// of the capture's own source is w wide: a swapped-in face takes the same
// contour width, as a second person filling the oval would.
func (p *Player) zoom(src Source, w float64) float64 {
	return w * (p.src.contour() / p.src.Face.W) / src.contour()
}

// Guide shows the player the server's latest guidance at time t (before
// the frame at t is rendered); it moves as a person reading it would.
func (p *Player) Guide(t time.Duration, g liveness.Guidance) {
	p.mo.guide(t, g)
	p.mo.advance(t)
}

// hold tells the person at time at that the colours are on: after their
// reaction time they stop approaching and hold as still as they can,
// drifting by drift (the face's size, relative, per second: < 0 leaning
// back from the flashing screen, > 0 still creeping closer).
func (m *motion) hold(at time.Duration, drift float64) { m.holdAt, m.drift = at, drift }

// advance moves the person to time t (t never decreases).
func (m *motion) advance(t time.Duration) {
	if m.holdAt < 0 || t <= m.holdAt+m.reaction {
		m.move(t)
		return
	}
	m.move(m.holdAt + m.reaction)
	if t > m.t {
		m.w *= math.Exp(m.drift * (t - m.t).Seconds())
		m.t = t
	}
}

// move moves the person to time t as the approach and the guidance say.
func (m *motion) move(t time.Duration) {
	if t <= m.t {
		return
	}
	dt := (t - m.t).Seconds()
	m.t = t
	g := m.seen(t)
	switch m.phase {
	case phaseWait:
		if g == liveness.GuideMoveBack {
			m.phase = phaseBack
		}
	case phaseBack:
		if g == liveness.GuideMoveBack || g == "" {
			// Leaning back: about 20 cm/s at 35 cm.
			m.w *= math.Exp(-0.6 * dt)
			m.c.X += (m.target.X - m.c.X) * math.Min(1, dt)
			m.c.Y += (m.target.Y - m.c.Y) * math.Min(1, dt)
		} else {
			m.beginApproach(t)
		}
	case phaseApproach:
		u := math.Min(1, float64(t-m.from)/float64(m.duration))
		e := u * u * (3 - 2*u) // smoothstep
		m.w = m.fromW + (m.goal-m.fromW)*e
		m.c = livenessd.Point{X: m.fromC.X + (m.target.X-m.fromC.X)*e, Y: m.fromC.Y + (m.target.Y-m.fromC.Y)*e}
		m.progress = math.Max(m.progress, e)
		if u >= 1 {
			m.phase = phaseSettle
		}
	case phaseSettle:
		// At the goal: closer while told so (as a person does who sees
		// the oval's meter not yet full), back when too close, back again
		// when told to move back. Until 2026-12-07 the person came at
		// most 20% beyond the goal; the guidance then asked for closer
		// only around the oval's edge (FitMin), and now also while the
		// approach is short (liveness.ApproachGrowth).
		switch g {
		case liveness.GuideMoveCloser:
			m.w = math.Max(m.w, math.Min(m.w*math.Exp(0.25*dt), m.nearest))
		case liveness.GuideTooClose:
			m.w *= math.Exp(-0.25 * dt)
		case liveness.GuideMoveBack:
			m.phase = phaseBack
		}
	}
}

// state is the face's centre and box width now.
func (m *motion) state() (livenessd.Point, float64) {
	return m.c, m.w
}
