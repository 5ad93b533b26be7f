// Package quant turns a float32 ONNX model into a statically quantised one in
// the QDQ form ONNX Runtime fuses into its integer kernels: weights int8
// symmetric per output channel, activations uint8 asymmetric per tensor with
// ranges measured on calibration inputs (Calibrate), biases int32.
//
// ONNX Runtime's graph optimiser recognises DequantizeLinear -> Conv ->
// QuantizeLinear (and the same around Gemm, MatMul, Add, Mul, pooling and
// shape ops) and replaces each group with one integer operator (QLinearConv
// runs on the VNNI dot-product instructions where the CPU has them). Ops it
// has no integer kernel for (PRelu, Sigmoid, Softmax...) stay float32
// between a DequantizeLinear and a QuantizeLinear.
package quant

import (
	"fmt"
	"slices"

	"github.com/livenessd/livenessd/internal/infer"
	"github.com/livenessd/livenessd/internal/infer/onnxpb"
)

// kind is how the quantiser treats one op type.
type kind int

const (
	keep        kind = iota // stays float32; its quantised inputs are dequantised for it
	weighted                // Conv, Gemm, MatMul: weights int8 per channel, activations uint8
	arithmetic              // Add, Mul, Concat, pooling: every activation input and the output uint8
	passThrough             // moves or selects values: output shares its input's quantisation
	clamp                   // Relu and friends: removed when the quantised range already clamps
)

var kinds = map[string]kind{
	"Conv": weighted, "Gemm": weighted, "MatMul": weighted,
	"Add": arithmetic, "Mul": arithmetic, "Concat": arithmetic,
	"GlobalAveragePool": arithmetic, "AveragePool": arithmetic,
	"MaxPool": passThrough, "Reshape": passThrough, "Transpose": passThrough, "Flatten": passThrough,
	"Squeeze": passThrough, "Unsqueeze": passThrough, "Identity": passThrough, "DepthToSpace": passThrough,
	"Relu": clamp, "Clip": clamp, "Max": clamp, "Min": clamp,
}

// graph indexes an ONNX graph: who produces and who consumes each tensor.
type graph struct {
	g         *onnxpb.GraphProto
	inits     map[string]*onnxpb.TensorProto
	producer  map[string]*onnxpb.NodeProto
	consumers map[string][]*onnxpb.NodeProto
	outputs   map[string]bool // graph outputs
	float     map[string]bool // tensors of type float32
}

func index(g *onnxpb.GraphProto) *graph {
	x := &graph{g: g, inits: map[string]*onnxpb.TensorProto{}, producer: map[string]*onnxpb.NodeProto{},
		consumers: map[string][]*onnxpb.NodeProto{}, outputs: map[string]bool{}}
	for _, t := range g.GetInitializer() {
		x.inits[t.GetName()] = t
	}
	for _, n := range g.GetNode() {
		if n.GetOpType() == "Constant" {
			for _, a := range n.GetAttribute() {
				if a.GetName() == "value" && a.GetT() != nil {
					t := a.GetT()
					x.inits[n.GetOutput()[0]] = t
				}
			}
		}
		for _, o := range n.GetOutput() {
			x.producer[o] = n
		}
		for _, in := range n.GetInput() {
			if in != "" {
				x.consumers[in] = append(x.consumers[in], n)
			}
		}
	}
	for _, o := range g.GetOutput() {
		x.outputs[o.GetName()] = true
	}
	x.float = floatTensors(g, x.inits)
	return x
}

// floatTensors propagates element types through the graph: the declared
// types of inputs and initializers, Shape gives int64, Cast its target
// type, and every other op the type of its first input (true of the ops
// these vision models use; only float32-ness matters here).
func floatTensors(g *onnxpb.GraphProto, inits map[string]*onnxpb.TensorProto) map[string]bool {
	const float = int32(onnxpb.TensorProto_FLOAT)
	f := map[string]bool{}
	for name, t := range inits {
		f[name] = t.GetDataType() == float
	}
	for _, in := range g.GetInput() {
		if _, ok := inits[in.GetName()]; !ok {
			f[in.GetName()] = in.GetType().GetTensorType().GetElemType() == float
		}
	}
	for _, n := range g.GetNode() {
		var isFloat bool
		switch n.GetOpType() {
		case "Shape", "Size", "NonZero", "ArgMax", "ArgMin":
			isFloat = false
		case "Cast":
			for _, a := range n.GetAttribute() {
				if a.GetName() == "to" {
					isFloat = int32(a.GetI()) == float
				}
			}
		case "Constant":
			isFloat = inits[n.GetOutput()[0]].GetDataType() == float
		default:
			isFloat = len(n.GetInput()) > 0 && f[n.GetInput()[0]]
		}
		for _, o := range n.GetOutput() {
			f[o] = isFloat
		}
	}
	return f
}

