package liveness

import (
	"bytes"
	"fmt"
	"math"
)

// ParallaxView is one view a capture's parallax was measured on, for
// diagnosis (`livenessd eval liveness --parallax-dump`): an 8-bit PGM of
// the face crop's luma, its mesh in crop pixels (one "x y z" line per
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

// pgm is the crop's luma as an 8-bit binary PGM.
func (c *faceCrop) pgm() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "P5 %d %d 255\n", cropSide, cropSide)
	for _, v := range c.luma {
		b.WriteByte(byte(math.Max(0, math.Min(255, math.Round(float64(v))))))
	}
	return b.Bytes()
}

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
