package infer

import (
	"fmt"
	"runtime"

	ort "github.com/yalue/onnxruntime_go"
)

// This file is the one place ONNX Runtime is tuned: session options, the
// intra-op threads of each model, and the graph rewrites applied at load.
// Each choice was measured (BenchmarkRuntimeOptions and BenchmarkModel,
// docs/BENCHMARKS.md "ONNX Runtime settings" and "Model inference"); change
// one only with a new measurement.

// GraphOptimization is ORT's graph optimisation level.
type GraphOptimization int

const (
	// OptimizeAll (the default) adds the layout optimisations, NCHWc
	// blocked convolutions on x86, to constant folding and fusions.
	OptimizeAll GraphOptimization = iota
	// OptimizeExtended fuses (Conv+Add, Conv+activation, Gemm+...) but keeps NCHW.
	OptimizeExtended
	// OptimizeBasic only folds constants and removes redundant nodes.
	OptimizeBasic
	// OptimizeNone runs the graph as stored.
	OptimizeNone
)

func (g GraphOptimization) String() string {
	return [...]string{"all", "extended", "basic", "none"}[g]
}

func (g GraphOptimization) ort() ort.GraphOptimizationLevel {
	return [...]ort.GraphOptimizationLevel{ort.GraphOptimizationLevelEnableAll, ort.GraphOptimizationLevelEnableExtended,
		ort.GraphOptimizationLevelEnableBasic, ort.GraphOptimizationLevelDisableAll}[g]
}

// modelThreads is the intra-op thread count of each model when
// Options.IntraOpThreads is zero. One thread is the default: it costs the
// least CPU per inference (no pool to wake and synchronise for every op) and
// lets two captures use the two cores of a small machine in parallel. A
// model gets two only when its convolutions are large enough that the
// second thread cut its latency clearly in BenchmarkModel (-bench.threads 1
// and 2, docs/BENCHMARKS.md "Model inference", where the last column checks
// this table against the run).
//
// fr_detect and facemesh-detection-full went back to one thread with the
// first quiet run (2026-12-05: 2.49 ms at 1 thread against 3.69 at 2, and
// 3.94 against 4.19; the busy runs before it had favoured two); the second
// quiet run had two threads 9% and 7% faster: within run-to-run noise, so
// the single thread, which costs less CPU, stays.
var modelThreads = map[string]int{
	"fr_feature":     2,
	"faceres":        2,
	"blazeface-back": 2,
	"antispoof":      2,
}

// ModelThreads is the measured intra-op thread count for a model name,
// capped at the CPU count.
func ModelThreads(name string) int {
	t, ok := modelThreads[name]
	if !ok {
		t = 1
	}
	return max(1, min(t, runtime.NumCPU()))
}

// sessionOptions are the ORT options of one session running threads
// intra-op threads.
func (rt *Runtime) sessionOptions(threads int) (*ort.SessionOptions, error) {
	so, err := ort.NewSessionOptions()
	if err != nil {
		return nil, err
	}
	o := rt.opts
	// Idle pool threads sleep: with many models loaded on few cores,
	// spinning pools steal the cores the next model needs (fr_feature
	// 11 -> 72 ms in the face pipeline, docs/BENCHMARKS.md).
	spin := "0"
	if o.AllowSpinning {
		spin = "1"
	}
	for _, set := range []func() error{
		func() error { return so.SetIntraOpNumThreads(threads) },
		// One graph per run is a chain of ops: the sequential executor,
		// no inter-op pool.
		func() error { return so.SetExecutionMode(ort.ExecutionModeSequential) },
		func() error { return so.SetInterOpNumThreads(1) },
		func() error { return so.AddSessionConfigEntry("session.intra_op.allow_spinning", spin) },
		func() error { return so.AddSessionConfigEntry("session.inter_op.allow_spinning", spin) },
		func() error {
			if o.KeepDenormalArithmetic {
				return nil
			}
			return so.AddSessionConfigEntry("session.set_denormal_as_zero", "1")
		},
		func() error { return so.SetGraphOptimizationLevel(o.GraphOptimization.ort()) },
		func() error { return so.SetCpuMemArena(!o.NoMemArena) },
		func() error { return so.SetMemPattern(!o.NoMemPattern) },
	} {
		if err := set(); err != nil {
			so.Destroy()
			return nil, fmt.Errorf("session options: %w", err)
		}
	}
	return so, nil
}

// Prepare applies the load-time rewrites to a model's bytes, as Load does
// (the int8 builds start from the graph the service runs).
func Prepare(model []byte, lo LoadOptions) ([]byte, error) {
	var err error
	if !lo.KeepDenormals {
		if model, _, err = FlushDenormals(model); err != nil {
			return nil, err
		}
	}
	if !lo.KeepGraph {
		if model, _, err = RewritePadChannels(model, NCHWcBlock()); err != nil {
			return nil, err
		}
		if model, _, err = RewritePRelu(model, NCHWcBlock()); err != nil {
			return nil, err
		}
		if model, _, err = RewriteClamps(model); err != nil {
			return nil, err
		}
	}
	return model, nil
}
