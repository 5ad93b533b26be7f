package liveness

import (
	"bytes"
	"fmt"
	"math"
)

// ParallaxViews are the two views a capture's parallax was measured on,
// for diagnosis (`livenessd eval liveness --parallax-dump`): each an 8-bit
// PGM of the face crop's luma and its mesh in crop pixels, one "x y" line
// per point.
type ParallaxViews struct {
	FarPGM, NearPGM       []byte
	FarPoints, NearPoints []byte
}

// ParallaxViews returns the capture's parallax views; false when it kept
// no pair (no lone face before the colours, or no flash).
func (r *Run) ParallaxViews() (ParallaxViews, bool) {
	if r.parFar == nil || r.parNear == nil {
		return ParallaxViews{}, false
	}
	return ParallaxViews{
		FarPGM: r.parFar.pgm(), NearPGM: r.parNear.pgm(),
		FarPoints: r.parFar.pointsText(), NearPoints: r.parNear.pointsText(),
	}, true
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

// pointsText is the crop's mesh, one "x y" line per point.
func (c *faceCrop) pointsText() []byte {
	var b bytes.Buffer
	for _, p := range c.pts {
		fmt.Fprintf(&b, "%.3f %.3f\n", p.X, p.Y)
	}
	return b.Bytes()
}
