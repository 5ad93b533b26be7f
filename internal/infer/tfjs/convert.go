package tfjs

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"

	"google.golang.org/protobuf/proto"

	"github.com/livenessd/livenessd/internal/infer"
	"github.com/livenessd/livenessd/internal/infer/onnxpb"
)

// Opset is the ONNX opset the translated models use.
const Opset = 17

// Info describes a translated model.
type Info struct {
	Inputs  []infer.IOInfo // NHWC, -1 for dynamic dimensions
	Outputs []infer.IOInfo
	// Ops counts the TF ops translated (pruned nodes excluded).
	Ops map[string]int
	// ONNXNodes is the number of nodes in the ONNX graph.
	ONNXNodes int
}

// Convert reads dir/modelJSONName (a graph model.json, or a face-api.js
// weights-only manifest) and its weight shards and returns the equivalent
// ONNX model.
func Convert(dir, modelJSONName string) ([]byte, Info, error) {
	data, err := os.ReadFile(filepath.Join(dir, modelJSONName))
	if err != nil {
		return nil, Info{}, fmt.Errorf("tfjs: %w", err)
	}
	m, err := parseAny(data)
	if err != nil {
		return nil, Info{}, fmt.Errorf("%s: %w", modelJSONName, err)
	}
	w, err := m.loadWeights(dir)
	if err != nil {
		return nil, Info{}, fmt.Errorf("%s: %w", modelJSONName, err)
	}
	if len(m.Nodes) == 0 { // a weights-only manifest: the graph comes from its architecture
		if w, err = m.buildWeightsOnly(w); err != nil {
			return nil, Info{}, fmt.Errorf("%s: %w", modelJSONName, err)
		}
	}
	onnx, info, err := m.toONNX(w)
	if err != nil {
		return nil, Info{}, fmt.Errorf("%s: %w", modelJSONName, err)
	}
	return onnx, info, nil
}

// value is a translated TF tensor.
type value struct {
	name  string  // ONNX value name
	shape []int64 // TF (NHWC) semantic shape; -1 for unknown dimensions
	nchw  bool    // stored as NCHW (4-D only): storage = transpose(shape, 0,3,1,2)
	isInt bool    // int64 in ONNX (TF int32/bool)
	k     *constant
	// elems tracks the elements of small integer vectors computed from
	// shapes (Shape -> StridedSlice -> Pack), so Reshape targets built at
	// run time still get a static output shape. nil when unknown.
	elems []elem
}

// elem is one tracked integer: a known value, the batch dimension, or unknown.
type elem struct {
	v     int64
	known bool
	batch bool
}

func constElems(k *constant) []elem {
	if k == nil || k.isFloat() || len(k.shape) > 1 || len(k.i) > maxRank {
		return nil
	}
	out := make([]elem, len(k.i))
	for i, v := range k.i {
		out[i] = elem{v: v, known: true}
	}
	return out
}

func (v *value) rank() int { return len(v.shape) }

type converter struct {
	m       *Model
	weights map[string]*constant
	nodes   map[string]*Node
	g       *onnxpb.GraphProto
	vals    map[string]*value
	alt     map[string]*value // cached layout conversions, keyed by ONNX name
	seq     int
	ops     map[string]int
}

func (m *Model) toONNX(weights map[string]*constant) ([]byte, Info, error) {
	c := &converter{
		m: m, weights: weights, nodes: map[string]*Node{},
		g:    &onnxpb.GraphProto{Name: "tfjs"},
		vals: map[string]*value{}, alt: map[string]*value{}, ops: map[string]int{},
	}
	for i := range m.Nodes {
		c.nodes[m.Nodes[i].Name] = &m.Nodes[i]
	}
	order, err := c.topo()
	if err != nil {
		return nil, Info{}, err
	}
	for _, n := range order {
		v, err := c.convert(n)
		if err != nil {
			return nil, Info{}, fmt.Errorf("tfjs: node %q (%s): %w", n.Name, n.Op, err)
		}
		c.vals[n.Name] = v
		c.ops[n.Op]++
	}
	info := Info{Ops: c.ops}
	for _, vi := range c.g.Input {
		info.Inputs = append(info.Inputs, ioInfo(vi))
	}
	seenOut := map[string]bool{}
	for _, name := range m.Outputs {
		if seenOut[name] {
			continue
		}
		seenOut[name] = true
		v := c.vals[name]
		if v.isInt {
			return nil, Info{}, fmt.Errorf("tfjs: output %q is an integer tensor; only float outputs are supported", name)
		}
		v = c.toNHWC(v)
		if v.k != nil {
			v = c.materialize(v)
		}
		c.add("Identity", []string{v.name}, []string{name})
		vi := valueInfoProto(name, v.shape, onnxpb.TensorProto_FLOAT)
		c.g.Output = append(c.g.Output, vi)
		info.Outputs = append(info.Outputs, ioInfo(vi))
	}
	info.ONNXNodes = len(c.g.Node)
	model := &onnxpb.ModelProto{
		IrVersion:       int64(onnxpb.Version_IR_VERSION),
		ProducerName:    "livenessd-tfjs",
		ProducerVersion: "1",
		OpsetImport:     []*onnxpb.OperatorSetIdProto{{Domain: "", Version: Opset}},
		Graph:           c.g,
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(model)
	if err != nil {
		return nil, Info{}, fmt.Errorf("tfjs: serialise onnx: %w", err)
	}
	return b, info, nil
}

// topo orders the nodes the outputs depend on, inputs first.
func (c *converter) topo() ([]*Node, error) {
	const (
		unseen = iota
		active
		done
	)
	state := map[string]int{}
	var order []*Node
	type frame struct {
		n *Node
		i int
	}
	for _, out := range c.m.Outputs {
		if state[out] == done {
			continue
		}
		stack := []frame{{c.nodes[out], 0}}
		state[out] = active
		for len(stack) > 0 {
			top := &stack[len(stack)-1]
			if top.i < len(top.n.Inputs) {
				src, _, ctrl := splitInput(top.n.Inputs[top.i])
				top.i++
				if ctrl {
					continue
				}
				switch state[src] {
				case active:
					return nil, fmt.Errorf("tfjs: node %q (%s): graph has a cycle through %q", top.n.Name, top.n.Op, src)
				case unseen:
					state[src] = active
					stack = append(stack, frame{c.nodes[src], 0})
				}
				continue
			}
			state[top.n.Name] = done
			order = append(order, top.n)
			stack = stack[:len(stack)-1]
		}
	}
	return order, nil
}

// input returns the translated i-th data input of n.
func (c *converter) input(n *Node, i int) (*value, error) {
	data := 0
	for _, in := range n.Inputs {
		src, idx, ctrl := splitInput(in)
		if ctrl {
			continue
		}
		if data == i {
			if idx != 0 {
				return nil, fmt.Errorf("input %q: only the first output of a node is supported", in)
			}
			v := c.vals[src]
			if v == nil {
				return nil, fmt.Errorf("input %q not translated", in)
			}
			return v, nil
		}
		data++
	}
	return nil, fmt.Errorf("missing input %d", i)
}

func (c *converter) numInputs(n *Node) int {
	k := 0
	for _, in := range n.Inputs {
		if _, _, ctrl := splitInput(in); !ctrl {
			k++
		}
	}
	return k
}

func (c *converter) fresh(hint string) string {
	c.seq++
	return fmt.Sprintf("%s__%d", hint, c.seq)
}

func (c *converter) add(op string, inputs, outputs []string, attrs ...*onnxpb.AttributeProto) {
	c.g.Node = append(c.g.Node, &onnxpb.NodeProto{
		OpType: op, Name: fmt.Sprintf("%s_%d", op, len(c.g.Node)), Input: inputs, Output: outputs, Attribute: attrs,
	})
}

// node adds a single-output node and returns the output name.
func (c *converter) node(op string, inputs []string, attrs ...*onnxpb.AttributeProto) string {
	out := c.fresh(op)
	c.add(op, inputs, []string{out}, attrs...)
	return out
}

func (c *converter) initF(shape []int64, data []float32) string {
	name := c.fresh("w")
	raw := make([]byte, 4*len(data))
	for i, f := range data {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(f))
	}
	c.g.Initializer = append(c.g.Initializer, &onnxpb.TensorProto{
		Name: name, Dims: slices.Clone(shape), DataType: int32(onnxpb.TensorProto_FLOAT), RawData: raw,
	})
	return name
}

