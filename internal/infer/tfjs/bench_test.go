package tfjs_test

import (
	"flag"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/livenessd/livenessd/internal/infer"
	"github.com/livenessd/livenessd/internal/infer/tfjs"
	"github.com/livenessd/livenessd/internal/models"
	"github.com/livenessd/livenessd/internal/testutil"
)

// benchThreads sets the intra-op threads of the benchmark runtime (0: default).
var benchThreads = flag.Int("bench.threads", 0, "intra-op threads for BenchmarkModel (0: default)")

// BenchmarkModel times batch-1 inference of each translated TF.js model (and
// face-api.js's FaceRecognitionNet, on its golden "face" input) with
// every model of the service (native and translated) loaded in one runtime,
// as livenessd runs them, on the golden "face" input. It reports the
// model's GFLOP (conv/matmul MACs x 2 of the ONNX graph).
func BenchmarkModel(b *testing.B) {
	rt := testutil.Runtime(b)
	if *benchThreads > 0 {
		var err error
		if rt, err = infer.NewRuntime(testutil.Cache(b).Path(models.ORTLibrary), infer.Options{IntraOpThreads: *benchThreads}); err != nil {
			b.Fatal(err)
		}
	}
	c := testutil.Cache(b)
	for _, spec := range infer.NativeModels() {
		s, err := rt.LoadFile(spec, c.Path(spec.File))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
	}
	cache := b.TempDir()
	sessions := map[string]*infer.Session{}
	specs := append(append(tfjs.Models(), tfjs.FaceRecognition), tfjs.Embedders()...)
	for _, spec := range specs {
		s, err := tfjs.Load(rt, spec, c.Dir, cache)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		sessions[spec.Name] = s
	}
	for _, spec := range specs {
		p := c.Path(spec.File)
		model, _, err := tfjs.ConvertCached(cache, filepath.Dir(p), filepath.Base(p))
		if err != nil {
			b.Fatal(err)
		}
		flops, err := infer.FLOPs(model, spec.InputShape())
		if err != nil {
			b.Fatal(fmt.Errorf("%s: %w", spec.Name, err))
		}
		var in infer.Tensor
		if spec.Name == tfjs.FaceRecognition.Name {
			in = faceAPICases(b)[0].tensor()
		} else {
			in = goldenCases(b, spec)[0].in
		}
		s := sessions[spec.Name]
		b.Run(spec.Name, func(b *testing.B) {
			testutil.TimeModel(b, s, in)
			b.ReportMetric(flops/1e9, "GFLOP")
			b.ReportMetric(float64(infer.ModelThreads(spec.Name)), "service-threads")
		})
	}
}
