package face

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/livenessd/livenessd/internal/infer"
)

func TestSmoothChroma(t *testing.T) {
	const w, h = 32, 24
	rng := rand.New(rand.NewPCG(1, 2))
	noisy := make([]float32, 3*w*h)
	for i := range noisy {
		noisy[i] = 128 + float32(rng.NormFloat64()*20)
	}
	flat := make([]float32, 3*w*h)
	for i := range flat {
		flat[i] = float32(40 + 60*(i/(w*h))) // one colour per channel
	}
	bgr := infer.ImageInput{Layout: infer.NCHW, Order: infer.BGR}
	rgbHWC := infer.ImageInput{Layout: infer.NHWC, Order: infer.RGB}
	gray := infer.ImageInput{Layout: infer.NCHW, Order: infer.Gray}
	for _, test := range []struct {
		name  string
		in    infer.ImageInput
		data  []float32
		sigma float64
		// same: the data must come back unchanged (within float error).
		same bool
	}{
		{"off", bgr, noisy, 0, true},
		{"one colour", bgr, flat, 0.8, true},
		{"grey input", gray, noisy[:w*h], 0.8, true},
		{"noise BGR planar", bgr, noisy, 0.8, false},
		{"noise RGB interleaved", rgbHWC, noisy, 1.5, false},
	} {
		t.Run(test.name, func(t *testing.T) {
			got := slices.Clone(test.data)
			smoothChroma(got, test.in, w, h, test.sigma)
			if test.same {
				for i := range got {
					if math.Abs(float64(got[i]-test.data[i])) > 1e-3 {
						t.Fatalf("value %d changed: %v -> %v", i, test.data[i], got[i])
					}
				}
				return
			}
			at := func(d []float32, c, i int) float64 {
				if test.in.Layout == infer.NHWC {
					return float64(d[3*i+c])
				}
				return float64(d[c*w*h+i])
			}
			wt := [3]float64{0.299, 0.587, 0.114}
			if test.in.Order == infer.BGR {
				wt = [3]float64{0.114, 0.587, 0.299}
			}
			var before, after float64
			for i := range w * h {
				var y0, y1 float64
				for c := range 3 {
					y0 += wt[c] * at(test.data, c, i)
					y1 += wt[c] * at(got, c, i)
				}
				if math.Abs(y0-y1) > 1e-3 {
					t.Fatalf("pixel %d: luma %.4f -> %.4f, want it kept", i, y0, y1)
				}
				for c := range 3 {
					d0, d1 := at(test.data, c, i)-y0, at(got, c, i)-y1
					before += d0 * d0
					after += d1 * d1
				}
			}
			// White noise through a Gaussian of sigma s keeps about
			// 1/(4 pi s^2) of its variance: 12% at 0.8.
			if after > before/4 {
				t.Errorf("colour variance %.0f -> %.0f, want it below a quarter", before, after)
			}
		})
	}
}

// BenchmarkSmoothChroma is the smoothing of one fr_liveness input (128x128
// BGR planar), per frame on the texture model's path.
func BenchmarkSmoothChroma(b *testing.B) {
	in := infer.ImageInput{Layout: infer.NCHW, Order: infer.BGR}
	data := make([]float32, 3*128*128)
	for i := range data {
		data[i] = float32(i % 251)
	}
	b.ReportAllocs()
	for b.Loop() {
		smoothChroma(data, in, 128, 128, 0.8)
	}
}
