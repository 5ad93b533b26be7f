package document

import (
	"image"
	"math"

	"github.com/livenessd/livenessd"
)

// locateSide is the longer side, in pixels, the outline is searched at.
const locateSide = 400

// Quad is a document outline: top-left, top-right, bottom-right,
// bottom-left corners in source pixels.
type Quad [4]livenessd.Point

// locate finds the outline of a document photographed on a darker or more
// colourful background: documents are light and unsaturated, so the
// largest region of high min(R,G,B) is taken and its four extreme corners
// (least and most x+y, x-y) form the quad. ok is false when no plausible
// quad is found or the document fills the frame (a scan), in which case the
// whole image is the document.
func locate(img image.Image) (q Quad, ok bool) {
	b := img.Bounds()
	scale := float64(locateSide) / float64(max(b.Dx(), b.Dy()))
	w, h := max(1, int(float64(b.Dx())*scale)), max(1, int(float64(b.Dy())*scale))
	white := whiteness(img).resize(w, h)
	k := max(3, w/80)
	m := white.threshold(white.otsu())
	// Bridge text and photo on the document; drop thin bright clutter.
	cleaned := maskPlane(m).morph(k, k, true).morph(2*k, 2*k, false).morph(k, k, true).threshold(0.5)
	comps, labels := cleaned.labelled()
	if len(comps) == 0 {
		return q, false
	}
	best := 0
	for i, c := range comps {
		if c.n > comps[best].n {
			best = i
		}
	}
	c := comps[best]
	if float64(c.n) < 0.12*float64(w*h) {
		return q, false
	}
	if c.width() >= w-2*k && c.height() >= h-2*k {
		return q, false // fills the frame: a scan, or too close to tell
	}
	ext := [4]float64{math.Inf(1), math.Inf(-1), math.Inf(-1), math.Inf(1)} // min x+y, max x-y, max x+y, min x-y
	var pts [4]livenessd.Point
	for i, l := range labels {
		if l != best+1 {
			continue
		}
		x, y := float64(i%w), float64(i/w)
		if v := x + y; v < ext[0] {
			ext[0], pts[0] = v, livenessd.Point{X: x, Y: y}
		}
		if v := x - y; v > ext[1] {
			ext[1], pts[1] = v, livenessd.Point{X: x, Y: y}
		}
		if v := x + y; v > ext[2] {
			ext[2], pts[2] = v, livenessd.Point{X: x, Y: y}
		}
		if v := x - y; v < ext[3] {
			ext[3], pts[3] = v, livenessd.Point{X: x, Y: y}
		}
	}
	for i, p := range pts {
		q[i] = livenessd.Point{X: (p.X + 0.5) / scale, Y: (p.Y + 0.5) / scale}
	}
	if !plausible(q) {
		return q, false
	}
	return q, true
}

// whiteness is min(R, G, B): high on paper and plastic, low on wood,
// skin, coloured clutter and shadow.
func whiteness(img image.Image) *plane {
	return pixelPlane(img, func(r, g, b float32) float32 { return min(r, g, b) })
}

// plausible: convex, sides of sensible length, aspect of an ID-1 card or
// a passport page (1.3-1.7 either way round, with perspective slack).
func plausible(q Quad) bool {
	side := func(i int) float64 { a, b := q[i], q[(i+1)%4]; return math.Hypot(b.X-a.X, b.Y-a.Y) }
	for i := range 4 {
		a, b, c := q[i], q[(i+1)%4], q[(i+2)%4]
		if (b.X-a.X)*(c.Y-b.Y)-(b.Y-a.Y)*(c.X-b.X) <= 0 {
			return false
		}
		if side(i) < 20 {
			return false
		}
	}
	wd, ht := (side(0)+side(2))/2, (side(1)+side(3))/2
	r := math.Max(wd, ht) / math.Min(wd, ht)
	return r >= 1.15 && r <= 1.9
}

// touchesBorder reports whether a corner lies within margin of the frame:
// the document is probably cut off.
func (q Quad) touchesBorder(w, h int, margin float64) bool {
	for _, p := range q {
		if p.X < margin || p.Y < margin || p.X > float64(w)-margin || p.Y > float64(h)-margin {
			return true
		}
	}
	return false
}

