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

// BenchmarkRuntimeOptions measures the two ORT settings the service relies
// on, with every native model loaded and run in turn as the face pipeline
// does (detect -> landmarks -> embedding -> liveness): idle-thread spinning
// on/off, subnormal weights flushed/kept at load, and ORT's denormal-as-zero
// flag (daz) on/off. It reports fr_feature's median latency inside that
// sequence.
func BenchmarkRuntimeOptions(b *testing.B) {
	c := testutil.Cache(b)
	lib := c.Path(models.ORTLibrary)
	testutil.Runtime(b) // initialise the environment once
	for _, test := range []struct {
		name               string
		spin, denorms, daz bool
	}{
		{"spin=off,weights=flushed,daz=on", false, false, true},
		{"spin=on,weights=flushed,daz=on", true, false, true},
		{"spin=off,weights=kept,daz=on", false, true, true},
		{"spin=off,weights=flushed,daz=off", false, false, false},
		{"spin=off,weights=kept,daz=off", false, true, false},
	} {
		b.Run(test.name, func(b *testing.B) {
			rt, err := infer.NewRuntime(lib, infer.Options{AllowSpinning: test.spin, KeepDenormalArithmetic: !test.daz})
			if err != nil {
				b.Fatal(err)
			}
			type loaded struct {
				s  *infer.Session
				in infer.Tensor
			}
			var chain []loaded
			var feature int
			for _, spec := range []infer.Spec{infer.FRDetect, infer.FRLandmark, infer.FRFeature, infer.FRLiveness} {
				raw, err := os.ReadFile(c.Path(spec.File))
				if err != nil {
					b.Fatal(err)
				}
				s, err := rt.LoadWith(spec, raw, infer.LoadOptions{KeepDenormals: test.denorms})
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { s.Close() })
				if spec.Name == infer.FRFeature.Name {
					feature = len(chain)
				}
				chain = append(chain, loaded{s, benchInput(b, spec)})
			}
			var ms []float64
			for b.Loop() {
				for i, l := range chain {
					t0 := time.Now()
					if _, err := l.s.Run(b.Context(), l.in); err != nil {
						b.Fatal(err)
					}
					if i == feature {
						ms = append(ms, float64(time.Since(t0))/1e6)
					}
				}
			}
			slices.Sort(ms)
			b.ReportMetric(ms[len(ms)/2], "fr_feature-median-ms")
		})
	}
}
