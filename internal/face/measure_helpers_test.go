package face

import (
	"context"
	"image"
	"math"
	"os"
	"sync"
	"testing"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/imageio"
	"github.com/livenessd/livenessd/internal/infer"
	"github.com/livenessd/livenessd/internal/testutil"
)

// Shared fixtures of the quality/pose/eye/mesh tests: the decoded sample
// photos and one pipeline, loaded once per test binary.
var (
	fixOnce    sync.Once
	fixSamples [7]*image.NRGBA
	fixErr     error
)

func sampleImage(t testing.TB, n int) *image.NRGBA {
	t.Helper()
	path := testutil.Sample(t, n)
	fixOnce.Do(func() {
		for i := 1; i <= 6; i++ {
			b, err := os.ReadFile(path[:len(path)-len("1.jpg")] + string(rune('0'+i)) + ".jpg")
			if err != nil {
				fixErr = err
				return
			}
			if fixSamples[i], err = imageio.Decode(b, imageio.DefaultLimits()); err != nil {
				fixErr = err
				return
			}
		}
	})
	if fixErr != nil {
		t.Fatal(fixErr)
	}
	return fixSamples[n]
}

var (
	obsOnce  sync.Once
	obsCache [7][]livenessd.FaceObservation
	obsErr   error
)

// sampleObservations is the pipeline's Analyze of sample n, computed once
// per test binary for all six samples.
func sampleObservations(t testing.TB, n int) []livenessd.FaceObservation {
	t.Helper()
	sampleImage(t, n)
	obsOnce.Do(func() {
		p, err := NewPipeline(testutil.Runtime(t), testutil.Cache(t), DefaultConfig())
		if err != nil {
			obsErr = err
			return
		}
		defer p.Close()
		for i := 1; i <= 6; i++ {
			if obsCache[i], err = p.Analyze(context.Background(), fixSamples[i]); err != nil {
				obsErr = err
				return
			}
		}
	})
	if obsErr != nil {
		t.Fatal(obsErr)
	}
	return obsCache[n]
}

