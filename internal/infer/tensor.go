// Package infer runs neural networks: it owns ONNX Runtime (the only package
// that imports onnxruntime_go), describes each model in data, checks the
// description against the graph at load, and prepares model bytes (denormal
// flushing; TF.js translation lives in the tfjs sub-package).
package infer

import (
	"errors"
	"fmt"
)

// Tensor is a dense float32 tensor in row-major order.
type Tensor struct {
	Shape []int64
	Data  []float32
}

// NewTensor returns a zeroed tensor of the given shape.
func NewTensor(shape ...int64) Tensor {
	return Tensor{Shape: shape, Data: make([]float32, numel(shape))}
}

// Len is the number of elements the shape describes.
func (t Tensor) Len() int { return numel(t.Shape) }

// Validate reports whether the data length matches the shape.
func (t Tensor) Validate() error {
	for _, d := range t.Shape {
		if d <= 0 {
			return fmt.Errorf("infer: invalid dimension %d in shape %v", d, t.Shape)
		}
	}
	if n := numel(t.Shape); n != len(t.Data) {
		return fmt.Errorf("infer: shape %v needs %d values, have %d", t.Shape, n, len(t.Data))
	}
	return nil
}

func numel(shape []int64) int {
	n := 1
	for _, d := range shape {
		n *= int(d)
	}
	return n
}

// ErrRuntimeUnavailable is returned when the ONNX Runtime library cannot be loaded.
var ErrRuntimeUnavailable = errors.New("infer: ONNX Runtime unavailable")

// ErrClosed is returned by Run on a closed session.
var ErrClosed = errors.New("infer: session closed")
