package quant

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/livenessd/livenessd/internal/infer"
	"github.com/livenessd/livenessd/internal/infer/onnxpb"
)

// Range is the calibrated value range of one tensor.
type Range struct{ Min, Max float32 }

// Report says what Quantize did.
type Report struct {
	Nodes   map[string]int // quantised nodes by op type
	Float   map[string]int // nodes left in float32 by op type (shape arithmetic excluded)
	Removed int            // clamps folded into a quantised range
	Pairs   int            // QuantizeLinear/DequantizeLinear pairs on activations
}

// Quantize rewrites a float32 model into QDQ form using the calibrated
// ranges of Targets(model, skip). Weights of Conv, Gemm and MatMul become
// int8 with one symmetric scale per output channel; biases int32 with the
// product of the input and weight scales; every planned activation gets a
// uint8 QuantizeLinear/DequantizeLinear pair with a range that includes 0.
func Quantize(model []byte, ranges map[string]Range, skip Skip) ([]byte, Report, error) {
	m, err := parse(model)
	if err != nil {
		return nil, Report{}, err
	}
	g := m.GetGraph()
	foldPads(g)
	foldAffine(g)
	x := index(g)
	p, err := makePlan(x, skip)
	if err != nil {
		return nil, Report{}, err
	}
	q := &rewriter{x: x, p: p, ranges: ranges, rep: Report{Nodes: map[string]int{}, Float: map[string]int{}}}
	if err := upgradeOpset(m); err != nil {
		return nil, Report{}, err
	}
	if err := q.rewrite(); err != nil {
		return nil, Report{}, err
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		return nil, Report{}, fmt.Errorf("quant: serialise: %w", err)
	}
	return b, q.rep, nil
}

type rewriter struct {
	x      *graph
	p      *plan
	ranges map[string]Range
	rep    Report
	nodes  []*onnxpb.NodeProto
	inits  []*onnxpb.TensorProto
	params map[string]qparams // activation tensor -> its quantisation
	dq     map[string]string  // activation tensor -> its DequantizeLinear output
	names  map[string]bool    // initializers created
	err    error
}

// qparams are uint8 asymmetric parameters: real = (q - zero) * scale.
type qparams struct {
	scale float32
	zero  uint8
}

func uint8Params(r Range) qparams {
	lo, hi := min(r.Min, 0), max(r.Max, 0)
	if hi-lo < 1e-8 {
		return qparams{scale: 1, zero: 0}
	}
	s := (hi - lo) / 255
	z := math.Round(float64(-lo / s))
	return qparams{scale: s, zero: uint8(min(max(z, 0), 255))}
}

func (q *rewriter) rewrite() error {
	g := q.x.g
	q.params = map[string]qparams{}
	q.dq = map[string]string{}
	q.names = map[string]bool{}
	for _, t := range q.p.tensors {
		r, ok := q.ranges[rootOf(q.p.shareWith, t)]
		if !ok {
			return fmt.Errorf("quant: no calibrated range for tensor %q", t)
		}
		q.params[t] = uint8Params(r)
	}
	// Folded clamps disappear: their producer writes their output.
	rename := map[string]string{}
	for n := range q.p.removed {
		rename[n.GetInput()[q.activationIndex(n)]] = n.GetOutput()[0]
	}
	// Graph inputs that are quantised get their pair first.
	for _, in := range g.GetInput() {
		if _, ok := q.params[in.GetName()]; ok {
			q.pair(in.GetName())
		}
	}
	for _, n := range g.GetNode() {
		if q.p.removed[n] {
			q.rep.Removed++
			continue
		}
		for i, o := range n.GetOutput() {
			for rename[o] != "" {
				o = rename[o]
			}
			n.Output[i] = o
		}
		k, quantised := q.p.nodes[n]
		if quantised {
			q.rep.Nodes[n.GetOpType()]++
			for i, in := range n.GetInput() {
				if d, ok := q.dq[in]; ok {
					n.Input[i] = d
				}
			}
			if k == weighted {
				if err := q.weights(n); err != nil {
					return fmt.Errorf("quant: node %q (%s): %w", n.GetName(), n.GetOpType(), err)
				}
			}
		} else {
			if n.GetOpType() != "Constant" && !shapeOp[n.GetOpType()] {
				q.rep.Float[n.GetOpType()]++
			}
			// Float consumers of a quantised tensor read it dequantised
			// too, so every reader sees the same values.
			for i, in := range n.GetInput() {
				if d, ok := q.dq[in]; ok {
					n.Input[i] = d
				}
			}
		}
		q.nodes = append(q.nodes, n)
		for _, o := range n.GetOutput() {
			if _, ok := q.params[o]; ok {
				q.pair(o)
			}
		}
	}
	// Graph outputs keep their float producer: a quantised tensor that is
	// also a graph output is read before its QuantizeLinear.
	if q.err != nil {
		return q.err
	}
	g.Node = q.nodes
	g.Initializer = append(g.Initializer, q.inits...)
	q.dropUnused()
	return nil
}

