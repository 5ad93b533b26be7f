package infer_test

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/livenessd/livenessd/internal/infer"
	"github.com/livenessd/livenessd/internal/infer/onnxpb"
	"github.com/livenessd/livenessd/internal/testutil"
)

// peakModel is a dense convolution stack, the most favourable shape for
// ORT's fp32 kernels: 4 x (3x3 Conv 128->128 + Relu) on 56x56, 3.70 GFLOP.
// Its GFLOP/s is the "measured fp32 peak" the model table compares with.
func peakModel(tb testing.TB) ([]byte, infer.Spec) {
	const c, hw, layers = 128, 56, 4
	dim := func(v int64) *onnxpb.TensorShapeProto_Dimension {
		return &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: v}}
	}
	info := func(name string) *onnxpb.ValueInfoProto {
		return &onnxpb.ValueInfoProto{Name: name, Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{
			ElemType: int32(onnxpb.TensorProto_FLOAT),
			Shape:    &onnxpb.TensorShapeProto{Dim: []*onnxpb.TensorShapeProto_Dimension{dim(1), dim(c), dim(hw), dim(hw)}}}}}}
	}
	r := rand.New(rand.NewPCG(1, 2))
	g := &onnxpb.GraphProto{Name: "peak", Input: []*onnxpb.ValueInfoProto{info("x0")}}
	prev := "x0"
	for l := range layers {
		w := make([]byte, 4*c*c*9)
		for i := 0; i < len(w); i += 4 {
			binary.LittleEndian.PutUint32(w[i:], math.Float32bits(r.Float32()*0.04-0.02))
		}
		wn, out := "w"+string(rune('0'+l)), "x"+string(rune('1'+l))
		g.Initializer = append(g.Initializer, &onnxpb.TensorProto{Name: wn, Dims: []int64{c, c, 3, 3}, DataType: int32(onnxpb.TensorProto_FLOAT), RawData: w})
		g.Node = append(g.Node,
			&onnxpb.NodeProto{OpType: "Conv", Input: []string{prev, wn}, Output: []string{out + "c"}, Attribute: []*onnxpb.AttributeProto{
				{Name: "pads", Type: onnxpb.AttributeProto_INTS, Ints: []int64{1, 1, 1, 1}}}},
			&onnxpb.NodeProto{OpType: "Relu", Input: []string{out + "c"}, Output: []string{out}})
		prev = out
	}
	g.Output = []*onnxpb.ValueInfoProto{info(prev)}
	b, err := proto.Marshal(&onnxpb.ModelProto{IrVersion: 8, OpsetImport: []*onnxpb.OperatorSetIdProto{{Version: 13}}, Graph: g})
	if err != nil {
		tb.Fatal(err)
	}
	// No input name: the graph is not checked against an image description.
	return b, infer.Spec{Name: "peak"}
}

// BenchmarkPeak times peakModel with -bench.threads intra-op threads and
// reports its GFLOP/s.
func BenchmarkPeak(b *testing.B) {
	raw, spec := peakModel(b)
	flops, err := infer.FLOPs(raw, []int64{1, 128, 56, 56})
	if err != nil {
		b.Fatal(err)
	}
	s, err := benchRuntime(b).LoadWith(spec, raw, infer.LoadOptions{Threads: *benchThreads})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	in := infer.NewTensor(1, 128, 56, 56)
	r := rand.New(rand.NewPCG(3, 4))
	for i := range in.Data {
		in.Data[i] = r.Float32()
	}
	testutil.TimeModel(b, s, in)
	b.ReportMetric(flops/1e9, "GFLOP")
}

func TestPeakModel_Loads(t *testing.T) {
	raw, spec := peakModel(t)
	s, err := testutil.Runtime(t).Load(spec, raw)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}
