package quantize_test

import (
	"flag"
	"slices"
	"testing"
	"time"

	"github.com/livenessd/livenessd/internal/infer"
	"github.com/livenessd/livenessd/internal/infer/quant"
	"github.com/livenessd/livenessd/internal/models"
	"github.com/livenessd/livenessd/internal/quantize"
	"github.com/livenessd/livenessd/internal/testutil"
)

var benchThreads = flag.Int("bench.threads", 1, "intra-op threads of BenchmarkInt8")

// Candidates are the models BenchmarkInt8 builds and measures in int8.
var Candidates = []string{"fr_detect", "fr_landmark", "fr_feature", "fr_liveness", "fr_pose",
	"facemesh", "facemesh-detection-short", "facemesh-detection-full", "blazeface-back", "iris", "faceres", "antispoof"}

// BenchmarkInt8 builds (or reuses) the int8 build of every candidate in
// the model cache and times it against its float model, the two taking
// turns run by run on the same held-out input, with -bench.threads
// threads. It reports both medians (wall and process CPU), the speed-ups,
// and how close the int8 outputs stay to the float ones on every held-out
// input (HeldOutInputs: inputs calibration never saw), on the model's
// largest output: the cosine (mean, lowest) and the relative L2 error
// (mean, highest).
func BenchmarkInt8(b *testing.B) {
	cache := testutil.Cache(b)
	lib := cache.Path(models.ORTLibrary)
	testutil.Runtime(b)
	rt, err := infer.NewRuntime(lib, infer.Options{IntraOpThreads: *benchThreads})
	if err != nil {
		b.Fatal(err)
	}
	res, err := quantize.Build(b.Context(), rt, cache, Candidates, quantize.Options{})
	if err != nil {
		b.Fatal(err)
	}
	held, err := quantize.HeldOutInputs(b.Context(), rt, cache, quant.Samples)
	if err != nil {
		b.Fatal(err)
	}
	specs := quantize.Specs()
	for _, r := range res {
		spec := specs[r.Name]
		src, err := quantize.Float(cache, spec)
		if err != nil {
			b.Fatal(err)
		}
		flops, err := infer.FLOPs(src, spec.InputShape())
		if err != nil {
			b.Fatal(err)
		}
		fs, err := rt.Load(spec, src)
		if err != nil {
			b.Fatal(err)
		}
		qs, err := rt.LoadFile(spec, cache.Path(r.File))
		if err != nil {
			b.Fatal(err)
		}
		ins := held[r.Name]
		if len(ins) == 0 {
			b.Fatalf("%s: no held-out input", r.Name)
		}
		cos, rel := agreement(b, fs, qs, ins)
		in := ins[0]
		b.Run(r.Name, func(b *testing.B) {
			var fm, qm, fc, qc []float64
			for _, s := range []*infer.Session{fs, qs} { // warm-up
				if _, err := s.Run(b.Context(), in); err != nil {
					b.Fatal(err)
				}
			}
			for b.Loop() {
				for k, s := range []*infer.Session{fs, qs} {
					c0, t0 := testutil.ProcessCPU(), time.Now()
					if _, err := s.Run(b.Context(), in); err != nil {
						b.Fatal(err)
					}
					d, c := float64(time.Since(t0))/1e6, float64(testutil.ProcessCPU()-c0)/1e6
					if k == 0 {
						fm, fc = append(fm, d), append(fc, c)
					} else {
						qm, qc = append(qm, d), append(qc, c)
					}
				}
			}
			f, q := median(fm), median(qm)
			b.ReportMetric(f, "float-ms")
			b.ReportMetric(q, "int8-ms")
			b.ReportMetric(f/q, "speedup")
			b.ReportMetric(median(fc), "float-cpu-ms")
			b.ReportMetric(median(qc), "int8-cpu-ms")
			b.ReportMetric(median(fc)/median(qc), "cpu-speedup")
			b.ReportMetric(mean(rel), "relerr-mean")
			b.ReportMetric(slices.Max(rel), "relerr-max")
			b.ReportMetric(flops/1e9, "GFLOP")
			b.ReportMetric(mean(cos), "cos-mean")
			b.ReportMetric(slices.Min(cos), "cos-min")
			b.ReportMetric(float64(len(cos)), "held-out")
			adopted := 0.0
			if quant.IsAdopted(r.Name) {
				adopted = 1
			}
			b.ReportMetric(adopted, "adopted")
		})
		fs.Close()
		qs.Close()
	}
}
