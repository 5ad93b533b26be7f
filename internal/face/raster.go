package face

import (
	"image"
	"math"

	"github.com/livenessd/livenessd/internal/infer"
)

// raster is an 8-bit interleaved RGB image, the one pixel format every
// model input is sampled from. Converting once per image keeps the
// per-pixel work of the samplers free of interface calls.
type raster struct {
	W, H int
	Pix  []uint8 // RGB, row-major, stride 3*W
}

// newRaster converts any image.Image to RGB, with fast paths for the types
// the decoders return.
func newRaster(img image.Image) *raster {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	r := &raster{W: w, H: h, Pix: make([]uint8, 3*w*h)}
	switch m := img.(type) {
	case *image.YCbCr:
		for y := range h {
			o := 3 * y * w
			for x := range w {
				yi := m.YOffset(b.Min.X+x, b.Min.Y+y)
				ci := m.COffset(b.Min.X+x, b.Min.Y+y)
				r.Pix[o], r.Pix[o+1], r.Pix[o+2] = ycbcrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
				o += 3
			}
		}
	case *image.NRGBA:
		// Unpremultiplied: composite over black like image/draw would.
		for y := range h {
			src := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			o := 3 * y * w
			for x := range w {
				if src[4*x+3] == 255 {
					r.Pix[o], r.Pix[o+1], r.Pix[o+2] = src[4*x], src[4*x+1], src[4*x+2]
					o += 3
					continue
				}
				a := uint32(src[4*x+3])
				r.Pix[o] = uint8(uint32(src[4*x]) * a / 255)
				r.Pix[o+1] = uint8(uint32(src[4*x+1]) * a / 255)
				r.Pix[o+2] = uint8(uint32(src[4*x+2]) * a / 255)
				o += 3
			}
		}
	case *image.RGBA:
		for y := range h {
			src := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			o := 3 * y * w
			for x := range w {
				r.Pix[o], r.Pix[o+1], r.Pix[o+2] = src[4*x], src[4*x+1], src[4*x+2]
				o += 3
			}
		}
	case *image.Gray:
		for y := range h {
			src := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			o := 3 * y * w
			for x := range w {
				v := src[x]
				r.Pix[o], r.Pix[o+1], r.Pix[o+2] = v, v, v
				o += 3
			}
		}
	default:
		o := 0
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				cr, cg, cb, _ := img.At(x, y).RGBA()
				r.Pix[o], r.Pix[o+1], r.Pix[o+2] = uint8(cr>>8), uint8(cg>>8), uint8(cb>>8)
				o += 3
			}
		}
	}
	return r
}

// ycbcrToRGB is image/color's JFIF conversion, inlined.
func ycbcrToRGB(y, cb, cr uint8) (uint8, uint8, uint8) {
	yy := int32(y) * 0x10101
	cb1 := int32(cb) - 128
	cr1 := int32(cr) - 128
	r := yy + 91881*cr1
	g := yy - 22554*cb1 - 46802*cr1
	b := yy + 116130*cb1
	return clamp8(r), clamp8(g), clamp8(b)
}

func clamp8(v int32) uint8 {
	if uint32(v)&0xff000000 == 0 {
		return uint8(v >> 16)
	}
	if v < 0 {
		return 0
	}
	return 255
}

// half returns the image at half size, each pixel the mean of a 2x2 block.
func (r *raster) half() *raster { return halve(r.Pix, r.W, r.H, 3*r.W, 3) }

// halve shrinks a w x h image of bpp bytes per pixel (RGB first) and the
// given stride to an RGB raster of half its size, each pixel the rounded
// mean of a 2x2 block (the last row or column repeated when odd).
func halve(pix []uint8, w, h, stride, bpp int) *raster {
	ow, oh := max(1, w/2), max(1, h/2)
	out := &raster{W: ow, H: oh, Pix: make([]uint8, 3*ow*oh)}
	for y := range oh {
		r0 := pix[min(2*y, h-1)*stride:]
		r1 := pix[min(2*y+1, h-1)*stride:]
		o := out.Pix[3*y*ow : 3*(y+1)*ow]
		for x := range ow {
			i0, i1 := bpp*min(2*x, w-1), bpp*min(2*x+1, w-1)
			for c := range 3 {
				s := int(r0[i0+c]) + int(r0[i1+c]) + int(r1[i0+c]) + int(r1[i1+c])
				o[3*x+c] = uint8((s + 2) / 4)
			}
		}
	}
	return out
}

