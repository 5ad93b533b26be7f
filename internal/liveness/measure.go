package liveness

import (
	"image"
	"math"

	"github.com/livenessd/livenessd"
)

// Skin and background patches measured in every frame. Centre patches face
// the camera (and the screen beside it); lateral patches sit on the cheeks
// about 70% of the way to the face contour, where a 3-D face turns away
// from the screen and so reflects less of its light than the centre does.
const (
	patchForehead = iota
	patchNose
	patchChin
	patchCheekL
	patchCheekR
	patchBgL
	patchBgR
	nPatch
	nSkin = patchCheekR + 1
)

// layout is where the patches of one face lie in one frame.
type layout struct {
	centre [nPatch]livenessd.Point
	radius float64
	box    livenessd.Rect
	iod    float64 // inter-ocular distance in pixels
	width  float64 // face width: jaw contour (landmarks 0-16) or box
	eyeL   livenessd.Point
	eyeR   livenessd.Point
	mesh   []livenessd.Point // the mesh probes (Run.mesh), when known
}

func pt(x, y float64) livenessd.Point          { return livenessd.Point{X: x, Y: y} }
func add(a, b livenessd.Point) livenessd.Point { return pt(a.X+b.X, a.Y+b.Y) }
func sub(a, b livenessd.Point) livenessd.Point { return pt(a.X-b.X, a.Y-b.Y) }
func scale(a livenessd.Point, s float64) livenessd.Point {
	return pt(a.X*s, a.Y*s)
}
func lerp(a, b livenessd.Point, w float64) livenessd.Point {
	return pt(a.X+(b.X-a.X)*w, a.Y+(b.Y-a.Y)*w)
}
func dist(a, b livenessd.Point) float64 { return math.Hypot(a.X-b.X, a.Y-b.Y) }

func meanPt(ps []livenessd.Point) livenessd.Point {
	var m livenessd.Point
	for _, p := range ps {
		m = add(m, p)
	}
	return scale(m, 1/float64(len(ps)))
}

// faceLayout places the patches from the 68 landmarks when present, else
// from the 5 keypoints, else from the box alone.
func faceLayout(o livenessd.FaceObservation) layout {
	b := o.Box
	var eyeL, eyeR, nose, mouthL, mouthR, contourL, contourR livenessd.Point
	hasContour := false
	width := b.W
	switch {
	case len(o.Landmarks) == 68:
		l := o.Landmarks
		eyeL, eyeR = meanPt(l[36:42]), meanPt(l[42:48])
		nose, mouthL, mouthR = l[30], l[48], l[54]
		contourL, contourR = l[2], l[14]
		hasContour = true
		width = dist(l[0], l[16])
	case len(o.Keypoints) == 5:
		k := o.Keypoints
		eyeL, eyeR, nose, mouthL, mouthR = k[0], k[1], k[2], k[3], k[4]
	default:
		eyeL, eyeR = pt(b.X+0.32*b.W, b.Y+0.40*b.H), pt(b.X+0.68*b.W, b.Y+0.40*b.H)
		nose = pt(b.X+0.5*b.W, b.Y+0.60*b.H)
		mouthL, mouthR = pt(b.X+0.36*b.W, b.Y+0.78*b.H), pt(b.X+0.64*b.W, b.Y+0.78*b.H)
	}
	iod := dist(eyeL, eyeR)
	if iod < 1 {
		iod = math.Max(1, 0.36*b.W)
	}
	u := scale(sub(eyeR, eyeL), 1/iod) // across, towards image right
	v := pt(-u.Y, u.X)                 // down the face
	if !hasContour {
		contourL = sub(nose, scale(u, 1.25*iod))
		contourR = add(nose, scale(u, 1.25*iod))
	}
	midEye := lerp(eyeL, eyeR, 0.5)
	midMouth := lerp(mouthL, mouthR, 0.5)
	var l layout
	l.box, l.iod, l.width, l.eyeL, l.eyeR = b, iod, width, eyeL, eyeR
	l.radius = math.Max(2, 0.11*iod)
	l.centre[patchForehead] = sub(midEye, scale(v, 0.55*iod))
	l.centre[patchNose] = lerp(midEye, nose, 0.55)
	l.centre[patchChin] = add(midMouth, scale(v, 0.38*iod))
	l.centre[patchCheekL] = lerp(nose, contourL, 0.68)
	l.centre[patchCheekR] = lerp(nose, contourR, 0.68)
	l.centre[patchBgL] = pt(b.X-0.35*b.W, midEye.Y)
	l.centre[patchBgR] = pt(b.X+1.35*b.W, midEye.Y)
	return l
}

// lerpLayout interpolates two layouts of the same face (w=0 gives a).
func lerpLayout(a, b layout, w float64) layout {
	var l layout
	for i := range l.centre {
		l.centre[i] = lerp(a.centre[i], b.centre[i], w)
	}
	l.radius = a.radius + (b.radius-a.radius)*w
	l.iod = a.iod + (b.iod-a.iod)*w
	l.width = a.width + (b.width-a.width)*w
	l.box = livenessd.Rect{X: a.box.X + (b.box.X-a.box.X)*w, Y: a.box.Y + (b.box.Y-a.box.Y)*w,
		W: a.box.W + (b.box.W-a.box.W)*w, H: a.box.H + (b.box.H-a.box.H)*w}
	l.eyeL, l.eyeR = lerp(a.eyeL, b.eyeL, w), lerp(a.eyeR, b.eyeR, w)
	if len(a.mesh) > 0 && len(a.mesh) == len(b.mesh) {
		l.mesh = make([]livenessd.Point, len(a.mesh))
		for i := range l.mesh {
			l.mesh[i] = lerp(a.mesh[i], b.mesh[i], w)
		}
	}
	return l
}

