package simulate

import (
	"image"
	"math"
	"time"

	"github.com/livenessd/livenessd"
)

// The camera: the scene's light on the photo's colours in linear light,
// white balance and the automatic exposure and white balance gains, the
// tone curve, sensor noise; frames integrate the light over their
// exposure.

// setupCamera builds the tone tables: sRGB to linear for the photo, and
// linear light to the camera's 8-bit output (the sRGB curve bent by the
// scene's gamma, with an optional S-curve).
func (p *Player) setupCamera() {
	for i := range p.toLin {
		v := float64(i) / 255
		if v <= 0.04045 {
			v /= 12.92
		} else {
			v = math.Pow((v+0.055)/1.055, 2.4)
		}
		p.toLin[i] = float32(v)
	}
	sc := p.scene
	p.tone = make([]uint8, toneScale*toneMax+1)
	for i := range p.tone {
		l := float64(i) / toneScale
		var v float64
		if l <= 0.0031308 {
			v = 12.92 * l
		} else {
			v = 1.055*math.Pow(l, 1/2.4) - 0.055
		}
		v = math.Pow(math.Max(0, v), sc.Gamma)
		if sc.Contrast > 0 {
			w := math.Min(1, v)
			v += sc.Contrast * (w*w*(3-2*w) - w)
		}
		p.tone[i] = uint8(math.Max(0, math.Min(255, 255*v+0.5)))
	}
}

// setupLight places the face in front of the camera at the oval (its
// distance from the face's size in pixels and the camera's field of
// view) and computes its response to the screen.
func (p *Player) setupLight() {
	sc := p.scene
	long := float64(max(p.opt.Width, p.opt.Height))
	p.focal = long / 2 / math.Tan(sc.HFOV/2*math.Pi/180)
	el, er := p.src.eyes()
	p.iodPx0 = math.Hypot(er.X-el.X, er.Y-el.Y)
	iodAt := p.iodPx0 * p.mo.goal / p.src.Face.W
	p.distCM = p.focal * iodCM / math.Max(iodAt, 1)
	if !p.opt.Attack.liveHead() {
		return
	}
	// The photo's face outline in centimetres (its eyes 6.3 cm apart).
	outlineHalf := p.src.contour() / 2 * iodCM / math.Max(p.iodPx0, 1)
	// The light is computed for the head's turn as the colours play (the
	// person holds still then).
	p.shade = faceShade(sc, p.camPoint(p.mo.target, p.distCM), outlineHalf, newHeadTurn(sc.HeadYaw, sc.HeadPitch))
}

// camPoint is the camera position (cm) of the point at output pixel q
// at distance z.
func (p *Player) camPoint(q livenessd.Point, z float64) vec3 {
	W, H := float64(p.opt.Width), float64(p.opt.Height)
	return vec3{(q.X - W/2) / p.focal * z, (q.Y - H/2) / p.focal * z, z}
}

// printShader is the screen's light on a flat print, relative to the
// printed face's front, on a coarse grid of the frame.
type printShader struct {
	step, nx int
	v        []uint8
}

// newPrintShader lights the print whose printed eyes' midpoint is at
// output pixel mid, eyes iod pixels apart and face width w pixels. The
// print is smaller or larger than a real face, so it is held at the
// distance where its face fills the same pixels: nearer for a small print.
func (p *Player) newPrintShader(mid livenessd.Point, iod, w float64) printShader {
	sc := p.scene
	dist := p.printDistance(iod)
	pp := newPrintPlane(sc, p.camPoint(mid, dist))
	W, H := p.opt.Width, p.opt.Height
	ps := printShader{step: 8}
	ps.nx = W/ps.step + 2
	ny := H/ps.step + 2
	ps.v = make([]uint8, ps.nx*ny)
	bg := uint8(math.Min(255, sc.Background*shadeUnit+0.5))
	halfW, halfH := sc.PrintExtent*w/2, sc.PrintExtent*w*0.65
	for j := range ny {
		y := float64(j * ps.step)
		for i := range ps.nx {
			x := float64(i * ps.step)
			k := j*ps.nx + i
			ps.v[k] = bg
			if math.Abs(x-mid.X) > halfW || math.Abs(y-mid.Y-0.3*w) > halfH {
				continue // the room around the print
			}
			if v, ok := pp.shade((x-float64(W)/2)/p.focal, (y-float64(H)/2)/p.focal); ok {
				ps.v[k] = uint8(math.Min(255, v*shadeUnit+0.5))
			}
		}
	}
	return ps
}

