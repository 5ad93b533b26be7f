package infer_test

import (
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/livenessd/livenessd/internal/infer"
	"github.com/livenessd/livenessd/internal/infer/tfjs"
	"github.com/livenessd/livenessd/internal/models"
	"github.com/livenessd/livenessd/internal/testutil"
)

// benchInputs, when set, makes TestWriteBenchInputs write the benchmark
// inputs of the native models there for the peer runtimes (scripts/bench.sh).
var benchInputs = flag.String("bench.inputs", "", "write native model benchmark inputs to this directory")

// benchThreads sets the intra-op threads of the benchmark runtime (0: default).
var benchThreads = flag.Int("bench.threads", 0, "intra-op threads for BenchmarkModel (0: default)")

// benchRuntime is the process runtime, or one with -bench.threads threads.
func benchRuntime(b *testing.B) *infer.Runtime {
	rt := testutil.Runtime(b)
	if *benchThreads <= 0 {
		return rt
	}
	rt, err := infer.NewRuntime(testutil.Cache(b).Path(models.ORTLibrary), infer.Options{IntraOpThreads: *benchThreads})
	if err != nil {
		b.Fatal(err)
	}
	return rt
}

// benchInput is what BenchmarkModel feeds a native model: the golden input
// (a sample photo, preprocessed as the spec says).
func benchInput(t testing.TB, spec infer.Spec) infer.Tensor {
	c := nativeCases(spec)[0]
	return specTensor(spec, testutil.DecodeSample(t, c.sample), c.crop)
}

func TestWriteBenchInputs(t *testing.T) {
	if *benchInputs == "" {
		t.Skip("only with -bench.inputs DIR (scripts/bench.sh)")
	}
	type entry struct {
		Model string  `json:"model"`
		ONNX  string  `json:"onnx"`
		Input string  `json:"input"`
		File  string  `json:"file"`
		Shape []int64 `json:"shape"`
	}
	c := testutil.Cache(t)
	var manifest []entry
	for _, spec := range infer.NativeModels() {
		in := benchInput(t, spec)
		b := make([]byte, 4*len(in.Data))
		for i, f := range in.Data {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(f))
		}
		file := spec.Name + ".f32"
		if err := os.WriteFile(filepath.Join(*benchInputs, file), b, 0o644); err != nil {
			t.Fatal(err)
		}
		manifest = append(manifest, entry{Model: spec.Name, ONNX: c.Path(spec.File), Input: spec.Input.Name, File: file, Shape: in.Shape})
	}
	b, err := json.MarshalIndent(manifest, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(*benchInputs, "native.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkModel times batch-1 inference of each native model with every
// model of the service (native and translated TF.js) loaded in one runtime,
// as livenessd runs them. It reports the model's GFLOP (conv/matmul MACs x 2).
func BenchmarkModel(b *testing.B) {
	rt := benchRuntime(b)
	c := testutil.Cache(b)
	sessions := map[string]*infer.Session{}
	for _, spec := range infer.NativeModels() {
		s, err := rt.LoadFile(spec, c.Path(spec.File))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		sessions[spec.Name] = s
	}
	for _, spec := range tfjs.Models() {
		s, err := tfjs.Load(rt, spec, c.Dir, b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
	}
	for _, spec := range infer.NativeModels() {
		raw, err := os.ReadFile(c.Path(spec.File))
		if err != nil {
			b.Fatal(err)
		}
		flops, err := infer.FLOPs(raw, spec.InputShape())
		if err != nil {
			b.Fatal(fmt.Errorf("%s: %w", spec.Name, err))
		}
		in := benchInput(b, spec)
		s := sessions[spec.Name]
		b.Run(spec.Name, func(b *testing.B) {
			testutil.TimeModel(b, s, in)
			b.ReportMetric(flops/1e9, "GFLOP")
			b.ReportMetric(float64(infer.ModelThreads(spec.Name)), "service-threads")
		})
	}
}