func (c *converter) initI(shape []int64, data []int64) string {
	name := c.fresh("k")
	c.g.Initializer = append(c.g.Initializer, &onnxpb.TensorProto{
		Name: name, Dims: slices.Clone(shape), DataType: int32(onnxpb.TensorProto_INT64), Int64Data: slices.Clone(data),
	})
	return name
}

// materialize gives a constant value an ONNX initializer (once).
func (c *converter) materialize(v *value) *value {
	if v.name != "" {
		return v
	}
	if v.k.isFloat() {
		v.name = c.initF(v.k.shape, v.k.f)
	} else {
		v.name = c.initI(v.k.shape, v.k.i)
	}
	return v
}

func attrI(name string, v int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: name, Type: onnxpb.AttributeProto_INT, I: v}
}
func attrF(name string, v float32) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: name, Type: onnxpb.AttributeProto_FLOAT, F: v}
}
func attrInts(name string, v ...int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: name, Type: onnxpb.AttributeProto_INTS, Ints: v}
}
func attrS(name, v string) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: name, Type: onnxpb.AttributeProto_STRING, S: []byte(v)}
}

var (
	toNCHWPerm = []int64{0, 3, 1, 2}
	toNHWCPerm = []int64{0, 2, 3, 1}
	// nhwcToNCHWAxis maps a TF (NHWC) axis to its position in NCHW storage.
	nhwcToNCHWAxis = []int64{0, 2, 3, 1}
)

// toNHWC returns v stored in TF order.
func (c *converter) toNHWC(v *value) *value {
	if !v.nchw {
		return v
	}
	if a, ok := c.alt[v.name]; ok {
		return a
	}
	a := &value{name: c.node("Transpose", []string{v.name}, attrInts("perm", toNHWCPerm...)), shape: v.shape}
	c.alt[v.name] = a
	return a
}

// toNCHW returns a 4-D v stored in NCHW order (constants are rearranged in Go).
func (c *converter) toNCHW(v *value) (*value, error) {
	if v.nchw {
		return v, nil
	}
	if v.rank() != 4 {
		return nil, fmt.Errorf("want a 4-D tensor, have shape %v", v.shape)
	}
	if v.k != nil {
		k := transposeConst(v.k, toNCHWPerm)
		return &value{k: k, shape: v.shape, nchw: true, isInt: v.isInt}, nil
	}
	key := v.name
	if a, ok := c.alt[key]; ok {
		return a, nil
	}
	a := &value{name: c.node("Transpose", []string{v.name}, attrInts("perm", toNCHWPerm...)), shape: v.shape, nchw: true}
	c.alt[key] = a
	return a, nil
}

// storageShape is the physical shape of v.
func storageShape(v *value) []int64 {
	if !v.nchw {
		return v.shape
	}
	s := v.shape
	return []int64{s[0], s[3], s[1], s[2]}
}

func transposeConst(k *constant, perm []int64) *constant {
	r := len(k.shape)
	out := &constant{shape: make([]int64, r)}
	for i, p := range perm {
		out.shape[i] = k.shape[p]
	}
	n := k.size()
	if k.isFloat() {
		out.f = make([]float32, n)
	} else {
		out.i = make([]int64, n)
	}
	inStride := make([]int64, r)
	s := int64(1)
	for i := r - 1; i >= 0; i-- {
		inStride[i] = s
		s *= k.shape[i]
	}
	idx := make([]int64, r)
	for o := range n {
		src := int64(0)
		for i := range r {
			src += idx[i] * inStride[perm[i]]
		}
		if k.isFloat() {
			out.f[o] = k.f[src]
		} else {
			out.i[o] = k.i[src]
		}
		for i := r - 1; i >= 0; i-- {
			idx[i]++
			if idx[i] < out.shape[i] {
				break
			}
			idx[i] = 0
		}
	}
	return out
}

// constOf returns the constant behind input i, or an error naming the need.
func (c *converter) constOf(n *Node, i int, what string) (*constant, error) {
	v, err := c.input(n, i)
	if err != nil {
		return nil, err
	}
	if v.k == nil {
		return nil, fmt.Errorf("%s must be a constant", what)
	}
	return v.k, nil
}

func (c *converter) intsOf(n *Node, i int, what string) ([]int64, error) {
	k, err := c.constOf(n, i, what)
	if err != nil {
		return nil, err
	}
	if k.isFloat() {
		return nil, fmt.Errorf("%s must be an integer tensor", what)
	}
	return k.i, nil
}