// printDistance is the distance (cm) at which the print shows its
// printed eyes iod output pixels apart. The print is smaller or larger
// than a real face (scale), so it is nearer for a small print.
func (p *Player) printDistance(iod float64) float64 {
	scale := 0.4 + 0.8*frac(p.scene.PrintExtent*7.31) // the printed face's size against a real one
	return p.focal * iodCM * scale / math.Max(iod, 1)
}

// printWarp is the perspective of a print tilted by the scene's yaw and
// pitch: a held print is seen foreshortened, and as it approaches the
// camera its near edge grows faster than its far one (a projective map of
// the plane, not the uniform scaling of a print square to the camera).
type printWarp struct {
	focal, dist float64 // focal length (px), distance of the printed face's centre (cm)
	n, e1, e2   vec3    // the print's normal and its in-plane axes
}

func newPrintWarp(s Scene, focal, dist float64) printWarp {
	rot := func(v vec3) vec3 { return rotX(rotY(v, s.PrintYaw), s.PrintPitch) }
	return printWarp{focal: focal, dist: dist, n: rot(vec3{0, 0, -1}), e1: rot(vec3{1, 0, 0}), e2: rot(vec3{0, 1, 0})}
}

// at maps an output pixel at (dx, dy) from the printed face's centre to
// the print's point it shows, in the pixels of the same print held square
// to the camera; ok is false when the ray misses the print's plane. The
// face's centre is taken on the camera's axis (it is near the oval's).
func (w printWarp) at(dx, dy float64) (x, y float64, ok bool) {
	d := vec3{dx / w.focal, dy / w.focal, 1}
	den := d.dot(w.n)
	if math.Abs(den) < 1e-9 {
		return 0, 0, false
	}
	t := w.dist * w.n.z / den
	if t <= 0 {
		return 0, 0, false
	}
	q := d.scale(t)
	q.z -= w.dist
	k := w.focal / w.dist
	return q.dot(w.e1) * k, q.dot(w.e2) * k, true
}

func (ps printShader) at(x, y int) uint8 {
	return ps.v[(y/ps.step)*ps.nx+x/ps.step]
}

func frac(v float64) float64 { return v - math.Floor(v) }

// light is the screen colour the frame at time t saw, averaged over its
// exposure; ok is false when no colour lit it.
func (p *Player) light(t time.Duration) (c [3]float64, ok bool) {
	const n = 4
	exp := time.Duration(p.scene.ExposureMS * float64(time.Millisecond))
	for k := range n {
		if lc, lok := p.lightAt(t - exp*time.Duration(k)/(n-1)); lok {
			ok = true
			for i := range 3 {
				c[i] += lc[i] / n
			}
		}
	}
	return c, ok
}

// Render draws the camera frame at time t: the geometry (cached), the
// screen's light on the face, exposure drift, the camera's gains, tone
// curve and sensor noise.
func (p *Player) Render(t time.Duration) *image.NRGBA {
	light, lit := p.light(t)
	return p.render(t, light, lit)
}

