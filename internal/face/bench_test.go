package face_test

import (
	"bytes"
	"flag"
	"image"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/livenessd/livenessd/internal/face"
	"github.com/livenessd/livenessd/internal/imageio"
)

var benchInputs = flag.String("bench.inputs", "", "TestWriteCompareInputs writes compare-a.jpg and compare-b.jpg here")

// compareInputs are two 640x480 JPEGs (quality 90): 4:3 crops around the
// largest face of sample1 and sample3 (the same model in two photos).
func compareInputs(tb testing.TB) [2][]byte {
	tb.Helper()
	var out [2][]byte
	for i, n := range []int{1, 3} {
		img, obs := MustAnalyze(tb, n)
		b := obs[0].Box
		c := b.Center()
		h := 3.2 * b.H // face about 1/3 of the frame height, as in a selfie
		r := image.Rect(int(c.X-h*2/3), int(c.Y-h/2), int(c.X+h*2/3), int(c.Y+h/2))
		frame := scale(crop(img, r), 480/float64(r.Intersect(img.Bounds()).Dy()))
		frame = crop(frame, image.Rect(0, 0, 640, 480))
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, frame, &jpeg.Options{Quality: 90}); err != nil {
			tb.Fatal(err)
		}
		out[i] = buf.Bytes()
	}
	return out
}

