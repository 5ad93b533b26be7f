package infer

import (
	"encoding/binary"
	"fmt"
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/livenessd/livenessd/internal/infer/onnxpb"
)

// FLOPs counts the floating-point operations of one inference of an ONNX
// model whose (single) graph input has the given shape: 2 x the
// multiply-accumulates of Conv, Gemm and MatMul, the ops that dominate every
// model here (elementwise ops are not counted).
// Shapes are propagated statically through the graph, including the small
// integer shape computations (Shape/Gather/Concat/Reshape) detectors use.
func FLOPs(model []byte, input []int64) (float64, error) {
	var m onnxpb.ModelProto
	if err := proto.Unmarshal(model, &m); err != nil {
		return 0, fmt.Errorf("infer: flops: parse onnx model: %w", err)
	}
	macs, _, err := propagate(&m, input)
	return 2 * macs, err
}

// Shapes returns the static shape of every tensor of a model whose single
// graph input has the given shape (the same propagation as FLOPs).
func Shapes(m *onnxpb.ModelProto, input []int64) (map[string][]int64, error) {
	_, s, err := propagate(m, input)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]int64, len(s.t))
	for name, t := range s.t {
		out[name] = t.shape
	}
	return out, nil
}

func propagate(m *onnxpb.ModelProto, input []int64) (float64, *shapes, error) {
	g := m.GetGraph()
	if g == nil {
		return 0, nil, fmt.Errorf("infer: flops: model has no graph")
	}
	opset := int64(0)
	for _, o := range m.GetOpsetImport() {
		if o.GetDomain() == "" || o.GetDomain() == "ai.onnx" {
			opset = o.GetVersion()
		}
	}
	s := &shapes{t: map[string]*tinfo{}, opset: opset}
	for _, init := range g.GetInitializer() {
		s.t[init.GetName()] = tensorInfo(init)
	}
	seenInput := false
	for _, in := range g.GetInput() {
		if _, ok := s.t[in.GetName()]; ok {
			continue
		}
		if seenInput {
			return 0, nil, fmt.Errorf("infer: flops: more than one graph input")
		}
		seenInput = true
		s.t[in.GetName()] = &tinfo{shape: slices.Clone(input)}
	}
	macs := 0.0
	for _, n := range g.GetNode() {
		k, err := s.node(n)
		if err != nil {
			return 0, nil, fmt.Errorf("infer: flops: node %q (%s): %w", n.GetName(), n.GetOpType(), err)
		}
		macs += k
	}
	return macs, s, nil
}

// tinfo is a tensor's static shape and, for small integer tensors, its values.
type tinfo struct {
	shape []int64
	ints  []int64 // nil unless a known small integer tensor
}

type shapes struct {
	t     map[string]*tinfo
	opset int64
}

func tensorInfo(t *onnxpb.TensorProto) *tinfo {
	info := &tinfo{shape: slices.Clone(t.GetDims())}
	n := int64(1)
	for _, d := range t.GetDims() {
		n *= d
	}
	if n > 64 {
		return info
	}
	switch onnxpb.TensorProto_DataType(t.GetDataType()) {
	case onnxpb.TensorProto_INT64:
		if raw := t.GetRawData(); len(raw) == int(8*n) {
			for i := range n {
				info.ints = append(info.ints, int64(binary.LittleEndian.Uint64(raw[8*i:])))
			}
		} else if len(t.GetInt64Data()) == int(n) {
			info.ints = slices.Clone(t.GetInt64Data())
		}
	case onnxpb.TensorProto_INT32:
		if raw := t.GetRawData(); len(raw) == int(4*n) {
			for i := range n {
				info.ints = append(info.ints, int64(int32(binary.LittleEndian.Uint32(raw[4*i:]))))
			}
		} else if len(t.GetInt32Data()) == int(n) {
			for _, v := range t.GetInt32Data() {
				info.ints = append(info.ints, int64(v))
			}
		}
	}
	if info.ints == nil && n == 0 {
		info.ints = []int64{}
	}
	return info
}

func attrOf(n *onnxpb.NodeProto, name string) *onnxpb.AttributeProto {
	for _, a := range n.GetAttribute() {
		if a.GetName() == name {
			return a
		}
	}
	return nil
}

func attrInt(n *onnxpb.NodeProto, name string, def int64) int64 {
	if a := attrOf(n, name); a != nil {
		return a.GetI()
	}
	return def
}

