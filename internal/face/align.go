package face

import (
	"errors"
	"math"

	"github.com/livenessd/livenessd"
)

// ArcFaceTemplate is the canonical position of the five alignment points
// (left eye, right eye, nose tip, left and right mouth corner; "left" =
// image left) in a 112x112 crop, as used by InsightFace's ArcFace models
// and MobileFaceNet trained on the same crops.
var ArcFaceTemplate = [5]livenessd.Point{
	{X: 38.2946, Y: 51.6963},
	{X: 73.5318, Y: 51.5014},
	{X: 56.0252, Y: 71.7366},
	{X: 41.5493, Y: 92.3655},
	{X: 70.7299, Y: 92.2041},
}

// similarity is x' = S*R*x + t with rotation-scale (a, b) = S*(cos, sin):
// x' = a*x - b*y + tx, y' = b*x + a*y + ty.
type similarity struct{ A, B, TX, TY float64 }

func (s similarity) apply(p livenessd.Point) livenessd.Point {
	return livenessd.Point{X: s.A*p.X - s.B*p.Y + s.TX, Y: s.B*p.X + s.A*p.Y + s.TY}
}

// Scale is the transform's scale factor; Angle its rotation in radians.
func (s similarity) Scale() float64 { return math.Hypot(s.A, s.B) }
func (s similarity) Angle() float64 { return math.Atan2(s.B, s.A) }

var errDegenerate = errors.New("face: degenerate alignment points")

// estimateSimilarity is the least-squares similarity transform (rotation,
// uniform scale, translation; no reflection) taking src onto dst: Umeyama's
// solution, which in 2-D reduces to one complex division of centred
// coordinates.
func estimateSimilarity(src, dst []livenessd.Point) (similarity, error) {
	n := len(src)
	if n < 2 || n != len(dst) {
		return similarity{}, errDegenerate
	}
	var ms, md livenessd.Point
	for i := range n {
		ms.X += src[i].X
		ms.Y += src[i].Y
		md.X += dst[i].X
		md.Y += dst[i].Y
	}
	ms.X, ms.Y, md.X, md.Y = ms.X/float64(n), ms.Y/float64(n), md.X/float64(n), md.Y/float64(n)
	var num, numI, den float64 // sum conj(s)*d, sum |s|^2
	for i := range n {
		sx, sy := src[i].X-ms.X, src[i].Y-ms.Y
		dx, dy := dst[i].X-md.X, dst[i].Y-md.Y
		num += sx*dx + sy*dy
		numI += sx*dy - sy*dx
		den += sx*sx + sy*sy
	}
	if den < 1e-9 || math.IsNaN(den) || math.IsInf(den, 0) {
		return similarity{}, errDegenerate
	}
	a, b := num/den, numI/den
	if a == 0 && b == 0 {
		return similarity{}, errDegenerate
	}
	return similarity{A: a, B: b, TX: md.X - (a*ms.X - b*ms.Y), TY: md.Y - (b*ms.X + a*ms.Y)}, nil
}

// toAffine expresses the similarity as an affine map.
func (s similarity) toAffine() affine {
	return affine{A: s.A, B: -s.B, C: s.TX, D: s.B, E: s.A, F: s.TY}
}

// alignMap returns the sampler map (crop pixel -> source pixel) that puts
// the image's five points onto the template, scaled from the 112x112
// template to a w x h crop.
func alignMap(points []livenessd.Point, template [5]livenessd.Point, w, h int) (affine, similarity, error) {
	dst := make([]livenessd.Point, len(template))
	sx, sy := float64(w)/112, float64(h)/112
	for i, t := range template {
		dst[i] = livenessd.Point{X: t.X * sx, Y: t.Y * sy}
	}
	if len(points) != len(dst) {
		return affine{}, similarity{}, errDegenerate
	}
	fwd, err := estimateSimilarity(points, dst)
	if err != nil {
		return affine{}, similarity{}, err
	}
	inv, ok := fwd.toAffine().invert()
	if !ok {
		return affine{}, similarity{}, errDegenerate
	}
	return inv, fwd, nil
}

// fivePoints derives the alignment points from 68 iBUG landmarks: eye
// centres (mean of 36-41 and 42-47), nose tip (30), mouth corners (48, 54).
func fivePoints(lm []livenessd.Point) []livenessd.Point {
	if len(lm) != 68 {
		return nil
	}
	mean := func(a, b int) livenessd.Point {
		var p livenessd.Point
		for i := a; i <= b; i++ {
			p.X += lm[i].X
			p.Y += lm[i].Y
		}
		k := float64(b - a + 1)
		return livenessd.Point{X: p.X / k, Y: p.Y / k}
	}
	return []livenessd.Point{mean(36, 41), mean(42, 47), lm[30], lm[48], lm[54]}
}