// shapeOp are integer shape computations not worth reporting as float.
var shapeOp = map[string]bool{"Shape": true, "Gather": true, "Unsqueeze": true, "Cast": true}

func (q *rewriter) activationIndex(n *onnxpb.NodeProto) int {
	for i, in := range n.GetInput() {
		if in != "" && q.x.inits[in] == nil {
			return i
		}
	}
	return 0
}

// pair emits QuantizeLinear and DequantizeLinear for tensor t.
func (q *rewriter) pair(t string) {
	if _, done := q.dq[t]; done {
		return
	}
	qp := q.params[t]
	scale := q.scalarF(t+"_scale", qp.scale)
	zero := q.tensorU8(t+"_zero", []int64{}, []uint8{qp.zero})
	q.nodes = append(q.nodes,
		&onnxpb.NodeProto{OpType: "QuantizeLinear", Name: t + "_QuantizeLinear", Input: []string{t, scale, zero}, Output: []string{t + "_q"}},
		&onnxpb.NodeProto{OpType: "DequantizeLinear", Name: t + "_DequantizeLinear", Input: []string{t + "_q", scale, zero}, Output: []string{t + "_dq"}},
	)
	q.dq[t] = t + "_dq"
	q.rep.Pairs++
}

// weights replaces a weighted node's weight (and bias) by an integer
// initializer and its DequantizeLinear.
func (q *rewriter) weights(n *onnxpb.NodeProto) error {
	wi := q.x.weightInput(n)
	w, _ := q.x.floatInit(n.GetInput()[wi])
	data := infer.TensorFloats(w)
	dims := w.GetDims()
	// The axis of output channels: Conv [M, C/g, kh, kw] and Gemm with
	// transB [N, K] on 0; Gemm without transB and MatMul [K, N] on 1.
	axis := 0
	switch n.GetOpType() {
	case "Gemm":
		axis = 1
		for _, a := range n.GetAttribute() {
			if a.GetName() == "transB" && a.GetI() == 1 {
				axis = 0
			}
		}
	case "MatMul":
		axis = 1
	}
	channels := int(dims[axis])
	inner := 1
	for _, d := range dims[axis+1:] {
		inner *= int(d)
	}
	scales := make([]float32, channels)
	for i, v := range data {
		c := (i / inner) % channels
		scales[c] = max(scales[c], float32(math.Abs(float64(v))))
	}
	for c := range scales {
		if scales[c] == 0 {
			scales[c] = 1
		}
		scales[c] /= 127
	}
	qw := make([]int8, len(data))
	for i, v := range data {
		c := (i / inner) % channels
		qw[i] = int8(min(max(math.Round(float64(v/scales[c])), -127), 127))
	}
	base := n.GetInput()[wi]
	wq := q.tensorI8(base+"_quantized", dims, qw)
	ws := q.vectorF(base+"_scale", scales)
	wz := q.tensorI8(base+"_zero", []int64{int64(channels)}, make([]int8, channels))
	wd := base + "_dq"
	q.nodes = append(q.nodes, q.dequant(wd, wq, ws, wz, axis))
	n.Input[wi] = wd

	// Bias: int32 at scale input_scale * weight_scale[c].
	if len(n.GetInput()) > 2 && n.GetInput()[2] != "" {
		in := q.activationInputOf(n)
		ip, ok := q.params[in]
		if !ok {
			return fmt.Errorf("input %q not quantised", in)
		}
		b, _ := q.x.floatInit(n.GetInput()[2])
		bd := infer.TensorFloats(b)
		if len(bd) != channels {
			return fmt.Errorf("bias of %d values for %d channels", len(bd), channels)
		}
		qb := make([]int32, channels)
		bs := make([]float32, channels)
		for c := range bd {
			bs[c] = ip.scale * scales[c]
			qb[c] = int32(min(max(math.Round(float64(bd[c]/bs[c])), math.MinInt32), math.MaxInt32))
		}
		bname := n.GetInput()[2]
		bq := q.tensorI32(bname+"_quantized", []int64{int64(channels)}, qb)
		bsn := q.vectorF(bname+"_scale", bs)
		bz := q.tensorI32(bname+"_zero", []int64{int64(channels)}, make([]int32, channels))
		bdq := bname + "_dq"
		q.nodes = append(q.nodes, q.dequant(bdq, bq, bsn, bz, 0))
		n.Input[2] = bdq
	}
	return nil
}

