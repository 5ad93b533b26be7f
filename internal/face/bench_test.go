package face_test

import (
	"bytes"
	"flag"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"slices"
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

// TestWriteCompareInputs writes the benchmark's two JPEGs for the peer
// benchmark (scripts/bench-compare.sh); it does nothing without -bench.inputs.
func TestWriteCompareInputs(t *testing.T) {
	if *benchInputs == "" {
		t.Skip("no -bench.inputs directory")
	}
	in := compareInputs(t)
	for i, name := range []string{"compare-a.jpg", "compare-b.jpg"} {
		if err := os.WriteFile(filepath.Join(*benchInputs, name), in[i], 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

var compareSink *face.Comparison

// BenchmarkCompareFaces is compare-faces end to end on two 640x480 JPEGs:
// decode (with the service's limits) -> detect -> landmarks -> align ->
// embed -> score, both images, per iteration. It reports the median
// iteration as ms/median next to the mean ns/op.
func BenchmarkCompareFaces(b *testing.B) {
	p := MustPipeline(b)
	in := compareInputs(b)
	lim := imageio.DefaultLimits()
	var times []time.Duration
	b.ReportAllocs()
	b.SetBytes(int64(len(in[0]) + len(in[1])))
	for b.Loop() {
		t0 := time.Now()
		src, err := imageio.Decode(in[0], lim)
		if err != nil {
			b.Fatal(err)
		}
		tgt, err := imageio.Decode(in[1], lim)
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
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "ms/median")
	b.ReportMetric(compareSink.Similarity, "similarity")
	b.ReportMetric(float64(compareSink.SourceFaces), "faces-a")
	b.ReportMetric(float64(compareSink.TargetFaces), "faces-b")
}