func (c *converter) convert(n *Node) (*value, error) {
	switch n.Op {
	case "Const":
		k, ok := c.weights[n.Name]
		if !ok {
			return nil, fmt.Errorf("no weight data for constant")
		}
		return &value{k: k, shape: k.shape, isInt: !k.isFloat()}, nil
	case "Placeholder":
		return c.placeholder(n)
	case "Identity", "StopGradient", "Snapshot":
		return c.input(n, 0)
	case "Conv2D", "_FusedConv2D", "DepthwiseConv2dNative", "FusedDepthwiseConv2dNative":
		return c.conv(n)
	case "MatMul", "_FusedMatMul":
		return c.matmul(n)
	case "BiasAdd":
		return c.binary(n, "Add")
	case "Add", "AddV2":
		return c.binary(n, "Add")
	case "Sub":
		return c.binary(n, "Sub")
	case "Mul":
		return c.binary(n, "Mul")
	case "RealDiv", "Div":
		return c.binary(n, "Div")
	case "Minimum":
		return c.binary(n, "Min")
	case "Maximum":
		return c.binary(n, "Max")
	case "Prelu":
		return c.binary(n, "PRelu")
	case "Relu", "Sigmoid", "Tanh", "Elu", "Exp", "Sqrt", "Neg", "Abs", "Relu6", "LeakyRelu", "Square", "Rsqrt":
		return c.unary(n)
	case "Softmax":
		return c.softmax(n)
	case "Pad", "PadV2", "MirrorPad":
		return c.pad(n)
	case "MaxPool", "AvgPool":
		return c.pool(n)
	case "Mean", "Max", "Min", "Sum":
		return c.reduce(n)
	case "Reshape":
		return c.reshape(n)
	case "Squeeze":
		return c.squeeze(n)
	case "ConcatV2":
		return c.concat(n)
	case "Shape":
		return c.shapeOp(n)
	case "StridedSlice":
		return c.stridedSlice(n)
	case "Pack":
		return c.pack(n)
	case "ResizeBilinear":
		return c.resize(n)
	case "DepthToSpace", "SpaceToDepth":
		return c.depthToSpace(n)
	}
	return nil, fmt.Errorf("unsupported op")
}

func (c *converter) placeholder(n *Node) (*value, error) {
	a, ok := n.Attr["shape"]
	if !ok || len(a.Shape) == 0 {
		return nil, fmt.Errorf("placeholder without a shape")
	}
	var sh struct {
		Dim []struct {
			Size jsonInt `json:"size"`
		} `json:"dim"`
		UnknownRank bool `json:"unknownRank"`
	}
	if err := json.Unmarshal(a.Shape, &sh); err != nil {
		return nil, fmt.Errorf("placeholder shape: %w", err)
	}
	if sh.UnknownRank || len(sh.Dim) == 0 || len(sh.Dim) > maxRank {
		return nil, fmt.Errorf("placeholder needs a known rank")
	}
	if dt := n.Attr["dtype"].Type; dt != "" && dt != "DT_FLOAT" {
		return nil, fmt.Errorf("input dtype %s not supported", dt)
	}
	shape := make([]int64, len(sh.Dim))
	for i, d := range sh.Dim {
		shape[i] = int64(d.Size)
		if shape[i] < 0 {
			shape[i] = -1
		}
	}
	c.g.Input = append(c.g.Input, valueInfoProto(n.Name, shape, onnxpb.TensorProto_FLOAT))
	return &value{name: n.Name, shape: shape}, nil
}

func valueInfoProto(name string, shape []int64, dt onnxpb.TensorProto_DataType) *onnxpb.ValueInfoProto {
	dims := make([]*onnxpb.TensorShapeProto_Dimension, len(shape))
	for i, d := range shape {
		if d >= 0 {
			dims[i] = &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: d}}
		} else {
			p := fmt.Sprintf("%s_d%d", name, i)
			if i == 0 {
				p = "batch"
			}
			dims[i] = &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: p}}
		}
	}
	return &onnxpb.ValueInfoProto{Name: name, Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
		TensorType: &onnxpb.TypeProto_Tensor{ElemType: int32(dt), Shape: &onnxpb.TensorShapeProto{Dim: dims}},
	}}}
}

func ioInfo(vi *onnxpb.ValueInfoProto) infer.IOInfo {
	info := infer.IOInfo{Name: vi.GetName()}
	for _, d := range vi.GetType().GetTensorType().GetShape().GetDim() {
		v := d.GetDimValue()
		if _, ok := d.GetValue().(*onnxpb.TensorShapeProto_Dimension_DimParam); ok {
			v = -1
		}
		info.Shape = append(info.Shape, v)
	}
	return info
}

// windowOut is TF's output size for a window op; -1 when in is unknown.
func windowOut(in, k, s, d int64, same bool) int64 {
	if in < 0 {
		return -1
	}
	if same {
		return (in + s - 1) / s
	}
	eff := (k-1)*d + 1
	if in < eff {
		return 0
	}
	return (in-eff)/s + 1
}

// samePads returns TF SAME padding (extra at the end) for a known size.
func samePads(in, k, s, d int64) (before, after int64) {
	out := (in + s - 1) / s
	total := max((out-1)*s+(k-1)*d+1-in, 0)
	return total / 2, total - total/2
}

// spatial reads strides/dilations/padding of an NHWC window op and returns
// ONNX attributes plus the output spatial size.
func (c *converter) spatial(n *Node, x *value, kh, kw int64) ([]*onnxpb.AttributeProto, int64, int64, error) {
	if df := n.attrString("data_format"); df != "" && df != "NHWC" {
		return nil, 0, 0, fmt.Errorf("data_format %s not supported", df)
	}
	strides, err := n.attrInts("strides")
	if err != nil {
		return nil, 0, 0, err
	}
	if strides == nil {
		strides = []int64{1, 1, 1, 1}
	}
	dil, err := n.attrInts("dilations")
	if err != nil {
		return nil, 0, 0, err
	}
	if dil == nil {
		dil = []int64{1, 1, 1, 1}
	}
	if len(strides) != 4 || len(dil) != 4 || strides[0] != 1 || strides[3] != 1 || dil[0] != 1 || dil[3] != 1 {
		return nil, 0, 0, fmt.Errorf("strides %v / dilations %v not supported", strides, dil)
	}
	sh, sw, dh, dw := strides[1], strides[2], dil[1], dil[2]
	if sh <= 0 || sw <= 0 || dh <= 0 || dw <= 0 || kh <= 0 || kw <= 0 || sh > 1<<16 || sw > 1<<16 || dh > 1<<16 || dw > 1<<16 {
		return nil, 0, 0, fmt.Errorf("invalid strides %v, dilations %v or window %dx%d", strides, dil, kh, kw)
	}
	attrs := []*onnxpb.AttributeProto{attrInts("strides", sh, sw)}
	if dh != 1 || dw != 1 {
		attrs = append(attrs, attrInts("dilations", dh, dw))
	}
	H, W := x.shape[1], x.shape[2]
	var oh, ow int64
	switch pad := n.attrString("padding"); pad {
	case "VALID":
		oh, ow = windowOut(H, kh, sh, dh, false), windowOut(W, kw, sw, dw, false)
	case "SAME":
		oh, ow = windowOut(H, kh, sh, dh, true), windowOut(W, kw, sw, dw, true)
		if H >= 0 && W >= 0 {
			t, b := samePads(H, kh, sh, dh)
			l, r := samePads(W, kw, sw, dw)
			if t|b|l|r != 0 {
				attrs = append(attrs, attrInts("pads", t, l, b, r))
			}
		} else {
			attrs = append(attrs, attrS("auto_pad", "SAME_UPPER"))
		}
	case "EXPLICIT":
		ep, err := n.attrInts("explicit_paddings")
		if err != nil {
			return nil, 0, 0, err
		}
		if len(ep) != 8 || ep[0]|ep[1]|ep[6]|ep[7] != 0 {
			return nil, 0, 0, fmt.Errorf("explicit_paddings %v not supported", ep)
		}
		for _, p := range ep {
			if p < 0 || p > 1<<16 {
				return nil, 0, 0, fmt.Errorf("explicit_paddings %v invalid", ep)
			}
		}
		attrs = append(attrs, attrInts("pads", ep[2], ep[4], ep[3], ep[5]))
		oh, ow = -1, -1
		if H >= 0 {
			oh = windowOut(H+ep[2]+ep[3], kh, sh, dh, false)
		}
		if W >= 0 {
			ow = windowOut(W+ep[4]+ep[5], kw, sw, dw, false)
		}
	default:
		return nil, 0, 0, fmt.Errorf("padding %q not supported", pad)
	}
	return attrs, oh, ow, nil
}