// activationInputOf is the original (float) name of the activation input of
// a weighted node, before it was rewired to its DequantizeLinear.
func (q *rewriter) activationInputOf(n *onnxpb.NodeProto) string {
	in := n.GetInput()[0]
	for t, d := range q.dq {
		if d == in {
			return t
		}
	}
	return in
}

func (q *rewriter) dequant(out, x, scale, zero string, axis int) *onnxpb.NodeProto {
	return &onnxpb.NodeProto{OpType: "DequantizeLinear", Name: out, Input: []string{x, scale, zero}, Output: []string{out},
		Attribute: []*onnxpb.AttributeProto{{Name: "axis", Type: onnxpb.AttributeProto_INT, I: int64(axis)}}}
}

func (q *rewriter) scalarF(name string, v float32) string {
	return q.init(&onnxpb.TensorProto{Name: name, DataType: int32(onnxpb.TensorProto_FLOAT), RawData: f32bytes([]float32{v})})
}

func (q *rewriter) vectorF(name string, v []float32) string {
	return q.init(&onnxpb.TensorProto{Name: name, Dims: []int64{int64(len(v))}, DataType: int32(onnxpb.TensorProto_FLOAT), RawData: f32bytes(v)})
}

func (q *rewriter) tensorU8(name string, dims []int64, v []uint8) string {
	return q.init(&onnxpb.TensorProto{Name: name, Dims: dims, DataType: int32(onnxpb.TensorProto_UINT8), RawData: slices.Clone(v)})
}

func (q *rewriter) tensorI8(name string, dims []int64, v []int8) string {
	raw := make([]byte, len(v))
	for i, b := range v {
		raw[i] = byte(b)
	}
	return q.init(&onnxpb.TensorProto{Name: name, Dims: slices.Clone(dims), DataType: int32(onnxpb.TensorProto_INT8), RawData: raw})
}

func (q *rewriter) tensorI32(name string, dims []int64, v []int32) string {
	raw := make([]byte, 4*len(v))
	for i, b := range v {
		binary.LittleEndian.PutUint32(raw[4*i:], uint32(b))
	}
	return q.init(&onnxpb.TensorProto{Name: name, Dims: dims, DataType: int32(onnxpb.TensorProto_INT32), RawData: raw})
}

func (q *rewriter) init(t *onnxpb.TensorProto) string {
	if q.names[t.GetName()] {
		q.err = errors.Join(q.err, fmt.Errorf("quant: initializer %q created twice (a weight shared by two nodes?)", t.GetName()))
	}
	q.names[t.GetName()] = true
	q.inits = append(q.inits, t)
	return t.GetName()
}

// dropUnused removes initializers (and their graph-input entries, which old
// exporters add) that no node reads any more: the float weights.
func (q *rewriter) dropUnused() {
	g := q.x.g
	used := map[string]bool{}
	for _, n := range g.GetNode() {
		for _, in := range n.GetInput() {
			used[in] = true
		}
	}
	for _, o := range g.GetOutput() {
		used[o.GetName()] = true
	}
	g.Initializer = slices.DeleteFunc(g.Initializer, func(t *onnxpb.TensorProto) bool { return !used[t.GetName()] })
	kept := map[string]bool{}
	for _, t := range g.Initializer {
		kept[t.GetName()] = true
	}
	g.Input = slices.DeleteFunc(g.Input, func(vi *onnxpb.ValueInfoProto) bool {
		return q.x.inits[vi.GetName()] != nil && !kept[vi.GetName()]
	})
}

func parse(model []byte) (*onnxpb.ModelProto, error) {
	var m onnxpb.ModelProto
	if err := proto.Unmarshal(model, &m); err != nil {
		return nil, fmt.Errorf("quant: parse onnx model: %w", err)
	}
	if m.GetGraph() == nil {
		return nil, fmt.Errorf("quant: onnx model has no graph")
	}
	return &m, nil
}

func opsetOf(m *onnxpb.ModelProto) int64 {
	for _, o := range m.GetOpsetImport() {
		if o.GetDomain() == "" || o.GetDomain() == "ai.onnx" {
			return o.GetVersion()
		}
	}
	return 0
}

func f32bytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(f))
	}
	return b
}
