package face_test

import (
	"image"
	"image/color"
	"math"
	"os"
	"sync"
	"testing"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/face"
	"github.com/livenessd/livenessd/internal/imageio"
	"github.com/livenessd/livenessd/internal/testutil"
	"github.com/livenessd/livenessd/internal/testutil/facetest"
)

// MustPipeline returns the default pipeline, loaded once for the test binary.
func MustPipeline(tb testing.TB) *face.Pipeline { return facetest.Pipeline(tb) }

// fusedPipeline is the default pipeline with Config.Fusion on, closed at
// the end of the test.
func fusedPipeline(tb testing.TB) (*face.Pipeline, face.Config) {
	tb.Helper()
	cfg := face.DefaultConfig()
	cfg.Fusion.Disabled = false
	p, err := face.NewPipeline(testutil.Runtime(tb), testutil.Cache(tb), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { p.Close() })
	return p, cfg
}

type analysis struct {
	img *image.NRGBA
	obs []livenessd.FaceObservation
}

var (
	analysesMu sync.Mutex
	analyses   = map[int]analysis{}
)

// MustAnalyze decodes and analyses sample n once per test binary (the race
// detector makes the pure-Go image work slow).
func MustAnalyze(tb testing.TB, n int) (*image.NRGBA, []livenessd.FaceObservation) {
	tb.Helper()
	p := MustPipeline(tb)
	analysesMu.Lock()
	defer analysesMu.Unlock()
	if a, ok := analyses[n]; ok {
		return a.img, a.obs
	}
	img := MustDecode(tb, testutil.Sample(tb, n))
	obs, err := p.Analyze(tb.Context(), img)
	if err != nil {
		tb.Fatalf("Analyze sample%d: %v", n, err)
	}
	analyses[n] = analysis{img, obs}
	return img, obs
}

// MustDecode reads and decodes an image file with the service's limits.
func MustDecode(tb testing.TB, path string) *image.NRGBA {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	img, err := imageio.Decode(b, imageio.DefaultLimits())
	if err != nil {
		tb.Fatalf("decode %s: %v", path, err)
	}
	return img
}

// warp builds a w x h image whose pixel (x, y) is src sampled bilinearly
// at f(x+0.5, y+0.5) (continuous coordinates); outside src is black.
func warp(src *image.NRGBA, w, h int, f func(x, y float64) (float64, float64)) *image.NRGBA {
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	b := src.Bounds()
	at := func(x, y int) color.NRGBA {
		if x < b.Min.X || y < b.Min.Y || x >= b.Max.X || y >= b.Max.Y {
			return color.NRGBA{A: 255}
		}
		return src.NRGBAAt(x, y)
	}
	for y := range h {
		for x := range w {
			sx, sy := f(float64(x)+0.5, float64(y)+0.5)
			sx, sy = sx-0.5, sy-0.5
			x0, y0 := int(math.Floor(sx)), int(math.Floor(sy))
			fx, fy := sx-float64(x0), sy-float64(y0)
			p00, p01, p10, p11 := at(x0, y0), at(x0+1, y0), at(x0, y0+1), at(x0+1, y0+1)
			mix := func(a, b, c, d uint8) uint8 {
				v := (float64(a)*(1-fx)+float64(b)*fx)*(1-fy) + (float64(c)*(1-fx)+float64(d)*fx)*fy
				return uint8(math.Round(math.Max(0, math.Min(255, v))))
			}
			out.SetNRGBA(x, y, color.NRGBA{
				R: mix(p00.R, p01.R, p10.R, p11.R), G: mix(p00.G, p01.G, p10.G, p11.G),
				B: mix(p00.B, p01.B, p10.B, p11.B), A: 255,
			})
		}
	}
	return out
}

// crop cuts r out of src (clipped to src), with origin (0,0).
func crop(src *image.NRGBA, r image.Rectangle) *image.NRGBA {
	r = r.Intersect(src.Bounds())
	return warp(src, r.Dx(), r.Dy(), func(x, y float64) (float64, float64) {
		return x + float64(r.Min.X), y + float64(r.Min.Y)
	})
}

// scale resizes src by factor k.
func scale(src *image.NRGBA, k float64) *image.NRGBA {
	w, h := int(float64(src.Bounds().Dx())*k), int(float64(src.Bounds().Dy())*k)
	return warp(src, w, h, func(x, y float64) (float64, float64) { return x / k, y / k })
}

// rotate turns src by deg degrees about its centre, keeping its size.
func rotate(src *image.NRGBA, deg float64) *image.NRGBA {
	w, h := src.Bounds().Dx(), src.Bounds().Dy()
	s, c := math.Sincos(deg * math.Pi / 180)
	cx, cy := float64(w)/2, float64(h)/2
	return warp(src, w, h, func(x, y float64) (float64, float64) {
		dx, dy := x-cx, y-cy
		return c*dx + s*dy + cx, -s*dx + c*dy + cy
	})
}

// relight applies gain and gamma to every channel.
func relight(src *image.NRGBA, gain, gamma float64) *image.NRGBA {
	out := image.NewNRGBA(src.Bounds())
	copy(out.Pix, src.Pix)
	var lut [256]uint8
	for i := range lut {
		lut[i] = uint8(math.Round(math.Min(255, 255*gain*math.Pow(float64(i)/255, gamma))))
	}
	for i := 0; i < len(out.Pix); i += 4 {
		out.Pix[i], out.Pix[i+1], out.Pix[i+2] = lut[out.Pix[i]], lut[out.Pix[i+1]], lut[out.Pix[i+2]]
	}
	return out
}

// around returns the box grown by factor k about its centre.
func around(x, y, w, h, k float64) image.Rectangle {
	cx, cy := x+w/2, y+h/2
	s := math.Max(w, h) * k
	return image.Rect(int(cx-s/2), int(cy-s/2), int(cx+s/2), int(cy+s/2))
}
