package infer_test

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/livenessd/livenessd/internal/infer"
	"github.com/livenessd/livenessd/internal/testutil"
)

func loadAll(t testing.TB) map[string]*infer.Session {
	t.Helper()
	rt := testutil.Runtime(t)
	c := testutil.Cache(t)
	out := map[string]*infer.Session{}
	for _, spec := range infer.NativeModels() {
		s, err := rt.LoadFile(spec, c.Path(spec.File))
		if err != nil {
			t.Fatalf("load %s: %v", spec.Name, err)
		}
		t.Cleanup(func() { s.Close() })
		out[spec.Name] = s
	}
	return out
}

func randomInput(spec infer.Spec, seed uint64) infer.Tensor {
	in := infer.NewTensor(spec.InputShape()...)
	r := rand.New(rand.NewPCG(seed, 1))
	for i := range in.Data {
		in.Data[i] = r.Float32()*2 - 1
	}
	return in
}

func TestSession_RunNativeModels(t *testing.T) {
	sessions := loadAll(t)
	for _, spec := range infer.NativeModels() {
		t.Run(spec.Name, func(t *testing.T) {
			out, err := sessions[spec.Name].Run(t.Context(), randomInput(spec, 7))
			if err != nil {
				t.Fatal(err)
			}
			if got, want := len(out), len(spec.Outputs); got != want {
				t.Fatalf("outputs = %d, want %d", got, want)
			}
			for i, o := range spec.Outputs {
				if got, want := out[i].Len(), infer.NewTensor(o.Shape...).Len(); got != want {
					t.Errorf("output %s has %d values, want %d", o.Name, got, want)
				}
			}
		})
	}
}

func TestSession_SpecMismatchFailsAtLoad(t *testing.T) {
	rt := testutil.Runtime(t)
	c := testutil.Cache(t)
	for _, test := range []struct {
		name   string
		mutate func(*infer.Spec)
	}{
		{"WrongInputName", func(s *infer.Spec) { s.Input.Name = "image" }},
		{"WrongSize", func(s *infer.Spec) { s.Input.Width = 128 }},
		{"WrongChannels", func(s *infer.Spec) { s.Input.Order = infer.Gray }},
		{"WrongOutputShape", func(s *infer.Spec) { s.Outputs[0].Shape = []int64{1, 128} }},
		{"MissingOutput", func(s *infer.Spec) { s.Outputs = s.Outputs[:0] }},
	} {
		t.Run(test.name, func(t *testing.T) {
			spec := infer.FRFeature.Clone()
			test.mutate(&spec)
			if s, err := rt.LoadFile(spec, c.Path(spec.File)); err == nil {
				s.Close()
				t.Fatal("Load succeeded with a wrong description")
			}
		})
	}
}

func TestSession_BadInput(t *testing.T) {
	s := loadAll(t)["fr_feature"]
	if _, err := s.Run(t.Context(), infer.Tensor{Shape: []int64{1, 3, 112, 112}, Data: make([]float32, 10)}); err == nil {
		t.Error("Run accepted a tensor whose data does not match its shape")
	}
	if _, err := s.Run(t.Context(), infer.NewTensor(1, 3, 50, 112)); err == nil {
		t.Error("Run accepted a wrong spatial size")
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	// A cancelled context may still win the semaphore; either outcome is fine
	// but it must not panic or hang.
	_, _ = s.Run(ctx, randomInput(infer.FRFeature, 1))
}

func TestSession_CloseIdempotent(t *testing.T) {
	rt := testutil.Runtime(t)
	c := testutil.Cache(t)
	s, err := rt.LoadFile(infer.FREye, c.Path(infer.FREye.File))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := s.Run(t.Context(), randomInput(infer.FREye, 1)); err != infer.ErrClosed {
		t.Fatalf("Run after Close = %v, want ErrClosed", err)
	}
}

// TestSession_Concurrent runs every model from many goroutines and checks
// each result equals the single-threaded one.
func TestSession_Concurrent(t *testing.T) {
	sessions := loadAll(t)
	specs := infer.NativeModels()
	want := make([][]infer.Tensor, len(specs))
	for i, spec := range specs {
		out, err := sessions[spec.Name].Run(t.Context(), randomInput(spec, uint64(i)))
		if err != nil {
			t.Fatal(err)
		}
		want[i] = out
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := range 8 {
		wg.Go(func() {
			for k := range 6 {
				i := (w + k) % len(specs)
				got, err := sessions[specs[i].Name].Run(t.Context(), randomInput(specs[i], uint64(i)))
				if err != nil {
					errs <- err
					return
				}
				for o := range got {
					for j := range got[o].Data {
						if d := got[o].Data[j] - want[i][o].Data[j]; d > 1e-5 || d < -1e-5 {
							t.Errorf("%s output %d[%d] = %v concurrently, %v alone", specs[i].Name, o, j, got[o].Data[j], want[i][o].Data[j])
							return
						}
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