func attrInts(n *onnxpb.NodeProto, name string) []int64 {
	if a := attrOf(n, name); a != nil {
		return a.GetInts()
	}
	return nil
}

func (s *shapes) in(n *onnxpb.NodeProto, i int) (*tinfo, error) {
	if i >= len(n.GetInput()) || n.GetInput()[i] == "" {
		return nil, nil
	}
	t, ok := s.t[n.GetInput()[i]]
	if !ok {
		return nil, fmt.Errorf("input %q has no known shape", n.GetInput()[i])
	}
	return t, nil
}

// intsIn returns the values of an integer input or of the attribute that
// held them before the op took them as input.
func (s *shapes) intsIn(n *onnxpb.NodeProto, i int, attr string) ([]int64, bool, error) {
	if a := attrOf(n, attr); a != nil {
		return a.GetInts(), true, nil
	}
	t, err := s.in(n, i)
	if err != nil || t == nil {
		return nil, false, err
	}
	if t.ints == nil {
		return nil, false, fmt.Errorf("input %q must be a known integer tensor", n.GetInput()[i])
	}
	return t.ints, true, nil
}

func numel64(shape []int64) int64 {
	n := int64(1)
	for _, d := range shape {
		n *= d
	}
	return n
}

func normAxis(a int64, rank int) (int, error) {
	if a < 0 {
		a += int64(rank)
	}
	if a < 0 || a >= int64(rank) {
		return 0, fmt.Errorf("axis out of range for rank %d", rank)
	}
	return int(a), nil
}

func broadcast(shapes ...[]int64) []int64 {
	var out []int64
	for _, s := range shapes {
		if len(s) > len(out) {
			out = append(slices.Repeat([]int64{1}, len(s)-len(out)), out...)
		}
		off := len(out) - len(s)
		for i, d := range s {
			if out[off+i] == 1 {
				out[off+i] = d
			}
		}
	}
	return out
}

// windowDims computes output spatial sizes of Conv/pooling nodes.
func windowDims(n *onnxpb.NodeProto, spatial, kernel []int64) ([]int64, error) {
	r := len(spatial)
	strides, dil, pads := attrInts(n, "strides"), attrInts(n, "dilations"), attrInts(n, "pads")
	autoPad := string(attrOf2S(n, "auto_pad"))
	ceil := attrInt(n, "ceil_mode", 0) == 1
	out := make([]int64, r)
	for i := range r {
		s, d := int64(1), int64(1)
		if len(strides) == r {
			s = strides[i]
		}
		if len(dil) == r {
			d = dil[i]
		}
		if s <= 0 || d <= 0 {
			return nil, fmt.Errorf("bad strides/dilations")
		}
		eff := (kernel[i]-1)*d + 1
		switch autoPad {
		case "SAME_UPPER", "SAME_LOWER":
			out[i] = (spatial[i] + s - 1) / s
			continue
		case "VALID":
			out[i] = (spatial[i]-eff)/s + 1
			continue
		}
		p := int64(0)
		if len(pads) == 2*r {
			p = pads[i] + pads[i+r]
		}
		num := spatial[i] + p - eff
		if ceil {
			out[i] = (num+s-1)/s + 1
		} else {
			out[i] = num/s + 1
		}
	}
	return out, nil
}

func attrOf2S(n *onnxpb.NodeProto, name string) []byte {
	if a := attrOf(n, name); a != nil {
		return a.GetS()
	}
	return nil
}

