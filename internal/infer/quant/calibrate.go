package quant

import (
	"context"
	"fmt"
	"math"

	"google.golang.org/protobuf/proto"

	"github.com/livenessd/livenessd/internal/infer"
	"github.com/livenessd/livenessd/internal/infer/onnxpb"
)

// Calibrate runs the float model on every input with the target tensors
// exposed as extra graph outputs and returns each target's range: the
// values between the lower and upper Percentile of everything observed
// (100 keeps the extremes).
func Calibrate(ctx context.Context, rt *infer.Runtime, model []byte, targets []string, inputs []infer.Tensor, percentile float64) (map[string]Range, error) {
	if len(inputs) == 0 {
		return nil, fmt.Errorf("quant: no calibration inputs")
	}
	exposed, first, err := exposeOutputs(model, targets)
	if err != nil {
		return nil, err
	}
	s, err := rt.Load(infer.Spec{Name: "calibrate"}, exposed)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	run := func(in infer.Tensor) ([]infer.Tensor, error) {
		outs, err := s.Run(ctx, in)
		if err != nil {
			return nil, err
		}
		return outs[first:], nil
	}
	// Pass 1: extremes. Pass 2 (percentile < 100): histograms between them.
	lo := make([]float32, len(targets))
	hi := make([]float32, len(targets))
	for i := range targets {
		lo[i], hi[i] = float32(math.Inf(1)), float32(math.Inf(-1))
	}
	for _, in := range inputs {
		outs, err := run(in)
		if err != nil {
			return nil, err
		}
		for i, o := range outs {
			for _, v := range o.Data {
				lo[i], hi[i] = min(lo[i], v), max(hi[i], v)
			}
		}
	}
	ranges := make(map[string]Range, len(targets))
	for i, t := range targets {
		ranges[t] = Range{Min: lo[i], Max: hi[i]}
	}
	if percentile >= 100 {
		return ranges, nil
	}
	const bins = 4096
	hist := make([][]int64, len(targets))
	for i := range hist {
		hist[i] = make([]int64, bins)
	}
	for _, in := range inputs {
		outs, err := run(in)
		if err != nil {
			return nil, err
		}
		for i, o := range outs {
			w := float64(hi[i] - lo[i])
			if w <= 0 {
				continue
			}
			for _, v := range o.Data {
				b := int(float64(v-lo[i]) / w * bins)
				hist[i][min(max(b, 0), bins-1)]++
			}
		}
	}
	for i, t := range targets {
		r := ranges[t]
		a, b := tails(hist[i], (100-percentile)/100)
		w := r.Max - r.Min
		ranges[t] = Range{Min: r.Min + w*float32(a)/bins, Max: r.Min + w*float32(b+1)/bins}
	}
	return ranges, nil
}

// tails returns the first and last bin that keep all but frac of the mass
// off each end.
func tails(h []int64, frac float64) (int, int) {
	var total int64
	for _, c := range h {
		total += c
	}
	cut := int64(frac * float64(total))
	a, b := 0, len(h)-1
	for s := int64(0); a < b && s+h[a] <= cut; a++ {
		s += h[a]
	}
	for s := int64(0); b > a && s+h[b] <= cut; b-- {
		s += h[b]
	}
	return a, b
}

// exposeOutputs adds targets as graph outputs and returns the model and the
// index of the first added output.
func exposeOutputs(model []byte, targets []string) ([]byte, int, error) {
	m, err := parse(model)
	if err != nil {
		return nil, 0, err
	}
	g := m.GetGraph()
	first := len(g.GetOutput())
	existing := map[string]bool{}
	for _, o := range g.GetOutput() {
		existing[o.GetName()] = true
	}
	for _, t := range targets {
		if existing[t] {
			// A graph output is also a target: Identity gives it a second name.
			alias := t + "_calibrate"
			g.Node = append(g.Node, &onnxpb.NodeProto{OpType: "Identity", Input: []string{t}, Output: []string{alias}})
			t = alias
		}
		g.Output = append(g.Output, &onnxpb.ValueInfoProto{Name: t, Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
			TensorType: &onnxpb.TypeProto_Tensor{ElemType: int32(onnxpb.TensorProto_FLOAT)}}}})
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		return nil, 0, fmt.Errorf("quant: serialise: %w", err)
	}
	return b, first, nil
}
