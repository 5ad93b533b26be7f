package simulate

import (
	"math"
	"testing"
)

// A print square to the camera is seen as itself; a tilted one is
// foreshortened across its tilt, and as it approaches its near side grows
// faster than its far side: the projective change the parallax fit must
// not read as a face's relief.
func TestPrintWarp(t *testing.T) {
	const focal = 600.0
	t.Run("Square", func(t *testing.T) {
		w := newPrintWarp(Scene{}, focal, 40)
		for _, d := range [][2]float64{{0, 0}, {50, -30}, {-80, 90}} {
			x, y, ok := w.at(d[0], d[1])
			if !ok || math.Abs(x-d[0]) > 1e-9 || math.Abs(y-d[1]) > 1e-9 {
				t.Errorf("at(%v) = %.3f, %.3f, %v; want the same point", d, x, y, ok)
			}
		}
	})
	// span is the output pixels between the print's points p px above and
	// below its centre (in the square print's pixels), upper then lower.
	span := func(w printWarp, p float64) (up, down float64) {
		inv := func(py float64) float64 { // output dy showing the print's py, by bisection
			lo, hi := -400.0, 400.0
			for range 60 {
				m := (lo + hi) / 2
				if _, y, _ := w.at(0, m); y < py {
					lo = m
				} else {
					hi = m
				}
			}
			return (lo + hi) / 2
		}
		c := inv(0)
		return c - inv(-p), inv(p) - c
	}
	for _, pitch := range []float64{-20, 20} {
		s := Scene{PrintPitch: pitch}
		// The same points of the print (4 cm either side) from 60 and 30 cm.
		farUp, farDown := span(newPrintWarp(s, focal, 60), 40)
		nearUp, nearDown := span(newPrintWarp(s, focal, 30), 80)
		if farUp+farDown > 80*math.Cos(pitch*math.Pi/180)+1 || farUp+farDown < 70 {
			t.Errorf("pitch %g: the print's 80 px span as %.1f px, want foreshortened", pitch, farUp+farDown)
		}
		// The ratio of the two halves departs from 1 more when nearer.
		if far, near := math.Abs(math.Log(farUp/farDown)), math.Abs(math.Log(nearUp/nearDown)); !(far > 0.01 && near > 1.5*far) {
			t.Errorf("pitch %g: |log(upper/lower)| far %.4f, near %.4f; want a projective change growing with approach", pitch, far, near)
		}
	}
}
