package infer_test

import (
	"os"
	"slices"
	"testing"
	"time"

	"github.com/livenessd/livenessd/internal/infer"
	"github.com/livenessd/livenessd/internal/models"
	"github.com/livenessd/livenessd/internal/testutil"
)

// runtimeSetting is one variation of the service's ORT settings.
type runtimeSetting struct {
	name string
	opts infer.Options
	load infer.LoadOptions
}

// runtimeSettings are the service's settings and one change at a time.
var runtimeSettings = []runtimeSetting{
	{name: "service"},
	{name: "spinning on", opts: infer.Options{AllowSpinning: true}},
	{name: "denormal weights kept", load: infer.LoadOptions{KeepDenormals: true}},
	{name: "denormal-as-zero off", opts: infer.Options{KeepDenormalArithmetic: true}},
	{name: "graph rewrites off (channel padding, PRelu, clamps)", load: infer.LoadOptions{KeepGraph: true}},
	{name: "graph level extended (no NCHWc layout)", opts: infer.Options{GraphOptimization: infer.OptimizeExtended}},
	{name: "graph level basic", opts: infer.Options{GraphOptimization: infer.OptimizeBasic}},
	{name: "memory arena off", opts: infer.Options{NoMemArena: true}},
	{name: "memory pattern off", opts: infer.Options{NoMemPattern: true}},
	{name: "all models 1 thread", opts: infer.Options{IntraOpThreads: 1}},
	{name: "all models 2 threads", opts: infer.Options{IntraOpThreads: 2}},
}

// BenchmarkRuntimeOptions measures the ORT settings the service relies on
// (settings.go): the face pipeline's four models (fr_detect, fr_landmark,
// fr_feature, fr_liveness) loaded under each setting and run in turn as
// the pipeline runs them. The settings take turns, one sequence each, so
// that a busy machine slows them alike; each reports the median wall time
// and process CPU time of a sequence and fr_feature's median inside it.
func BenchmarkRuntimeOptions(b *testing.B) {
	c := testutil.Cache(b)
	lib := c.Path(models.ORTLibrary)
	testutil.Runtime(b) // initialise the environment once
	type loaded struct {
		s  *infer.Session
		in infer.Tensor
	}
	chains := make([][]loaded, len(runtimeSettings))
	for k, set := range runtimeSettings {
		rt, err := infer.NewRuntime(lib, set.opts)
		if err != nil {
			b.Fatal(err)
		}
		for _, spec := range []infer.Spec{infer.FRDetect, infer.FRLandmark, infer.FRFeature, infer.FRLiveness} {
			raw, err := os.ReadFile(c.Path(spec.File))
			if err != nil {
				b.Fatal(err)
			}
			s, err := rt.LoadWith(spec, raw, set.load)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.Close() })
			chains[k] = append(chains[k], loaded{s, benchInput(b, spec)})
		}
	}
	const feature = 2 // index of fr_feature in a chain
	wall := make([][]float64, len(chains))
	cpu := make([][]float64, len(chains))
	featureMs := make([][]float64, len(chains))
	run := func(k int) {
		c0, w0 := testutil.ProcessCPU(), time.Now()
		for i, l := range chains[k] {
			t0 := time.Now()
			if _, err := l.s.Run(b.Context(), l.in); err != nil {
				b.Fatal(err)
			}
			if i == feature {
				featureMs[k] = append(featureMs[k], ms(time.Since(t0)))
			}
		}
		wall[k] = append(wall[k], ms(time.Since(w0)))
		cpu[k] = append(cpu[k], ms(testutil.ProcessCPU()-c0))
	}
	for k := range chains {
		run(k) // warm-up
		wall[k], cpu[k], featureMs[k] = nil, nil, nil
	}
	for b.Loop() {
		for k := range chains {
			run(k)
		}
	}
	for k, set := range runtimeSettings {
		b.Run(set.name, func(b *testing.B) {
			for b.Loop() {
			}
			b.ReportMetric(median(wall[k]), "seq-ms")
			b.ReportMetric(median(cpu[k]), "seq-cpu-ms")
			b.ReportMetric(median(featureMs[k]), "fr_feature-ms")
		})
	}
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}
