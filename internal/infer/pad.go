package infer

import (
	"fmt"

	"github.com/livenessd/livenessd/internal/infer/onnxpb"
)

// RewritePadChannels widens every chain "Conv -> [PRelu|Relu] ->
// depthwise Conv -> [PRelu|Relu] -> Conv" whose middle channel count is not
// a multiple of blockChannels to the next multiple, with zero filters: the
// first convolution gets zero output filters (and zero bias), the depthwise
// one zero filters, the last one zero input weights for the added channels.
// The added channels hold zeros all along (PRelu and Relu of 0 are 0), and
// the last convolution ignores them, so the model computes the same
// function. Why: ORT's blocked NCHWc kernels need channel counts that are a
// multiple of the block; fr_liveness (pruned MiniFASNet: 13, 26, 52, 77,
// 103, 231 channels) otherwise falls back to plain NCHW convolutions with
// a layout reorder around every one. blockChannels <= 0 rewrites nothing.
// It returns the new model and how many chains it widened.
func RewritePadChannels(model []byte, blockChannels int) ([]byte, int, error) {
	if blockChannels <= 0 {
		return model, 0, nil
	}
	return rewriteModel(model, func(m *onnxpb.ModelProto) int { return padChannels(m.GetGraph(), blockChannels) })
}

// padEdit is one change of a widening plan.
type padEdit struct {
	node *onnxpb.NodeProto
	kind int // padOut, padDepthwise, padSlope, padIn
}

const (
	padOut       = iota // first Conv: more output filters
	padDepthwise        // depthwise Conv: more filters, larger group
	padSlope            // PRelu: longer slope
	padIn               // last Conv: more input channels
	padNone             // Relu: nothing to change
)

func padChannels(g *onnxpb.GraphProto, block int) int {
	if g == nil {
		return 0
	}
	inits := map[string]*onnxpb.TensorProto{}
	for _, t := range g.GetInitializer() {
		inits[t.GetName()] = t
	}
	consumers := map[string][]*onnxpb.NodeProto{}
	for _, n := range g.GetNode() {
		for _, in := range n.GetInput() {
			consumers[in] = append(consumers[in], n)
		}
	}
	outputs := map[string]bool{}
	for _, o := range g.GetOutput() {
		outputs[o.GetName()] = true
	}
	weight := func(n *onnxpb.NodeProto) *onnxpb.TensorProto {
		if n.GetOpType() != "Conv" || len(n.GetInput()) < 2 {
			return nil
		}
		w, ok := inits[n.GetInput()[1]]
		if !ok || w.GetDataType() != int32(onnxpb.TensorProto_FLOAT) || len(w.GetDims()) != 4 {
			return nil
		}
		if len(n.GetInput()) > 2 && n.GetInput()[2] != "" {
			if b, ok := inits[n.GetInput()[2]]; !ok || b.GetDataType() != int32(onnxpb.TensorProto_FLOAT) {
				return nil
			}
		}
		return w
	}
	group := func(n *onnxpb.NodeProto) int64 { return nodeAttrInt(n, "group", 1) }
	used := map[*onnxpb.NodeProto]bool{}
	count := 0
	for _, first := range g.GetNode() {
		w := weight(first)
		if w == nil || used[first] || group(first) != 1 {
			continue
		}
		c := w.GetDims()[0]
		if c%int64(block) == 0 || c < 4 {
			continue
		}
		// Follow the padded tensors forward; every reader must be one the
		// plan can widen, and the chain must end in plain convolutions.
		plan := []padEdit{{first, padOut}}
		ok, ends := true, 0
		queue := []string{first.GetOutput()[0]}
		for len(queue) > 0 && ok {
			t := queue[0]
			queue = queue[1:]
			if outputs[t] || len(consumers[t]) == 0 {
				ok = false
				break
			}
			for _, n := range consumers[t] {
				if used[n] || n.GetInput()[0] != t {
					ok = false
					break
				}
				switch {
				case n.GetOpType() == "Relu":
					plan = append(plan, padEdit{n, padNone})
					queue = append(queue, n.GetOutput()[0])
				case n.GetOpType() == "PRelu" && len(perChannelSlope(n, inits)) == int(c):
					plan = append(plan, padEdit{n, padSlope})
					queue = append(queue, n.GetOutput()[0])
				case weight(n) != nil && group(n) == c && weight(n).GetDims()[0] == c && weight(n).GetDims()[1] == 1:
					plan = append(plan, padEdit{n, padDepthwise})
					queue = append(queue, n.GetOutput()[0])
				case weight(n) != nil && group(n) == 1 && weight(n).GetDims()[1] == c:
					plan = append(plan, padEdit{n, padIn})
					ends++
				default:
					ok = false
				}
				if !ok {
					break
				}
			}
		}
		if !ok || ends == 0 {
			continue
		}
		to := (c + int64(block) - 1) / int64(block) * int64(block)
		for _, e := range plan {
			used[e.node] = true
			widen(g, inits, e, c, to)
		}
		count++
	}
	return count
}

// widen applies one edit, widening c channels to `to`, with new
// initializers (a weight may be shared with a node the plan leaves alone).
func widen(g *onnxpb.GraphProto, inits map[string]*onnxpb.TensorProto, e padEdit, c, to int64) {
	n := e.node
	add := func(i int, t *onnxpb.TensorProto) {
		t.Name = fmt.Sprintf("%s_widened%d", n.GetInput()[i], len(g.Initializer))
		g.Initializer = append(g.Initializer, t)
		n.Input[i] = t.Name
	}
	grow := func(t *onnxpb.TensorProto, axis int) *onnxpb.TensorProto {
		d := t.GetDims()
		v := TensorFloats(t)
		outer, inner := int64(1), int64(1)
		for _, x := range d[:axis] {
			outer *= x
		}
		for _, x := range d[axis+1:] {
			inner *= x
		}
		nd := append([]int64(nil), d...)
		nd[axis] = to
		out := make([]float32, outer*to*inner)
		for o := range outer {
			copy(out[o*to*inner:], v[o*c*inner:(o+1)*c*inner])
		}
		return &onnxpb.TensorProto{Dims: nd, DataType: int32(onnxpb.TensorProto_FLOAT), FloatData: out}
	}
	switch e.kind {
	case padOut, padDepthwise:
		add(1, grow(inits[n.GetInput()[1]], 0))
		if len(n.GetInput()) > 2 && n.GetInput()[2] != "" {
			add(2, grow(inits[n.GetInput()[2]], 0))
		}
		if e.kind == padDepthwise {
			setNodeAttrInt(n, "group", to)
		}
	case padSlope:
		s := inits[n.GetInput()[1]]
		axis := len(s.GetDims()) - 3 // [C,1,1] or [1,C,1,1]
		add(1, grow(s, axis))
	case padIn:
		add(1, grow(inits[n.GetInput()[1]], 1))
	}
}

func nodeAttrInt(n *onnxpb.NodeProto, name string, def int64) int64 {
	for _, a := range n.GetAttribute() {
		if a.GetName() == name {
			return a.GetI()
		}
	}
	return def
}

func setNodeAttrInt(n *onnxpb.NodeProto, name string, v int64) {
	for _, a := range n.GetAttribute() {
		if a.GetName() == name {
			a.I = v
			return
		}
	}
	n.Attribute = append(n.Attribute, &onnxpb.AttributeProto{Name: name, Type: onnxpb.AttributeProto_INT, I: v})
}
