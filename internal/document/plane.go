package document

import (
	"image"
	"math"
	"slices"
)

// plane is a one-channel float image (0-255 for intensities), the format
// every measurement here works on: converting once keeps the filters free
// of interface calls.
type plane struct {
	w, h int
	pix  []float32
}

func newPlane(w, h int) *plane { return &plane{w: w, h: h, pix: make([]float32, w*h)} }

func (p *plane) at(x, y int) float32 { return p.pix[y*p.w+x] }

// luma converts img to ITU-R BT.601 luma.
func luma(img image.Image) *plane {
	return pixelPlane(img, func(r, g, b float32) float32 { return 0.299*r + 0.587*g + 0.114*b })
}

// pixelPlane maps every pixel's 8-bit R, G, B through f.
func pixelPlane(img image.Image, f func(r, g, b float32) float32) *plane {
	bd := img.Bounds()
	p := newPlane(bd.Dx(), bd.Dy())
	if m, ok := img.(*image.NRGBA); ok {
		for y := range p.h {
			row := m.Pix[m.PixOffset(bd.Min.X, bd.Min.Y+y):]
			for x := range p.w {
				p.pix[y*p.w+x] = f(float32(row[4*x]), float32(row[4*x+1]), float32(row[4*x+2]))
			}
		}
		return p
	}
	for y := range p.h {
		for x := range p.w {
			r, g, b, _ := img.At(bd.Min.X+x, bd.Min.Y+y).RGBA()
			p.pix[y*p.w+x] = f(float32(r)/257, float32(g)/257, float32(b)/257)
		}
	}
	return p
}

// sample is bilinear interpolation with edge replication.
func (p *plane) sample(x, y float64) float32 {
	if x < 0 {
		x = 0
	}
	if y < 0 {
		y = 0
	}
	if x > float64(p.w-1) {
		x = float64(p.w - 1)
	}
	if y > float64(p.h-1) {
		y = float64(p.h - 1)
	}
	x0, y0 := int(x), int(y)
	x1, y1 := min(x0+1, p.w-1), min(y0+1, p.h-1)
	fx, fy := float32(x-float64(x0)), float32(y-float64(y0))
	a := p.pix[y0*p.w+x0]*(1-fx) + p.pix[y0*p.w+x1]*fx
	b := p.pix[y1*p.w+x0]*(1-fx) + p.pix[y1*p.w+x1]*fx
	return a*(1-fy) + b*fy
}

// resize scales to w x h: box-averaged by the integer part of the
// reduction first (no aliasing of thin strokes), then bilinear.
func (p *plane) resize(w, h int) *plane {
	src := p
	if k := min(p.w/w, p.h/h); k >= 2 {
		src = p.shrink(k)
	}
	out := newPlane(w, h)
	sx, sy := float64(src.w)/float64(w), float64(src.h)/float64(h)
	for y := range h {
		fy := (float64(y)+0.5)*sy - 0.5
		for x := range w {
			out.pix[y*w+x] = src.sample((float64(x)+0.5)*sx-0.5, fy)
		}
	}
	return out
}

// shrink averages k x k blocks.
func (p *plane) shrink(k int) *plane {
	w, h := p.w/k, p.h/k
	out := newPlane(w, h)
	inv := 1 / float32(k*k)
	for y := range h {
		for x := range w {
			var s float32
			for dy := range k {
				row := p.pix[(y*k+dy)*p.w+x*k:]
				for dx := range k {
					s += row[dx]
				}
			}
			out.pix[y*w+x] = s * inv
		}
	}
	return out
}

// warp fills a w x h plane with p sampled at m(x, y), m mapping output to
// source pixels.
func (p *plane) warp(w, h int, m func(x, y float64) (float64, float64)) *plane {
	out := newPlane(w, h)
	for y := range h {
		for x := range w {
			sx, sy := m(float64(x), float64(y))
			out.pix[y*w+x] = p.sample(sx, sy)
		}
	}
	return out
}

