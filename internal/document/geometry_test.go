package document

import (
	"math"
	"testing"

	"github.com/livenessd/livenessd"
)

// The homography maps each corner onto its target, and a degenerate set
// of points is refused.
func TestHomography(t *testing.T) {
	from := [4]livenessd.Point{{X: 0, Y: 0}, {X: 100, Y: 0}, {X: 100, Y: 60}, {X: 0, Y: 60}}
	to := [4]livenessd.Point{{X: 12, Y: 30}, {X: 140, Y: 18}, {X: 150, Y: 110}, {X: 5, Y: 95}}
	h, ok := homography(from, to)
	if !ok {
		t.Fatal("not solved")
	}
	for i, p := range from {
		d := h[6]*p.X + h[7]*p.Y + 1
		x, y := (h[0]*p.X+h[1]*p.Y+h[2])/d, (h[3]*p.X+h[4]*p.Y+h[5])/d
		if math.Hypot(x-to[i].X, y-to[i].Y) > 1e-6 {
			t.Errorf("corner %d -> (%.3f, %.3f), want %v", i, x, y, to[i])
		}
	}
	if _, ok := homography([4]livenessd.Point{{}, {}, {}, {}}, to); ok {
		t.Error("degenerate points solved")
	}
}

// Rows of dots tilted by a known angle are found at that angle.
func TestDominantAngle(t *testing.T) {
	for _, deg := range []float64{0, 7, -12, 90, -80} {
		a := deg * math.Pi / 180
		m := &mask{w: 400, h: 400, on: make([]bool, 400*400)}
		for row := -3; row <= 3; row++ {
			for k := -150; k <= 150; k += 3 {
				// Points along a line at angle a, rows 30 px apart.
				x := 200 + float64(k)*math.Cos(a) - float64(row*30)*math.Sin(a)
				y := 200 + float64(k)*math.Sin(a) + float64(row*30)*math.Cos(a)
				if x >= 0 && y >= 0 && x < 400 && y < 400 {
					m.on[int(y)*400+int(x)] = true
				}
			}
		}
		got := dominantAngle(m) * 180 / math.Pi
		// The rotation that levels the rows is -deg (mod 180).
		diff := math.Mod(got+deg+360, 180)
		if diff > 90 {
			diff -= 180
		}
		if math.Abs(diff) > 1 {
			t.Errorf("rows at %v°: turn by %.2f°", deg, got)
		}
	}
}

func TestPlausible(t *testing.T) {
	card := Quad{{X: 0, Y: 0}, {X: 856, Y: 0}, {X: 856, Y: 540}, {X: 0, Y: 540}}
	if !plausible(card) {
		t.Error("ID-1 card refused")
	}
	square := Quad{{X: 0, Y: 0}, {X: 500, Y: 0}, {X: 500, Y: 500}, {X: 0, Y: 500}}
	twisted := Quad{{X: 0, Y: 0}, {X: 856, Y: 540}, {X: 856, Y: 0}, {X: 0, Y: 540}}
	for _, q := range []Quad{square, twisted} {
		if plausible(q) {
			t.Errorf("%v accepted", q)
		}
	}
}

// The constant-time filter equals the direct min/max over the window.
func TestMorph_MatchesDirect(t *testing.T) {
	p := newPlane(37, 23)
	for i := range p.pix {
		p.pix[i] = float32((i*7919)%251) + float32(i%3)
	}
	for _, k := range [][2]int{{1, 1}, {3, 1}, {5, 7}, {15, 4}, {80, 60}} {
		for _, dilate := range []bool{false, true} {
			got := p.morph(k[0], k[1], dilate)
			for y := range p.h {
				for x := range p.w {
					want := p.at(x, y)
					for yy := max(0, y-k[1]/2); yy <= min(p.h-1, y+k[1]/2); yy++ {
						for xx := max(0, x-k[0]/2); xx <= min(p.w-1, x+k[0]/2); xx++ {
							if dilate {
								want = max(want, p.at(xx, yy))
							} else {
								want = min(want, p.at(xx, yy))
							}
						}
					}
					if g := got.at(x, y); g != want {
						t.Fatalf("kernel %v dilate %v at (%d,%d): %v, want %v", k, dilate, x, y, g, want)
					}
				}
			}
		}
	}
}
