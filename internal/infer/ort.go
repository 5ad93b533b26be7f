package infer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"

	ort "github.com/yalue/onnxruntime_go"
	"golang.org/x/sync/semaphore"
)

// Options tune ONNX Runtime sessions (settings.go holds the measured
// defaults and says why).
type Options struct {
	// IntraOpThreads, when positive, is the intra-op thread count of every
	// session. Zero means each model's measured count (ModelThreads).
	IntraOpThreads int
	// AllowSpinning lets idle ORT worker threads busy-wait. Off by default.
	AllowSpinning bool
	// CPUs bounds the intra-op threads of all concurrent Run calls of the
	// runtime together, so threads x runs stays at the core count: a
	// two-thread run waits for two free CPUs. Zero means runtime.NumCPU().
	CPUs int
	// KeepDenormalArithmetic turns off ORT's set_denormal_as_zero (on by
	// default). Only benchmarks use it, to show what the flag is worth.
	KeepDenormalArithmetic bool
	// GraphOptimization is ORT's optimisation level (default OptimizeAll).
	GraphOptimization GraphOptimization
	// NoMemArena and NoMemPattern turn off ORT's CPU memory arena and its
	// pre-planned allocation pattern (benchmarks only).
	NoMemArena, NoMemPattern bool
	// Observer, when set, is told the latency of every run (metrics).
	Observer RunObserver
}

// RunObserver is told how long each model's run took, from the start of
// the wait for a slot to the outputs.
type RunObserver interface {
	ObserveRun(model string, d time.Duration)
}

// Runtime owns the process-wide ONNX Runtime environment. Create it once with
// NewRuntime and build every session from it.
type Runtime struct {
	opts Options
	cpus *semaphore.Weighted
}

var (
	envOnce sync.Once
	envErr  error
	envLib  string
)

// NewRuntime loads the ONNX Runtime shared library at libPath (once per
// process; later calls must name the same library) and returns a runtime
// that creates sessions with opts. It returns ErrRuntimeUnavailable when the
// library cannot be loaded.
func NewRuntime(libPath string, opts Options) (*Runtime, error) {
	envOnce.Do(func() {
		envLib = libPath
		if _, err := os.Stat(libPath); err != nil {
			envErr = fmt.Errorf("%w: %v", ErrRuntimeUnavailable, err)
			return
		}
		ort.SetSharedLibraryPath(libPath)
		if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
			envErr = fmt.Errorf("%w: %v", ErrRuntimeUnavailable, err)
		}
	})
	if envErr != nil {
		return nil, envErr
	}
	if libPath != envLib {
		return nil, fmt.Errorf("infer: runtime already loaded from %s, not %s", envLib, libPath)
	}
	if opts.CPUs <= 0 {
		opts.CPUs = runtime.NumCPU()
	}
	if opts.IntraOpThreads > opts.CPUs {
		return nil, fmt.Errorf("infer: %d intra-op threads exceed the %d CPUs of the runtime", opts.IntraOpThreads, opts.CPUs)
	}
	return &Runtime{opts: opts, cpus: semaphore.NewWeighted(int64(opts.CPUs))}, nil
}

// Version is the loaded ONNX Runtime version.
func (rt *Runtime) Version() string { return ort.GetVersion() }

// Options returns the options sessions are created with.
func (rt *Runtime) Options() Options { return rt.opts }

// Session is one loaded model. Run is safe for concurrent use.
type Session struct {
	rt      *Runtime
	spec    Spec
	threads int
	inName  string
	outs    []string
	mu      sync.RWMutex // Close takes it exclusively; Run shares it
	session *ort.DynamicAdvancedSession
}

// Load creates a session for an ONNX model held in memory. When spec has an
// input name, the description is checked against the graph and a mismatch is
// an error. The load-time rewrites (settings.go: denormal weights flushed,
// channel padding, PRelu and clamps in blocked-layout ops) are applied
// before the session is built.
func (rt *Runtime) Load(spec Spec, model []byte) (*Session, error) {
	return rt.LoadWith(spec, model, LoadOptions{})
}

// LoadOptions adjust how one model is loaded.
type LoadOptions struct {
	// KeepDenormals skips flushing subnormal weights to zero; tests use it
	// to prove the flush leaves outputs unchanged.
	KeepDenormals bool
	// KeepGraph skips the graph rewrites (RewritePadChannels,
	// RewritePRelu, RewriteClamps); tests and benchmarks use it to prove
	// and measure them.
	KeepGraph bool
	// Threads, when positive, overrides the intra-op thread count.
	Threads int
}

