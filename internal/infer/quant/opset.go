package quant

import (
	"fmt"

	"github.com/livenessd/livenessd/internal/infer"
	"github.com/livenessd/livenessd/internal/infer/onnxpb"
)

// qdqOpset is the opset the quantised models use: QuantizeLinear and
// DequantizeLinear take a per-channel axis from opset 13.
const qdqOpset = 13

// upgradeOpset rewrites a graph of opset 9 to 12 to opset 13. Only the ops
// whose signature changed between those versions and that appear in
// exported vision models are converted (attributes that became inputs);
// any other op that changed is refused rather than guessed.
func upgradeOpset(m *onnxpb.ModelProto) error {
	from := opsetOf(m)
	if from >= qdqOpset {
		return nil
	}
	if from < 9 {
		return fmt.Errorf("quant: opset %d is too old to upgrade", from)
	}
	g := m.GetGraph()
	u := &upgrader{m: m, g: g}
	for _, n := range g.GetNode() {
		if n.GetDomain() != "" && n.GetDomain() != "ai.onnx" {
			continue
		}
		if err := u.node(n, from); err != nil {
			return fmt.Errorf("quant: upgrade node %q (%s) from opset %d: %w", n.GetName(), n.GetOpType(), from, err)
		}
	}
	for _, o := range m.GetOpsetImport() {
		if o.GetDomain() == "" || o.GetDomain() == "ai.onnx" {
			o.Version = qdqOpset
		}
	}
	return nil
}

type upgrader struct {
	m      *onnxpb.ModelProto
	g      *onnxpb.GraphProto
	k      int
	shapes map[string][]int64 // propagated lazily
}

// ints moves an INTS attribute into a new int64 initializer input.
func (u *upgrader) ints(name string, v []int64) string {
	u.k++
	t := fmt.Sprintf("opset13_%s_%d", name, u.k)
	u.g.Initializer = append(u.g.Initializer, &onnxpb.TensorProto{Name: t, Dims: []int64{int64(len(v))}, DataType: int32(onnxpb.TensorProto_INT64), Int64Data: v})
	return t
}

func (u *upgrader) float(name string, v float32) string {
	u.k++
	t := fmt.Sprintf("opset13_%s_%d", name, u.k)
	u.g.Initializer = append(u.g.Initializer, &onnxpb.TensorProto{Name: t, DataType: int32(onnxpb.TensorProto_FLOAT), FloatData: []float32{v}})
	return t
}

// take removes the named attributes from n and returns them by name.
func take(n *onnxpb.NodeProto, names ...string) map[string]*onnxpb.AttributeProto {
	got := map[string]*onnxpb.AttributeProto{}
	var kept []*onnxpb.AttributeProto
	for _, a := range n.GetAttribute() {
		match := false
		for _, want := range names {
			if a.GetName() == want {
				got[want] = a
				match = true
			}
		}
		if !match {
			kept = append(kept, a)
		}
	}
	n.Attribute = kept
	return got
}

func (u *upgrader) node(n *onnxpb.NodeProto, from int64) error {
	switch n.GetOpType() {
	case "Unsqueeze", "Squeeze":
		a := take(n, "axes")
		if ax, ok := a["axes"]; ok {
			n.Input = append(n.Input, u.ints("axes", ax.GetInts()))
		}
	case "Slice":
		if from >= 10 {
			return nil
		}
		a := take(n, "starts", "ends", "axes")
		if a["starts"] == nil || a["ends"] == nil {
			return fmt.Errorf("slice without starts/ends")
		}
		n.Input = append(n.Input, u.ints("starts", a["starts"].GetInts()), u.ints("ends", a["ends"].GetInts()))
		if ax, ok := a["axes"]; ok {
			n.Input = append(n.Input, u.ints("axes", ax.GetInts()))
		}
	case "Split":
		a := take(n, "split")
		if s, ok := a["split"]; ok {
			n.Input = append(n.Input, u.ints("split", s.GetInts()))
		}
	case "Clip":
		if from >= 11 {
			return nil
		}
		a := take(n, "min", "max")
		lo, hi := "", ""
		if v, ok := a["min"]; ok {
			lo = u.float("min", v.GetF())
		}
		if v, ok := a["max"]; ok {
			hi = u.float("max", v.GetF())
		}
		n.Input = append(n.Input, lo, hi)
	case "Softmax", "LogSoftmax", "Hardmax":
		// Before 13 these flatten to 2-D at axis (default 1); from 13 they
		// work along one axis. The same when axis is the last one, which
		// is how exporters use them; anything else is refused.
		axis := int64(1)
		for _, a := range n.GetAttribute() {
			if a.GetName() == "axis" {
				axis = a.GetI()
			}
		}
		if axis != -1 && !u.lastAxis(n.GetInput()[0], axis) {
			return fmt.Errorf("axis %d is not provably the last axis", axis)
		}
		take(n, "axis")
		n.Attribute = append(n.Attribute, &onnxpb.AttributeProto{Name: "axis", Type: onnxpb.AttributeProto_INT, I: -1})
	case "Pad":
		if from >= 11 {
			return nil
		}
		a := take(n, "pads", "value")
		if a["pads"] == nil {
			return fmt.Errorf("pad without pads")
		}
		n.Input = append(n.Input, u.ints("pads", a["pads"].GetInts()))
		if v, ok := a["value"]; ok {
			n.Input = append(n.Input, u.float("value", v.GetF()))
		}
	case "Upsample", "TopK", "Dropout", "Resize", "Scatter", "Mod", "ReduceSum", "Loop", "If", "Scan":
		return fmt.Errorf("op changed between opset %d and %d; not converted", from, qdqOpset)
	}
	return nil
}

// lastAxis reports whether axis is the last axis of tensor t, from the
// shapes propagated from the graph's declared input shape.
func (u *upgrader) lastAxis(t string, axis int64) bool {
	if u.shapes == nil {
		u.shapes = map[string][]int64{}
		if in := graphInputShape(u.m); in != nil {
			if sh, err := infer.Shapes(u.m, in); err == nil {
				u.shapes = sh
			}
		}
	}
	sh, ok := u.shapes[t]
	return ok && len(sh) > 0 && axis == int64(len(sh)-1)
}

// graphInputShape is the declared shape of the single non-initializer graph
// input, batch 1 where the batch is symbolic, or nil.
func graphInputShape(m *onnxpb.ModelProto) []int64 {
	g := m.GetGraph()
	inits := map[string]bool{}
	for _, t := range g.GetInitializer() {
		inits[t.GetName()] = true
	}
	var shape []int64
	n := 0
	for _, vi := range g.GetInput() {
		if inits[vi.GetName()] {
			continue
		}
		n++
		shape = nil
		for i, d := range vi.GetType().GetTensorType().GetShape().GetDim() {
			v := d.GetDimValue()
			if v <= 0 {
				if i != 0 {
					return nil
				}
				v = 1
			}
			shape = append(shape, v)
		}
	}
	if n != 1 {
		return nil
	}
	return shape
}
