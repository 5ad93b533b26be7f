package simulate

import (
	"math"
)

// The screen's light on a face or a print, computed from the scene's
// geometry: a face shape (superellipse across, ellipse down, a nose ridge)
// or a flat, tilted print, lit by the screen as an area source (5x5
// points, inverse square law and both cosines) and by the room. What the
// camera sees change is the screen's light relative to the room's, so
// shade is that ratio, 1 at the front of the face (the inner cheeks below
// the eyes).

// iodCM is the inter-ocular distance the face lengths are scaled to.
const iodCM = 6.3

// vec3 is a point or direction in camera coordinates (cm; x to the image
// right, y down, z away from the camera).
type vec3 struct{ x, y, z float64 }

func (a vec3) sub(b vec3) vec3      { return vec3{a.x - b.x, a.y - b.y, a.z - b.z} }
func (a vec3) dot(b vec3) float64   { return a.x*b.x + a.y*b.y + a.z*b.z }
func (a vec3) scale(s float64) vec3 { return vec3{a.x * s, a.y * s, a.z * s} }
func (a vec3) norm() float64        { return math.Sqrt(a.dot(a)) }
func (a vec3) unit() vec3           { return a.scale(1 / a.norm()) }
func rotX(a vec3, deg float64) vec3 { // pitch
	s, c := math.Sincos(deg * math.Pi / 180)
	return vec3{a.x, c*a.y - s*a.z, s*a.y + c*a.z}
}
func rotY(a vec3, deg float64) vec3 { // yaw
	s, c := math.Sincos(deg * math.Pi / 180)
	return vec3{c*a.x + s*a.z, a.y, -s*a.x + c*a.z}
}

// headTurn turns a face about its origin (the eyes' midpoint in the plane
// of its outline) by a yaw, then a pitch (degrees, as rotY and rotX).
// Turning about the neck instead moves the whole face too, which the
// person's own movement into the oval takes back. The sines and cosines
// are taken once: the renderer turns every pixel's point several times.
type headTurn struct {
	zero           bool // the turn leaves the face as it is
	sy, cy, sp, cp float64
}

func newHeadTurn(yaw, pitch float64) headTurn {
	sy, cy := math.Sincos(yaw * math.Pi / 180)
	sp, cp := math.Sincos(pitch * math.Pi / 180)
	return headTurn{zero: yaw == 0 && pitch == 0, sy: sy, cy: cy, sp: sp, cp: cp}
}

// vec turns a vector in camera orientation (rotY by the yaw, then rotX
// by the pitch).
func (h headTurn) vec(a vec3) vec3 {
	a = vec3{h.cy*a.x + h.sy*a.z, a.y, -h.sy*a.x + h.cy*a.z}
	return vec3{a.x, h.cp*a.y - h.sp*a.z, h.sp*a.y + h.cp*a.z}
}

// apply is where the face point (x, y) standing z before the outline (cm,
// face coordinates) is after the turn: across, down and how far before
// the outline's plane.
func (h headTurn) apply(x, y, z float64) (tx, ty, tz float64) {
	v := h.vec(vec3{x, y, -z})
	return v.x, v.y, -v.z
}

// source is the face point the camera sees at (x, y) after the turn, on
// the face of grid g (outside it, the plane of the outline): its place
// before the turn, its height there and after the turn. Where the turn
// folds the face's steep side over itself, it is one of the points
// there.
func (h headTurn) source(g shadeGrid, x, y float64) (sx, sy, z, tz float64) {
	sx, sy = x, y
	for range 4 {
		_, z, _ = g.at(sx, sy)
		tx, ty, _ := h.apply(sx, sy, z)
		sx, sy = sx+x-tx, sy+y-ty
	}
	_, z, _ = g.at(sx, sy)
	_, _, tz = h.apply(sx, sy, z)
	return sx, sy, z, tz
}

// illuminator sums the screen's light at a point of a surface.
type illuminator struct {
	pts  []vec3 // screen sample points
	room vec3   // unit direction towards the room's directional light
	dir  float64
}

func newIlluminator(s Scene) illuminator {
	cy, w, h := s.screenRect()
	var il illuminator
	const n = 5
	for i := range n {
		for j := range n {
			x := (float64(i)+0.5)/n*w - w/2
			y := cy + (float64(j)+0.5)/n*h - h/2
			il.pts = append(il.pts, vec3{x, y, 0})
		}
	}
	az, el := s.RoomAzimuth*math.Pi/180, s.RoomElevation*math.Pi/180
	il.room = vec3{math.Sin(az) * math.Cos(el), -math.Sin(el), -math.Cos(az) * math.Cos(el)}
	il.dir = s.RoomDirectional
	return il
}

// screen is the screen's irradiance at p on a surface with unit normal n
// (pointing out of the surface, towards the camera side for a face).
func (il illuminator) screen(p, n vec3) float64 {
	var e float64
	for _, q := range il.pts {
		l := q.sub(p)
		r := l.norm()
		cp := n.dot(l) / r
		cs := p.z / r // emission angle: the screen faces +z
		if cp > 0 && cs > 0 {
			e += cp * cs / (r * r)
		}
	}
	return e
}

// roomLight is the room's illuminance at a surface of normal n, 1 for the
// even part.
func (il illuminator) roomLight(n vec3) float64 {
	return (1 - il.dir) + il.dir*math.Max(0, n.dot(il.room))*2
}

// faceShape is the 3-D face of a scene in face coordinates (cm; x to the
// image right, y down from the eye line, z towards the camera).
type faceShape struct {
	x0, y0, a, b, c, p, nose float64
}