// floatInit returns the float32 initializer (or Constant) named name.
func (x *graph) floatInit(name string) (*onnxpb.TensorProto, bool) {
	t, ok := x.inits[name]
	return t, ok && t.GetDataType() == int32(onnxpb.TensorProto_FLOAT)
}

// plan is what Quantize will do to a graph, decided before calibration so
// that Calibrate measures exactly the tensors the quantised model needs.
type plan struct {
	// nodes are the nodes that run in integer arithmetic.
	nodes map[*onnxpb.NodeProto]kind
	// removed are clamp nodes whose effect the quantised range reproduces:
	// their producer writes their output directly.
	removed map[*onnxpb.NodeProto]bool
	// tensors get a QuantizeLinear/DequantizeLinear pair, in graph order.
	tensors []string
	// shareWith maps a pass-through output to the tensor whose range it
	// takes, so DequantizeLinear -> op -> QuantizeLinear has equal scales
	// and ORT drops the pair.
	shareWith map[string]string
}

// weightInput is the index of the weight input of a weighted node, or -1
// when the node cannot be quantised (weight not a constant, unsupported
// attributes).
func (x *graph) weightInput(n *onnxpb.NodeProto) int {
	in := n.GetInput()
	switch n.GetOpType() {
	case "Conv":
		if len(in) >= 2 {
			if _, ok := x.floatInit(in[1]); ok {
				if len(in) < 3 || in[2] == "" || x.isFloatInit(in[2]) {
					return 1
				}
			}
		}
	case "Gemm":
		for _, a := range n.GetAttribute() {
			switch a.GetName() {
			case "alpha", "beta":
				if a.GetF() != 1 {
					return -1
				}
			case "transA":
				if a.GetI() != 0 {
					return -1
				}
			}
		}
		if len(in) >= 2 && x.isFloatInit(in[1]) && (len(in) < 3 || in[2] == "" || x.isFloatInit(in[2])) {
			return 1
		}
	case "MatMul":
		if len(in) == 2 && x.isFloatInit(in[1]) && !x.isFloatInit(in[0]) {
			if t, _ := x.floatInit(in[1]); len(t.GetDims()) == 2 {
				return 1
			}
		}
	}
	return -1
}

func (x *graph) isFloatInit(name string) bool {
	_, ok := x.floatInit(name)
	return ok
}

// activations are the float, non-constant inputs of n.
func (x *graph) activations(n *onnxpb.NodeProto) []string {
	var out []string
	for i, in := range n.GetInput() {
		if in == "" || x.inits[in] != nil || !x.float[in] {
			continue
		}
		switch n.GetOpType() {
		case "Reshape", "Squeeze", "Unsqueeze":
			if i > 0 {
				continue // shapes and axes
			}
		}
		out = append(out, in)
	}
	return out
}

// Skip names nodes (by name, or by op type) to leave in float32.
type Skip func(n *onnxpb.NodeProto) bool

