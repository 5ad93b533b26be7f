package imageio

import (
	"fmt"
	"image"
	"image/color"

	"github.com/livenessd/livenessd/internal/infer"
)

// ToTensor writes img into dst as a batch-1 model input described by in:
// channel order (RGB, BGR or Gray = BT.601 luma), layout (NCHW or NHWC) and
// value = (pixel - Mean[c]) / Std[c]. The image must already have the input's
// size (any size when in.DynamicSize); dst must hold at least
// channels*width*height values. It does not allocate for *image.NRGBA,
// *image.RGBA (opaque) and *image.Gray.
func ToTensor(dst []float32, img image.Image, in infer.ImageInput) error {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if !in.DynamicSize && (w != in.Width || h != in.Height) {
		return fmt.Errorf("imageio: tensor %s: image is %dx%d, input wants %dx%d", in.Name, w, h, in.Width, in.Height)
	}
	ch := int(in.Order.Channels())
	if len(dst) < ch*w*h {
		return fmt.Errorf("imageio: tensor %s: buffer holds %d values, needs %d", in.Name, len(dst), ch*w*h)
	}
	if in.Layout != infer.NCHW && in.Layout != infer.NHWC {
		return fmt.Errorf("imageio: tensor %s: unknown layout %q", in.Name, in.Layout)
	}
	scale, off := in.Scale()
	// Source channel index for each destination channel.
	ri, gi, bi := 0, 1, 2
	if in.Order == infer.BGR {
		ri, bi = 2, 0
	}
	plane := w * h
	var pix []uint8
	var stride, step int
	switch m := img.(type) {
	case *image.NRGBA:
		pix, stride, step = m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride, 4
	case *image.RGBA:
		pix, stride, step = m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride, 4
	case *image.Gray:
		pix, stride, step = m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride, 1
	}
	if pix != nil && step == 4 {
		fill4(dst, pix, stride, w, h, ch, in.Layout == infer.NCHW, ri, bi, scale, off)
		return nil
	}
	px := func(x, y int) (r, g, bb uint8) {
		if pix != nil {
			v := pix[y*stride+x]
			return v, v, v
		}
		c := color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
		return c.R, c.G, c.B
	}
	if ch == 1 {
		s, o := scale[0], off[0]
		for y := range h {
			d := dst[y*w : y*w+w]
			for x := range d {
				r, g, bb := px(x, y)
				d[x] = Luma(r, g, bb)*s + o
			}
		}
		return nil
	}
	for y := range h {
		for x := range w {
			r, g, bb := px(x, y)
			v := [3]uint8{r, g, bb}
			c0, c1, c2 := float32(v[ri])*scale[0]+off[0], float32(v[gi])*scale[1]+off[1], float32(v[bi])*scale[2]+off[2]
			if in.Layout == infer.NCHW {
				i := y*w + x
				dst[i], dst[plane+i], dst[2*plane+i] = c0, c1, c2
			} else {
				i := 3 * (y*w + x)
				dst[i], dst[i+1], dst[i+2] = c0, c1, c2
			}
		}
	}
	return nil
}

// fill4 is ToTensor's loop for 4-byte RGBA-ordered pixels.
func fill4(dst []float32, pix []uint8, stride, w, h, ch int, nchw bool, ri, bi int, scale, off [3]float32) {
	plane := w * h
	if ch == 1 {
		s, o := scale[0], off[0]
		for y := range h {
			row := pix[y*stride : y*stride+4*w]
			d := dst[y*w : y*w+w]
			for x := range d {
				p := row[4*x : 4*x+3 : 4*x+3]
				d[x] = Luma(p[0], p[1], p[2])*s + o
			}
		}
		return
	}
	s0, s1, s2 := scale[0], scale[1], scale[2]
	o0, o1, o2 := off[0], off[1], off[2]
	for y := range h {
		row := pix[y*stride : y*stride+4*w]
		if nchw {
			d0 := dst[y*w : y*w+w]
			d1 := dst[plane+y*w : plane+y*w+w]
			d2 := dst[2*plane+y*w : 2*plane+y*w+w]
			for x := range d0 {
				p := row[4*x : 4*x+3 : 4*x+3]
				d0[x] = float32(p[ri])*s0 + o0
				d1[x] = float32(p[1])*s1 + o1
				d2[x] = float32(p[bi])*s2 + o2
			}
			continue
		}
		d := dst[3*y*w : 3*y*w+3*w]
		for x := range w {
			p := row[4*x : 4*x+3 : 4*x+3]
			q := d[3*x : 3*x+3 : 3*x+3]
			q[0] = float32(p[ri])*s0 + o0
			q[1] = float32(p[1])*s1 + o1
			q[2] = float32(p[bi])*s2 + o2
		}
	}
}

// NewInput allocates a batch-1 input tensor for in with img's size and fills
// it from img (see ToTensor).
func NewInput(img image.Image, in infer.ImageInput) (infer.Tensor, error) {
	b := img.Bounds()
	w, h := int64(b.Dx()), int64(b.Dy())
	c := in.Order.Channels()
	shape := []int64{1, c, h, w}
	if in.Layout == infer.NHWC {
		shape = []int64{1, h, w, c}
	}
	t := infer.NewTensor(shape...)
	if err := ToTensor(t.Data, img, in); err != nil {
		return infer.Tensor{}, err
	}
	return t, nil
}