// rotate turns the plane by angle radians (counter-clockwise in image
// coordinates, y down) about its centre, growing the canvas to fit.
func (p *plane) rotate(angle float64) *plane {
	c, s := math.Cos(angle), math.Sin(angle)
	w := int(math.Ceil(math.Abs(float64(p.w)*c) + math.Abs(float64(p.h)*s)))
	h := int(math.Ceil(math.Abs(float64(p.w)*s) + math.Abs(float64(p.h)*c)))
	cx, cy := float64(p.w-1)/2, float64(p.h-1)/2
	ox, oy := float64(w-1)/2, float64(h-1)/2
	return p.warp(w, h, func(x, y float64) (float64, float64) {
		dx, dy := x-ox, y-oy
		return cx + c*dx + s*dy, cy - s*dx + c*dy
	})
}

// morph is a rectangular min (erode) or max (dilate) filter, separable,
// in constant time per pixel whatever the kernel (van Herk / Gil-Werman).
// Pixels outside the plane do not take part.
func (p *plane) morph(kw, kh int, dilate bool) *plane {
	tmp := newPlane(p.w, p.h)
	f := &filter1D{dilate: dilate}
	for y := range p.h {
		f.run(p.pix[y*p.w:(y+1)*p.w], 1, tmp.pix[y*p.w:(y+1)*p.w], 1, kw/2)
	}
	out := newPlane(p.w, p.h)
	for x := range p.w {
		f.run(tmp.pix[x:], p.w, out.pix[x:], p.w, kh/2)
	}
	return out
}

// filter1D holds the scratch of a sliding min or max over one row or
// column.
type filter1D struct {
	dilate     bool
	pad, g, hh []float32
}

// run writes to dst[i*ds] the extreme of src[j*ss] over |j-i| <= r, for
// the (len(src)-1)/ss+1 elements src holds at stride ss (a row at 1, a
// column at the plane's width).
func (f *filter1D) run(src []float32, ss int, dst []float32, ds int, r int) {
	n := (len(src)-1)/ss + 1
	if r <= 0 {
		for i := range n {
			dst[i*ds] = src[i*ss]
		}
		return
	}
	k := 2*r + 1
	id := float32(math.Inf(1))
	pick := func(a, b float32) float32 { return min(a, b) }
	if f.dilate {
		id = float32(math.Inf(-1))
		pick = func(a, b float32) float32 { return max(a, b) }
	}
	m := n + 2*r
	m += (k - m%k) % k // whole blocks
	if cap(f.pad) < m {
		f.pad, f.g, f.hh = make([]float32, m), make([]float32, m), make([]float32, m)
	}
	pad, g, h := f.pad[:m], f.g[:m], f.hh[:m]
	for i := range pad {
		pad[i] = id
	}
	for i := range n {
		pad[r+i] = src[i*ss]
	}
	for b := 0; b < m; b += k {
		g[b] = pad[b]
		for i := b + 1; i < b+k; i++ {
			g[i] = pick(g[i-1], pad[i])
		}
		h[b+k-1] = pad[b+k-1]
		for i := b + k - 2; i >= b; i-- {
			h[i] = pick(h[i+1], pad[i])
		}
	}
	// Window [i, i+k-1] in padded coordinates is centred on src[i].
	for i := range n {
		dst[i*ds] = pick(h[i], g[i+k-1])
	}
}

// close is dilate then erode; blackhat (close - p) highlights dark strokes
// thinner than the kernel on a light background.
func (p *plane) close(kw, kh int) *plane { return p.morph(kw, kh, true).morph(kw, kh, false) }

func (p *plane) blackhat(kw, kh int) *plane {
	c := p.close(kw, kh)
	for i := range c.pix {
		c.pix[i] -= p.pix[i]
	}
	return c
}

// sobelX is the absolute horizontal gradient.
func (p *plane) sobelX() *plane {
	out := newPlane(p.w, p.h)
	for y := 1; y < p.h-1; y++ {
		for x := 1; x < p.w-1; x++ {
			g := p.at(x+1, y-1) + 2*p.at(x+1, y) + p.at(x+1, y+1) - p.at(x-1, y-1) - 2*p.at(x-1, y) - p.at(x-1, y+1)
			out.pix[y*p.w+x] = float32(math.Abs(float64(g)))
		}
	}
	return out
}

// laplacianVariance measures focus: the variance of the 4-neighbour
// Laplacian (low for blurred images).
func (p *plane) laplacianVariance() float64 {
	var s, s2 float64
	n := 0
	for y := 1; y < p.h-1; y++ {
		for x := 1; x < p.w-1; x++ {
			l := float64(4*p.at(x, y) - p.at(x-1, y) - p.at(x+1, y) - p.at(x, y-1) - p.at(x, y+1))
			s += l
			s2 += l * l
			n++
		}
	}
	if n == 0 {
		return 0
	}
	m := s / float64(n)
	return s2/float64(n) - m*m
}

