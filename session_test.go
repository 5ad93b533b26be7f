package livenessd_test

import (
	"math"
	"testing"

	"github.com/livenessd/livenessd"
)

func TestOvalPixels(t *testing.T) {
	o := livenessd.Oval{CenterX: 0.5, CenterY: 0.5, Width: 0.45, Height: 0.78}
	for _, test := range []struct {
		w, h                  int
		cx, cy, width, height float64
	}{
		// Landscape: the frame's largest 4:3 region, as before.
		{640, 480, 320, 240, 288, 374.4},
		{320, 240, 160, 120, 144, 187.2},
		{640, 360, 320, 180, 216, 280.8},
		{1280, 720, 640, 360, 432, 561.6},
		// Upright: the same region turned, so the same oval in pixels as
		// the landscape frame of the same sensor.
		{480, 640, 240, 320, 288, 374.4},
		{360, 640, 180, 320, 216, 280.8},
		{720, 1280, 360, 640, 432, 561.6},
		// Square.
		{480, 480, 240, 240, 216, 280.8},
	} {
		cx, cy, w, h := o.Pixels(test.w, test.h)
		for _, c := range []struct {
			name      string
			got, want float64
		}{{"cx", cx, test.cx}, {"cy", cy, test.cy}, {"width", w, test.width}, {"height", h, test.height}} {
			if math.Abs(c.got-c.want) > 1e-9 {
				t.Errorf("%dx%d: %s = %v, want %v", test.w, test.h, c.name, c.got, c.want)
			}
		}
	}
}

// The largest oval a challenge draws (half the 4:3 region wide, 1.3 times
// as tall as wide, its centre up to 0.04 off) stays inside the frame in
// either orientation.
func TestOvalPixels_InsideFrame(t *testing.T) {
	const w = 0.50
	for _, sz := range [][2]int{{640, 480}, {480, 640}, {640, 360}, {360, 640}, {1280, 720}, {720, 1280}} {
		for _, off := range []float64{-0.04, 0, 0.04} {
			o := livenessd.Oval{CenterX: 0.5 + off, CenterY: 0.5 + off, Width: w, Height: w * 1.3 * 4 / 3}
			cx, cy, ow, oh := o.Pixels(sz[0], sz[1])
			if cx-ow/2 < 0 || cx+ow/2 > float64(sz[0]) || cy-oh/2 < 0 || cy+oh/2 > float64(sz[1]) {
				t.Errorf("%dx%d, centre %+.2f: oval %.0fx%.0f at (%.0f, %.0f) leaves the frame", sz[0], sz[1], off, ow, oh, cx, cy)
			}
		}
	}
}
