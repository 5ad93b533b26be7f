package infer_test

import (
	"encoding/binary"
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

func floatInit(name string, dims ...int64) *onnxpb.TensorProto {
	n := int64(1)
	for _, d := range dims {
		n *= d
	}
	raw := make([]byte, 4*n)
	for i := range n {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(0.01))
	}
	return &onnxpb.TensorProto{Name: name, Dims: dims, DataType: int32(onnxpb.TensorProto_FLOAT), RawData: raw}
}

func ints(name string, v ...int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: name, Type: onnxpb.AttributeProto_INTS, Ints: v}
}

// tinyGraph: conv 3->8 3x3 stride 2 pad 1 on 1x3x16x16 (out 8x8), depthwise
// 3x3 (group 8), a Shape/Gather/Concat-computed Reshape to [1, 512], Gemm to 10.
func tinyGraph() []byte {
	g := &onnxpb.GraphProto{
		Name:  "tiny",
		Input: []*onnxpb.ValueInfoProto{{Name: "x"}},
		Initializer: []*onnxpb.TensorProto{
			floatInit("w1", 8, 3, 3, 3), floatInit("w2", 8, 1, 3, 3), floatInit("fc", 10, 512),
			{Name: "zero", Dims: []int64{1}, DataType: int32(onnxpb.TensorProto_INT64), Int64Data: []int64{0}},
			{Name: "minus1", Dims: []int64{1}, DataType: int32(onnxpb.TensorProto_INT64), Int64Data: []int64{-1}},
		},
		Node: []*onnxpb.NodeProto{
			{OpType: "Conv", Input: []string{"x", "w1"}, Output: []string{"c1"}, Attribute: []*onnxpb.AttributeProto{ints("strides", 2, 2), ints("pads", 1, 1, 1, 1)}},
			{OpType: "Relu", Input: []string{"c1"}, Output: []string{"r1"}},
			{OpType: "Conv", Input: []string{"r1", "w2"}, Output: []string{"c2"}, Attribute: []*onnxpb.AttributeProto{
				ints("pads", 1, 1, 1, 1), {Name: "group", Type: onnxpb.AttributeProto_INT, I: 8}}},
			{OpType: "Shape", Input: []string{"c2"}, Output: []string{"s"}},
			{OpType: "Gather", Input: []string{"s", "zero"}, Output: []string{"n"}},
			{OpType: "Concat", Input: []string{"n", "minus1"}, Output: []string{"target"}, Attribute: []*onnxpb.AttributeProto{{Name: "axis", Type: onnxpb.AttributeProto_INT}}},
			{OpType: "Reshape", Input: []string{"c2", "target"}, Output: []string{"flat"}},
			{OpType: "Gemm", Input: []string{"flat", "fc"}, Output: []string{"y"}, Attribute: []*onnxpb.AttributeProto{{Name: "transB", Type: onnxpb.AttributeProto_INT, I: 1}}},
		},
		Output: []*onnxpb.ValueInfoProto{{Name: "y"}},
	}
	b, err := proto.Marshal(&onnxpb.ModelProto{IrVersion: 8, OpsetImport: []*onnxpb.OperatorSetIdProto{{Version: 13}}, Graph: g})
	if err != nil {
		panic(err)
	}
	return b
}

func TestFLOPs_TinyGraph(t *testing.T) {
	conv1 := 8 * 8 * 8 * (3 * 3 * 3) // out C*H*W x Cin*k*k
	dw := 8 * 8 * 8 * (1 * 3 * 3)
	gemm := 512 * 10
	want := float64(2 * (conv1 + dw + gemm))
	got, err := infer.FLOPs(tinyGraph(), []int64{1, 3, 16, 16})
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("FLOPs = %v, want %v", got, want)
	}
	// batch scales linearly
	got4, err := infer.FLOPs(tinyGraph(), []int64{4, 3, 16, 16})
	if err != nil {
		t.Fatal(err)
	}
	if got4 != 4*want {
		t.Errorf("batch 4: FLOPs = %v, want %v", got4, 4*want)
	}
}

func TestFLOPs_Errors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		model []byte
		input []int64
	}{
		{"NotProtobuf", []byte("not a model"), []int64{1}},
		{"WrongRank", tinyGraph(), []int64{1, 3, 16}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := infer.FLOPs(tc.model, tc.input); err == nil {
				t.Fatal("no error")
			}
		})
	}
}

// Every model of the service has a countable, plausible FLOP figure.
func TestFLOPs_AllModels(t *testing.T) {
	c := testutil.Cache(t)
	check := func(t *testing.T, name string, model []byte, shape []int64) {
		f, err := infer.FLOPs(model, shape)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if f < 1e6 || f > 1e11 {
			t.Errorf("%s: %g FLOPs is implausible", name, f)
		}
		t.Logf("%s: %.4f GFLOP", name, f/1e9)
	}
	for _, spec := range infer.NativeModels() {
		b, err := os.ReadFile(c.Path(spec.File))
		if err != nil {
			t.Fatal(err)
		}
		check(t, spec.Name, b, spec.InputShape())
	}
	for _, spec := range tfjs.Models() {
		p := c.Path(spec.File)
		b, _, err := tfjs.Convert(filepath.Dir(p), filepath.Base(p))
		if err != nil {
			t.Fatal(err)
		}
		check(t, spec.Name, b, spec.InputShape())
	}
}
