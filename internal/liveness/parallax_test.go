package liveness

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/livenessd/livenessd"
)

// syntheticViews makes a far view (smooth random texture, a mesh of 468
// points over an ellipse) and a near view of it in which the face's front
// is magnified by beta beyond its outline (the convexity h of
// faceParallax), after a similarity (scale s, shift). With blink, the
// eyes are closed in the near view: their lids show other pixels than the
// far view's eyes, which no motion of the face maps onto each other.
func syntheticViews(beta, s float64, blink bool) (far, near *faceCrop) {
	rng := rand.New(rand.NewPCG(7, 11))
	type wave struct{ fx, fy, ph, a float64 }
	var waves []wave
	for range 40 {
		waves = append(waves, wave{rng.Float64()*0.5 - 0.25, rng.Float64()*0.5 - 0.25, rng.Float64() * 2 * math.Pi, 10 + 20*rng.Float64()})
	}
	tex := func(x, y float64) float64 {
		v := 128.0
		for _, w := range waves {
			v += w.a * math.Sin(w.fx*x+w.fy*y+w.ph)
		}
		return v
	}
	const c = cropSide / 2
	a, b := 0.5*cropFace*cropSide, 0.65*cropFace*cropSide
	far = &faceCrop{width: 100, luma: make([]float32, cropSide*cropSide)}
	for i := range meshPoints {
		// A sunflower spiral over the ellipse.
		r := math.Sqrt(float64(i) / meshPoints)
		t := float64(i) * 2.39996
		far.pts = append(far.pts, pt(c+a*r*math.Cos(t), c+b*r*math.Sin(t)))
	}
	far.pts[4] = pt(c, c+0.1*b) // the nose tip
	// onEye reports whether near-view point q lies on an eye.
	onEye := func(q livenessd.Point) bool {
		for _, sx := range []float64{-1, 1} {
			if math.Hypot((q.X-c-sx*0.4*a)/(0.22*a), (q.Y-c+0.25*b)/(0.12*b)) < 1 {
				return true
			}
		}
		return false
	}
	for y := range cropSide {
		for x := range cropSide {
			far.luma[y*cropSide+x] = float32(tex(float64(x), float64(y)))
		}
	}
	h := func(p livenessd.Point) float64 {
		u, w := (p.X-c)/a, (p.Y-c)/b
		n := far.pts[4]
		d2 := ((p.X-n.X)*(p.X-n.X) + (p.Y-n.Y)*(p.Y-n.Y)) / (0.12 * 0.12 * 4 * a * a)
		return math.Sqrt(math.Max(0, 1-u*u-w*w)) + 0.5*math.Exp(-d2)
	}
	fwd := func(p livenessd.Point) livenessd.Point {
		g := 1 + beta*h(p)
		return pt(c+s*(p.X-c)*g+1.5, c+s*(p.Y-c)*g-0.8)
	}
	near = &faceCrop{width: 100 * s, luma: make([]float32, cropSide*cropSide)}
	for _, p := range far.pts {
		near.pts = append(near.pts, fwd(p))
	}
	// The near view's pixel at q shows the far texture at the p with
	// fwd(p) = q (a few fixed-point steps).
	for y := range cropSide {
		for x := range cropSide {
			q := pt(float64(x), float64(y))
			p := q
			for range 6 {
				f := fwd(p)
				p = pt(p.X+(q.X-f.X)/s, p.Y+(q.Y-f.Y)/s)
			}
			near.luma[y*cropSide+x] = float32(tex(p.X, p.Y))
			if blink && onEye(q) {
				near.luma[y*cropSide+x] = float32(tex(2.3*q.Y+17, 1.7*q.X-9)) // the lid
			}
		}
	}
	return far, near
}

func TestFaceParallax_Synthetic(t *testing.T) {
	for _, test := range []struct {
		name    string
		beta, s float64
		blink   bool
	}{
		{"Flat", 0, 1.02, false},
		{"Face3pc", 0.03, 1.0, false},
		{"Face6pc", 0.06, 0.98, false},
		{"FlatBlink", 0, 1.02, true},
		{"Face3pcBlink", 0.03, 1.0, true},
		{"Face6pcBlink", 0.06, 0.98, true},
	} {
		t.Run(test.name, func(t *testing.T) {
			far, near := syntheticViews(test.beta, test.s, test.blink)
			// FaceMesh's points start the search but damp the parallax:
			// the near mesh is the far one moved by the similarity only.
			for i, p := range far.pts {
				near.pts[i] = pt(cropSide/2+test.s*(p.X-cropSide/2)+1.5, cropSide/2+test.s*(p.Y-cropSide/2)-0.8)
			}
			res := faceParallax(far, near)
			if res.points < 50 || math.Abs(res.beta-test.beta) > 0.01 {
				t.Errorf("beta = %.4f (t %.1f, %d points), want %.3f", res.beta, res.t, res.points, test.beta)
			}
			// A face's parallax stays clear when an eye blinks in one view:
			// the tracks that do not come back are left out (without that,
			// t falls to 3.6 and 7.5 here).
			if test.beta > 0 && res.t < 10 {
				t.Errorf("t = %.1f (beta %.4f, %d points, %d dropped), want >= 10", res.t, res.beta, res.points, res.dropped)
			}
		})
	}
}
