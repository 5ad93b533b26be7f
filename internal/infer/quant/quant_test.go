package quant

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/livenessd/livenessd/internal/infer"
	"github.com/livenessd/livenessd/internal/infer/onnxpb"
	"github.com/livenessd/livenessd/internal/models"
	"github.com/livenessd/livenessd/internal/testutil"
)

// smallNet is a float model with the shapes the quantiser meets: a padded
// 3x3 convolution with Relu, a depthwise 3x3 convolution followed by a
// per-channel Mul and Add (a folded batch norm) and a ReLU6 written as
// Clip, a 1x1 convolution, a residual Add, global pooling, a flatten and a
// Gemm, at the given opset.
func smallNet(t testing.TB, opset int64) []byte {
	r := rand.New(rand.NewPCG(5, 6))
	w := func(dims ...int64) []float32 {
		n := int64(1)
		for _, d := range dims {
			n *= d
		}
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(r.NormFloat64() * 0.3)
		}
		return v
	}
	var inits []*onnxpb.TensorProto
	init := func(name string, dims []int64, v []float32) string {
		inits = append(inits, &onnxpb.TensorProto{Name: name, Dims: dims, DataType: int32(onnxpb.TensorProto_FLOAT), RawData: f32bytes(v)})
		return name
	}
	ints := func(name string, v ...int64) string {
		inits = append(inits, &onnxpb.TensorProto{Name: name, Dims: []int64{int64(len(v))}, DataType: int32(onnxpb.TensorProto_INT64), Int64Data: v})
		return name
	}
	attr := func(name string, v ...int64) *onnxpb.AttributeProto {
		return &onnxpb.AttributeProto{Name: name, Type: onnxpb.AttributeProto_INTS, Ints: v}
	}
	group := &onnxpb.AttributeProto{Name: "group", Type: onnxpb.AttributeProto_INT, I: 16}
	nodes := []*onnxpb.NodeProto{
		{OpType: "Pad", Name: "pad", Input: []string{"x", ints("pads", 0, 0, 1, 1, 0, 0, 1, 1)}, Output: []string{"xp"}},
		{OpType: "Conv", Name: "conv1", Input: []string{"xp", init("w1", []int64{16, 3, 3, 3}, w(16, 3, 3, 3)), init("b1", []int64{16}, w(16))}, Output: []string{"c1"}},
		{OpType: "Relu", Name: "relu1", Input: []string{"c1"}, Output: []string{"r1"}},
		{OpType: "Conv", Name: "dw", Input: []string{"r1", init("w2", []int64{16, 1, 3, 3}, w(16, 1, 3, 3))}, Output: []string{"c2"},
			Attribute: []*onnxpb.AttributeProto{group, attr("pads", 1, 1, 1, 1)}},
		{OpType: "Mul", Name: "bn_scale", Input: []string{"c2", init("s2", []int64{1, 16, 1, 1}, w(16))}, Output: []string{"m2"}},
		{OpType: "Add", Name: "bn_shift", Input: []string{"m2", init("a2", []int64{1, 16, 1, 1}, w(16))}, Output: []string{"a2o"}},
		{OpType: "Clip", Name: "relu6", Input: []string{"a2o", init("lo", nil, []float32{0}), init("hi", nil, []float32{6})}, Output: []string{"r2"}},
		{OpType: "Conv", Name: "pw", Input: []string{"r2", init("w3", []int64{16, 16, 1, 1}, w(16, 16, 1, 1)), init("b3", []int64{16}, w(16))}, Output: []string{"c3"}},
		{OpType: "Add", Name: "residual", Input: []string{"c3", "r1"}, Output: []string{"sum"}},
		{OpType: "GlobalAveragePool", Name: "gap", Input: []string{"sum"}, Output: []string{"pool"}},
		{OpType: "Flatten", Name: "flat", Input: []string{"pool"}, Output: []string{"f"}},
		{OpType: "Gemm", Name: "fc", Input: []string{"f", init("w4", []int64{10, 16}, w(10, 16)), init("b4", []int64{10}, w(10))}, Output: []string{"y"},
			Attribute: []*onnxpb.AttributeProto{{Name: "transB", Type: onnxpb.AttributeProto_INT, I: 1}}},
	}
	if opset < 11 {
		// Pad and Clip took attributes before opset 11.
		nodes[0].Input = nodes[0].Input[:1]
		nodes[0].Attribute = []*onnxpb.AttributeProto{attr("pads", 0, 0, 1, 1, 0, 0, 1, 1)}
		nodes[6].Input = nodes[6].Input[:1]
		nodes[6].Attribute = []*onnxpb.AttributeProto{
			{Name: "min", Type: onnxpb.AttributeProto_FLOAT, F: 0}, {Name: "max", Type: onnxpb.AttributeProto_FLOAT, F: 6}}
	}
	dims := func(d ...int64) *onnxpb.TypeProto {
		var ds []*onnxpb.TensorShapeProto_Dimension
		for _, v := range d {
			ds = append(ds, &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: v}})
		}
		return &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{
			ElemType: int32(onnxpb.TensorProto_FLOAT), Shape: &onnxpb.TensorShapeProto{Dim: ds}}}}
	}
	g := &onnxpb.GraphProto{Name: "small", Node: nodes, Initializer: inits,
		Input:  []*onnxpb.ValueInfoProto{{Name: "x", Type: dims(1, 3, 24, 24)}},
		Output: []*onnxpb.ValueInfoProto{{Name: "y", Type: dims(1, 10)}}}
	b, err := proto.Marshal(&onnxpb.ModelProto{IrVersion: 7, OpsetImport: []*onnxpb.OperatorSetIdProto{{Version: opset}}, Graph: g})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func randomInputs(n int, seed uint64) []infer.Tensor {
	r := rand.New(rand.NewPCG(seed, 7))
	out := make([]infer.Tensor, n)
	for i := range out {
		out[i] = infer.NewTensor(1, 3, 24, 24)
		for k := range out[i].Data {
			out[i].Data[k] = r.Float32()*2 - 1
		}
	}
	return out
}

