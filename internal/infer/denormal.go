package infer

import (
	"encoding/binary"
	"fmt"
	"math"

	"google.golang.org/protobuf/proto"

	"github.com/livenessd/livenessd/internal/infer/onnxpb"
)

// FlushDenormals sets every subnormal float32 weight of an ONNX model to
// zero and returns the new model bytes and how many values changed.
//
// Why: x86 CPUs take a slow microcode path for arithmetic on subnormal
// floats. fr_feature holds thousands of them; flushing cut its latency about
// 3.5x with bit-identical embeddings (see docs/BENCHMARKS.md). ORT's
// set_denormal_as_zero option covers values produced at run time; this covers
// the stored weights, which that option does not rewrite.
func FlushDenormals(model []byte) ([]byte, int, error) {
	return rewriteModel(model, func(m *onnxpb.ModelProto) int { return flushGraph(m.GetGraph()) })
}

// rewriteModel parses model, lets rewrite change it, and serialises it
// again (deterministically) when rewrite reports changes; a model it leaves
// alone is returned as it was.
func rewriteModel(model []byte, rewrite func(*onnxpb.ModelProto) int) ([]byte, int, error) {
	var m onnxpb.ModelProto
	if err := proto.Unmarshal(model, &m); err != nil {
		return nil, 0, fmt.Errorf("infer: parse onnx model: %w", err)
	}
	n := rewrite(&m)
	if n == 0 {
		return model, 0, nil
	}
	out, err := proto.MarshalOptions{Deterministic: true}.Marshal(&m)
	if err != nil {
		return nil, 0, fmt.Errorf("infer: serialise onnx model: %w", err)
	}
	return out, n, nil
}

// CountDenormals reports how many float32 weights of a model are subnormal.
func CountDenormals(model []byte) (int, error) {
	var m onnxpb.ModelProto
	if err := proto.Unmarshal(model, &m); err != nil {
		return 0, fmt.Errorf("infer: parse onnx model: %w", err)
	}
	return countGraph(m.GetGraph()), nil
}

func flushGraph(g *onnxpb.GraphProto) int { return visitGraph(g, true) }
func countGraph(g *onnxpb.GraphProto) int { return visitGraph(g, false) }

func visitGraph(g *onnxpb.GraphProto, flush bool) int {
	if g == nil {
		return 0
	}
	n := 0
	for _, t := range g.GetInitializer() {
		n += visitTensor(t, flush)
	}
	for _, node := range g.GetNode() {
		for _, a := range node.GetAttribute() {
			if a.GetT() != nil {
				n += visitTensor(a.GetT(), flush)
			}
			for _, t := range a.GetTensors() {
				n += visitTensor(t, flush)
			}
			if a.GetG() != nil {
				n += visitGraph(a.GetG(), flush)
			}
			for _, sg := range a.GetGraphs() {
				n += visitGraph(sg, flush)
			}
		}
	}
	return n
}

func isDenormal(f float32) bool {
	b := math.Float32bits(f)
	return b&0x7f800000 == 0 && b&0x007fffff != 0
}

func visitTensor(t *onnxpb.TensorProto, flush bool) int {
	if t.GetDataType() != int32(onnxpb.TensorProto_FLOAT) {
		return 0
	}
	n := 0
	fd := t.GetFloatData()
	for i, f := range fd {
		if isDenormal(f) {
			n++
			if flush {
				fd[i] = float32(math.Copysign(0, float64(f)))
			}
		}
	}
	raw := t.GetRawData()
	for i := 0; i+4 <= len(raw); i += 4 {
		f := math.Float32frombits(binary.LittleEndian.Uint32(raw[i:]))
		if isDenormal(f) {
			n++
			if flush {
				binary.LittleEndian.PutUint32(raw[i:], math.Float32bits(float32(math.Copysign(0, float64(f)))))
			}
		}
	}
	return n
}

func parseGraph(model []byte) (*onnxpb.GraphProto, error) {
	var m onnxpb.ModelProto
	if err := proto.Unmarshal(model, &m); err != nil {
		return nil, fmt.Errorf("parse onnx model: %w", err)
	}
	if m.GetGraph() == nil {
		return nil, fmt.Errorf("onnx model has no graph")
	}
	return m.GetGraph(), nil
}

func valueInfo(vi *onnxpb.ValueInfoProto) IOInfo {
	info := IOInfo{Name: vi.GetName()}
	for _, d := range vi.GetType().GetTensorType().GetShape().GetDim() {
		v := d.GetDimValue()
		if v <= 0 {
			v = -1
		}
		info.Shape = append(info.Shape, v)
	}
	return info
}
