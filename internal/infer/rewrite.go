package infer

import (
	"encoding/binary"
	"fmt"
	"math"
	"runtime"
	"slices"

	"golang.org/x/sys/cpu"

	"github.com/livenessd/livenessd/internal/infer/onnxpb"
)

// RewritePRelu replaces every PRelu with a per-channel constant slope s on
// a channel count that is a multiple of blockChannels by
//
//	y = x + DepthwiseConv1x1[1-s]( Relu( DepthwiseConv1x1[-1](x) ) )
//
// which is the same function (x for x >= 0, s*x below) written in ops that
// ONNX Runtime keeps in its blocked NCHWc layout: the 1x1 depthwise
// convolutions, the Relu fused into the first and the Add fused into the
// second. ORT's own PRelu runs in plain NCHW, so every PRelu between two
// convolutions cost a layout reorder each way plus a slow broadcast loop.
// Measured on this project's AVX-512 machine, one thread (thread CPU time,
// min of 60): fr_feature 7.9 -> 4.8 ms, iris 2.6 -> 1.35 ms, facemesh 2.2 ->
// 1.23 ms. Channel counts the blocked layout cannot hold (fr_liveness's 13,
// 26, 103...) are left alone: there the rewrite measured slower.
// blockChannels <= 0 rewrites nothing. It returns the new model and how
// many PRelu nodes it replaced; a model without any is returned unchanged.
func RewritePRelu(model []byte, blockChannels int) ([]byte, int, error) {
	if blockChannels <= 0 {
		return model, 0, nil
	}
	return rewriteModel(model, func(m *onnxpb.ModelProto) int { return rewritePRelu(m.GetGraph(), blockChannels) })
}

// NCHWcBlock is the channel block of ONNX Runtime's NCHWc convolution
// kernels on this CPU (16 floats with AVX-512, 8 with AVX2), or 0 where the
// PRelu rewrite has not been measured (other architectures).
func NCHWcBlock() int {
	if runtime.GOARCH != "amd64" {
		return 0
	}
	switch {
	case cpu.X86.HasAVX512F:
		return 16
	case cpu.X86.HasAVX2:
		return 8
	}
	return 0
}

func rewritePRelu(g *onnxpb.GraphProto, block int) int {
	if g == nil {
		return 0
	}
	inits := map[string]*onnxpb.TensorProto{}
	for _, t := range g.GetInitializer() {
		inits[t.GetName()] = t
	}
	producer := map[string]*onnxpb.NodeProto{}
	for _, n := range g.GetNode() {
		for _, o := range n.GetOutput() {
			producer[o] = n
		}
	}
	var nodes []*onnxpb.NodeProto
	count := 0
	for _, n := range g.GetNode() {
		slope := perChannelSlope(n, inits)
		if slope == nil || len(slope)%block != 0 || !isImage2D(n.GetInput()[0], producer, inits) {
			nodes = append(nodes, n)
			continue
		}
		count++
		c := int64(len(slope))
		neg := make([]float32, c)
		rest := make([]float32, c)
		for i, s := range slope {
			neg[i] = -1
			rest[i] = 1 - s
		}
		base := fmt.Sprintf("%s_prelu%d", n.GetOutput()[0], count)
		wNeg, wRest := base+"_neg", base+"_rest"
		g.Initializer = append(g.Initializer,
			&onnxpb.TensorProto{Name: wNeg, Dims: []int64{c, 1, 1, 1}, DataType: int32(onnxpb.TensorProto_FLOAT), FloatData: neg},
			&onnxpb.TensorProto{Name: wRest, Dims: []int64{c, 1, 1, 1}, DataType: int32(onnxpb.TensorProto_FLOAT), FloatData: rest})
		attrs := func() []*onnxpb.AttributeProto {
			return []*onnxpb.AttributeProto{
				{Name: "group", Type: onnxpb.AttributeProto_INT, I: c},
				{Name: "kernel_shape", Type: onnxpb.AttributeProto_INTS, Ints: []int64{1, 1}},
			}
		}
		x, y := n.GetInput()[0], n.GetOutput()[0]
		nodes = append(nodes,
			&onnxpb.NodeProto{OpType: "Conv", Name: base + "_negate", Input: []string{x, wNeg}, Output: []string{base + "_negated"}, Attribute: attrs()},
			&onnxpb.NodeProto{OpType: "Relu", Name: base + "_relu", Input: []string{base + "_negated"}, Output: []string{base + "_below"}},
			&onnxpb.NodeProto{OpType: "Conv", Name: base + "_scale", Input: []string{base + "_below", wRest}, Output: []string{base + "_scaled"}, Attribute: attrs()},
			&onnxpb.NodeProto{OpType: "Add", Name: base + "_add", Input: []string{x, base + "_scaled"}, Output: []string{y}},
		)
	}
	g.Node = nodes
	return count
}