func (c *converter) conv(n *Node) (*value, error) {
	x, err := c.input(n, 0)
	if err != nil {
		return nil, err
	}
	if x.rank() != 4 || x.isInt {
		return nil, fmt.Errorf("input must be a 4-D float tensor, have %v", x.shape)
	}
	f, err := c.constOf(n, 1, "filter")
	if err != nil {
		return nil, err
	}
	if len(f.shape) != 4 || !f.isFloat() {
		return nil, fmt.Errorf("filter must be a 4-D float tensor, have %v", f.shape)
	}
	kh, kw, ci, co := f.shape[0], f.shape[1], f.shape[2], f.shape[3]
	depthwise := n.Op == "DepthwiseConv2dNative" || n.Op == "FusedDepthwiseConv2dNative"
	C := x.shape[3]
	if C >= 0 && C != ci {
		return nil, fmt.Errorf("filter %v does not match %d input channels", f.shape, C)
	}
	attrs, oh, ow, err := c.spatial(n, x, kh, kw)
	if err != nil {
		return nil, err
	}
	var w *constant
	outC := co
	if depthwise {
		// [H,W,C,M] -> [C*M,1,H,W]; output channel c*M+m, group c.
		w = transposeConst(f, []int64{2, 3, 0, 1})
		w.shape = []int64{ci * co, 1, kh, kw}
		outC = ci * co
		attrs = append(attrs, attrI("group", ci))
	} else {
		w = transposeConst(f, []int64{3, 2, 0, 1}) // HWIO -> OIHW
	}
	attrs = append(attrs, attrInts("kernel_shape", kh, kw))
	xin, err := c.toNCHW(x)
	if err != nil {
		return nil, err
	}
	inputs := []string{xin.name, c.initF(w.shape, w.f)}
	fused := n.attrStrings("fused_ops")
	args := int(n.attrInt("num_args", 0))
	if n.Op == "Conv2D" || n.Op == "DepthwiseConv2dNative" {
		fused, args = nil, 0
	}
	if args < 0 || args+2 != c.numInputs(n) {
		return nil, fmt.Errorf("num_args %d does not match %d inputs", args, c.numInputs(n))
	}
	acts := fused
	if len(fused) > 0 {
		if fused[0] != "BiasAdd" {
			return nil, fmt.Errorf("fused op %v not supported", fused)
		}
		b, err := c.constOf(n, 2, "bias")
		if err != nil {
			return nil, err
		}
		if !b.isFloat() || len(b.f) != int(outC) {
			return nil, fmt.Errorf("bias shape %v does not match %d output channels", b.shape, outC)
		}
		inputs = append(inputs, c.initF([]int64{outC}, b.f))
		acts = fused[1:]
	}
	out := &value{name: c.node("Conv", inputs, attrs...), shape: []int64{x.shape[0], oh, ow, outC}, nchw: true}
	return c.activations(n, out, acts, 3)
}

// activations appends fused activations; extra args start at input argBase.
func (c *converter) activations(n *Node, v *value, acts []string, argBase int) (*value, error) {
	if len(acts) > 1 {
		return nil, fmt.Errorf("fused ops %v not supported", n.attrStrings("fused_ops"))
	}
	for _, a := range acts {
		switch a {
		case "Relu":
			v = &value{name: c.node("Relu", []string{v.name}), shape: v.shape, nchw: v.nchw}
		case "Relu6":
			v = &value{name: c.node("Clip", []string{v.name, c.initF(nil, []float32{0}), c.initF(nil, []float32{6})}), shape: v.shape, nchw: v.nchw}
		case "Elu":
			v = &value{name: c.node("Elu", []string{v.name}), shape: v.shape, nchw: v.nchw}
		case "Sigmoid":
			v = &value{name: c.node("Sigmoid", []string{v.name}), shape: v.shape, nchw: v.nchw}
		case "Tanh":
			v = &value{name: c.node("Tanh", []string{v.name}), shape: v.shape, nchw: v.nchw}
		case "LeakyRelu":
			v = &value{name: c.node("LeakyRelu", []string{v.name}, attrF("alpha", float32(n.attrFloat("leakyrelu_alpha", 0.2)))), shape: v.shape, nchw: v.nchw}
		case "Prelu":
			alpha, err := c.input(n, argBase)
			if err != nil {
				return nil, err
			}
			an, err := c.broadcastOperand(alpha, v)
			if err != nil {
				return nil, fmt.Errorf("prelu alpha: %w", err)
			}
			v = &value{name: c.node("PRelu", []string{v.name, an}), shape: v.shape, nchw: v.nchw}
		default:
			return nil, fmt.Errorf("fused activation %q not supported", a)
		}
	}
	return v, nil
}

// broadcastOperand returns the ONNX name of operand o arranged to broadcast
// against v's storage layout (constants are rearranged in Go).
func (c *converter) broadcastOperand(o, v *value) (string, error) {
	if !v.nchw {
		o = c.toNHWC(o)
		if o.k != nil {
			c.materialize(o)
		}
		return o.name, nil
	}
	if o.nchw {
		return o.name, nil
	}
	if o.rank() == 0 {
		if o.k != nil {
			c.materialize(o)
		}
		return o.name, nil
	}
	if o.k == nil {
		if o.rank() == 4 {
			t, err := c.toNCHW(o)
			if err != nil {
				return "", err
			}
			return t.name, nil
		}
		return "", fmt.Errorf("cannot broadcast a %d-D tensor against an NCHW tensor", o.rank())
	}
	if o.rank() > 4 {
		return "", fmt.Errorf("operand of rank %d against a 4-D tensor", o.rank())
	}
	k := *o.k
	k.shape = append(slices.Repeat([]int64{1}, 4-len(k.shape)), k.shape...)
	t := transposeConst(&k, toNCHWPerm)
	tv := &value{k: t, shape: t.shape}
	return c.materialize(tv).name, nil
}

func broadcastShape(a, b []int64) []int64 {
	if len(a) < len(b) {
		a, b = b, a
	}
	out := slices.Clone(a)
	off := len(a) - len(b)
	for i, d := range b {
		o := out[off+i]
		switch {
		case o == 1:
			out[off+i] = d
		case d == 1 || d == o:
		default:
			if o < 0 || d < 0 {
				out[off+i] = max(o, d)
			}
		}
	}
	return out
}