// node infers n's output shapes and returns its multiply-accumulates.
func (s *shapes) node(n *onnxpb.NodeProto) (float64, error) {
	set := func(i int, t *tinfo) {
		if i < len(n.GetOutput()) && n.GetOutput()[i] != "" {
			s.t[n.GetOutput()[i]] = t
		}
	}
	x, err := s.in(n, 0)
	if err != nil {
		return 0, err
	}
	op := n.GetOpType()
	if x == nil && op != "Constant" {
		return 0, fmt.Errorf("missing input")
	}
	switch op {
	case "Constant":
		a := attrOf(n, "value")
		if a == nil || a.GetT() == nil {
			return 0, fmt.Errorf("only tensor constants are supported")
		}
		set(0, tensorInfo(a.GetT()))
	case "Conv":
		w, err := s.in(n, 1)
		if err != nil || w == nil {
			return 0, fmt.Errorf("conv needs weights: %v", err)
		}
		if len(x.shape) != len(w.shape) || len(x.shape) < 3 {
			return 0, fmt.Errorf("conv input %v, weights %v", x.shape, w.shape)
		}
		sp, err := windowDims(n, x.shape[2:], w.shape[2:])
		if err != nil {
			return 0, err
		}
		out := append([]int64{x.shape[0], w.shape[0]}, sp...)
		set(0, &tinfo{shape: out})
		// every output element takes C/group x kernel MACs: exactly w.shape[1:]
		return float64(numel64(out)) * float64(numel64(w.shape[1:])), nil
	case "MaxPool", "AveragePool":
		k := attrInts(n, "kernel_shape")
		if len(k) != len(x.shape)-2 {
			return 0, fmt.Errorf("kernel_shape %v for input %v", k, x.shape)
		}
		sp, err := windowDims(n, x.shape[2:], k)
		if err != nil {
			return 0, err
		}
		set(0, &tinfo{shape: append([]int64{x.shape[0], x.shape[1]}, sp...)})
	case "GlobalAveragePool", "GlobalMaxPool":
		out := slices.Clone(x.shape)
		for i := 2; i < len(out); i++ {
			out[i] = 1
		}
		set(0, &tinfo{shape: out})
	case "BatchNormalization", "Relu", "PRelu", "Sigmoid", "Exp", "Softmax", "Clip", "Identity", "LeakyRelu",
		"Elu", "Tanh", "Sqrt", "Reciprocal", "Neg", "Abs", "Cast", "Dropout", "HardSigmoid", "LogSoftmax":
		set(0, &tinfo{shape: slices.Clone(x.shape), ints: x.ints})
	case "Add", "Mul", "Sub", "Div", "Min", "Max", "Sum", "Pow":
		var shs [][]int64
		var ins []*tinfo
		for i := range n.GetInput() {
			t, err := s.in(n, i)
			if err != nil || t == nil {
				return 0, fmt.Errorf("input %d: %v", i, err)
			}
			shs = append(shs, t.shape)
			ins = append(ins, t)
		}
		out := &tinfo{shape: broadcast(shs...)}
		if len(ins) == 2 && ins[0].ints != nil && ins[1].ints != nil && numel64(out.shape) <= 64 {
			a, b := ins[0].ints, ins[1].ints
			n2 := int(numel64(out.shape))
			if (len(a) == n2 || len(a) == 1) && (len(b) == n2 || len(b) == 1) {
				for i := range n2 {
					u, v := a[min(i, len(a)-1)], b[min(i, len(b)-1)]
					switch op {
					case "Add":
						out.ints = append(out.ints, u+v)
					case "Sub":
						out.ints = append(out.ints, u-v)
					case "Mul":
						out.ints = append(out.ints, u*v)
					case "Div":
						if v == 0 {
							return 0, fmt.Errorf("integer division by zero")
						}
						out.ints = append(out.ints, u/v)
					default:
						out.ints = nil
					}
					if out.ints == nil {
						break
					}
				}
			}
		}
		set(0, out)
	case "Concat":
		var parts []*tinfo
		for i := range n.GetInput() {
			t, err := s.in(n, i)
			if err != nil || t == nil {
				return 0, fmt.Errorf("input %d: %v", i, err)
			}
			parts = append(parts, t)
		}
		ax, err := normAxis(attrInt(n, "axis", 0), len(x.shape))
		if err != nil {
			return 0, err
		}
		out := &tinfo{shape: slices.Clone(x.shape)}
		out.shape[ax] = 0
		ints := []int64{}
		for _, p := range parts {
			if len(p.shape) != len(x.shape) {
				return 0, fmt.Errorf("concat of ranks %d and %d", len(p.shape), len(x.shape))
			}
			out.shape[ax] += p.shape[ax]
			if ints != nil && p.ints != nil && len(p.shape) <= 1 {
				ints = append(ints, p.ints...)
			} else {
				ints = nil
			}
		}
		out.ints = ints
		set(0, out)
	case "Reshape":
		target, _, err := s.intsIn(n, 1, "shape")
		if err != nil {
			return 0, err
		}
		out := slices.Clone(target)
		inferAt := -1
		known := int64(1)
		for i, d := range out {
			switch {
			case d == 0 && attrInt(n, "allowzero", 0) == 0:
				if i >= len(x.shape) {
					return 0, fmt.Errorf("reshape 0 beyond input rank")
				}
				out[i] = x.shape[i]
				known *= out[i]
			case d == -1:
				inferAt = i
			default:
				known *= d
			}
		}
		if inferAt >= 0 {
			if known == 0 {
				return 0, fmt.Errorf("cannot infer reshape dimension")
			}
			out[inferAt] = numel64(x.shape) / known
		}
		set(0, &tinfo{shape: out, ints: x.ints})
	case "Flatten":
		ax := attrInt(n, "axis", 1)
		if ax < 0 {
			ax += int64(len(x.shape))
		}
		if ax < 0 || ax > int64(len(x.shape)) {
			return 0, fmt.Errorf("flatten axis out of range")
		}
		set(0, &tinfo{shape: []int64{numel64(x.shape[:ax]), numel64(x.shape[ax:])}})
	case "Gemm":
		b, err := s.in(n, 1)
		if err != nil || b == nil || len(x.shape) != 2 || len(b.shape) != 2 {
			return 0, fmt.Errorf("gemm needs 2-D operands")
		}
		m, k := x.shape[0], x.shape[1]
		if attrInt(n, "transA", 0) == 1 {
			m, k = k, m
		}
		cols := b.shape[1]
		if attrInt(n, "transB", 0) == 1 {
			cols = b.shape[0]
		}
		set(0, &tinfo{shape: []int64{m, cols}})
		return float64(m * k * cols), nil
	case "MatMul":
		b, err := s.in(n, 1)
		if err != nil || b == nil || len(x.shape) < 1 || len(b.shape) < 2 {
			return 0, fmt.Errorf("matmul operands %v", err)
		}
		if len(x.shape) < 2 {
			return 0, fmt.Errorf("1-D matmul operand")
		}
		m, k := x.shape[len(x.shape)-2], x.shape[len(x.shape)-1]
		cols := b.shape[len(b.shape)-1]
		batch := broadcast(x.shape[:len(x.shape)-2], b.shape[:len(b.shape)-2])
		out := append(slices.Clone(batch), m, cols)
		set(0, &tinfo{shape: out})
		return float64(numel64(batch) * m * k * cols), nil
	case "Transpose":
		perm := attrInts(n, "perm")
		if perm == nil {
			for i := len(x.shape) - 1; i >= 0; i-- {
				perm = append(perm, int64(i))
			}
		}
		if len(perm) != len(x.shape) {
			return 0, fmt.Errorf("perm %v for rank %d", perm, len(x.shape))
		}
		out := make([]int64, len(perm))
		for i, p := range perm {
			if p < 0 || int(p) >= len(x.shape) {
				return 0, fmt.Errorf("bad perm %v", perm)
			}
			out[i] = x.shape[p]
		}
		set(0, &tinfo{shape: out})
	case "Shape":
		set(0, &tinfo{shape: []int64{int64(len(x.shape))}, ints: slices.Clone(x.shape)})
	case "Gather":
		idx, err := s.in(n, 1)
		if err != nil || idx == nil {
			return 0, fmt.Errorf("gather needs indices")
		}
		ax, err := normAxis(attrInt(n, "axis", 0), len(x.shape))
		if err != nil {
			return 0, err
		}
		out := slices.Concat(x.shape[:ax], idx.shape, x.shape[ax+1:])
		t := &tinfo{shape: out}
		if x.ints != nil && idx.ints != nil && len(x.shape) == 1 {
			for _, i := range idx.ints {
				if i < 0 {
					i += x.shape[0]
				}
				if i < 0 || i >= int64(len(x.ints)) {
					return 0, fmt.Errorf("gather index out of range")
				}
				t.ints = append(t.ints, x.ints[i])
			}
		}
		set(0, t)
	case "Unsqueeze", "Squeeze":
		axes, ok, err := s.intsIn(n, 1, "axes")
		if err != nil {
			return 0, err
		}
		out := slices.Clone(x.shape)
		if op == "Unsqueeze" {
			r := len(x.shape) + len(axes)
			norm := make([]int64, len(axes))
			for i, a := range axes {
				if a < 0 {
					a += int64(r)
				}
				norm[i] = a
			}
			slices.Sort(norm)
			for _, a := range norm {
				if a < 0 || int(a) > len(out) {
					return 0, fmt.Errorf("unsqueeze axis out of range")
				}
				out = slices.Insert(out, int(a), 1)
			}
		} else {
			drop := map[int]bool{}
			for _, a := range axes {
				i, err := normAxis(a, len(x.shape))
				if err != nil {
					return 0, err
				}
				drop[i] = true
			}
			out = out[:0]
			for i, d := range x.shape {
				if (ok && !drop[i]) || (!ok && d != 1) {
					out = append(out, d)
				}
			}
		}
		set(0, &tinfo{shape: out, ints: x.ints})
	case "Slice":
		starts, _, err := s.intsIn(n, 1, "starts")
		if err != nil {
			return 0, err
		}
		ends, _, err := s.intsIn(n, 2, "ends")
		if err != nil {
			return 0, err
		}
		axes, hasAxes, err := s.intsIn(n, 3, "axes")
		if err != nil {
			return 0, err
		}
		steps, hasSteps, err := s.intsIn(n, 4, "steps")
		if err != nil {
			return 0, err
		}
		if len(starts) != len(ends) {
			return 0, fmt.Errorf("starts/ends lengths differ")
		}
		out := slices.Clone(x.shape)
		var ints []int64
		for i := range starts {
			ax := i
			if hasAxes {
				if ax, err = normAxis(axes[i], len(x.shape)); err != nil {
					return 0, err
				}
			}
			step := int64(1)
			if hasSteps {
				step = steps[i]
			}
			dim := x.shape[ax]
			b, e := clampIdx(starts[i], dim, step), clampIdx(ends[i], dim, step)
			switch {
			case step > 0 && e > b:
				out[ax] = (e - b + step - 1) / step
			case step < 0 && b > e:
				out[ax] = (b - e - step - 1) / -step
			default:
				out[ax] = 0
			}
			if x.ints != nil && len(x.shape) == 1 && step == 1 && len(starts) == 1 {
				ints = append([]int64{}, x.ints[b:max(b, e)]...)
			}
		}
		set(0, &tinfo{shape: out, ints: ints})
	case "Split":
		ax, err := normAxis(attrInt(n, "axis", 0), len(x.shape))
		if err != nil {
			return 0, err
		}
		parts, ok, err := s.intsIn(n, 1, "split")
		if err != nil {
			return 0, err
		}
		k := int64(len(n.GetOutput()))
		if !ok {
			parts = slices.Repeat([]int64{x.shape[ax] / k}, int(k))
		}
		for i, p := range parts {
			out := slices.Clone(x.shape)
			out[ax] = p
			set(i, &tinfo{shape: out})
		}
	case "ReduceMean", "ReduceMax", "ReduceMin", "ReduceSum":
		axes, ok, err := s.intsIn(n, 1, "axes")
		if err != nil {
			return 0, err
		}
		keep := attrInt(n, "keepdims", 1) == 1
		red := map[int]bool{}
		for _, a := range axes {
			i, err := normAxis(a, len(x.shape))
			if err != nil {
				return 0, err
			}
			red[i] = true
		}
		var out []int64
		for i, d := range x.shape {
			switch {
			case !ok || red[i]:
				if keep {
					out = append(out, 1)
				}
			default:
				out = append(out, d)
			}
		}
		set(0, &tinfo{shape: out})
	case "Pad":
		pads, _, err := s.intsIn(n, 1, "pads")
		if err != nil {
			return 0, err
		}
		r := len(x.shape)
		if len(pads) != 2*r {
			return 0, fmt.Errorf("pads %v for rank %d", pads, r)
		}
		out := slices.Clone(x.shape)
		for i := range r {
			out[i] += pads[i] + pads[i+r]
		}
		set(0, &tinfo{shape: out})
	case "Resize":
		sizes, ok, err := s.intsIn(n, 3, "")
		if err != nil || !ok || len(sizes) != len(x.shape) {
			return 0, fmt.Errorf("resize needs known sizes: %v", err)
		}
		set(0, &tinfo{shape: slices.Clone(sizes)})
	case "DepthToSpace", "SpaceToDepth":
		bs := attrInt(n, "blocksize", 0)
		if len(x.shape) != 4 || bs <= 0 {
			return 0, fmt.Errorf("bad input %v or blocksize %d", x.shape, bs)
		}
		out := slices.Clone(x.shape)
		if op == "DepthToSpace" {
			out[1], out[2], out[3] = out[1]/(bs*bs), out[2]*bs, out[3]*bs
		} else {
			out[1], out[2], out[3] = out[1]*bs*bs, out[2]/bs, out[3]/bs
		}
		set(0, &tinfo{shape: out})
	default:
		return 0, fmt.Errorf("op not supported by the FLOP counter")
	}
	return 0, nil
}

// clampIdx resolves a Slice start/end against dim as ONNX does.
func clampIdx(v, dim, step int64) int64 {
	if v < 0 {
		v += dim
	}
	if step > 0 {
		return min(max(v, 0), dim)
	}
	return min(max(v, -1), dim-1)
}