// otsu returns the threshold maximising between-class variance of the
// plane's values (256 bins over [lo, hi]).
func (p *plane) otsu() float32 {
	lo, hi := slices.Min(p.pix), slices.Max(p.pix)
	if hi <= lo {
		return hi
	}
	var hist [256]float64
	scale := 255 / (hi - lo)
	for _, v := range p.pix {
		hist[int((v-lo)*scale)]++
	}
	total := float64(len(p.pix))
	var sum float64
	for i, c := range hist {
		sum += float64(i) * c
	}
	var wB, sumB, best float64
	th := 0
	for i, c := range hist {
		wB += c
		if wB == 0 {
			continue
		}
		wF := total - wB
		if wF == 0 {
			break
		}
		sumB += float64(i) * c
		mB, mF := sumB/wB, (sum-sumB)/wF
		if v := wB * wF * (mB - mF) * (mB - mF); v > best {
			best, th = v, i
		}
	}
	return lo + float32(th)/scale
}

// mask is a binary image.
type mask struct {
	w, h int
	on   []bool
}

func (p *plane) threshold(t float32) *mask {
	m := &mask{w: p.w, h: p.h, on: make([]bool, len(p.pix))}
	for i, v := range p.pix {
		m.on[i] = v > t
	}
	return m
}

// component is one 8-connected region of a mask.
type component struct {
	x0, y0, x1, y1 int // inclusive bounds
	n              int
	// sums for a least-squares line through the pixels
	sx, sy, sxx, sxy float64
}

func (c component) width() int  { return c.x1 - c.x0 + 1 }
func (c component) height() int { return c.y1 - c.y0 + 1 }

// slope is the least-squares dy/dx of the component's pixels.
func (c component) slope() float64 {
	n := float64(c.n)
	d := n*c.sxx - c.sx*c.sx
	if d == 0 {
		return 0
	}
	return (n*c.sxy - c.sx*c.sy) / d
}

// components labels the 8-connected regions.
func (m *mask) components() []component {
	c, _ := m.label(true)
	return c
}

// labelled is the 4-connected components with a label image (1-based
// component index per pixel, 0 for off).
func (m *mask) labelled() ([]component, []int) { return m.label(false) }

// label finds the connected regions (8- or 4-connected) and labels every
// pixel with its region's 1-based index.
func (m *mask) label(eight bool) ([]component, []int) {
	labels := make([]int, len(m.on))
	var out []component
	var stack []int
	steps := [][2]int{{1, 0}, {-1, 0}, {0, 1}, {0, -1}}
	if eight {
		steps = append(steps, [2]int{1, 1}, [2]int{1, -1}, [2]int{-1, 1}, [2]int{-1, -1})
	}
	for i, on := range m.on {
		if !on || labels[i] != 0 {
			continue
		}
		id := len(out) + 1
		c := component{x0: m.w, y0: m.h, x1: -1, y1: -1}
		labels[i] = id
		stack = append(stack[:0], i)
		for len(stack) > 0 {
			j := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			x, y := j%m.w, j/m.w
			c.x0, c.y0, c.x1, c.y1 = min(c.x0, x), min(c.y0, y), max(c.x1, x), max(c.y1, y)
			c.n++
			fx, fy := float64(x), float64(y)
			c.sx += fx
			c.sy += fy
			c.sxx += fx * fx
			c.sxy += fx * fy
			for _, d := range steps {
				nx, ny := x+d[0], y+d[1]
				if nx < 0 || ny < 0 || nx >= m.w || ny >= m.h {
					continue
				}
				k := ny*m.w + nx
				if m.on[k] && labels[k] == 0 {
					labels[k] = id
					stack = append(stack, k)
				}
			}
		}
		out = append(out, c)
	}
	return out, labels
}

// gray converts to an 8-bit image (clamped).
func (p *plane) gray() *image.Gray {
	g := image.NewGray(image.Rect(0, 0, p.w, p.h))
	for i, v := range p.pix {
		g.Pix[i] = uint8(max(0, min(255, v+0.5)))
	}
	return g
}