func (c *converter) binary(n *Node, op string) (*value, error) {
	if k := c.numInputs(n); k != 2 {
		return nil, fmt.Errorf("want 2 inputs, have %d", k)
	}
	a, err := c.input(n, 0)
	if err != nil {
		return nil, err
	}
	b, err := c.input(n, 1)
	if err != nil {
		return nil, err
	}
	if a.isInt != b.isInt {
		return nil, fmt.Errorf("mixed integer and float operands")
	}
	if op == "PRelu" && b.nchw && !a.nchw {
		return nil, fmt.Errorf("prelu alpha layout not supported")
	}
	shape := broadcastShape(a.shape, b.shape)
	if n.Op == "BiasAdd" && a.rank() == 4 && b.k == nil {
		return nil, fmt.Errorf("bias must be a constant")
	}
	// Run in NCHW when a 4-D operand is stored so and the other can follow.
	nchw := len(shape) == 4 && (a.nchw || b.nchw) && (a.rank() == 4 || a.rank() == 0 || a.k != nil) && (b.rank() == 4 || b.rank() == 0 || b.k != nil)
	var an, bn string
	if nchw {
		ref := a
		if !a.nchw {
			ref = b
		}
		if a.rank() == 4 && !a.nchw && a.k == nil {
			if a, err = c.toNCHW(a); err != nil {
				return nil, err
			}
		}
		if an, err = c.broadcastOperand(a, ref); err != nil {
			return nil, err
		}
		if bn, err = c.broadcastOperand(b, ref); err != nil {
			return nil, err
		}
	} else {
		a, b = c.toNHWC(a), c.toNHWC(b)
		if a.k != nil {
			c.materialize(a)
		}
		if b.k != nil {
			c.materialize(b)
		}
		an, bn = a.name, b.name
	}
	return &value{name: c.node(op, []string{an, bn}), shape: shape, nchw: nchw, isInt: a.isInt}, nil
}

func (c *converter) unary(n *Node) (*value, error) {
	x, err := c.input(n, 0)
	if err != nil {
		return nil, err
	}
	if x.isInt {
		return nil, fmt.Errorf("integer input not supported")
	}
	if x.k != nil {
		c.materialize(x)
	}
	out := func(name string) *value { return &value{name: name, shape: x.shape, nchw: x.nchw} }
	switch n.Op {
	case "Relu6":
		return out(c.node("Clip", []string{x.name, c.initF(nil, []float32{0}), c.initF(nil, []float32{6})})), nil
	case "LeakyRelu":
		return out(c.node("LeakyRelu", []string{x.name}, attrF("alpha", float32(n.attrFloat("alpha", 0.2))))), nil
	case "Square":
		return out(c.node("Mul", []string{x.name, x.name})), nil
	case "Rsqrt":
		return out(c.node("Reciprocal", []string{c.node("Sqrt", []string{x.name})})), nil
	}
	return out(c.node(n.Op, []string{x.name})), nil
}

func (c *converter) softmax(n *Node) (*value, error) {
	x, err := c.input(n, 0)
	if err != nil {
		return nil, err
	}
	if x.k != nil || x.isInt {
		return nil, fmt.Errorf("softmax of a constant or integer tensor")
	}
	axis := int64(-1)
	if x.nchw {
		axis = 1
	}
	return &value{name: c.node("Softmax", []string{x.name}, attrI("axis", axis)), shape: x.shape, nchw: x.nchw}, nil
}

func (c *converter) pad(n *Node) (*value, error) {
	x, err := c.input(n, 0)
	if err != nil {
		return nil, err
	}
	if x.k != nil || x.isInt {
		return nil, fmt.Errorf("padding a constant or integer tensor is not supported")
	}
	p, err := c.intsOf(n, 1, "paddings")
	if err != nil {
		return nil, err
	}
	r := x.rank()
	if len(p) != 2*r {
		return nil, fmt.Errorf("paddings has %d values for rank %d", len(p), r)
	}
	for _, v := range p {
		if v < 0 || v > 1<<20 {
			return nil, fmt.Errorf("paddings %v not supported", p)
		}
	}
	var attrs []*onnxpb.AttributeProto
	inputs := []string{}
	switch n.Op {
	case "MirrorPad":
		switch m := n.attrString("mode"); m {
		case "REFLECT":
			attrs = append(attrs, attrS("mode", "reflect"))
		default:
			return nil, fmt.Errorf("mirror pad mode %q not supported", m)
		}
	}
	shape := slices.Clone(x.shape)
	for i := range r {
		if shape[i] >= 0 {
			shape[i] += p[2*i] + p[2*i+1]
		}
	}
	pads := make([]int64, 2*r)
	axisOf := func(i int) int { return i }
	if x.nchw {
		axisOf = func(i int) int { return int(nhwcToNCHWAxis[i]) }
	}
	for i := range r {
		pads[axisOf(i)] = p[2*i]
		pads[r+axisOf(i)] = p[2*i+1]
	}
	inputs = append(inputs, x.name, c.initI([]int64{int64(2 * r)}, pads))
	if n.Op == "PadV2" {
		cv, err := c.constOf(n, 2, "constant value")
		if err != nil {
			return nil, err
		}
		if !cv.isFloat() || len(cv.f) != 1 {
			return nil, fmt.Errorf("constant value must be a float scalar")
		}
		inputs = append(inputs, c.initF(nil, cv.f))
	}
	return &value{name: c.node("Pad", inputs, attrs...), shape: shape, nchw: x.nchw}, nil
}

func (c *converter) pool(n *Node) (*value, error) {
	x, err := c.input(n, 0)
	if err != nil {
		return nil, err
	}
	if x.rank() != 4 || x.isInt || x.k != nil {
		return nil, fmt.Errorf("input must be a 4-D float tensor, have %v", x.shape)
	}
	ks, err := n.attrInts("ksize")
	if err != nil {
		return nil, err
	}
	if len(ks) != 4 || ks[0] != 1 || ks[3] != 1 {
		return nil, fmt.Errorf("ksize %v not supported", ks)
	}
	attrs, oh, ow, err := c.spatial(n, x, ks[1], ks[2])
	if err != nil {
		return nil, err
	}
	attrs = append(attrs, attrInts("kernel_shape", ks[1], ks[2]))
	op := "MaxPool"
	if n.Op == "AvgPool" {
		op = "AveragePool"
	}
	xin, err := c.toNCHW(x)
	if err != nil {
		return nil, err
	}
	return &value{name: c.node(op, []string{xin.name}, attrs...), shape: []int64{x.shape[0], oh, ow, x.shape[3]}, nchw: true}, nil
}

