package infer_test

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/livenessd/livenessd/internal/infer"
	"github.com/livenessd/livenessd/internal/infer/onnxpb"
	"github.com/livenessd/livenessd/internal/infer/tfjs"
	"github.com/livenessd/livenessd/internal/testutil"
)

// TestRewrites_SameOutputs loads each model the rewrites change twice, as
// stored and rewritten (RewritePadChannels, RewritePRelu, RewriteClamps),
// and requires the same outputs on a sample face up to float rounding.
func TestRewrites_SameOutputs(t *testing.T) {
	rt := testutil.Runtime(t)
	c := testutil.Cache(t)
	face := testutil.DecodeSample(t, 1)
	for _, test := range []struct {
		spec   infer.Spec
		prelu  int // PRelu nodes replaced with 16-channel blocks (on the stored graph)
		clamps int // clamp chains replaced by one Clip
		padded int // conv chains widened to 16-channel blocks
	}{
		{infer.FRFeature, 33, 0, 0},
		{infer.FRLiveness, 3, 0, 15},
		{tfjs.FaceMesh, 28, 0, 0},
		{tfjs.Iris, 53, 0, 0},
		{tfjs.FaceRes, 0, 27, 0},
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
			if n != test.prelu {
				t.Errorf("rewrote %d PRelu nodes with 16-channel blocks, want %d", n, test.prelu)
			}
			if _, n, err = infer.RewriteClamps(raw); err != nil {
				t.Fatal(err)
			}
			if n != test.clamps {
				t.Errorf("rewrote %d clamp chains, want %d", n, test.clamps)
			}
			if _, n, err = infer.RewritePadChannels(raw, 16); err != nil {
				t.Fatal(err)
			}
			if n != test.padded {
				t.Errorf("widened %d convolution chains, want %d", n, test.padded)
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

// TestRewriteClamps_Chains checks the clamp merge on a small graph: a ReLU6
// chain becomes one Clip; a chain of disjoint ranges (whose result is a
// constant, not a clamp to an intersection) is not merged, each of its two
// links becoming a Clip of its own; both compute what the ops say.
func TestRewriteClamps_Chains(t *testing.T) {
	scalar := func(name string, v float32) *onnxpb.TensorProto {
		return &onnxpb.TensorProto{Name: name, DataType: int32(onnxpb.TensorProto_FLOAT), FloatData: []float32{v}}
	}
	vi := func(name string) *onnxpb.ValueInfoProto {
		return &onnxpb.ValueInfoProto{Name: name, Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{
			ElemType: int32(onnxpb.TensorProto_FLOAT),
			Shape:    &onnxpb.TensorShapeProto{Dim: []*onnxpb.TensorShapeProto_Dimension{{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: 9}}}}}}}}
	}
	g := &onnxpb.GraphProto{
		Name:        "clamps",
		Input:       []*onnxpb.ValueInfoProto{vi("x")},
		Output:      []*onnxpb.ValueInfoProto{vi("relu6"), vi("disjoint")},
		Initializer: []*onnxpb.TensorProto{scalar("six", 6), scalar("zero", 0), scalar("m1", -1), scalar("two", 2)},
		Node: []*onnxpb.NodeProto{
			{OpType: "Relu", Input: []string{"x"}, Output: []string{"r"}},
			{OpType: "Min", Input: []string{"r", "six"}, Output: []string{"r6"}},
			{OpType: "Max", Input: []string{"zero", "r6"}, Output: []string{"relu6"}},
			{OpType: "Min", Input: []string{"x", "m1"}, Output: []string{"d"}},
			{OpType: "Max", Input: []string{"d", "two"}, Output: []string{"disjoint"}},
		},
	}
	model, err := proto.Marshal(&onnxpb.ModelProto{IrVersion: 8, OpsetImport: []*onnxpb.OperatorSetIdProto{{Version: 13}}, Graph: g})
	if err != nil {
		t.Fatal(err)
	}
	if _, n, err := infer.RewriteClamps(model); err != nil || n != 3 {
		t.Fatalf("RewriteClamps = %d chains, %v; want 3 (the ReLU6, and the disjoint Min and Max apart)", n, err)
	}
	s, err := testutil.Runtime(t).Load(infer.Spec{Name: "clamps"}, model)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	in := infer.Tensor{Shape: []int64{9}, Data: []float32{-9, -1.5, -0.5, 0, 0.5, 2, 5.5, 6, 7}}
	out, err := s.Run(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range in.Data {
		if want := min(max(x, 0), 6); out[0].Data[i] != want {
			t.Errorf("relu6(%v) = %v, want %v", x, out[0].Data[i], want)
		}
		if want := max(min(x, -1), 2); out[1].Data[i] != want {
			t.Errorf("max(min(%v, -1), 2) = %v, want %v", x, out[1].Data[i], want)
		}
	}
}