func testPipeline(t testing.TB) *Pipeline {
	t.Helper()
	p, err := NewPipeline(testutil.Runtime(t), testutil.Cache(t), DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func loadModel(t testing.TB, spec infer.Spec) *infer.Session {
	t.Helper()
	s, err := testutil.Runtime(t).LoadFile(spec, testutil.Cache(t).Path(spec.File))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// mirror flips img horizontally.
func mirror(img *image.NRGBA) *image.NRGBA {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			copy(out.Pix[out.PixOffset(w-1-x, y):][:4], img.Pix[img.PixOffset(x, y):][:4])
		}
	}
	return out
}

// rotate turns img by deg degrees clockwise (as seen on screen) about c,
// on a canvas of the same size, bilinear, black outside.
func rotate(img *image.NRGBA, deg float64, c livenessd.Point) *image.NRGBA {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	a := deg * math.Pi / 180
	cs, sn := math.Cos(a), math.Sin(a)
	for y := range h {
		for x := range w {
			// Inverse map: rotate the output point back by -a.
			dx, dy := float64(x)+0.5-c.X, float64(y)+0.5-c.Y
			sx, sy := c.X+dx*cs+dy*sn-0.5, c.Y-dx*sn+dy*cs-0.5
			x0, y0 := int(math.Floor(sx)), int(math.Floor(sy))
			if x0 < 0 || y0 < 0 || x0+1 >= w || y0+1 >= h {
				out.Pix[out.PixOffset(x, y)+3] = 255
				continue
			}
			fx, fy := sx-float64(x0), sy-float64(y0)
			for ch := range 4 {
				p := func(xx, yy int) float64 { return float64(img.Pix[img.PixOffset(xx, yy)+ch]) }
				v := (p(x0, y0)*(1-fx)+p(x0+1, y0)*fx)*(1-fy) + (p(x0, y0+1)*(1-fx)+p(x0+1, y0+1)*fx)*fy
				out.Pix[out.PixOffset(x, y)+ch] = uint8(v + 0.5)
			}
		}
	}
	return out
}

// nearFace crops sample photo img to the face's neighbourhood (the box
// grown by one box width on every side, black outside the photo) and
// returns the crop with the face moved into its coordinates, so variants
// of the photo can be made at the cost of the face, not the photo.
func nearFace(img *image.NRGBA, o livenessd.FaceObservation) (*image.NRGBA, livenessd.FaceObservation) {
	near := boxRect(o.Box).Inset(-int(o.Box.W))
	return imageio.Crop(img, near), shift(o, -float64(near.Min.X), -float64(near.Min.Y))
}

// matchFace returns the observation whose box centre is nearest to c.
func matchFace(obs []livenessd.FaceObservation, c livenessd.Point) (livenessd.FaceObservation, float64) {
	best, bd := livenessd.FaceObservation{}, math.Inf(1)
	for _, o := range obs {
		bc := o.Box.Center()
		if d := math.Hypot(bc.X-c.X, bc.Y-c.Y); d < bd {
			best, bd = o, d
		}
	}
	return best, bd
}

// adjust returns img with every channel mapped through v*gain+bias, clipped.
func adjust(img *image.NRGBA, gain, bias float64) *image.NRGBA {
	out := image.NewNRGBA(img.Rect)
	for i, v := range img.Pix {
		if i%4 == 3 {
			out.Pix[i] = v
			continue
		}
		out.Pix[i] = uint8(math.Max(0, math.Min(255, float64(v)*gain+bias)) + 0.5)
	}
	return out
}

// blurRegion returns a copy of img with the pixels inside r (plus a margin)
// blurred by three passes of a (2*radius+1) box filter in each direction,
// close to a Gaussian of sigma = radius.
func blurRegion(img *image.NRGBA, r image.Rectangle, radius int) *image.NRGBA {
	out := image.NewNRGBA(img.Rect)
	copy(out.Pix, img.Pix)
	r = r.Inset(-3 * radius).Intersect(img.Rect)
	w, h := r.Dx(), r.Dy()
	buf := make([]float64, w*h*3)
	for y := range h {
		for x := range w {
			o := out.PixOffset(r.Min.X+x, r.Min.Y+y)
			for c := range 3 {
				buf[3*(y*w+x)+c] = float64(out.Pix[o+c])
			}
		}
	}
	tmp := make([]float64, len(buf))
	// Running-sum box filter along rows or columns, edges averaged over
	// the pixels that exist.
	pass := func(src, dst []float64, horizontal bool) {
		n, lines, step, lstep := w, h, 3, 3*w
		if !horizontal {
			n, lines, step, lstep = h, w, 3*w, 3
		}
		for l := range lines {
			base := l * lstep
			for c := range 3 {
				var sum float64
				cnt := 0
				for k := 0; k <= radius && k < n; k++ {
					sum += src[base+k*step+c]
					cnt++
				}
				for i := range n {
					dst[base+i*step+c] = sum / float64(cnt)
					if j := i + radius + 1; j < n {
						sum += src[base+j*step+c]
						cnt++
					}
					if j := i - radius; j >= 0 {
						sum -= src[base+j*step+c]
						cnt--
					}
				}
			}
		}
	}
	for range 3 {
		pass(buf, tmp, true)
		pass(tmp, buf, false)
	}
	for y := range h {
		for x := range w {
			o := out.PixOffset(r.Min.X+x, r.Min.Y+y)
			for c := range 3 {
				out.Pix[o+c] = uint8(buf[3*(y*w+x)+c] + 0.5)
			}
		}
	}
	return out
}

// boxRect converts a face box to integer pixels.
func boxRect(b livenessd.Rect) image.Rectangle {
	return image.Rect(int(b.X), int(b.Y), int(b.X+b.W), int(b.Y+b.H))
}

// scaleFace returns the face box and landmarks scaled by s (to match an
// image resized by s).
func scaleFace(o livenessd.FaceObservation, s float64) (livenessd.Rect, []livenessd.Point) {
	box := livenessd.Rect{X: o.Box.X * s, Y: o.Box.Y * s, W: o.Box.W * s, H: o.Box.H * s}
	lm := make([]livenessd.Point, len(o.Landmarks))
	for i, p := range o.Landmarks {
		lm[i] = livenessd.Point{X: p.X * s, Y: p.Y * s}
	}
	return box, lm
}

func livenessdPoint(x, y float64) livenessd.Point { return livenessd.Point{X: x, Y: y} }

// sampleImageSynthetic is a w x h gradient (no model or file needed).
func sampleImageSynthetic(w, h int) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			o := m.PixOffset(x, y)
			m.Pix[o], m.Pix[o+1], m.Pix[o+2], m.Pix[o+3] = uint8(x), uint8(y), uint8(x+y), 255
		}
	}
	return m
}

// shift moves a face's box and landmarks by (dx, dy).
func shift(o livenessd.FaceObservation, dx, dy float64) livenessd.FaceObservation {
	o.Box.X += dx
	o.Box.Y += dy
	lm := make([]livenessd.Point, len(o.Landmarks))
	for i, p := range o.Landmarks {
		lm[i] = livenessd.Point{X: p.X + dx, Y: p.Y + dy}
	}
	o.Landmarks = lm
	return o
}