// TestQuantize_SmallNet quantises smallNet at opset 13 and at opset 9
// (upgraded on the way), and requires ORT to run the result with outputs
// close to the float model's on inputs it was not calibrated on, and the
// plan it reports: every convolution and the Gemm quantised, the Pad folded
// into its convolution, the batch-norm Mul/Add folded into the depthwise
// one, Relu and the ReLU6 folded into the ranges, nothing left in float.
func TestQuantize_SmallNet(t *testing.T) {
	rt := testutil.Runtime(t)
	for _, opset := range []int64{13, 9} {
		model := smallNet(t, opset)
		targets, err := Targets(model, nil)
		if err != nil {
			t.Fatal(err)
		}
		ranges, err := Calibrate(t.Context(), rt, model, targets, randomInputs(16, 1), 100)
		if err != nil {
			t.Fatal(err)
		}
		q, rep, err := Quantize(model, ranges, nil)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Nodes["Conv"] != 3 || rep.Nodes["Gemm"] != 1 || rep.Nodes["Add"] != 1 || rep.Removed != 2 || len(rep.Float) != 0 {
			t.Errorf("opset %d: report %+v; want 3 Conv, 1 Gemm, 1 Add quantised, 2 clamps folded, no float op", opset, rep)
		}
		fs, err := rt.Load(infer.Spec{Name: "float"}, model)
		if err != nil {
			t.Fatal(err)
		}
		qs, err := rt.Load(infer.Spec{Name: "int8"}, q)
		if err != nil {
			t.Fatalf("opset %d: ORT refused the quantised model: %v", opset, err)
		}
		for i, in := range randomInputs(8, 2) {
			want, err := fs.Run(t.Context(), in)
			if err != nil {
				t.Fatal(err)
			}
			got, err := qs.Run(t.Context(), in)
			if err != nil {
				t.Fatal(err)
			}
			var diff, norm float64
			for k := range want[0].Data {
				d := float64(got[0].Data[k] - want[0].Data[k])
				diff += d * d
				norm += float64(want[0].Data[k]) * float64(want[0].Data[k])
			}
			if rel := math.Sqrt(diff / norm); rel > 0.05 {
				t.Errorf("opset %d input %d: relative error %.3f of the int8 output, want <= 0.05", opset, i, rel)
			}
		}
		fs.Close()
		qs.Close()
	}
}