// rectify warps the quad onto an upright rectangle whose sides are the
// quad's mean side lengths (at most maxSide on the longer).
func rectify(img image.Image, q Quad, maxSide int) *image.NRGBA {
	side := func(a, b livenessd.Point) float64 { return math.Hypot(b.X-a.X, b.Y-a.Y) }
	wd := (side(q[0], q[1]) + side(q[3], q[2])) / 2
	ht := (side(q[0], q[3]) + side(q[1], q[2])) / 2
	s := math.Min(1, float64(maxSide)/math.Max(wd, ht))
	w, h := max(1, int(wd*s)), max(1, int(ht*s))
	hm, ok := homography([4]livenessd.Point{{X: 0, Y: 0}, {X: float64(w), Y: 0}, {X: float64(w), Y: float64(h)}, {X: 0, Y: float64(h)}}, q)
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	if !ok {
		return out
	}
	src := toNRGBA(img)
	sb := src.Bounds()
	for y := range h {
		for x := range w {
			fx, fy := float64(x)+0.5, float64(y)+0.5
			d := hm[6]*fx + hm[7]*fy + 1
			sx, sy := (hm[0]*fx+hm[1]*fy+hm[2])/d-0.5, (hm[3]*fx+hm[4]*fy+hm[5])/d-0.5
			o := out.PixOffset(x, y)
			bilinearNRGBA(src, sb, sx, sy, out.Pix[o:o+4])
		}
	}
	return out
}

func toNRGBA(img image.Image) *image.NRGBA {
	if m, ok := img.(*image.NRGBA); ok {
		return m
	}
	b := img.Bounds()
	m := image.NewNRGBA(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			m.Set(x, y, img.At(x, y))
		}
	}
	return m
}

func bilinearNRGBA(m *image.NRGBA, b image.Rectangle, x, y float64, dst []uint8) {
	x = math.Max(float64(b.Min.X), math.Min(x, float64(b.Max.X-1)))
	y = math.Max(float64(b.Min.Y), math.Min(y, float64(b.Max.Y-1)))
	x0, y0 := int(x), int(y)
	x1, y1 := min(x0+1, b.Max.X-1), min(y0+1, b.Max.Y-1)
	fx, fy := x-float64(x0), y-float64(y0)
	p00, p10 := m.PixOffset(x0, y0), m.PixOffset(x1, y0)
	p01, p11 := m.PixOffset(x0, y1), m.PixOffset(x1, y1)
	for c := range 4 {
		a := float64(m.Pix[p00+c])*(1-fx) + float64(m.Pix[p10+c])*fx
		bb := float64(m.Pix[p01+c])*(1-fx) + float64(m.Pix[p11+c])*fx
		dst[c] = uint8(a*(1-fy) + bb*fy + 0.5)
	}
}

// homography returns the 3x3 projective map (h[8] = 1) taking from[i] to
// to[i], by Gaussian elimination of the 8x8 system; ok is false when the
// points are degenerate.
func homography(from, to [4]livenessd.Point) (h [9]float64, ok bool) {
	var a [8][9]float64
	for i := range 4 {
		x, y, u, v := from[i].X, from[i].Y, to[i].X, to[i].Y
		a[2*i] = [9]float64{x, y, 1, 0, 0, 0, -u * x, -u * y, u}
		a[2*i+1] = [9]float64{0, 0, 0, x, y, 1, -v * x, -v * y, v}
	}
	for col := range 8 {
		piv := col
		for r := col + 1; r < 8; r++ {
			if math.Abs(a[r][col]) > math.Abs(a[piv][col]) {
				piv = r
			}
		}
		if math.Abs(a[piv][col]) < 1e-12 {
			return h, false
		}
		a[col], a[piv] = a[piv], a[col]
		for r := range 8 {
			if r == col {
				continue
			}
			f := a[r][col] / a[col][col]
			for c := col; c < 9; c++ {
				a[r][c] -= f * a[col][c]
			}
		}
	}
	for i := range 8 {
		h[i] = a[i][8] / a[i][i]
	}
	h[8] = 1
	return h, true
}