// perChannelSlope returns the slopes of a PRelu whose slope is a constant
// of shape [C,1,1] or [1,C,1,1] (one per channel of an NCHW tensor).
func perChannelSlope(n *onnxpb.NodeProto, inits map[string]*onnxpb.TensorProto) []float32 {
	if n.GetOpType() != "PRelu" || (n.GetDomain() != "" && n.GetDomain() != "ai.onnx") || len(n.GetInput()) != 2 {
		return nil
	}
	t, ok := inits[n.GetInput()[1]]
	if !ok || t.GetDataType() != int32(onnxpb.TensorProto_FLOAT) {
		return nil
	}
	d := t.GetDims()
	switch {
	case len(d) == 3 && d[1] == 1 && d[2] == 1:
	case len(d) == 4 && d[0] == 1 && d[2] == 1 && d[3] == 1:
	default:
		return nil
	}
	return TensorFloats(t)
}

// isImage2D reports whether tensor t is the output of a 2-D convolution or
// pooling, possibly through elementwise ops and padding: a rank-4 NCHW
// tensor, which the 1x1 convolutions of the rewrite need.
func isImage2D(t string, producer map[string]*onnxpb.NodeProto, inits map[string]*onnxpb.TensorProto) bool {
	return traceImage2D(t, producer, inits, 32)
}

func traceImage2D(t string, producer map[string]*onnxpb.NodeProto, inits map[string]*onnxpb.TensorProto, depth int) bool {
	n, ok := producer[t]
	if !ok || depth == 0 {
		return false
	}
	switch n.GetOpType() {
	case "Conv":
		w, ok := inits[n.GetInput()[1]]
		return ok && len(w.GetDims()) == 4
	case "MaxPool", "AveragePool":
		for _, a := range n.GetAttribute() {
			if a.GetName() == "kernel_shape" {
				return len(a.GetInts()) == 2
			}
		}
	case "Relu", "PRelu", "Clip", "BatchNormalization", "Pad":
		return traceImage2D(n.GetInput()[0], producer, inits, depth-1)
	case "Add", "Mul", "Sub":
		// Broadcasting keeps the larger rank: one rank-4 operand suffices
		// when the other is not of higher rank, which a per-channel or
		// same-shaped operand of these graphs never is.
		for _, in := range n.GetInput() {
			if traceImage2D(in, producer, inits, depth-1) {
				return true
			}
		}
	}
	return false
}

