package infer

import (
	"fmt"
	"slices"
)

// Layout is the memory order of an image input tensor.
type Layout string

const (
	NCHW Layout = "NCHW"
	NHWC Layout = "NHWC"
)

// ColorOrder is the channel order a model expects.
type ColorOrder string

const (
	RGB  ColorOrder = "RGB"
	BGR  ColorOrder = "BGR"
	Gray ColorOrder = "GRAY" // one channel, ITU-R BT.601 luma
)

// Channels is 1 for Gray and 3 otherwise.
func (c ColorOrder) Channels() int64 {
	if c == Gray {
		return 1
	}
	return 3
}

// ImageInput describes how pixels become the model's input tensor:
// value = (pixel[0..255] - Mean[c]) / Std[c], channels in Order.
type ImageInput struct {
	Name   string
	Width  int
	Height int
	Layout Layout
	Order  ColorOrder
	Mean   [3]float32
	Std    [3]float32
	// DynamicSize means the graph accepts other spatial sizes than Width x Height
	// (Width/Height are then the default).
	DynamicSize bool
}

// Output names one model output and its shape; -1 marks a dynamic dimension.
type Output struct {
	Name  string
	Shape []int64
}

// Spec describes a model in data, so a pipeline never hard-codes tensor
// geometry and a user can plug in a replacement model by configuration.
type Spec struct {
	Name    string // short id, e.g. "fr_feature"
	File    string // path of the .onnx (or TF.js model.json) in the model cache
	Input   ImageInput
	Outputs []Output
}

// Scale returns per-channel multipliers and offsets: value = pixel*scale + offset.
func (in ImageInput) Scale() (scale, offset [3]float32) {
	for c := range 3 {
		std := in.Std[c]
		if std == 0 {
			std = 1
		}
		scale[c] = 1 / std
		offset[c] = -in.Mean[c] / std
	}
	return scale, offset
}

// InputShape is the batch-1 input shape for the default size.
func (s Spec) InputShape() []int64 {
	w, h, c := int64(s.Input.Width), int64(s.Input.Height), s.Input.Order.Channels()
	if s.Input.Layout == NHWC {
		return []int64{1, h, w, c}
	}
	return []int64{1, c, h, w}
}

// IOInfo is a model input or output as the graph declares it.
type IOInfo struct {
	Name  string
	Shape []int64 // -1 for symbolic dimensions
}

// Check compares the description with what the graph declares.
func (s Spec) Check(inputs, outputs []IOInfo) error {
	if len(inputs) != 1 {
		return fmt.Errorf("infer: %s: graph has %d inputs, spec describes 1", s.Name, len(inputs))
	}
	in := inputs[0]
	if in.Name != s.Input.Name {
		return fmt.Errorf("infer: %s: graph input %q, spec says %q", s.Name, in.Name, s.Input.Name)
	}
	if err := matchShape(in.Shape, s.InputShape(), s.Input.DynamicSize); err != nil {
		return fmt.Errorf("infer: %s: input %q: %w", s.Name, in.Name, err)
	}
	if len(outputs) != len(s.Outputs) {
		return fmt.Errorf("infer: %s: graph has %d outputs, spec describes %d", s.Name, len(outputs), len(s.Outputs))
	}
	for i, o := range s.Outputs {
		g := outputs[i]
		if g.Name != o.Name {
			return fmt.Errorf("infer: %s: output %d is %q, spec says %q", s.Name, i, g.Name, o.Name)
		}
		if err := matchShape(g.Shape, o.Shape, true); err != nil {
			return fmt.Errorf("infer: %s: output %q: %w", s.Name, o.Name, err)
		}
	}
	return nil
}

// matchShape accepts a symbolic graph dimension (<=0) wherever the spec is
// concrete only for the batch axis, or anywhere when dynamic is set.
func matchShape(graph, spec []int64, dynamic bool) error {
	if len(graph) != len(spec) {
		return fmt.Errorf("rank %d (%v), want %v", len(graph), graph, spec)
	}
	for i := range graph {
		g, w := graph[i], spec[i]
		switch {
		case g == w, w < 0:
		case g <= 0 && (i == 0 || dynamic):
		default:
			return fmt.Errorf("shape %v, want %v", graph, spec)
		}
	}
	return nil
}

// OutputNames returns the output names in order.
func (s Spec) OutputNames() []string {
	names := make([]string, len(s.Outputs))
	for i, o := range s.Outputs {
		names[i] = o.Name
	}
	return names
}

// Clone returns a deep copy (specs are values users may override).
func (s Spec) Clone() Spec {
	c := s
	c.Outputs = slices.Clone(s.Outputs)
	for i := range c.Outputs {
		c.Outputs[i].Shape = slices.Clone(s.Outputs[i].Shape)
	}
	return c
}
