package imageio

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"runtime/debug"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/livenessd/livenessd"
)

// DefaultDecodeBudget is the memory that the decodes in flight may use
// together: one 40-megapixel 8-bit RGBA PNG (decoder output and the NRGBA
// copy, 8 bytes a pixel) fits; a 16-bit one of the same size does not.
const DefaultDecodeBudget = 400 << 20

// DefaultBudgetWait is how long a decode waits for budget before the
// request is refused as overloaded.
const DefaultBudgetWait = 2 * time.Second

// Budget bounds the memory that image decodes in flight use together, so
// a few decompression bombs (a 100 KB PNG declaring 36 megapixels) cannot
// take the process's memory whatever the pixel limit lets through. Each
// decode reserves its cost, estimated from the header, before any pixel is
// decoded: an image whose cost alone exceeds the budget is refused
// (ErrTooManyPixels), one that must wait longer than the wait is refused
// as overload (ErrOverloaded). Safe for concurrent use; nil is no budget.
type Budget struct {
	sem  *semaphore.Weighted
	size int64
	wait time.Duration
}

// NewBudget returns a budget of bytes; a decode waits at most wait for its
// share (0: DefaultBudgetWait).
func NewBudget(bytes int64, wait time.Duration) *Budget {
	if wait <= 0 {
		wait = DefaultBudgetWait
	}
	return &Budget{sem: semaphore.NewWeighted(bytes), size: bytes, wait: wait}
}

// reserve takes cost bytes of b for a decode of a w x h image; release
// gives them back.
func (b *Budget) reserve(cost int64, w, h int) (release func(), err error) {
	if b == nil {
		return func() {}, nil
	}
	if cost > b.size {
		return nil, fmt.Errorf("imageio: %w", &LimitError{Kind: livenessd.ErrTooManyPixels, Limit: b.size,
			Actual: cost, Unit: UnitDecodeBytes, Width: w, Height: h})
	}
	ctx, cancel := context.WithTimeout(context.Background(), b.wait)
	defer cancel()
	if err := b.sem.Acquire(ctx, cost); err != nil {
		return nil, fmt.Errorf("imageio: no decode memory free within %v: %w", b.wait, livenessd.ErrOverloaded)
	}
	if cost >= collectAbove {
		// The decode that gave this share back collected before its
		// caller had the image, so that image may be garbage only now.
		// Collect again before allocating: else one finished result the
		// caller has already dropped stays in the heap beside this decode
		// (a 36-megapixel image is 137 MiB over the budget).
		debug.FreeOSMemory()
	}
	return func() {
		if cost >= collectAbove {
			// The decoder's buffers are garbage now. Collect and hand the
			// pages back before the next decode takes their place: else
			// the heap grows to twice what was live at the last cycle
			// (GOGC), and large buffers freed in one place rarely fit the
			// next decode's, so the budget would bound only part of the
			// memory.
			debug.FreeOSMemory()
		}
		b.sem.Release(cost)
	}, nil
}

// collectAbove is the decode cost from which its release runs a collection
// (a 12-megapixel RGB PNG is about 96 MB; a 640x480 frame 2.5 MB).
const collectAbove = 64 << 20

// decodeCost estimates the peak bytes a full decode of an image with
// header cfg takes: the decoder's own image (bytes a pixel by colour
// model; progressive JPEGs keep every coefficient as well) and the NRGBA
// copy made of it.
func decodeCost(f Format, cfg image.Config, progressive bool) int64 {
	px := int64(cfg.Width) * int64(cfg.Height)
	var decoded int64
	switch f {
	case JPEG:
		decoded = 3 // YCbCr 4:4:4 at most (CMYK is refused by Decode's callers too rarely to count)
		if progressive {
			decoded += 3 * 4 // image/jpeg keeps an int32 coefficient per sample
		}
	case PNG:
		switch cfg.ColorModel {
		case color.GrayModel, color.AlphaModel:
			decoded = 1
		case color.Gray16Model, color.Alpha16Model:
			decoded = 2
		case color.RGBA64Model, color.NRGBA64Model:
			decoded = 8
		default:
			if _, ok := cfg.ColorModel.(color.Palette); ok {
				decoded = 1
			} else {
				decoded = 4
			}
		}
	default: // WebP: lossless NRGBA, or lossy YCbCr with alpha
		decoded = 4
	}
	return px * (decoded + 4)
}

// reducedCost is decodeCost for libjpeg-turbo at scale 1/denom: the NRGBA
// output at that scale, and for progressive JPEGs the coefficients, which
// libjpeg keeps at full size (2 bytes a sample).
func reducedCost(cfg image.Config, denom int, progressive bool) int64 {
	w, h := int64((cfg.Width+denom-1)/denom), int64((cfg.Height+denom-1)/denom)
	cost := 4 * w * h
	if progressive {
		cost += 2 * 3 * int64(cfg.Width) * int64(cfg.Height)
	}
	return cost
}