// TensorFloats returns the values of a float32 tensor, raw or typed.
func TensorFloats(t *onnxpb.TensorProto) []float32 {
	if fd := t.GetFloatData(); len(fd) > 0 {
		return fd
	}
	raw := t.GetRawData()
	out := make([]float32, len(raw)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return out
}

// RewriteClamps replaces each chain of Relu, Min and Max with a scalar
// constant, and Clip, whose links have one reader each (a chain may be one
// node), by one Clip to the intersection of their ranges (a composition of clamps to overlapping
// ranges is the clamp to their intersection). The TF.js translation of
// faceres writes ReLU6 as Relu -> Min(6) -> Max(0) after every convolution;
// ORT fuses a Clip into the convolution (and keeps it in the NCHWc layout)
// but not Min and Max. Graphs of opset < 11 (Clip bounds as attributes) are
// left alone. Measured on faceres, one thread: 13.6 -> 11.7 ms. It returns
// the new model and how many chains it replaced.
func RewriteClamps(model []byte) ([]byte, int, error) {
	return rewriteModel(model, func(m *onnxpb.ModelProto) int {
		for _, o := range m.GetOpsetImport() {
			if (o.GetDomain() == "" || o.GetDomain() == "ai.onnx") && o.GetVersion() < 11 {
				return 0
			}
		}
		return rewriteClamps(m.GetGraph())
	})
}

func rewriteClamps(g *onnxpb.GraphProto) int {
	if g == nil {
		return 0
	}
	inits := map[string]*onnxpb.TensorProto{}
	for _, t := range g.GetInitializer() {
		inits[t.GetName()] = t
	}
	readers := map[string]int{}
	for _, n := range g.GetNode() {
		for _, in := range n.GetInput() {
			readers[in]++
		}
	}
	for _, o := range g.GetOutput() {
		readers[o.GetName()]++
	}
	producer := map[string]*onnxpb.NodeProto{}
	for _, n := range g.GetNode() {
		for _, o := range n.GetOutput() {
			producer[o] = n
		}
	}
	inf := float32(math.Inf(1))
	// bounds of one clamp node and its data input, or ok=false.
	bounds := func(n *onnxpb.NodeProto) (x string, lo, hi float32, ok bool) {
		if n.GetDomain() != "" && n.GetDomain() != "ai.onnx" {
			return "", 0, 0, false
		}
		scalar := func(name string) (float32, bool) {
			t, ok := inits[name]
			if !ok || t.GetDataType() != int32(onnxpb.TensorProto_FLOAT) {
				return 0, false
			}
			v := TensorFloats(t)
			return v[0], len(v) == 1
		}
		in := n.GetInput()
		switch n.GetOpType() {
		case "Relu":
			return in[0], 0, inf, true
		case "Clip":
			lo, hi = -inf, inf
			if len(in) > 1 && in[1] != "" {
				if lo, ok = scalar(in[1]); !ok {
					return "", 0, 0, false
				}
			}
			if len(in) > 2 && in[2] != "" {
				if hi, ok = scalar(in[2]); !ok {
					return "", 0, 0, false
				}
			}
			return in[0], lo, hi, true
		case "Min", "Max":
			if len(in) != 2 {
				return "", 0, 0, false
			}
			x, c := in[0], in[1]
			v, ok := scalar(c)
			if !ok {
				if v, ok = scalar(x); !ok {
					return "", 0, 0, false
				}
				x = c
			}
			if n.GetOpType() == "Min" {
				return x, -inf, v, true
			}
			return x, v, inf, true
		}
		return "", 0, 0, false
	}
	// Walk each chain from its last node back to its first.
	drop := map[*onnxpb.NodeProto]bool{}
	count := 0
	for i := len(g.GetNode()) - 1; i >= 0; i-- {
		last := g.GetNode()[i]
		if drop[last] {
			continue
		}
		x, lo, hi, ok := bounds(last)
		if !ok {
			continue
		}
		links := 1
		for {
			p, found := producer[x]
			if !found || readers[x] != 1 || drop[p] {
				break
			}
			px, plo, phi, ok := bounds(p)
			if !ok || max(lo, plo) > min(hi, phi) {
				break
			}
			drop[p] = true
			x, lo, hi = px, max(lo, plo), min(hi, phi)
			links++
		}
		if links == 1 && (last.GetOpType() == "Clip" || last.GetOpType() == "Relu") {
			continue // nothing to merge; ORT fuses these as they are
		}
		count++
		name := last.GetOutput()[0] + "_clamp"
		var in []string
		in = append(in, x)
		for _, b := range []struct {
			suffix string
			v      float32
		}{{"_lo", lo}, {"_hi", hi}} {
			if math.IsInf(float64(b.v), 0) {
				in = append(in, "")
				continue
			}
			g.Initializer = append(g.Initializer, &onnxpb.TensorProto{Name: name + b.suffix, DataType: int32(onnxpb.TensorProto_FLOAT), FloatData: []float32{b.v}})
			in = append(in, name+b.suffix)
		}
		last.OpType, last.Input, last.Attribute, last.Domain = "Clip", in, nil, ""
	}
	if count > 0 {
		g.Node = slices.DeleteFunc(g.Node, func(n *onnxpb.NodeProto) bool { return drop[n] })
	}
	return count
}