// newFaceShape is the scene's face shape over a photo whose face outline
// is outlineHalfCM wide on each side of the midline.
func newFaceShape(s Scene, outlineHalfCM float64) faceShape {
	return faceShape{x0: s.AnchorDXCM, y0: s.CentreDownCM, a: s.WidthFit * outlineHalfCM, b: s.HalfHeightCM,
		c: s.DepthCM, p: s.Profile, nose: s.NoseCM}
}

// height is z of the surface at (x, y); ok is false outside the face.
func (f faceShape) height(x, y float64) (float64, bool) {
	u := math.Abs(x-f.x0) / f.a
	w := (y - f.y0) / f.b
	q := 1 - math.Pow(u, f.p) - w*w
	if q <= 0 {
		return 0, false
	}
	z := f.c * math.Pow(q, 1/f.p)
	// The nose: a ridge down the midline from the eye line to its tip
	// 4.5 cm below, ending at its base.
	if y > -0.5 && y < 5.8 {
		g := math.Min(1, math.Max(0.25, y/4.5))
		if y > 4.5 {
			g *= 1 - smooth((y-4.5)/1.3)
		}
		if y < 0 {
			g *= smooth((y + 0.5) / 0.5)
		}
		z += f.nose * g * math.Exp(-x*x/(2*1.0*1.0))
	}
	return z, true
}

func smooth(t float64) float64 {
	t = math.Max(0, math.Min(1, t))
	return t * t * (3 - 2*t)
}

// normal is the unit outward normal at (x, y) in camera orientation (the
// face's z towards the camera is -z of the camera).
func (f faceShape) normal(x, y float64) (vec3, bool) {
	const h = 0.05
	zl, ok1 := f.height(x-h, y)
	zr, ok2 := f.height(x+h, y)
	zu, ok3 := f.height(x, y-h)
	zd, ok4 := f.height(x, y+h)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return vec3{}, false
	}
	dx, dy := (zr-zl)/(2*h), (zd-zu)/(2*h)
	return vec3{-dx, -dy, -1}.unit(), true
}

// shadeGrid is the relative screen response of a face, sampled in face
// coordinates.
type shadeGrid struct {
	x0, y0, step float64
	nx, ny       int
	v            []float32 // -1 outside the face
	z            []float32 // height of the face before its outline, cm
}

// faceShade computes the face's relative response to the screen with the
// eyes' midpoint at camera position at (cm), for scene s and a face whose
// outline is outlineHalfCM wide on each side, turned by turn (the grid
// stays in the face's own coordinates: a point's light moves with it).
func faceShade(s Scene, at vec3, outlineHalfCM float64, turn headTurn) shadeGrid {
	f := newFaceShape(s, outlineHalfCM)
	il := newIlluminator(s)
	g := shadeGrid{x0: -12, y0: -10, step: 0.125}
	g.nx, g.ny = int(24/g.step), int(27/g.step)
	g.v = make([]float32, g.nx*g.ny)
	g.z = make([]float32, g.nx*g.ny)
	ratio := func(x, y float64) (float64, bool) {
		z, ok := f.height(x, y)
		if !ok {
			return 0, false
		}
		n, ok := f.normal(x, y)
		if !ok {
			return 0, false
		}
		o := turn.vec(vec3{x, y, -z})
		n = turn.vec(n)
		p := vec3{at.x + o.x, at.y + o.y, at.z + o.z}
		return il.screen(p, n) / il.roomLight(n), true
	}
	r1, _ := ratio(-2, 2)
	r2, _ := ratio(2, 2)
	ref := (r1 + r2) / 2
	for j := range g.ny {
		y := g.y0 + float64(j)*g.step
		for i := range g.nx {
			x := g.x0 + float64(i)*g.step
			k := j*g.nx + i
			if r, ok := ratio(x, y); ok && ref > 0 {
				g.v[k] = float32(r / ref)
				z, _ := f.height(x, y)
				g.z[k] = float32(z)
			} else {
				g.v[k] = -1
			}
		}
	}
	return g
}

// at looks up the grid at face coordinates (cm): the relative response
// and the height; ok is false outside the face.
func (g shadeGrid) at(x, y float64) (shade, z float64, ok bool) {
	i := int((x-g.x0)/g.step + 0.5)
	j := int((y-g.y0)/g.step + 0.5)
	if i < 0 || j < 0 || i >= g.nx || j >= g.ny {
		return 0, 0, false
	}
	k := j*g.nx + i
	if g.v[k] < 0 {
		return 0, 0, false
	}
	return float64(g.v[k]), float64(g.z[k]), true
}

// printShade is the relative screen response of a flat print at camera
// position centre (the printed face's centre), tilted by the scene's yaw
// and pitch, at the point the camera ray (rx, ry, 1) meets it; ok is false
// when the ray misses the print's plane.
type printPlane struct {
	il     illuminator
	centre vec3
	n      vec3
	ref    float64
}

func newPrintPlane(s Scene, centre vec3) printPlane {
	n := rotX(rotY(vec3{0, 0, -1}, s.PrintYaw), s.PrintPitch)
	pp := printPlane{il: newIlluminator(s), centre: centre, n: n}
	pp.ref = pp.il.screen(centre, n)
	return pp
}

func (pp printPlane) shade(rx, ry float64) (float64, bool) {
	d := vec3{rx, ry, 1}
	den := d.dot(pp.n)
	if math.Abs(den) < 1e-9 || pp.ref <= 0 {
		return 0, false
	}
	t := pp.centre.dot(pp.n) / den
	if t <= 0 {
		return 0, false
	}
	return pp.il.screen(d.scale(t), pp.n) / pp.ref, true
}