// pyramid holds an image and its successive halvings, built on demand, so
// that a sampler that shrinks by a factor s reads the level whose pixels
// are at most twice the sampling step and bilinear sampling does not alias.
// Level 0, the image itself as RGB, is also built on demand: an opaque
// NRGBA (what imageio decodes) is halved straight into level 1, so a large
// photo whose faces are only ever sampled shrunk never pays for a
// full-size copy. It is not safe for concurrent use; each analysis builds
// its own.
type pyramid struct {
	src    image.Image
	w, h   int
	levels []*raster // levels[0] nil until needed
}

func newPyramid(img image.Image) *pyramid {
	b := img.Bounds()
	return &pyramid{src: img, w: b.Dx(), h: b.Dy(), levels: []*raster{nil}}
}

// size is the image's size in pixels (level 0).
func (p *pyramid) size() (int, int) { return p.w, p.h }

// base is level 0.
func (p *pyramid) base() *raster {
	if p.levels[0] == nil {
		p.levels[0] = newRaster(p.src)
	}
	return p.levels[0]
}

// level returns the level to sample when one output pixel spans step input
// pixels, and its size factor (2^k).
func (p *pyramid) level(step float64) (*raster, float64) {
	k := 0
	if step >= 2 {
		k = int(math.Floor(math.Log2(step)))
	}
	if k == 0 {
		return p.base(), 1
	}
	if len(p.levels) == 1 {
		if p.w < 16 || p.h < 16 {
			return p.base(), 1
		}
		p.levels = append(p.levels, p.halfOfSource())
	}
	for len(p.levels) <= k {
		last := p.levels[len(p.levels)-1]
		if last.W < 16 || last.H < 16 {
			k = len(p.levels) - 1
			break
		}
		p.levels = append(p.levels, last.half())
	}
	return p.levels[k], math.Ldexp(1, k)
}

// halfOfSource is level 1, halved from the source itself when it is an
// opaque NRGBA with level 0 not built yet, else from level 0.
func (p *pyramid) halfOfSource() *raster {
	if m, ok := p.src.(*image.NRGBA); ok && p.levels[0] == nil && opaque(m) {
		return halve(m.Pix[m.PixOffset(m.Rect.Min.X, m.Rect.Min.Y):], p.w, p.h, m.Stride, 4)
	}
	return p.base().half()
}

// opaque reports whether every pixel of m has alpha 255 (newRaster would
// composite the others over black).
func opaque(m *image.NRGBA) bool {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	for y := range h {
		row := m.Pix[m.PixOffset(m.Rect.Min.X, m.Rect.Min.Y+y):][:4*w]
		for i := 3; i < len(row); i += 4 {
			if row[i] != 255 {
				return false
			}
		}
	}
	return true
}

// affine maps output pixel coordinates to source coordinates:
// sx = A*x + B*y + C, sy = D*x + E*y + F (continuous coordinates, pixel
// centres at +0.5).
type affine struct{ A, B, C, D, E, F float64 }

func (m affine) apply(x, y float64) (float64, float64) {
	return m.A*x + m.B*y + m.C, m.D*x + m.E*y + m.F
}

// step is the geometric mean scale of the map (source pixels per output pixel).
func (m affine) step() float64 { return math.Sqrt(math.Abs(m.A*m.E - m.B*m.D)) }

// invert returns the inverse map; ok is false for a singular map.
func (m affine) invert() (affine, bool) {
	det := m.A*m.E - m.B*m.D
	if det == 0 || math.IsNaN(det) || math.IsInf(det, 0) {
		return affine{}, false
	}
	a, b, d, e := m.E/det, -m.B/det, -m.D/det, m.A/det
	return affine{A: a, B: b, C: -(a*m.C + b*m.F), D: d, E: e, F: -(d*m.C + e*m.F)}, true
}

