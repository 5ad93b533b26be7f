package liveness

import (
	"bytes"
	"fmt"
	"math"
)

// ParallaxView is one view a capture's parallax was measured on, for
// diagnosis (`livenessd eval liveness --parallax-dump`): a 16-bit PGM of
// the face crop's luma (256 per luma step, so a fit re-run on the dumped
// views reads what the capture's own fit read: rounded to 8 bits, a fit's
// t moved by 0.2 in the median and up to 2), its mesh in crop pixels (one "x y z" line per
// point, z FaceMesh's depth: smaller is nearer) and the face's width in
// frame pixels.
type ParallaxView struct {
	PGM, Points []byte
	Width       float64
}

// ParallaxViews are a capture's far views (farthest first) and its near
// view (the flash's).
type ParallaxViews struct {
	Far  []ParallaxView
	Near ParallaxView
}

// ParallaxViews returns the capture's parallax views; false when it kept
// no pair (no lone face before the colours, or no flash).
func (r *Run) ParallaxViews() (ParallaxViews, bool) {
	if len(r.parFar) == 0 || r.parNear == nil {
		return ParallaxViews{}, false
	}
	far := make([]ParallaxView, len(r.parFar))
	for i, c := range r.parFar {
		far[i] = c.view()
	}
	return ParallaxViews{Far: far, Near: r.parNear.view()}, true
}

// view is the crop as a ParallaxView.
func (c *faceCrop) view() ParallaxView {
	return ParallaxView{PGM: c.pgm(), Points: c.pointsText(), Width: c.width}
}

// pgm is the crop's luma as a 16-bit binary PGM (big-endian, luma x 256).
func (c *faceCrop) pgm() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "P5 %d %d %d\n", cropSide, cropSide, pgmMax)
	for _, v := range c.luma {
		q := uint16(math.Max(0, math.Min(pgmMax, math.Round(float64(v)*pgmScale))))
		b.WriteByte(byte(q >> 8))
		b.WriteByte(byte(q))
	}
	return b.Bytes()
}

// A dumped view's luma is stored as luma x pgmScale in 16 bits.
const (
	pgmScale = 256
	pgmMax   = 65535
)

// pointsText is the crop's mesh, one "x y z" line per point.
func (c *faceCrop) pointsText() []byte {
	var b bytes.Buffer
	for i, p := range c.pts {
		var z float64
		if i < len(c.depth) {
			z = c.depth[i]
		}
		fmt.Fprintf(&b, "%.3f %.3f %.3f\n", p.X, p.Y, z)
	}
	return b.Bytes()
}
