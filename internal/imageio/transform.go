package imageio

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"math"
)

// Crop returns a copy of the pixels of img inside r (in img's coordinates) as
// a new image with origin (0,0) and size r. Parts of r outside img are opaque
// black, so a crop around a face cut off by the frame keeps its geometry.
func Crop(img *image.NRGBA, r image.Rectangle) *image.NRGBA {
	r = r.Canon()
	dst := image.NewNRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	for i := 3; i < len(dst.Pix); i += 4 {
		dst.Pix[i] = 255
	}
	in := r.Intersect(img.Bounds())
	if in.Empty() {
		return dst
	}
	n := 4 * in.Dx()
	for y := in.Min.Y; y < in.Max.Y; y++ {
		s := img.Pix[img.PixOffset(in.Min.X, y):]
		d := dst.Pix[dst.PixOffset(in.Min.X-r.Min.X, y-r.Min.Y):]
		copy(d[:n], s[:n])
	}
	return dst
}

// Resize returns img scaled to w x h with bilinear interpolation (pixel
// centres aligned, edges clamped). For reductions by more than 2x it first
// averages k x k blocks (k = the integer part of the smaller factor), so the
// result does not alias the way plain bilinear sampling does.
func Resize(img *image.NRGBA, w, h int) *image.NRGBA {
	dst := image.NewNRGBA(image.Rect(0, 0, max(w, 0), max(h, 0)))
	ResizeInto(dst, img)
	return dst
}

// ResizeInto scales src to fill dst's bounds (see Resize), reusing dst's
// pixels: no allocation unless src is reduced by more than 2x.
func ResizeInto(dst, src *image.NRGBA) {
	sb, db := src.Bounds(), dst.Bounds()
	sw, sh, dw, dh := sb.Dx(), sb.Dy(), db.Dx(), db.Dy()
	if sw <= 0 || sh <= 0 || dw <= 0 || dh <= 0 {
		return
	}
	if k := min(sw/dw, sh/dh); k >= 2 {
		src = boxReduce(src, k)
		sb = src.Bounds()
		sw, sh = sb.Dx(), sb.Dy()
	}
	fx, fy := float32(sw)/float32(dw), float32(sh)/float32(dh)
	// Per-column source indices and weights, computed once.
	x0s := make([]int32, dw)
	wxs := make([]float32, dw)
	for x := range dw {
		sx := (float32(x)+0.5)*fx - 0.5
		sx = max(sx, 0)
		ix := int(sx)
		if ix >= sw-1 {
			ix, sx = sw-1, float32(sw-1)
		}
		x0s[x], wxs[x] = int32(ix), sx-float32(ix)
	}
	for y := range dh {
		sy := max((float32(y)+0.5)*fy-0.5, 0)
		iy := int(sy)
		if iy >= sh-1 {
			iy, sy = sh-1, float32(sh-1)
		}
		wy := sy - float32(iy)
		iy1 := min(iy+1, sh-1)
		r0 := src.Pix[src.PixOffset(sb.Min.X, sb.Min.Y+iy):]
		r1 := src.Pix[src.PixOffset(sb.Min.X, sb.Min.Y+iy1):]
		d := dst.Pix[dst.PixOffset(db.Min.X, db.Min.Y+y):]
		for x := range dw {
			i0 := 4 * int(x0s[x])
			i1 := i0
			if int(x0s[x]) < sw-1 {
				i1 += 4
			}
			wx := wxs[x]
			for c := range 4 {
				top := float32(r0[i0+c]) + (float32(r0[i1+c])-float32(r0[i0+c]))*wx
				bot := float32(r1[i0+c]) + (float32(r1[i1+c])-float32(r1[i0+c]))*wx
				d[4*x+c] = uint8(top + (bot-top)*wy + 0.5)
			}
		}
	}
}

// boxReduce averages k x k blocks (the last partial row/column is dropped).
func boxReduce(src *image.NRGBA, k int) *image.NRGBA {
	sb := src.Bounds()
	w, h := sb.Dx()/k, sb.Dy()/k
	dst := image.NewNRGBA(image.Rect(0, 0, w, h))
	acc := make([]uint32, 4*w)
	n := uint32(k * k)
	for y := range h {
		clear(acc)
		for yy := range k {
			row := src.Pix[src.PixOffset(sb.Min.X, sb.Min.Y+y*k+yy):]
			row = row[:4*w*k]
			for x := range w {
				p := row[4*x*k : 4*(x+1)*k]
				var r, g, b, a uint32
				for i := 0; i+3 < len(p); i += 4 {
					r += uint32(p[i])
					g += uint32(p[i+1])
					b += uint32(p[i+2])
					a += uint32(p[i+3])
				}
				q := acc[4*x : 4*x+4 : 4*x+4]
				q[0] += r
				q[1] += g
				q[2] += b
				q[3] += a
			}
		}
		d := dst.Pix[y*dst.Stride : y*dst.Stride+4*w]
		for i, v := range acc {
			d[i] = uint8((v + n/2) / n)
		}
	}
	return dst
}

// EncodeJPEG encodes img as baseline JPEG; quality is clamped to 1..100.
func EncodeJPEG(img image.Image, quality int) ([]byte, error) {
	var buf bytes.Buffer
	b := img.Bounds()
	buf.Grow(b.Dx()*b.Dy()/4 + 1024)
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: min(max(quality, 1), 100)}); err != nil {
		return nil, fmt.Errorf("imageio: encode jpeg: %w", err)
	}
	return buf.Bytes(), nil
}

// Luma returns the ITU-R BT.601 luma of (r,g,b) in 0..255.
func Luma(r, g, b uint8) float32 {
	return 0.299*float32(r) + 0.587*float32(g) + 0.114*float32(b)
}

// RectFromFloat returns the integer rectangle covering [x, x+w) x [y, y+h),
// rounding outwards.
func RectFromFloat(x, y, w, h float64) image.Rectangle {
	return image.Rect(int(math.Floor(x)), int(math.Floor(y)), int(math.Ceil(x+w)), int(math.Ceil(y+h)))
}