// pixels reads RGB of an image quickly for the common decoded types.
type pixels struct {
	img  image.Image
	nrgb *image.NRGBA
	rgba *image.RGBA
	ycc  *image.YCbCr
	r    image.Rectangle
}

func newPixels(img image.Image) pixels {
	p := pixels{img: img, r: img.Bounds()}
	switch m := img.(type) {
	case *image.NRGBA:
		p.nrgb = m
	case *image.RGBA:
		p.rgba = m
	case *image.YCbCr:
		p.ycc = m
	}
	return p
}

func (p pixels) at(x, y int) (r, g, b float64) {
	switch {
	case p.nrgb != nil:
		i := p.nrgb.PixOffset(x, y)
		s := p.nrgb.Pix[i : i+3 : i+3]
		return float64(s[0]), float64(s[1]), float64(s[2])
	case p.rgba != nil:
		i := p.rgba.PixOffset(x, y)
		s := p.rgba.Pix[i : i+3 : i+3]
		return float64(s[0]), float64(s[1]), float64(s[2])
	case p.ycc != nil:
		yy := float64(p.ycc.Y[p.ycc.YOffset(x, y)])
		ci := p.ycc.COffset(x, y)
		cb, cr := float64(p.ycc.Cb[ci])-128, float64(p.ycc.Cr[ci])-128
		return clamp255(yy + 1.402*cr), clamp255(yy - 0.344136*cb - 0.714136*cr), clamp255(yy + 1.772*cb)
	}
	r16, g16, b16, _ := p.img.At(x, y).RGBA()
	return float64(r16 >> 8), float64(g16 >> 8), float64(b16 >> 8)
}

func clamp255(v float64) float64 { return math.Max(0, math.Min(255, v)) }

// patchMean is the mean RGB of the square of half-side r around c, clipped
// to the image; ok is false when fewer than 4 pixels fall inside.
func (p pixels) patchMean(c livenessd.Point, r float64) (m [3]float64, ok bool) {
	x0, x1 := int(math.Round(c.X-r)), int(math.Round(c.X+r))
	y0, y1 := int(math.Round(c.Y-r)), int(math.Round(c.Y+r))
	x0, y0 = max(x0, p.r.Min.X), max(y0, p.r.Min.Y)
	x1, y1 = min(x1, p.r.Max.X-1), min(y1, p.r.Max.Y-1)
	n := 0
	for y := y0; y <= y1; y++ {
		for x := x0; x <= x1; x++ {
			r, g, b := p.at(x, y)
			m[0] += r
			m[1] += g
			m[2] += b
			n++
		}
	}
	if n < 4 {
		return m, false
	}
	for i := range m {
		m[i] /= float64(n)
	}
	return m, true
}

// sample is what one frame contributes to the light analysis.
type sample struct {
	patch [nPatch][3]float64
	ok    [nPatch]bool
	mesh  [][3]float32 // mean RGB of each mesh probe
	mok   []bool
}

func measure(px pixels, l layout) sample {
	var s sample
	for i, c := range l.centre {
		s.patch[i], s.ok[i] = px.patchMean(c, l.radius)
	}
	if len(l.mesh) > 0 {
		r := math.Max(1.5, meshProbeRadius*l.iod)
		s.mesh = make([][3]float32, len(l.mesh))
		s.mok = make([]bool, len(l.mesh))
		for i, c := range l.mesh {
			m, ok := px.patchMean(c, r)
			s.mesh[i] = [3]float32{float32(m[0]), float32(m[1]), float32(m[2])}
			s.mok[i] = ok
		}
	}
	return s
}

// skin is the mean of the skin patches' RGB; ok when all were measured.
func (s sample) skin() ([3]float64, bool) {
	var m [3]float64
	for i := range nSkin {
		if !s.ok[i] {
			return m, false
		}
		for c := range 3 {
			m[c] += s.patch[i][c] / nSkin
		}
	}
	return m, true
}

func luma(c [3]float64) float64 { return 0.299*c[0] + 0.587*c[1] + 0.114*c[2] }

// lumaAt is the luma of the pixel at (x, y).
func (p pixels) lumaAt(x, y int) float64 {
	r, g, b := p.at(x, y)
	return luma([3]float64{r, g, b})
}

// sharpness is the mean absolute Laplacian of the face box's luma sampled on
// a 96x96 grid, so it does not depend on the face's size in pixels.
func sharpness(px pixels, box livenessd.Rect) float64 {
	const n = 96
	step := box.W / n
	if step <= 0 {
		return 0
	}
	lum := func(x, y float64) float64 {
		xi := min(max(int(x), px.r.Min.X), px.r.Max.X-1)
		yi := min(max(int(y), px.r.Min.Y), px.r.Max.Y-1)
		return px.lumaAt(xi, yi)
	}
	var sum float64
	cnt := 0
	rows := int(box.H / step)
	for j := 1; j < rows-1; j++ {
		y := box.Y + float64(j)*step
		for i := 1; i < n-1; i++ {
			x := box.X + float64(i)*step
			lap := 4*lum(x, y) - lum(x-step, y) - lum(x+step, y) - lum(x, y-step) - lum(x, y+step)
			sum += math.Abs(lap)
			cnt++
		}
	}
	if cnt == 0 {
		return 0
	}
	return sum / float64(cnt)
}
