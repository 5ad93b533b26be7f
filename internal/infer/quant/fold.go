package quant

import (
	"encoding/binary"
	"slices"

	"github.com/livenessd/livenessd/internal/infer"
	"github.com/livenessd/livenessd/internal/infer/onnxpb"
)

// foldPads merges a constant-zero Pad of the two spatial axes into the Conv
// that alone reads it (the TF.js translations pad explicitly before
// stride-2 depthwise convolutions). ORT does this itself for float models,
// but not across QuantizeLinear/DequantizeLinear, where the Pad would stay
// a float op between two integer convolutions.
func foldPads(g *onnxpb.GraphProto) {
	x := index(g)
	removed := map[*onnxpb.NodeProto]bool{}
	for _, n := range g.GetNode() {
		if n.GetOpType() != "Pad" || len(n.GetOutput()) != 1 {
			continue
		}
		cs := x.consumers[n.GetOutput()[0]]
		if len(cs) != 1 || cs[0].GetOpType() != "Conv" || x.outputs[n.GetOutput()[0]] {
			continue
		}
		conv := cs[0]
		pads, ok := spatialZeroPads(x, n)
		if !ok || !explicitPads(conv) {
			continue
		}
		var cp []int64
		var kept []*onnxpb.AttributeProto
		for _, a := range conv.GetAttribute() {
			if a.GetName() == "pads" {
				cp = a.GetInts()
				continue
			}
			kept = append(kept, a)
		}
		if cp == nil {
			cp = make([]int64, 4)
		}
		if len(cp) != 4 {
			continue
		}
		merged := slices.Clone(cp)
		for i := range merged {
			merged[i] += pads[i]
		}
		conv.Attribute = append(kept, &onnxpb.AttributeProto{Name: "pads", Type: onnxpb.AttributeProto_INTS, Ints: merged})
		conv.Input[0] = n.GetInput()[0]
		removed[n] = true
	}
	g.Node = slices.DeleteFunc(g.Node, func(n *onnxpb.NodeProto) bool { return removed[n] })
}

// spatialZeroPads returns [top, left, bottom, right] when n pads an NCHW
// tensor with zeros on H and W only.
func spatialZeroPads(x *graph, n *onnxpb.NodeProto) ([]int64, bool) {
	var p []int64
	mode := "constant"
	for _, a := range n.GetAttribute() {
		switch a.GetName() {
		case "mode":
			mode = string(a.GetS())
		case "pads": // opset < 11
			p = a.GetInts()
		case "value":
			if a.GetF() != 0 {
				return nil, false
			}
		}
	}
	in := n.GetInput()
	if len(in) > 1 && in[1] != "" {
		t, ok := x.inits[in[1]]
		if !ok {
			return nil, false
		}
		p = ints(t)
	}
	if len(in) > 2 && in[2] != "" {
		t, ok := x.floatInit(in[2])
		if !ok {
			return nil, false
		}
		if v := infer.TensorFloats(t); len(v) != 1 || v[0] != 0 {
			return nil, false
		}
	}
	if len(in) > 3 && in[3] != "" { // axes
		return nil, false
	}
	if mode != "constant" || len(p) != 8 || p[0] != 0 || p[1] != 0 || p[4] != 0 || p[5] != 0 {
		return nil, false
	}
	for _, v := range p {
		if v < 0 {
			return nil, false
		}
	}
	return []int64{p[2], p[3], p[6], p[7]}, true
}

// explicitPads reports whether a Conv's padding is given by its pads
// attribute (no auto_pad).
func explicitPads(conv *onnxpb.NodeProto) bool {
	for _, a := range conv.GetAttribute() {
		if a.GetName() == "auto_pad" && string(a.GetS()) != "NOTSET" && len(a.GetS()) > 0 {
			return false
		}
	}
	return true
}