// LoadWith is Load with per-model options.
func (rt *Runtime) LoadWith(spec Spec, model []byte, lo LoadOptions) (*Session, error) {
	model, err := Prepare(model, lo)
	if err != nil {
		return nil, fmt.Errorf("infer: %s: %w", spec.Name, err)
	}
	ins, outs, err := GraphIO(model)
	if err != nil {
		return nil, fmt.Errorf("infer: %s: %w", spec.Name, err)
	}
	inName := spec.Input.Name
	outNames := spec.OutputNames()
	if inName != "" {
		if err := spec.Check(ins, outs); err != nil {
			return nil, err
		}
	} else {
		if len(ins) != 1 {
			return nil, fmt.Errorf("infer: %s: %d graph inputs, only single-input models are supported", spec.Name, len(ins))
		}
		inName = ins[0].Name
		outNames = outNames[:0]
		for _, o := range outs {
			outNames = append(outNames, o.Name)
		}
	}
	threads := rt.opts.IntraOpThreads
	if lo.Threads > 0 {
		threads = lo.Threads
	}
	if threads <= 0 {
		threads = ModelThreads(spec.Name)
	}
	threads = min(threads, rt.opts.CPUs)
	so, err := rt.sessionOptions(threads)
	if err != nil {
		return nil, fmt.Errorf("infer: %s: %w", spec.Name, err)
	}
	defer so.Destroy()
	s, err := ort.NewDynamicAdvancedSessionWithONNXData(model, []string{inName}, outNames, so)
	if err != nil {
		return nil, fmt.Errorf("infer: %s: create session: %w", spec.Name, err)
	}
	return &Session{rt: rt, spec: spec, threads: threads, inName: inName, outs: outNames, session: s}, nil
}

// LoadFile is Load for a model file.
func (rt *Runtime) LoadFile(spec Spec, path string) (*Session, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("infer: %s: %w", spec.Name, err)
	}
	return rt.Load(spec, b)
}

// Spec returns the model description the session was loaded with.
func (s *Session) Spec() Spec { return s.spec }

// Threads is the session's intra-op thread count.
func (s *Session) Threads() int { return s.threads }

// Run feeds one input tensor and returns every output in spec order. It waits
// until the runtime has as many free CPUs as the session has threads and
// returns ctx's error if the context ends first. A started run cannot be
// cancelled.
func (s *Session) Run(ctx context.Context, in Tensor) (out []Tensor, err error) {
	if err := in.Validate(); err != nil {
		return nil, fmt.Errorf("infer: %s: %w", s.spec.Name, err)
	}
	if o := s.rt.opts.Observer; o != nil {
		defer func(start time.Time) { o.ObserveRun(s.spec.Name, time.Since(start)) }(time.Now())
	}
	if err := s.rt.cpus.Acquire(ctx, int64(s.threads)); err != nil {
		return nil, err
	}
	defer s.rt.cpus.Release(int64(s.threads))

	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.session == nil {
		return nil, ErrClosed
	}
	t, err := ort.NewTensor(ort.NewShape(in.Shape...), in.Data)
	if err != nil {
		return nil, fmt.Errorf("infer: %s: input tensor: %w", s.spec.Name, err)
	}
	defer t.Destroy()
	outputs := make([]ort.Value, len(s.outs))
	defer func() {
		for _, v := range outputs {
			if v != nil {
				err = errors.Join(err, v.Destroy())
			}
		}
	}()
	run := func() error { return s.session.Run([]ort.Value{t}, outputs) }
	if !s.rt.opts.KeepDenormalArithmetic {
		run = func() error {
			return withDenormalsAsZero(func() error { return s.session.Run([]ort.Value{t}, outputs) })
		}
	}
	if err := run(); err != nil {
		return nil, fmt.Errorf("infer: %s: run: %w", s.spec.Name, err)
	}
	out = make([]Tensor, len(outputs))
	for i, v := range outputs {
		ft, ok := v.(*ort.Tensor[float32])
		if !ok {
			return nil, fmt.Errorf("infer: %s: output %s is %T, want float32 tensor", s.spec.Name, s.outs[i], v)
		}
		out[i] = Tensor{Shape: []int64(ft.GetShape().Clone()), Data: append([]float32(nil), ft.GetData()...)}
	}
	return out, nil
}

// Close releases the session. It is idempotent; Run after Close returns ErrClosed.
func (s *Session) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.session == nil {
		return nil
	}
	err := s.session.Destroy()
	s.session = nil
	return err
}

// GraphIO lists a model's inputs (initializers excluded) and outputs with
// their declared shapes, read from the protobuf without ORT.
func GraphIO(model []byte) (inputs, outputs []IOInfo, err error) {
	g, err := parseGraph(model)
	if err != nil {
		return nil, nil, err
	}
	inits := map[string]bool{}
	for _, t := range g.GetInitializer() {
		inits[t.GetName()] = true
	}
	for _, vi := range g.GetInput() {
		if !inits[vi.GetName()] {
			inputs = append(inputs, valueInfo(vi))
		}
	}
	for _, vi := range g.GetOutput() {
		outputs = append(outputs, valueInfo(vi))
	}
	return inputs, outputs, nil
}
