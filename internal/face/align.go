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
	return []livenessd.Point{meanPoint(lm[36:42]), meanPoint(lm[42:48]), lm[30], lm[48], lm[54]}
}

// dlibMeanShape is dlib's mean face, the points its get_face_chip_details
// aligns a 68-point face by: iBUG points 27-54 and 60-64 (nose, eyes,
// outer mouth, inner upper lip) in the unit square of the face. dlib's face
// descriptor network (tfjs.FaceRecognition) was trained on chips that put
// them at (0.25 + p)/1.5 of a 150x150 crop.
var dlibMeanShape = [...]struct {
	I int
	P livenessd.Point
}{
	{27, livenessd.Point{X: 0.490127, Y: 0.203352}}, {28, livenessd.Point{X: 0.490127, Y: 0.307009}}, {29, livenessd.Point{X: 0.490127, Y: 0.409805}},
	{30, livenessd.Point{X: 0.490127, Y: 0.515625}}, {31, livenessd.Point{X: 0.36688, Y: 0.587326}}, {32, livenessd.Point{X: 0.426036, Y: 0.609345}},
	{33, livenessd.Point{X: 0.490127, Y: 0.628106}}, {34, livenessd.Point{X: 0.554217, Y: 0.609345}}, {35, livenessd.Point{X: 0.613373, Y: 0.587326}},
	{36, livenessd.Point{X: 0.121737, Y: 0.216423}}, {37, livenessd.Point{X: 0.187122, Y: 0.178758}}, {38, livenessd.Point{X: 0.265825, Y: 0.179852}},
	{39, livenessd.Point{X: 0.334606, Y: 0.231733}}, {40, livenessd.Point{X: 0.260918, Y: 0.245099}}, {41, livenessd.Point{X: 0.182743, Y: 0.244077}},
	{42, livenessd.Point{X: 0.645647, Y: 0.231733}}, {43, livenessd.Point{X: 0.714428, Y: 0.179852}}, {44, livenessd.Point{X: 0.793132, Y: 0.178758}},
	{45, livenessd.Point{X: 0.858516, Y: 0.216423}}, {46, livenessd.Point{X: 0.79751, Y: 0.244077}}, {47, livenessd.Point{X: 0.719335, Y: 0.245099}},
	{48, livenessd.Point{X: 0.254149, Y: 0.780233}}, {49, livenessd.Point{X: 0.340985, Y: 0.745405}}, {50, livenessd.Point{X: 0.428858, Y: 0.727388}},
	{51, livenessd.Point{X: 0.490127, Y: 0.742578}}, {52, livenessd.Point{X: 0.551395, Y: 0.727388}}, {53, livenessd.Point{X: 0.639268, Y: 0.745405}},
	{54, livenessd.Point{X: 0.726104, Y: 0.780233}}, {60, livenessd.Point{X: 0.290379, Y: 0.784792}}, {61, livenessd.Point{X: 0.428096, Y: 0.778746}},
	{62, livenessd.Point{X: 0.490127, Y: 0.785343}}, {63, livenessd.Point{X: 0.552157, Y: 0.778746}}, {64, livenessd.Point{X: 0.689874, Y: 0.784792}},
}

const dlibPadding = 0.25

func dlibChipPoint(p livenessd.Point, side float64) livenessd.Point {
	return livenessd.Point{X: (dlibPadding + p.X) / (1 + 2*dlibPadding) * side, Y: (dlibPadding + p.Y) / (1 + 2*dlibPadding) * side}
}

// dlibChipMap is the sampler map (crop pixel -> source pixel) of dlib's
// face chip: the least-squares similarity putting the 33 landmarks of
// dlibMeanShape where dlib puts them in a side x side crop.
func dlibChipMap(lm []livenessd.Point, side int) (affine, error) {
	if len(lm) != 68 {
		return affine{}, errDegenerate
	}
	src := make([]livenessd.Point, len(dlibMeanShape))
	dst := make([]livenessd.Point, len(dlibMeanShape))
	for k, m := range dlibMeanShape {
		src[k], dst[k] = lm[m.I], dlibChipPoint(m.P, float64(side))
	}
	fwd, err := estimateSimilarity(src, dst)
	if err != nil {
		return affine{}, err
	}
	inv, ok := fwd.toAffine().invert()
	if !ok {
		return affine{}, errDegenerate
	}
	return inv, nil
}