// render draws the frame at time t lit by the screen colour light (0..1
// per channel) when lit.
func (p *Player) render(t time.Duration, light [3]float64, lit bool) *image.NRGBA {
	W, H := p.opt.Width, p.opt.Height
	dst := image.NewNRGBA(image.Rect(0, 0, W, H))
	b := p.baseFrame(t)
	if p.opt.Attack == AttackNoFace {
		lit = false
	}
	sc := p.scene
	drift := 1 + sc.DriftAmp*math.Sin(2*math.Pi*t.Seconds()/3.2+p.driftPhase)
	var gain [3]float32
	var add [3]float32 // light added per shade step
	// Strength is the change of the face front's pixel values through a
	// standard (sRGB) camera: the light itself grows by about 2.2 times as
	// much, which the camera's tone curve compresses.
	linStrength := math.Pow(1+p.opt.Strength, 2.2) - 1
	// Strength is the screen's light at the face's goal in the oval; it
	// falls with the square of the distance, which the face's size goes
	// against (a face that drifts 10% closer gets 21% more).
	near := 1.0
	p.mo.advance(t) // the base frame may come from the cache
	if p.mo.goal > 0 {
		near = p.mo.w / p.mo.goal
		near *= near
	}
	// Relative to the room's light in each channel, scaled so that the
	// luminance a white screen adds stays Strength whatever the room's colour.
	room := roomLight(sc.RoomWarmth)
	norm := 1 / (0.2126/room[0] + 0.7152/room[1] + 0.0722/room[2])
	var rel [3]float64
	for i := range 3 {
		rel[i] = light[i] / room[i] * norm
		gain[i] = float32(drift * p.gain[i] * sc.WB[i])
		if lit {
			add[i] = float32(linStrength * near * rel[i] / shadeUnit)
		}
	}
	// Glasses' lenses mirror the screen: light added whatever the skin
	// behind them.
	var spec [3]float32
	if lit && b.lens != nil {
		for i := range 3 {
			spec[i] = float32(sc.LensReflect * near * rel[i] * drift * p.gain[i] * sc.WB[i])
		}
	}
	var sum [3]float64
	noise := p.noise
	ni := p.nextNois
	mask := len(noise) - 1
	tone := p.tone
	maxIdx := float32(len(tone) - 1)
	for px := range W * H {
		sh := float32(b.shade[px])
		o := px * 3
		d := px * 4
		for i := range 3 {
			lin := p.toLin[b.rgb[o+i]] * (1 + add[i]*sh) * gain[i]
			if b.lens != nil && b.lens[px] {
				lin += spec[i]
			}
			sum[i] += float64(lin)
			idx := lin * toneScale
			if idx > maxIdx {
				idx = maxIdx
			}
			v := float32(tone[int(idx)])
			// Sensor noise grows with the signal (shot noise).
			v += noise[ni&mask] * (0.5 + v/255)
			ni += 7
			if v < 0 {
				v = 0
			} else if v > 255 {
				v = 255
			}
			dst.Pix[d+i] = uint8(v + 0.5)
		}
		dst.Pix[d+3] = 255
	}
	p.nextNois = ni + p.rng.IntN(len(noise))
	// The camera's gains act on what it saw, before its own correction.
	for i := range 3 {
		sum[i] /= p.gain[i]
	}
	p.updateExposure(t, sum, float64(W*H))
	return dst
}

// updateExposure models the camera's automatic exposure (one gain that
// keeps the frame's mean luminance) and white balance (per-channel gains
// that keep its mean colour), each moving towards its target with the
// scene's time constant from the look before the colours.
func (p *Player) updateExposure(t time.Duration, sum [3]float64, n float64) {
	var m [3]float64
	for i := range 3 {
		m[i] = sum[i] / n
	}
	if !p.hasRef || !p.flashed {
		p.refMean, p.hasRef = m, true
		p.lastT = t
		return
	}
	dt := (t - p.lastT).Seconds()
	p.lastT = t
	sc := p.scene
	if !sc.AE && !sc.AWB {
		return
	}
	a := 1 - math.Exp(-dt/sc.AdaptS)
	luma := func(c [3]float64) float64 { return 0.2126*c[0] + 0.7152*c[1] + 0.0722*c[2] }
	lr, lm := luma(p.refMean), luma(m)
	if lm <= 1e-6 {
		return
	}
	for i := range 3 {
		want := 1.0
		if sc.AE {
			want = lr / lm
		}
		if sc.AWB && m[i] > 1e-6 {
			want *= (p.refMean[i] / lr) / (m[i] / lm)
		}
		p.gain[i] += (want - p.gain[i]) * a
	}
}