func (c *converter) reduce(n *Node) (*value, error) {
	x, err := c.input(n, 0)
	if err != nil {
		return nil, err
	}
	if x.isInt || x.k != nil {
		return nil, fmt.Errorf("reduction of a constant or integer tensor is not supported")
	}
	axes, err := c.intsOf(n, 1, "axes")
	if err != nil {
		return nil, err
	}
	r := int64(x.rank())
	keep := n.attrBool("keep_dims")
	set := map[int64]bool{}
	for _, a := range axes {
		if a < -r || a >= r {
			return nil, fmt.Errorf("axis %d out of range for rank %d", a, r)
		}
		if a < 0 {
			a += r
		}
		set[a] = true
	}
	// Stay in NCHW when the kept axes keep their relative order: always with
	// keep_dims, or when H and W are both reduced (the usual global pool).
	if x.nchw && !keep && !(set[1] && set[2]) {
		x = c.toNHWC(x)
	}
	var shape, onnxAxes []int64
	for i := range r {
		if set[i] {
			if keep {
				shape = append(shape, 1)
			}
			continue
		}
		shape = append(shape, x.shape[i])
	}
	for a := range set {
		if x.nchw {
			onnxAxes = append(onnxAxes, nhwcToNCHWAxis[a])
		} else {
			onnxAxes = append(onnxAxes, a)
		}
	}
	sort.Slice(onnxAxes, func(i, j int) bool { return onnxAxes[i] < onnxAxes[j] })
	k := int64(0)
	if keep {
		k = 1
	}
	nchw := x.nchw && keep
	op := map[string]string{"Mean": "ReduceMean", "Max": "ReduceMax", "Min": "ReduceMin", "Sum": "ReduceSum"}[n.Op]
	if len(onnxAxes) == 0 {
		return &value{name: c.node("Identity", []string{x.name}), shape: x.shape, nchw: x.nchw}, nil
	}
	if op == "ReduceSum" {
		return &value{name: c.node(op, []string{x.name, c.initI([]int64{int64(len(onnxAxes))}, onnxAxes)}, attrI("keepdims", k)), shape: shape, nchw: nchw}, nil
	}
	return &value{name: c.node(op, []string{x.name}, attrInts("axes", onnxAxes...), attrI("keepdims", k)), shape: shape, nchw: nchw}, nil
}

func (c *converter) reshape(n *Node) (*value, error) {
	x, err := c.input(n, 0)
	if err != nil {
		return nil, err
	}
	s, err := c.input(n, 1)
	if err != nil {
		return nil, err
	}
	if !s.isInt || s.rank() != 1 {
		return nil, fmt.Errorf("shape must be a 1-D integer tensor")
	}
	x = c.toNHWC(x)
	if x.k != nil {
		c.materialize(x)
	}
	var shape []int64
	if s.k != nil {
		shape = slices.Clone(s.k.i)
		known := int64(1)
		inferAt := -1
		for i, d := range shape {
			switch {
			case d == -1 && inferAt < 0:
				inferAt = i
			case d < 0:
				return nil, fmt.Errorf("bad target shape %v", s.k.i)
			default:
				known *= max(d, 1)
			}
		}
		if inferAt >= 0 {
			total := int64(1)
			for _, d := range x.shape {
				if d < 0 {
					total = -1
					break
				}
				total *= d
			}
			if total >= 0 && known > 0 {
				shape[inferAt] = total / known
			}
		}
		c.materialize(s)
	} else {
		if s.shape[0] < 0 || s.shape[0] > maxRank {
			return nil, fmt.Errorf("target shape has unknown or too large rank")
		}
		shape = slices.Repeat([]int64{-1}, int(s.shape[0]))
		if e := s.elems; len(e) == len(shape) {
			shape = reshapeTarget(x.shape, e)
		}
	}
	if len(shape) > maxRank {
		return nil, fmt.Errorf("target rank %d too large", len(shape))
	}
	return &value{name: c.node("Reshape", []string{x.name, s.name}, attrI("allowzero", 1)), shape: shape, isInt: x.isInt}, nil
}

// reshapeTarget resolves a run-time Reshape target whose elements are
// tracked: known values stay, the batch dimension stays dynamic, and a -1 is
// inferred when everything but the batch is known on both sides.
func reshapeTarget(in []int64, e []elem) []int64 {
	out := make([]int64, len(e))
	inferAt := -1
	known := int64(1)
	batch := false
	for i, d := range e {
		switch {
		case d.batch:
			out[i], batch = -1, true
		case d.known && d.v == -1 && inferAt < 0:
			out[i], inferAt = -1, i
		case d.known && d.v >= 0:
			out[i] = d.v
			known *= max(d.v, 1)
		default:
			return slices.Repeat([]int64{-1}, len(e))
		}
	}
	if inferAt >= 0 {
		total := int64(1)
		for i, d := range in {
			switch {
			case i == 0 && d < 0 && batch:
			case d < 0:
				return out
			default:
				total *= d
			}
		}
		if batch && (len(in) == 0 || in[0] >= 0) {
			return out
		}
		if known > 0 && total%known == 0 {
			out[inferAt] = total / known
		}
	}
	return out
}

func (c *converter) squeeze(n *Node) (*value, error) {
	x, err := c.input(n, 0)
	if err != nil {
		return nil, err
	}
	x = c.toNHWC(x)
	if x.k != nil {
		c.materialize(x)
	}
	dims, err := n.attrInts("squeeze_dims")
	if err != nil {
		return nil, err
	}
	r := int64(x.rank())
	set := map[int64]bool{}
	for _, d := range dims {
		if d < -r || d >= r {
			return nil, fmt.Errorf("squeeze axis %d out of range", d)
		}
		set[(d+r)%r] = true
	}
	if len(set) == 0 {
		for i, d := range x.shape {
			if d == 1 {
				set[int64(i)] = true
			} else if d < 0 {
				return nil, fmt.Errorf("squeeze of unknown dimensions needs squeeze_dims")
			}
		}
	}
	var shape, axes []int64
	for i := range r {
		if set[i] {
			axes = append(axes, i)
			continue
		}
		shape = append(shape, x.shape[i])
	}
	return &value{name: c.node("Squeeze", []string{x.name, c.initI([]int64{int64(len(axes))}, axes)}), shape: shape, isInt: x.isInt}, nil
}

func (c *converter) concat(n *Node) (*value, error) {
	k := c.numInputs(n)
	if k < 2 {
		return nil, fmt.Errorf("want values and an axis")
	}
	axisK, err := c.intsOf(n, k-1, "axis")
	if err != nil {
		return nil, err
	}
	if len(axisK) != 1 {
		return nil, fmt.Errorf("axis must be a scalar")
	}
	var vs []*value
	allNCHW := true
	anyNCHW := false
	for i := range k - 1 {
		v, err := c.input(n, i)
		if err != nil {
			return nil, err
		}
		vs = append(vs, v)
		if v.rank() != vs[0].rank() || v.isInt != vs[0].isInt {
			return nil, fmt.Errorf("inputs differ in rank or type")
		}
		anyNCHW = anyNCHW || v.nchw
		allNCHW = allNCHW && (v.nchw || v.k != nil)
	}
	r := int64(vs[0].rank())
	axis := axisK[0]
	if axis < -r || axis >= r {
		return nil, fmt.Errorf("axis %d out of range for rank %d", axis, r)
	}
	if axis < 0 {
		axis += r
	}
	nchw := anyNCHW && allNCHW && r == 4
	shape := slices.Clone(vs[0].shape)
	shape[axis] = 0
	var names []string
	for _, v := range vs {
		if nchw {
			if v, err = c.toNCHW(v); err != nil {
				return nil, err
			}
		} else {
			v = c.toNHWC(v)
		}
		if v.k != nil {
			c.materialize(v)
		}
		names = append(names, v.name)
		if shape[axis] >= 0 && v.shape[axis] >= 0 {
			shape[axis] += v.shape[axis]
		} else {
			shape[axis] = -1
		}
	}
	onnxAxis := axis
	if nchw {
		onnxAxis = nhwcToNCHWAxis[axis]
	}
	return &value{name: c.node("Concat", names, attrI("axis", onnxAxis)), shape: shape, nchw: nchw, isInt: vs[0].isInt}, nil
}