// ints returns an int64 tensor's values (raw or typed storage).
func ints(t *onnxpb.TensorProto) []int64 {
	if t.GetDataType() != int32(onnxpb.TensorProto_INT64) {
		return nil
	}
	if v := t.GetInt64Data(); len(v) > 0 {
		return v
	}
	raw := t.GetRawData()
	out := make([]int64, len(raw)/8)
	for i := range out {
		out[i] = int64(binary.LittleEndian.Uint64(raw[8*i:]))
	}
	return out
}

// foldAffine merges a per-channel (or scalar) constant Mul and then Add
// that follow a Conv, each the only reader of its input, into the Conv's
// weights and bias: the TF.js translations write a folded batch norm that
// way. ORT merges them itself for float models, but not across
// QuantizeLinear/DequantizeLinear.
func foldAffine(g *onnxpb.GraphProto) {
	removed := map[*onnxpb.NodeProto]bool{}
	for {
		x := index(g)
		changed := false
		for _, conv := range g.GetNode() {
			if conv.GetOpType() != "Conv" || removed[conv] || x.weightInput(conv) != 1 {
				continue
			}
			out := conv.GetOutput()[0]
			cs := x.consumers[out]
			if len(cs) != 1 || x.outputs[out] {
				continue
			}
			n := cs[0]
			if n.GetOpType() != "Mul" && n.GetOpType() != "Add" {
				continue
			}
			w, _ := x.floatInit(conv.GetInput()[1])
			channels := int(w.GetDims()[0])
			c := perChannelConst(x, n, out, channels)
			if c == nil {
				continue
			}
			wd := infer.TensorFloats(w)
			var bias []float32
			if len(conv.GetInput()) > 2 && conv.GetInput()[2] != "" {
				b, _ := x.floatInit(conv.GetInput()[2])
				bias = slices.Clone(infer.TensorFloats(b))
			} else {
				bias = make([]float32, channels)
			}
			if n.GetOpType() == "Mul" {
				per := len(wd) / channels
				nw := make([]float32, len(wd))
				for i, v := range wd {
					nw[i] = v * c[i/per]
				}
				wd = nw
				for i := range bias {
					bias[i] *= c[i]
				}
			} else {
				for i := range bias {
					bias[i] += c[i]
				}
			}
			base := n.GetOutput()[0]
			g.Initializer = append(g.Initializer,
				&onnxpb.TensorProto{Name: base + "_w", Dims: slices.Clone(w.GetDims()), DataType: int32(onnxpb.TensorProto_FLOAT), RawData: f32bytes(wd)},
				&onnxpb.TensorProto{Name: base + "_b", Dims: []int64{int64(channels)}, DataType: int32(onnxpb.TensorProto_FLOAT), RawData: f32bytes(bias)})
			conv.Input = []string{conv.GetInput()[0], base + "_w", base + "_b"}
			conv.Output = []string{base}
			removed[n] = true
			changed = true
			break // the index is stale
		}
		if !changed {
			break
		}
		g.Node = slices.DeleteFunc(g.Node, func(n *onnxpb.NodeProto) bool { return removed[n] })
	}
}

// perChannelConst returns the constant operand of n (the other operand
// being t) as one value per channel, when it is a scalar or of shape
// [C,1,1] or [1,C,1,1].
func perChannelConst(x *graph, n *onnxpb.NodeProto, t string, channels int) []float32 {
	in := n.GetInput()
	if len(in) != 2 {
		return nil
	}
	k := in[1]
	if in[1] == t {
		k = in[0]
	} else if in[0] != t {
		return nil
	}
	c, ok := x.floatInit(k)
	if !ok {
		return nil
	}
	v := infer.TensorFloats(c)
	d := c.GetDims()
	switch {
	case len(v) == 1:
		return slices.Repeat(v, channels)
	case len(v) == channels && (len(d) == 3 && d[1] == 1 && d[2] == 1 || len(d) == 4 && d[0] == 1 && d[2] == 1 && d[3] == 1):
		return v
	}
	return nil
}