// glassesBeforeBridgeCM is how far a pair of glasses stands before the
// nose's bridge (the lenses sit about 1.2 cm before the eyes).
const glassesBeforeBridgeCM = 0.4

type glassesPart int

const (
	glassesNone glassesPart = iota
	glassesRim
	glassesLens
	glassesArm
)

// The frame's shape in cm from the eyes' midpoint: lenses glassesHalfW
// wide either side of each eye, and temple arms from the hinges to
// glassesArmEnd across.
const (
	glassesHalfW  = 2.5
	glassesHinge  = iodCM/2 + glassesHalfW - 0.2
	glassesArmEnd = 7.5
)

// glassesAt says which part of a pair of glasses covers the face at (x, y)
// cm from the eyes' midpoint: two rounded lenses 5 cm wide centred on the
// eyes, 3 mm rims, a bridge and the temple arms (glassesArm: they slope
// back from the front to the ears, glassesArmDepth).
func glassesAt(x, y float64) glassesPart {
	const hh, rim = 1.7, 0.3
	ax := math.Abs(x)
	lx, ly := (ax-iodCM/2)/glassesHalfW, (y-0.15)/hh
	q := math.Pow(math.Abs(lx), 4) + math.Pow(math.Abs(ly), 4)
	switch {
	case q < math.Pow(1-rim/hh, 4):
		return glassesLens
	case q < 1:
		return glassesRim
	case ax < iodCM/2-glassesHalfW+0.2 && y > -0.5 && y < -0.1: // bridge
		return glassesRim
	case ax > glassesHinge && ax < glassesArmEnd && y > -0.45 && y < -0.15:
		return glassesArm
	}
	return glassesNone
}

// glassesView places a pair of glasses in one output frame: c is the
// face's centre, mid the eyes' midpoint, (ux, uy) across the face and cm
// the centimetres per pixel, all in the outline's plane. On a live face
// the front stands front cm before the outline and magnifies by mag about
// c (distCM from the camera); on a print mag is 1.
type glassesView struct {
	c, mid                         livenessd.Point
	ux, uy, cm, distCM, front, mag float64
}

// at is the part of the glasses seen at the output offset (dx, dy) from
// the face's centre if it were magnified by m, and where that is (cm).
func (g glassesView) at(dx, dy, m float64) (part glassesPart, x, y float64) {
	gx, gy := g.c.X+dx/m-g.mid.X, g.c.Y+dy/m-g.mid.Y
	x, y = (gx*g.ux+gy*g.uy)*g.cm, (-gx*g.uy+gy*g.ux)*g.cm
	return glassesAt(x, y), x, y
}

// part is the part of the glasses seen at the output offset (dx, dy). On a
// live face a temple arm slopes back from the front to the ear, so its
// magnification depends on where along it the pixel looks: a few
// fixed-point steps from the front's magnification, the middle and the
// outline's find it.
func (g glassesView) part(dx, dy float64, live bool) glassesPart {
	part, _, y := g.at(dx, dy, g.mag)
	if !live || part == glassesLens || part == glassesRim {
		return part
	}
	if y < -1 || y > 0.5 { // far from the arms' height
		return glassesNone
	}
	for _, m := range [...]float64{g.mag, (1 + g.mag) / 2, 1} {
		part, x, _ := g.at(dx, dy, m)
		for range 3 {
			if part != glassesArm {
				break
			}
			m = g.distCM / (g.distCM - glassesArmDepth(x, g.front))
			part, x, _ = g.at(dx, dy, m)
		}
		if part == glassesArm {
			return glassesArm
		}
	}
	return glassesNone
}

// glassesArmDepth is how far a temple arm stands before the face's outline
// at x cm across: at the front's depth (front) at the hinge, at the
// outline's by the ear.
func glassesArmDepth(x, front float64) float64 {
	s := (math.Abs(x) - glassesHinge) / (glassesArmEnd - glassesHinge)
	return front * (1 - math.Max(0, math.Min(1, s)))
}