func (c *converter) shapeOp(n *Node) (*value, error) {
	x, err := c.input(n, 0)
	if err != nil {
		return nil, err
	}
	r := int64(x.rank())
	known := true
	for _, d := range x.shape {
		known = known && d >= 0
	}
	if known {
		k := &constant{shape: []int64{r}, i: slices.Clone(x.shape)}
		return &value{k: k, shape: k.shape, isInt: true}, nil
	}
	if x.k != nil {
		c.materialize(x)
	}
	out := c.node("Shape", []string{x.name})
	if x.nchw {
		out = c.node("Gather", []string{out, c.initI([]int64{4}, toNHWCPerm)}, attrI("axis", 0))
	}
	elems := make([]elem, r)
	for i, d := range x.shape {
		elems[i] = elem{v: d, known: d >= 0, batch: i == 0 && d < 0}
	}
	return &value{name: out, shape: []int64{r}, isInt: true, elems: elems}, nil
}

func (c *converter) stridedSlice(n *Node) (*value, error) {
	x, err := c.input(n, 0)
	if err != nil {
		return nil, err
	}
	begin, err := c.intsOf(n, 1, "begin")
	if err != nil {
		return nil, err
	}
	end, err := c.intsOf(n, 2, "end")
	if err != nil {
		return nil, err
	}
	strides, err := c.intsOf(n, 3, "strides")
	if err != nil {
		return nil, err
	}
	if len(begin) != len(end) || len(begin) != len(strides) || len(begin) > x.rank() {
		return nil, fmt.Errorf("begin/end/strides lengths %d/%d/%d for rank %d", len(begin), len(end), len(strides), x.rank())
	}
	if n.attrInt("ellipsis_mask", 0) != 0 || n.attrInt("new_axis_mask", 0) != 0 {
		return nil, fmt.Errorf("ellipsis_mask/new_axis_mask not supported")
	}
	bm, em, sm := n.attrInt("begin_mask", 0), n.attrInt("end_mask", 0), n.attrInt("shrink_axis_mask", 0)
	x = c.toNHWC(x)
	if x.k != nil {
		c.materialize(x)
	}
	var starts, ends, axes, steps, squeeze []int64
	shape := slices.Clone(x.shape)
	for i := range begin {
		b, e, s := begin[i], end[i], strides[i]
		if s == 0 {
			return nil, fmt.Errorf("stride 0")
		}
		if sm&(1<<i) != 0 {
			if b == -1 {
				e = math.MaxInt64
			} else {
				e = b + 1
			}
			s = 1
			squeeze = append(squeeze, int64(i))
		} else {
			if bm&(1<<i) != 0 {
				if s > 0 {
					b = 0
				} else {
					b = math.MaxInt64
				}
			}
			if em&(1<<i) != 0 {
				if s > 0 {
					e = math.MaxInt64
				} else {
					e = math.MinInt64
				}
			}
		}
		starts, ends, axes, steps = append(starts, b), append(ends, e), append(axes, int64(i)), append(steps, s)
		shape[i] = sliceLen(x.shape[i], b, e, s)
	}
	out := c.node("Slice", []string{x.name,
		c.initI([]int64{int64(len(starts))}, starts), c.initI([]int64{int64(len(ends))}, ends),
		c.initI([]int64{int64(len(axes))}, axes), c.initI([]int64{int64(len(steps))}, steps)})
	if len(squeeze) > 0 {
		out = c.node("Squeeze", []string{out, c.initI([]int64{int64(len(squeeze))}, squeeze)})
		var s2 []int64
		for i, d := range shape {
			if !slices.Contains(squeeze, int64(i)) {
				s2 = append(s2, d)
			}
		}
		shape = s2
	}
	v := &value{name: out, shape: shape, isInt: x.isInt}
	if src := elemsOf(x); src != nil && len(starts) == 1 && steps[0] == 1 {
		b, e := starts[0], ends[0]
		n := int64(len(src))
		if b < 0 {
			b += n
		}
		if e < 0 {
			e += n
		}
		b, e = min(max(b, 0), n), min(max(e, 0), n)
		if b < e {
			v.elems = slices.Clone(src[b:e])
		}
	}
	return v, nil
}

// sliceLen is the length ONNX Slice yields for one axis; -1 when unknown.
func sliceLen(dim, b, e, s int64) int64 {
	if dim < 0 {
		return -1
	}
	clamp := func(v, lo, hi int64) int64 { return min(max(v, lo), hi) }
	if b < 0 && b != math.MinInt64 {
		b += dim
	}
	if e < 0 && e != math.MinInt64 {
		e += dim
	}
	if s > 0 {
		b, e = clamp(b, 0, dim), clamp(e, 0, dim)
		if e <= b {
			return 0
		}
		return (e - b + s - 1) / s
	}
	b, e = clamp(b, -1, dim-1), clamp(e, -1, dim-1)
	if b <= e {
		return 0
	}
	return (b - e + (-s) - 1) / (-s)
}

func (c *converter) pack(n *Node) (*value, error) {
	k := c.numInputs(n)
	if k < 1 {
		return nil, fmt.Errorf("no inputs")
	}
	var vs []*value
	allConst := true
	for i := range k {
		v, err := c.input(n, i)
		if err != nil {
			return nil, err
		}
		if i > 0 && (v.rank() != vs[0].rank() || v.isInt != vs[0].isInt) {
			return nil, fmt.Errorf("inputs differ in rank or type")
		}
		vs = append(vs, c.toNHWC(v))
		allConst = allConst && v.k != nil
	}
	r := int64(vs[0].rank())
	axis := n.attrInt("axis", 0)
	if axis < -(r+1) || axis > r {
		return nil, fmt.Errorf("axis %d out of range", axis)
	}
	if axis < 0 {
		axis += r + 1
	}
	shape := slices.Insert(slices.Clone(vs[0].shape), int(axis), int64(k))
	if allConst && r == 0 {
		out := &constant{shape: []int64{int64(k)}}
		for _, v := range vs {
			if v.isInt {
				out.i = append(out.i, v.k.i...)
			} else {
				out.f = append(out.f, v.k.f...)
			}
		}
		return &value{k: out, shape: out.shape, isInt: vs[0].isInt}, nil
	}
	var elems []elem
	if r == 0 {
		for _, v := range vs {
			if e := elemsOf(v); len(e) == 1 {
				elems = append(elems, e[0])
			} else {
				elems = nil
				break
			}
		}
	}
	var names []string
	ax := c.initI([]int64{1}, []int64{axis})
	for _, v := range vs {
		if v.k != nil {
			c.materialize(v)
		}
		names = append(names, c.node("Unsqueeze", []string{v.name, ax}))
	}
	return &value{name: c.node("Concat", names, attrI("axis", axis)), shape: shape, isInt: vs[0].isInt, elems: elems}, nil
}