// makePlan decides which nodes run in integer arithmetic. A weighted or
// arithmetic node is quantised (unless skipped); a pass-through node is
// quantised when its input already is; a clamp node right after a
// quantised node is folded into the range of that node's output.
func makePlan(x *graph, skip Skip) (*plan, error) {
	p := &plan{nodes: map[*onnxpb.NodeProto]kind{}, removed: map[*onnxpb.NodeProto]bool{}, shareWith: map[string]string{}}
	quantised := map[string]bool{} // tensors that will have a Q/DQ pair
	var order []string
	mark := func(t string) {
		if !quantised[t] {
			quantised[t] = true
			order = append(order, t)
		}
	}
	for _, n := range x.g.GetNode() {
		if skip != nil && skip(n) {
			continue
		}
		k := kinds[n.GetOpType()]
		switch k {
		case weighted:
			if x.weightInput(n) < 0 {
				continue
			}
		case arithmetic:
			if n.GetOpType() == "Mul" || n.GetOpType() == "Add" {
				// Both operands must be activations or a scalar-ish constant
				// ORT can quantise; keep it simple: activations only.
				if len(x.activations(n)) != 2 {
					continue
				}
			}
		case passThrough:
			acts := x.activations(n)
			if len(acts) != 1 || !quantised[acts[0]] || len(n.GetOutput()) != 1 {
				continue
			}
		case clamp:
			continue // decided below, after its producer
		default:
			continue
		}
		acts := x.activations(n)
		if len(acts) == 0 {
			continue
		}
		p.nodes[n] = k
		for _, a := range acts {
			mark(a)
		}
		out := n.GetOutput()[0]
		if k == passThrough {
			p.shareWith[out] = rootOf(p.shareWith, acts[0])
		}
		// Fold the clamps that follow into this node's output range: the
		// range always holds zero, so a clamp to bounds around zero is
		// reproduced exactly by QuantizeLinear's saturation.
		for k != passThrough {
			cs := x.consumers[out]
			if len(cs) != 1 || x.outputs[out] {
				break
			}
			c := cs[0]
			if kinds[c.GetOpType()] != clamp || (skip != nil && skip(c)) || len(x.activations(c)) != 1 {
				break
			}
			b, ok := clampBounds(x, c)
			if !ok || b[0] > 0 || b[1] < 0 {
				break
			}
			p.removed[c] = true
			out = c.GetOutput()[0]
		}
		mark(out)
	}
	p.tensors = order
	if len(p.nodes) == 0 {
		return nil, fmt.Errorf("quant: no quantisable node")
	}
	return p, nil
}

func rootOf(share map[string]string, t string) string {
	for {
		r, ok := share[t]
		if !ok {
			return t
		}
		t = r
	}
}

// clampBounds returns the [lo, hi] a clamp node limits values to.
func clampBounds(x *graph, n *onnxpb.NodeProto) ([2]float32, bool) {
	const inf = float32(3.4e38)
	in := n.GetInput()
	scalar := func(name string) (float32, bool) {
		t, ok := x.floatInit(name)
		if !ok {
			return 0, false
		}
		v := infer.TensorFloats(t)
		if len(v) != 1 {
			return 0, false
		}
		return v[0], true
	}
	switch n.GetOpType() {
	case "Relu":
		return [2]float32{0, inf}, true
	case "Clip":
		lo, hi := -inf, inf
		for _, a := range n.GetAttribute() { // opset < 11
			switch a.GetName() {
			case "min":
				lo = a.GetF()
			case "max":
				hi = a.GetF()
			}
		}
		if len(in) > 1 && in[1] != "" {
			v, ok := scalar(in[1])
			if !ok {
				return [2]float32{}, false
			}
			lo = v
		}
		if len(in) > 2 && in[2] != "" {
			v, ok := scalar(in[2])
			if !ok {
				return [2]float32{}, false
			}
			hi = v
		}
		return [2]float32{lo, hi}, true
	case "Max", "Min":
		if len(in) != 2 {
			return [2]float32{}, false
		}
		var c float32
		var ok bool
		if c, ok = scalar(in[1]); !ok {
			if c, ok = scalar(in[0]); !ok {
				return [2]float32{}, false
			}
		}
		if n.GetOpType() == "Max" {
			return [2]float32{c, inf}, true
		}
		return [2]float32{-inf, c}, true
	}
	return [2]float32{}, false
}

// Targets lists the tensors whose value ranges Quantize needs, in graph
// order: feed them to Calibrate.
func Targets(model []byte, skip Skip) ([]string, error) {
	m, err := parse(model)
	if err != nil {
		return nil, err
	}
	foldPads(m.GetGraph())
	foldAffine(m.GetGraph())
	x := index(m.GetGraph())
	p, err := makePlan(x, skip)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, t := range p.tensors {
		if r := rootOf(p.shareWith, t); r == t {
			out = append(out, t)
		}
	}
	return slices.Clip(out), nil
}