// largeInput is sample1's whole scene as a w x h phone photo: a 4:3 crop
// resized to the size, with seeded sensor-like noise (sigma 4 levels) so the
// JPEG (quality 90) has a phone photo's entropy rather than an upscale's
// smoothness. Its largest face is the person of sample3.
func largeInput(tb testing.TB, w, h int) []byte {
	tb.Helper()
	img, _ := MustAnalyze(tb, 1)
	b := img.Bounds()
	cw := b.Dy() * w / h
	frame := crop(img, image.Rect((b.Dx()-cw)/2, 0, (b.Dx()-cw)/2+cw, b.Dy()))
	frame = scale(frame, float64(h)/float64(b.Dy()))
	frame = crop(frame, image.Rect(0, 0, w, h))
	r := rand.New(rand.NewPCG(uint64(w), uint64(h)))
	for i := 0; i < len(frame.Pix); i += 4 {
		n := int(math.Round(r.NormFloat64() * 4))
		for c := range 3 {
			frame.Pix[i+c] = uint8(min(255, max(0, int(frame.Pix[i+c])+n)))
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, frame, &jpeg.Options{Quality: 90}); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// benchPairs are the compare-faces benchmark's pairs, written by
// TestWriteCompareInputs for the peer: source and target file names.
var benchPairs = []struct{ name, a, b string }{
	{"640x480", "compare-a.jpg", "compare-b.jpg"},
	{"2MP-vs-640x480", "compare-2mp.jpg", "compare-b.jpg"},
	{"12MP-vs-640x480", "compare-12mp.jpg", "compare-b.jpg"},
}

var (
	benchFilesOnce sync.Once
	benchFiles     map[string][]byte
)

// benchData returns the benchmark's JPEGs by file name, built once.
func benchData(tb testing.TB) map[string][]byte {
	tb.Helper()
	benchFilesOnce.Do(func() {
		in := compareInputs(tb)
		benchFiles = map[string][]byte{
			"compare-a.jpg":    in[0],
			"compare-b.jpg":    in[1],
			"compare-2mp.jpg":  largeInput(tb, 1632, 1224),
			"compare-12mp.jpg": largeInput(tb, 4000, 3000),
		}
	})
	if benchFiles == nil {
		tb.Fatal("benchmark inputs failed")
	}
	return benchFiles
}

// TestWriteCompareInputs writes the benchmark's JPEGs for the peer
// benchmark (scripts/bench-compare.sh); it does nothing without -bench.inputs.
func TestWriteCompareInputs(t *testing.T) {
	if *benchInputs == "" {
		t.Skip("no -bench.inputs directory")
	}
	for name, b := range benchData(t) {
		if err := os.WriteFile(filepath.Join(*benchInputs, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

var compareSink *face.Comparison

// BenchmarkCompareFaces is compare-faces end to end, as the API runs it:
// decode (with the service's limits, JPEGs larger than the pipeline needs
// at a reduced DCT scale) -> detect -> landmarks -> align -> embed ->
// score, both images, per iteration; one sub-benchmark per pair of
// benchPairs. Besides the mean ns/op it reports the median and the fastest
// iteration (ms/median, ms/min: the minimum is the least disturbed by other
// jobs on a shared machine) and the process CPU time per pair (cpu-ms/op,
// ONNX Runtime's threads included).
func BenchmarkCompareFaces(b *testing.B) {
	p := MustPipeline(b)
	files := benchData(b)
	lim := imageio.DefaultLimits()
	side := p.ImageSide()
	for _, bp := range benchPairs {
		b.Run(bp.name, func(b *testing.B) {
			a, t := files[bp.a], files[bp.b]
			var times []time.Duration
			b.ReportAllocs()
			b.SetBytes(int64(len(a) + len(t)))
			cpu0 := processCPU()
			for b.Loop() {
				t0 := time.Now()
				src, err := imageio.DecodeReduced(a, lim, side)
				if err != nil {
					b.Fatal(err)
				}
				tgt, err := imageio.DecodeReduced(t, lim, side)
				if err != nil {
					b.Fatal(err)
				}
				c, err := p.Compare(b.Context(), src, tgt, 0)
				if err != nil {
					b.Fatal(err)
				}
				compareSink = c
				times = append(times, time.Since(t0))
			}
			cpu := processCPU() - cpu0
			slices.Sort(times)
			ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
			b.ReportMetric(ms(times[len(times)/2]), "ms/median")
			b.ReportMetric(ms(times[0]), "ms/min")
			b.ReportMetric(ms(cpu)/float64(len(times)), "cpu-ms/op")
			b.ReportMetric(compareSink.Similarity, "similarity")
			b.ReportMetric(float64(compareSink.SourceFaces), "faces-a")
			b.ReportMetric(float64(compareSink.TargetFaces), "faces-b")
		})
	}
}

// processCPU is the user and system CPU time of the process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkCompareFusion is the cost of Config.Fusion: the 640x480 pair
// compared by the default pipeline (fr_feature alone) and by one with the
// fusion model on, in turn within each iteration so that other load slows
// both alike. It reports each one's median wall time and mean process CPU
// per pair, and the CPU the fusion adds.
func BenchmarkCompareFusion(b *testing.B) {
	off := MustPipeline(b)
	on, _ := fusedPipeline(b)
	files := benchData(b)
	lim := imageio.DefaultLimits()
	var wall [2][]time.Duration
	var cpu [2]time.Duration
	for b.Loop() {
		for i, p := range []*face.Pipeline{off, on} {
			t0, c0 := time.Now(), processCPU()
			src, err := imageio.DecodeReduced(files["compare-a.jpg"], lim, p.ImageSide())
			if err != nil {
				b.Fatal(err)
			}
			tgt, err := imageio.DecodeReduced(files["compare-b.jpg"], lim, p.ImageSide())
			if err != nil {
				b.Fatal(err)
			}
			if compareSink, err = p.Compare(b.Context(), src, tgt, 0); err != nil {
				b.Fatal(err)
			}
			wall[i] = append(wall[i], time.Since(t0))
			cpu[i] += processCPU() - c0
		}
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	n := float64(len(wall[0]))
	for i, name := range []string{"off", "on"} {
		slices.Sort(wall[i])
		b.ReportMetric(ms(wall[i][len(wall[i])/2]), name+"-ms/median")
		b.ReportMetric(ms(cpu[i])/n, name+"-cpu-ms/op")
	}
	b.ReportMetric(ms(cpu[1]-cpu[0])/n, "added-cpu-ms/op")
}