// Border says what a sampler reads outside the source image.
type border int

const (
	borderReplicate border = iota // nearest edge pixel
	borderConstant                // the model's mean (input value 0)
)

// sample fills a w x h model input through the map m (output -> base-level
// source coordinates), converting channels and normalising as the input
// description says. It appends to dst (len 0, any cap) and returns it.
func sample(p *pyramid, m affine, in infer.ImageInput, w, h int, bd border, dst []float32) []float32 {
	lv, f := p.level(m.step())
	// Rescale the map into level coordinates.
	lm := affine{A: m.A / f, B: m.B / f, C: m.C / f, D: m.D / f, E: m.E / f, F: m.F / f}
	nc := int(in.Order.Channels())
	n := w * h * nc
	if cap(dst) < n {
		dst = make([]float32, n)
	}
	dst = dst[:n]
	scale, offset := in.Scale()
	var chanIdx [3]int // output channel c reads RGB index chanIdx[c]
	switch in.Order {
	case infer.BGR:
		chanIdx = [3]int{2, 1, 0}
	default:
		chanIdx = [3]int{0, 1, 2}
	}
	plane := w * h
	for y := range h {
		for x := range w {
			sx, sy := lm.apply(float64(x)+0.5, float64(y)+0.5)
			rgb, inside := bilinear(lv, sx-0.5, sy-0.5, bd)
			var px [3]float32
			if !inside && bd == borderConstant {
				// Zero after normalisation.
				for c := range nc {
					px[c] = in.Mean[c]
				}
				if in.Order == infer.Gray {
					px[0] = in.Mean[0]
				}
			} else if in.Order == infer.Gray {
				px[0] = 0.299*rgb[0] + 0.587*rgb[1] + 0.114*rgb[2]
			} else {
				for c := range 3 {
					px[c] = rgb[chanIdx[c]]
				}
			}
			for c := range nc {
				v := px[c]*scale[c] + offset[c]
				if in.Layout == infer.NHWC {
					dst[(y*w+x)*nc+c] = v
				} else {
					dst[c*plane+y*w+x] = v
				}
			}
		}
	}
	return dst
}

// bilinear reads the RGB value at continuous pixel position (x, y) (pixel
// centres at integers). inside is false when the point lies outside the
// image by more than half a pixel.
func bilinear(r *raster, x, y float64, bd border) ([3]float32, bool) {
	inside := x >= -0.5 && y >= -0.5 && x <= float64(r.W)-0.5 && y <= float64(r.H)-0.5
	if !inside && bd == borderConstant {
		return [3]float32{}, false
	}
	// Clamp with comparisons: math.Min/Max handle NaN and signed zeros and
	// cost a call each, on the per-pixel path.
	if !(x > 0) {
		x = 0
	} else if mx := float64(r.W - 1); x > mx {
		x = mx
	}
	if !(y > 0) {
		y = 0
	} else if my := float64(r.H - 1); y > my {
		y = my
	}
	x0, y0 := int(x), int(y)
	x1, y1 := min(x0+1, r.W-1), min(y0+1, r.H-1)
	fx, fy := float32(x-float64(x0)), float32(y-float64(y0))
	i00, i01 := 3*(y0*r.W+x0), 3*(y0*r.W+x1)
	i10, i11 := 3*(y1*r.W+x0), 3*(y1*r.W+x1)
	var out [3]float32
	for c := range 3 {
		top := float32(r.Pix[i00+c])*(1-fx) + float32(r.Pix[i01+c])*fx
		bot := float32(r.Pix[i10+c])*(1-fx) + float32(r.Pix[i11+c])*fx
		out[c] = top*(1-fy) + bot*fy
	}
	return out, inside
}

// inputTensor wraps sampled data in the model's batch-1 shape.
func inputTensor(in infer.ImageInput, w, h int, data []float32) infer.Tensor {
	c := in.Order.Channels()
	if in.Layout == infer.NHWC {
		return infer.Tensor{Shape: []int64{1, int64(h), int64(w), c}, Data: data}
	}
	return infer.Tensor{Shape: []int64{1, c, int64(h), int64(w)}, Data: data}
}