// elemsOf returns the tracked elements of an integer scalar or vector.
func elemsOf(v *value) []elem {
	if v.elems != nil {
		return v.elems
	}
	return constElems(v.k)
}

func (c *converter) resize(n *Node) (*value, error) {
	x, err := c.input(n, 0)
	if err != nil {
		return nil, err
	}
	if x.rank() != 4 || x.isInt || x.k != nil {
		return nil, fmt.Errorf("input must be a 4-D float tensor")
	}
	size, err := c.intsOf(n, 1, "size")
	if err != nil {
		return nil, err
	}
	if len(size) != 2 || size[0] <= 0 || size[1] <= 0 || size[0] > 1<<16 || size[1] > 1<<16 {
		return nil, fmt.Errorf("size %v not supported", size)
	}
	ac, hp := n.attrBool("align_corners"), n.attrBool("half_pixel_centers")
	mode := "asymmetric"
	switch {
	case ac && hp:
		return nil, fmt.Errorf("align_corners and half_pixel_centers together")
	case ac:
		mode = "align_corners"
	case hp:
		mode = "half_pixel"
	}
	xin, err := c.toNCHW(x)
	if err != nil {
		return nil, err
	}
	var sizes string
	if x.shape[0] >= 0 && x.shape[3] >= 0 {
		sizes = c.initI([]int64{4}, []int64{x.shape[0], x.shape[3], size[0], size[1]})
	} else {
		nc := c.node("Slice", []string{c.node("Shape", []string{xin.name}), c.initI([]int64{1}, []int64{0}), c.initI([]int64{1}, []int64{2})})
		sizes = c.node("Concat", []string{nc, c.initI([]int64{2}, size)}, attrI("axis", 0))
	}
	out := c.node("Resize", []string{xin.name, "", "", sizes},
		attrS("mode", "linear"), attrS("coordinate_transformation_mode", mode))
	return &value{name: out, shape: []int64{x.shape[0], size[0], size[1], x.shape[3]}, nchw: true}, nil
}

func (c *converter) depthToSpace(n *Node) (*value, error) {
	x, err := c.input(n, 0)
	if err != nil {
		return nil, err
	}
	if x.rank() != 4 || x.isInt || x.k != nil {
		return nil, fmt.Errorf("input must be a 4-D float tensor")
	}
	if df := n.attrString("data_format"); df != "" && df != "NHWC" {
		return nil, fmt.Errorf("data_format %s not supported", df)
	}
	bs := n.attrInt("block_size", 0)
	if bs < 1 || bs > 1<<10 {
		return nil, fmt.Errorf("block_size %d not supported", bs)
	}
	xin, err := c.toNCHW(x)
	if err != nil {
		return nil, err
	}
	s := x.shape
	mul := func(d, f int64) int64 {
		if d < 0 {
			return -1
		}
		return d * f
	}
	div := func(d, f int64) int64 {
		if d < 0 {
			return -1
		}
		return d / f
	}
	if n.Op == "SpaceToDepth" {
		out := c.node("SpaceToDepth", []string{xin.name}, attrI("blocksize", bs))
		return &value{name: out, shape: []int64{s[0], div(s[1], bs), div(s[2], bs), mul(s[3], bs*bs)}, nchw: true}, nil
	}
	if s[3] >= 0 && s[3]%(bs*bs) != 0 {
		return nil, fmt.Errorf("%d channels not divisible by block_size² %d", s[3], bs*bs)
	}
	// TF's NHWC depth_to_space takes depth as (block row, block col, channel):
	// ONNX DCR mode on NCHW.
	out := c.node("DepthToSpace", []string{xin.name}, attrI("blocksize", bs), attrS("mode", "DCR"))
	return &value{name: out, shape: []int64{s[0], mul(s[1], bs), mul(s[2], bs), div(s[3], bs*bs)}, nchw: true}, nil
}

func (c *converter) matmul(n *Node) (*value, error) {
	a, err := c.input(n, 0)
	if err != nil {
		return nil, err
	}
	b, err := c.input(n, 1)
	if err != nil {
		return nil, err
	}
	a, b = c.toNHWC(a), c.toNHWC(b)
	if a.rank() != 2 || b.rank() != 2 || a.isInt || b.isInt {
		return nil, fmt.Errorf("only 2-D float matmul is supported, have %v x %v", a.shape, b.shape)
	}
	ta, tb := n.attrBool("transpose_a"), n.attrBool("transpose_b")
	rows, inner := a.shape[0], a.shape[1]
	if ta {
		rows, inner = inner, rows
	}
	bk, cols := b.shape[0], b.shape[1]
	if tb {
		bk, cols = cols, bk
	}
	if inner >= 0 && bk >= 0 && inner != bk {
		return nil, fmt.Errorf("matmul shapes %v x %v do not match", a.shape, b.shape)
	}
	fused := n.attrStrings("fused_ops")
	args := int(n.attrInt("num_args", 0))
	if n.Op == "MatMul" {
		fused, args = nil, 0
	}
	if args < 0 || args+2 != c.numInputs(n) {
		return nil, fmt.Errorf("num_args %d does not match %d inputs", args, c.numInputs(n))
	}
	for _, v := range []*value{a, b} {
		if v.k != nil {
			c.materialize(v)
		}
	}
	inputs := []string{a.name, b.name}
	acts := fused
	if len(fused) > 0 {
		if fused[0] != "BiasAdd" {
			return nil, fmt.Errorf("fused ops %v not supported", fused)
		}
		bias, err := c.constOf(n, 2, "bias")
		if err != nil {
			return nil, err
		}
		if !bias.isFloat() || (cols >= 0 && len(bias.f) != int(cols)) {
			return nil, fmt.Errorf("bias shape %v does not match %d columns", bias.shape, cols)
		}
		inputs = append(inputs, c.initF([]int64{int64(len(bias.f))}, bias.f))
		acts = fused[1:]
	}
	attrs := []*onnxpb.AttributeProto{}
	if ta {
		attrs = append(attrs, attrI("transA", 1))
	}
	if tb {
		attrs = append(attrs, attrI("transB", 1))
	}
	out := &value{name: c.node("Gemm", inputs, attrs...), shape: []int64{rows, cols}}
	return c.activations(n, out, acts, 3)
}
