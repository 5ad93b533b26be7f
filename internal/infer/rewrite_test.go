package infer_test

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/livenessd/livenessd/internal/infer"
	"github.com/livenessd/livenessd/internal/infer/tfjs"
	"github.com/livenessd/livenessd/internal/testutil"
)

// TestRewritePRelu_SameOutputs loads each model with PRelu twice, as stored
// and rewritten, and requires the same outputs on a sample face (up to float
// rounding), and that the rewrite happened where the CPU has a blocked
// layout.
func TestRewritePRelu_SameOutputs(t *testing.T) {
	rt := testutil.Runtime(t)
	c := testutil.Cache(t)
	face := testutil.DecodeSample(t, 1)
	for _, test := range []struct {
		spec      infer.Spec
		rewritten int // PRelu nodes replaced with 16-channel blocks
	}{
		{infer.FRFeature, 33},
		{infer.FRLiveness, 3},
		{tfjs.FaceMesh, 28},
		{tfjs.Iris, 53},
	} {
		t.Run(test.spec.Name, func(t *testing.T) {
			var raw []byte
			var err error
			if filepath.Ext(test.spec.File) == ".json" {
				p := c.Path(test.spec.File)
				raw, _, err = tfjs.ConvertCached("", filepath.Dir(p), filepath.Base(p))
			} else {
				raw, err = os.ReadFile(c.Path(test.spec.File))
			}
			if err != nil {
				t.Fatal(err)
			}
			_, n, err := infer.RewritePRelu(raw, 16)
			if err != nil {
				t.Fatal(err)
			}
			if n != test.rewritten {
				t.Errorf("rewrote %d PRelu nodes with 16-channel blocks, want %d", n, test.rewritten)
			}
			if infer.NCHWcBlock() == 0 {
				t.Log("no blocked layout on this CPU: the service loads the model as stored")
			}
			stored, err := rt.LoadWith(test.spec, raw, infer.LoadOptions{KeepGraph: true})
			if err != nil {
				t.Fatal(err)
			}
			defer stored.Close()
			rewritten, err := rt.Load(test.spec, raw)
			if err != nil {
				t.Fatal(err)
			}
			defer rewritten.Close()
			in := specTensor(test.spec, face, sample1Face)
			want, err := stored.Run(t.Context(), in)
			if err != nil {
				t.Fatal(err)
			}
			got, err := rewritten.Run(t.Context(), in)
			if err != nil {
				t.Fatal(err)
			}
			for i := range want {
				scale := 0.0
				for _, v := range want[i].Data {
					scale = max(scale, math.Abs(float64(v)))
				}
				for k := range want[i].Data {
					if d := math.Abs(float64(got[i].Data[k] - want[i].Data[k])); d > 1e-4*max(scale, 1) {
						t.Fatalf("output %d[%d] = %g, as stored %g", i, k, got[i].Data[k], want[i].Data[k])
					}
				}
			}
		})
	}
}