// TestQuantize_Skip leaves named nodes in float.
func TestQuantize_Skip(t *testing.T) {
	model := smallNet(t, 13)
	skip := func(n *onnxpb.NodeProto) bool { return n.GetName() == "fc" }
	targets, err := Targets(model, skip)
	if err != nil {
		t.Fatal(err)
	}
	ranges := map[string]Range{}
	for _, tn := range targets {
		ranges[tn] = Range{Min: -1, Max: 1}
	}
	_, rep, err := Quantize(model, ranges, skip)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Nodes["Gemm"] != 0 || rep.Float["Gemm"] != 1 {
		t.Errorf("report %+v: the skipped Gemm was quantised", rep)
	}
}

// TestQuantize_MissingRange refuses to guess a range calibration did not
// measure.
func TestQuantize_MissingRange(t *testing.T) {
	if _, _, err := Quantize(smallNet(t, 13), map[string]Range{}, nil); err == nil {
		t.Fatal("Quantize without ranges succeeded")
	}
}

func TestUint8Params(t *testing.T) {
	for _, test := range []struct {
		r    Range
		zero uint8
	}{
		{Range{0, 6}, 0},       // after Relu: zero point at the bottom, negatives saturate to 0
		{Range{-2, 3.1}, 100},  // 2 / (5.1/255)
		{Range{2, 4}, 0},       // the range is widened to include 0
		{Range{-4, -2}, 255},   // likewise from above
		{Range{0, 0}, 0},       // constant zero: any scale
		{Range{-0.5, 1.5}, 64}, // 0.5 / (2/255) = 63.75
	} {
		p := uint8Params(test.r)
		if p.zero != test.zero || p.scale <= 0 {
			t.Errorf("uint8Params(%v) = %+v, want zero point %d", test.r, p, test.zero)
		}
	}
}

func TestTails(t *testing.T) {
	h := []int64{1, 0, 0, 50, 50, 0, 0, 1}
	if a, b := tails(h, 0.01); a != 3 || b != 4 {
		t.Errorf("tails = %d, %d; want 3, 4 (the lone extremes clipped)", a, b)
	}
	if a, b := tails(h, 0); a != 0 || b != 7 {
		t.Errorf("tails(0) = %d, %d; want 0, 7", a, b)
	}
}

// FuzzTargets: the planner takes model bytes from the cache; arbitrary
// bytes must give an error, never a panic.
func FuzzTargets(f *testing.F) {
	f.Add(smallNet(f, 13))
	f.Add(smallNet(f, 9))
	f.Add([]byte{})
	f.Add([]byte("not a model"))
	f.Fuzz(func(t *testing.T, b []byte) {
		targets, err := Targets(b, nil)
		if err != nil {
			return
		}
		ranges := map[string]Range{}
		for _, tn := range targets {
			ranges[tn] = Range{Min: -1, Max: 1}
		}
		Quantize(b, ranges, nil) // must not panic
	})
}

// TestQuantize_Reproducible: the same model and inputs give byte-identical
// builds (calibrated on one thread, as `make models` does).
func TestQuantize_Reproducible(t *testing.T) {
	rt, err := infer.NewRuntime(testutil.Cache(t).Path(models.ORTLibrary), infer.Options{IntraOpThreads: 1})
	if err != nil {
		t.Fatal(err)
	}
	model := smallNet(t, 9)
	build := func() []byte {
		targets, err := Targets(model, nil)
		if err != nil {
			t.Fatal(err)
		}
		ranges, err := Calibrate(t.Context(), rt, model, targets, randomInputs(8, 3), 99.9)
		if err != nil {
			t.Fatal(err)
		}
		q, _, err := Quantize(model, ranges, nil)
		if err != nil {
			t.Fatal(err)
		}
		return q
	}
	if a, b := build(), build(); !bytes.Equal(a, b) {
		t.Fatal("two builds from the same model and inputs differ")
	}
}
