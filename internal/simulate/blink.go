package simulate

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/livenessd/livenessd"
)

// blink is one closing of the eyes.
type blink struct{ at, dur time.Duration }

// blinkHorizon is how far ahead a capture's blinks are drawn; no capture
// runs this long.
const blinkHorizon = 5 * time.Minute

// drawBlinks draws a person's blinks: a Poisson process of perMin a
// minute, each 0.1-0.3 s long.
func drawBlinks(rng *rand.Rand, perMin float64) []blink {
	if perMin <= 0 {
		return nil
	}
	var bs []blink
	var t time.Duration
	for {
		t += time.Duration(rng.ExpFloat64() * 60 / perMin * float64(time.Second))
		if t > blinkHorizon {
			return bs
		}
		d := time.Duration((0.1 + 0.2*rng.Float64()) * float64(time.Second))
		bs = append(bs, blink{at: t, dur: d})
		t += d
	}
}

// closure is how far the eyes are closed at t (0 open, 1 shut): the lids
// fall during the first quarter of a blink, stay shut for half of it and
// rise in the last quarter.
func (p *Player) closure(t time.Duration) float64 {
	for _, b := range p.blinks {
		if t < b.at {
			return 0
		}
		if t < b.at+b.dur {
			ph := float64(t-b.at) / float64(b.dur)
			return math.Min(1, 2*(1-math.Abs(2*ph-1)))
		}
	}
	return 0
}

// Eye geometry in eye distances: the visible eye is an ellipse this wide
// and high around each eye centre; the lid that covers it shows the skin
// above the eye, lidStretch times as tall, and its edge (the lashes) is
// dark for lashWidth.
const (
	eyeHalfWidth  = 0.24
	eyeHalfHeight = 0.09
	lidStretch    = 0.6
	lashWidth     = 0.02
)

// lids maps a point of the source photo to where a closing eye's lid
// takes its pixels from: the skin above the eye, pulled down over it.
type lids struct {
	c      float64 // closure, 0..1
	eyes   [2]livenessd.Point
	ax, ay float64 // unit vector along the eyes (source pixels)
	iod    float64 // eye distance in source pixels
	hw, hh float64 // the eye's half width and height in source pixels (hw the larger)
}

// newLids is the lids of src's eyes at closure c (nil when open).
func newLids(src Source, c float64) *lids {
	if c <= 0 {
		return nil
	}
	el, er := src.eyes()
	iod := math.Hypot(er.X-el.X, er.Y-el.Y)
	if iod < 1 {
		return nil
	}
	l := &lids{c: c, eyes: [2]livenessd.Point{el, er}, ax: (er.X - el.X) / iod, ay: (er.Y - el.Y) / iod, iod: iod,
		hw: eyeHalfWidth * iod, hh: eyeHalfHeight * iod}
	return l
}

// at returns the source point to sample for source point (x, y) and
// whether it is on the lashes.
func (l *lids) at(x, y float64) (sx, sy float64, lash bool) {
	for _, e := range l.eyes {
		dx, dy := x-e.X, y-e.Y
		if math.Abs(dx) > l.hw || math.Abs(dy) > l.hw { // outside the eye's ellipse
			continue
		}
		a := dx*l.ax + dy*l.ay  // along the eyes
		b := -dx*l.ay + dy*l.ax // down the face
		if u := a / l.hw; u*u+(b/l.hh)*(b/l.hh) >= 1 {
			continue
		}
		top := -l.hh * math.Sqrt(math.Max(0, 1-(a/l.hw)*(a/l.hw)))
		edge := top + l.c*2*(-top)
		if b > edge {
			continue // below the lid: the open part of the eye
		}
		nb := top - lidStretch*(edge-b)
		return e.X + a*l.ax - nb*l.ay, e.Y + a*l.ay + nb*l.ax, edge-b < lashWidth*l.iod
	}
	return x, y, false
}
