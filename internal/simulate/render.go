// Package simulate renders liveness captures from a real photo: a live face
// moving into the oval and answering the screen colours with 3-D shading,
// and the attacks the analysis must reject (a flat print, a replayed or
// delayed response, a face swap, no face). It feeds the analysis in process
// (evaluation, tests) or the capture WebSocket (livenessd simulate).
package simulate

import (
	"encoding/binary"
	"fmt"
	"image"
	"image/draw"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/liveness"
)

// Attack is what the simulated capture shows.
type Attack string

// Attacks.
const (
	AttackNone    Attack = "none"    // a live face
	AttackPhoto   Attack = "photo"   // a flat print: uniform reflection, rigid scaling
	AttackReplay  Attack = "replay"  // a live-looking response to a different colour sequence
	AttackDelayed Attack = "delayed" // the right sequence one colour late
	AttackSwap    Attack = "swap"    // another person's face from half way
	AttackNoFace  Attack = "noface"  // no face at all
)

// Attacks lists every kind, live first.
var Attacks = []Attack{AttackNone, AttackPhoto, AttackReplay, AttackDelayed, AttackSwap, AttackNoFace}

// liveHead reports whether the capture shows a live head (every kind but
// a print and an empty scene): it is solid, turns and blinks.
func (a Attack) liveHead() bool { return a != AttackPhoto && a != AttackNoFace }

// ParseAttack validates an attack name.
func ParseAttack(s string) (Attack, error) {
	for _, a := range Attacks {
		if string(a) == s {
			return a, nil
		}
	}
	return "", fmt.Errorf("simulate: unknown attack %q (want none, photo, replay, delayed, swap or noface)", s)
}

// DefaultStrength is the relative change of the pixel values of the face
// front at full white, seen through a standard (sRGB) camera: 3%, which is
// about 6.7% more light on the skin (docs/ACCURACY.md explains why this is
// a bright room for a phone or laptop screen at arm's length).
const DefaultStrength = 0.03

// Source is a photo and the face in it (pixels of Img): the box and the
// two eye centres (left, right in the image), which anchor the 3-D shading
// of the reflected light.
type Source struct {
	Img  *image.NRGBA
	Face livenessd.Rect
	Eyes [2]livenessd.Point
	// Pose is the face's head pose in the photo (DetectSource), which the
	// simulator keeps: it moves and lights a face, it cannot turn it.
	Pose livenessd.Pose
	// Others counts the other sizeable faces in the source's view.
	Others int
	// Contour is the face's contour width (jaw line ends, as liveness
	// measures the oval fit) in pixels of Img; 0 when unknown.
	Contour float64
	// Skin is the individual typology angle of the face's skin (ITA°;
	// SkinBin), NaN when unknown.
	Skin float64
}

// eyes returns the eye centres, estimated from the box when unknown.
func (s Source) eyes() (livenessd.Point, livenessd.Point) {
	if s.Eyes[0] != s.Eyes[1] {
		return s.Eyes[0], s.Eyes[1]
	}
	b := s.Face
	return livenessd.Point{X: b.X + 0.32*b.W, Y: b.Y + 0.40*b.H}, livenessd.Point{X: b.X + 0.68*b.W, Y: b.Y + 0.40*b.H}
}

// CentralFace assumes the face is the central region of img (aligned
// crops such as LFW's).
func CentralFace(img *image.NRGBA) Source {
	b := img.Bounds()
	w, h := float64(b.Dx()), float64(b.Dy())
	return Source{Img: img, Face: livenessd.Rect{X: 0.29 * w, Y: 0.27 * h, W: 0.42 * w, H: 0.50 * h}}
}

// Options shape a simulated capture. Zero fields take defaults.
type Options struct {
	Attack   Attack
	Strength float64 // skin luminance change at full colour (DefaultStrength)
	// AWB turns on the camera's auto exposure and white balance, which pull
	// the frame's mean back to neutral with a 0.3 s time constant and so
	// cancel part of the reflected colour.
	AWB    bool
	Width  int // 640
	Height int // 480
	FPS    float64
	Seed   uint64
	// Other is the second person for AttackSwap.
	Other *Source
	// NoiseSigma is the sensor noise per channel in 8-bit levels (2).
	NoiseSigma float64
	// Cache shares the geometric rendering between captures of the same
	// source, seed and geometry (see BaseCache); nil renders everything.
	Cache *BaseCache
	// Start is where the person begins (StartFar when empty); a near
	// start waits for the server's move_back (Play passes the guidance).
	Start Start
	// Scene is the world of the capture: face shape, light, camera
	// (DefaultScene when nil). Width, Height, FPS, NoiseSigma and AWB
	// above override it when set.
	Scene *Scene
}

// Player renders one capture frame by frame. Render must be called with
// increasing times (the camera's exposure control has state).
type Player struct {
	src, other Source
	opt        Options
	ch         livenessd.Challenge
	rng        *rand.Rand

	// geometry
	mo         *motion // the approach (motion.go)
	swayPhase  float64
	driftPhase float64
	lag        time.Duration
	replay     []livenessd.ColorStep

	flashAt time.Duration
	onsets  []time.Duration
	flashed bool
	blinks  []blink

	scene  Scene
	shade  shadeGrid // the face's response to the screen (live geometries)
	focal  float64   // camera focal length in pixels
	distCM float64   // face distance at the oval
	toLin  [256]float32
	tone   []uint8 // linear light (toneScale steps per unit) -> 8-bit
	iodPx0 float64 // the source's eye distance in source pixels

	gain     [3]float64 // automatic exposure x white balance
	lastT    time.Duration
	refMean  [3]float64
	hasRef   bool
	noise    []float32
	blurred  *image.NRGBA
	otherAt  time.Duration
	nextNois int
}

// toneScale is the resolution of the tone curve table over linear light
// (values up to toneMax times the photo's white).
const (
	toneScale = 1024
	toneMax   = 2
	// shadeUnit is the stored shade of 1 (the face front's response).
	shadeUnit = 150
)

// seededSource is randomness for one purpose (label) drawn from seed,
// apart from the player's other draws, so that one seed plays the same
// capture again: a replay's other colour sequence, an evaluation's
// challenges (as an io.Reader), a person's blinks (as a rand.Source).
func seededSource(seed uint64, label string) *rand.ChaCha8 {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:8], seed)
	copy(s[8:], label)
	return rand.NewChaCha8(s)
}

// NewPlayer prepares a capture of challenge ch from src.
func NewPlayer(src Source, ch livenessd.Challenge, opt Options) (*Player, error) {
	if src.Img == nil || src.Face.W < 8 || src.Face.H < 8 {
		return nil, fmt.Errorf("simulate: source has no face region")
	}
	if opt.Attack == "" {
		opt.Attack = AttackNone
	}
	if opt.Attack == AttackSwap && opt.Other == nil {
		return nil, fmt.Errorf("simulate: swap needs a second face")
	}
	if opt.Start != "" {
		if _, err := ParseStart(string(opt.Start)); err != nil {
			return nil, err
		}
	}
	if opt.Strength <= 0 {
		opt.Strength = DefaultStrength
	}
	sc := DefaultScene()
	if opt.Scene != nil {
		sc = *opt.Scene
	}
	if opt.Width > 0 && opt.Height > 0 {
		sc.Width, sc.Height = opt.Width, opt.Height
	}
	if opt.FPS > 0 {
		sc.FPS = opt.FPS
	}
	if opt.NoiseSigma > 0 {
		sc.NoiseSigma = opt.NoiseSigma
	}
	if opt.AWB {
		sc.AE, sc.AWB = true, true
	}
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	opt.Width, opt.Height, opt.FPS, opt.NoiseSigma = sc.Width, sc.Height, sc.FPS, sc.NoiseSigma
	p := &Player{src: src, opt: opt, ch: ch, rng: rand.New(rand.NewPCG(opt.Seed, 0x5157)), flashAt: -1, scene: sc}
	if opt.Other != nil {
		p.other = *opt.Other
	}
	p.mo = newMotion(p.rng, src, ch, opt.Width, opt.Height, opt.Start, opt.Attack)
	// The scene sets how quickly this person approaches.
	p.mo.duration = time.Duration(float64(p.mo.duration) / 1.3 * sc.ApproachS)
	p.swayPhase = p.rng.Float64() * 2 * math.Pi
	p.driftPhase = p.rng.Float64() * 2 * math.Pi
	// Camera + display delay of the response.
	p.lag = time.Duration(sc.LagMS * float64(time.Millisecond))
	if opt.Attack == AttackReplay {
		r := seededSource(opt.Seed, "replayed colour sequence")
		for {
			alt, err := liveness.NewChallengeFrom(r, livenessd.ChallengeMovementAndLight)
			if err != nil {
				return nil, err
			}
			if !sameColors(alt.Colors, ch.Colors) {
				p.replay = alt.Colors
				break
			}
		}
	}
	if opt.Attack.liveHead() {
		p.blinks = drawBlinks(rand.New(seededSource(opt.Seed, "blinks")), sc.BlinksPerMin)
	}
	p.gain = [3]float64{1, 1, 1}
	p.noise = make([]float32, 1<<16)
	for i := range p.noise {
		p.noise[i] = float32(p.rng.NormFloat64() * opt.NoiseSigma)
	}
	p.setupCamera()
	p.setupLight()
	if opt.Attack == AttackNoFace {
		p.blurred = boxBlur(src.Img, max(8, src.Img.Bounds().Dx()/12))
	}
	return p, nil
}

func sameColors(a, b []livenessd.ColorStep) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Color != b[i].Color {
			return false
		}
	}
	return true
}

// Flash starts the colours at time at (the moment the first colour is on
// screen) and returns the onsets the client reports.
func (p *Player) Flash(at time.Duration) []liveness.ColorShown {
	p.flashed, p.flashAt = true, at
	p.mo.hold(at, p.scene.ColourDrift)
	p.onsets = p.onsets[:0]
	out := make([]liveness.ColorShown, len(p.ch.Colors))
	t := at
	for i, c := range p.ch.Colors {
		p.onsets = append(p.onsets, t)
		out[i] = liveness.ColorShown{Index: i, At: t}
		t += c.Duration
	}
	// The swap happens half way through the colours.
	p.otherAt = at + (t-at)/2
	return out
}

// End is when the last colour ends (valid after Flash).
func (p *Player) End() time.Duration {
	if !p.flashed {
		return -1
	}
	end := p.flashAt
	for _, c := range p.ch.Colors {
		end += c.Duration
	}
	return end
}

// Lag is the simulated delay between a colour and the face's response.
func (p *Player) Lag() time.Duration { return p.lag }

// lightAt is the screen colour (0..1 per channel) lighting the face at
// time t as the attack shows it; ok is false before the colours.
func (p *Player) lightAt(t time.Duration) (c [3]float64, ok bool) {
	if !p.flashed {
		return c, false
	}
	t -= p.lag
	steps := p.ch.Colors
	k := -1
	switch p.opt.Attack {
	case AttackReplay:
		steps = p.replay
		d := p.flashAt
		for i, s := range steps {
			if t >= d {
				k = i
			}
			d += s.Duration
		}
	default:
		for i, on := range p.onsets {
			if t >= on {
				k = i
			}
		}
		if p.opt.Attack == AttackDelayed {
			k--
		}
	}
	if k < 0 || k >= len(steps) {
		return c, false
	}
	for i := range 3 {
		c[i] = float64(steps[k].Color[i]) / 255
	}
	return c, true
}

// geometry is the face's centre and width at time t.
func (p *Player) geometry(t time.Duration) (centre livenessd.Point, width float64) {
	p.mo.advance(t)
	centre, width = p.mo.state()
	// Small head motion: a slow sway of a few pixels and breathing scale.
	s := t.Seconds()
	amp := 0.012 * width * p.scene.Sway
	if p.opt.Attack == AttackPhoto {
		amp = 0.008 * width * p.scene.Sway // a hand-held print shakes a little too
	}
	centre.X += amp * math.Sin(2*math.Pi*0.45*s+p.swayPhase)
	centre.Y += 0.6 * amp * math.Sin(2*math.Pi*0.31*s+1.3*p.swayPhase)
	width *= 1 + 0.006*math.Sin(2*math.Pi*0.27*s+p.swayPhase)
	return centre, width
}

// turn is how the head is turned at time t: the scene's turn as the
// colours play, reached over the approach, and a slow sway about it. A
// print or an empty scene does not turn.
func (p *Player) turn(t time.Duration) headTurn {
	if !p.opt.Attack.liveHead() {
		return newHeadTurn(0, 0)
	}
	sc := p.scene
	rest := 1 - p.mo.progress
	s := t.Seconds()
	return newHeadTurn(
		sc.HeadYaw-rest*sc.TurnYaw+sc.HeadSway*math.Sin(2*math.Pi*0.21*s+1.7*p.swayPhase+0.5),
		sc.HeadPitch-rest*sc.TurnPitch+0.7*sc.HeadSway*math.Sin(2*math.Pi*0.17*s+2.3*p.swayPhase+1.1),
	)
}

// faceToImage turns a move (x across the face, y down it) into the
// image's axes, the face's across axis being (ux, uy); imageToFace undoes
// it.
func faceToImage(x, y, ux, uy float64) (float64, float64) {
	return x*ux - y*uy, x*uy + y*ux
}

func imageToFace(x, y, ux, uy float64) (float64, float64) {
	return x*ux + y*uy, -x*uy + y*ux
}

// solid reports whether the face is rendered as a 3-D head, in the
// perspective of its relief and turned, at every distance: the shape
// setupLight made for a live head.
func (p *Player) solid() bool { return p.shade.v != nil }

// Truth is where the face is at time t: its box and 5 keypoints, placed
// from the source face box by fixed proportions (an oracle for tests
// without a face model). Nil for AttackNoFace.
func (p *Player) Truth(t time.Duration) []livenessd.FaceObservation {
	if p.opt.Attack == AttackNoFace {
		return nil
	}
	src := p.currentSource(t)
	c, w := p.geometry(t)
	turn := p.turn(t)
	z := p.zoom(src, w)
	fc := src.Face.Center()
	el, er := src.eyes()
	iod := math.Hypot(er.X-el.X, er.Y-el.Y)
	ux, uy := (er.X-el.X)/iod, (er.Y-el.Y)/iod
	mid := livenessd.Point{X: (el.X + er.X) / 2, Y: (el.Y + er.Y) / 2}
	distCM := p.focal * iodCM / math.Max(iod*z, 1)
	fwd := func(sp livenessd.Point) livenessd.Point {
		d := livenessd.Point{X: (sp.X - fc.X) * z, Y: (sp.Y - fc.Y) * z}
		f := 1.0
		if p.solid() {
			x, y := imageToFace(sp.X-mid.X, sp.Y-mid.Y, ux, uy)
			x, y = x*iodCM/iod, y*iodCM/iod
			_, zf, _ := p.shade.at(x, y)
			tx, ty, tz := turn.apply(x, y, zf)
			// The turn's move, from face centimetres to output pixels.
			mx, my := faceToImage((tx-x)*iod/iodCM*z, (ty-y)*iod/iodCM*z, ux, uy)
			d.X += mx
			d.Y += my
			f = (distCM / (distCM - tz)) / (100 / (100 - zf))
		}
		return livenessd.Point{X: c.X + d.X*f, Y: c.Y + d.Y*f}
	}
	b := src.Face
	kp := []livenessd.Point{
		{X: b.X + 0.32*b.W, Y: b.Y + 0.40*b.H}, {X: b.X + 0.68*b.W, Y: b.Y + 0.40*b.H},
		{X: b.X + 0.5*b.W, Y: b.Y + 0.60*b.H},
		{X: b.X + 0.36*b.W, Y: b.Y + 0.78*b.H}, {X: b.X + 0.64*b.W, Y: b.Y + 0.78*b.H},
	}
	for i := range kp {
		kp[i] = fwd(kp[i])
	}
	tl, br := fwd(livenessd.Point{X: b.X, Y: b.Y}), fwd(livenessd.Point{X: b.X + b.W, Y: b.Y + b.H})
	return []livenessd.FaceObservation{{
		Box: livenessd.Rect{X: tl.X, Y: tl.Y, W: br.X - tl.X, H: br.Y - tl.Y}, Score: 0.99, Keypoints: kp,
	}}
}

func (p *Player) currentSource(t time.Duration) Source {
	if p.opt.Attack == AttackSwap && p.flashed && t >= p.otherAt {
		return p.other
	}
	return p.src
}

// BaseCache keeps the geometric part of rendered frames (the warped photo
// and its shading map, before light, exposure and noise), so captures that
// differ only in light (attack none/replay/delayed, reflection strengths,
// AWB) with the same source, seed and geometry render fast. One cache
// belongs to one (source, seed, geometry) combination.
type BaseCache struct {
	mu sync.Mutex
	m  map[time.Duration]*baseFrame
}

// NewBaseCache returns an empty cache.
func NewBaseCache() *BaseCache { return &BaseCache{m: map[time.Duration]*baseFrame{}} }

type baseFrame struct {
	rgb   []uint8 // W*H*3
	shade []uint8 // W*H, the screen's light relative to the room's (shadeUnit = the face front)
	lens  []bool  // W*H, glasses' lenses that mirror the screen (nil without glasses)
}

func (p *Player) baseFrame(t time.Duration) *baseFrame {
	if c := p.opt.Cache; c != nil {
		c.mu.Lock()
		b, ok := c.m[t]
		c.mu.Unlock()
		if ok {
			return b
		}
	}
	W, H := p.opt.Width, p.opt.Height
	b := &baseFrame{rgb: make([]uint8, W*H*3), shade: make([]uint8, W*H)}
	src := p.currentSource(t)
	img := src.Img
	if p.opt.Attack == AttackNoFace {
		img = p.blurred
	}
	c, w := p.geometry(t)
	turn := p.turn(t)
	z := p.zoom(src, w)
	fc := src.Face.Center()
	// Face coordinates of an output pixel (cm from the eye midpoint,
	// across and down the face), for the live geometries' shading.
	el, er := src.eyes()
	toOut := func(p livenessd.Point) livenessd.Point {
		return livenessd.Point{X: c.X + (p.X-fc.X)*z, Y: c.Y + (p.Y-fc.Y)*z}
	}
	el, er = toOut(el), toOut(er)
	iod := math.Hypot(er.X-el.X, er.Y-el.Y)
	ux, uy := (er.X-el.X)/iod, (er.Y-el.Y)/iod // across the face; down is (-uy, ux)
	mid := livenessd.Point{X: (el.X + er.X) / 2, Y: (el.Y + er.Y) / 2}
	cm := iodCM / iod
	bg := uint8(math.Min(255, p.scene.Background*shadeUnit+0.5))
	var pr printShader
	var pw *printWarp
	if p.opt.Attack == AttackPhoto {
		pr = p.newPrintShader(mid, iod, w)
		warp := newPrintWarp(p.scene, p.focal, p.printDistance(iod))
		pw = &warp
	}
	sb := img.Bounds()
	maxX, maxY := float64(sb.Max.X-1)-1e-6, float64(sb.Max.Y-1)-1e-6
	// Perspective of a 3-D face: a point standing zf cm before the face's
	// outline is magnified by D/(D-zf) at distance D, against the photo's
	// own (taken from about a metre).
	live := p.solid()
	distCM := p.focal * iodCM / math.Max(iod, 1)
	const photoCM = 100.0
	glasses := p.scene.Glasses && p.opt.Attack != AttackNoFace
	// A live face's glasses stand before it and magnify by their own
	// depth as it comes closer, about the face's centre as the face
	// does; a print's are flat.
	gv := glassesView{c: c, mid: mid, ux: ux, uy: uy, cm: cm, distCM: distCM, mag: 1}
	lid := newLids(src, p.closure(t))
	// gdx, gdy: the glasses move with the turned head (output pixels).
	var gdx, gdy float64
	if glasses && live {
		b.lens = make([]bool, W*H)
		if _, zb, ok := p.shade.at(0, 0); ok {
			gv.front = zb + glassesBeforeBridgeCM
			gv.mag = distCM / (distCM - gv.front)
			tx, ty, _ := turn.apply(0, 0, gv.front)
			gdx, gdy = faceToImage(tx/cm, ty/cm, ux, uy)
		}
	}
	turned := live && !turn.zero
	for y := range H {
		dy := float64(y) - c.Y
		for x := range W {
			dx := float64(x) - c.X
			f := z
			var shade float64
			inFace := false
			var gl glassesPart
			px, py := dx, dy
			var tdx, tdy float64
			if live || glasses {
				rx, ry := float64(x)-mid.X, float64(y)-mid.Y
				fx, fy := imageToFace(rx, ry, ux, uy)
				fx, fy = fx*cm, fy*cm
				if glasses {
					gl = gv.part(dx-gdx, dy-gdy, live)
				}
				if turned {
					// The face point seen here, before the turn, and
					// its move in source pixels (the turn's move is
					// magnified by the perspective as the point is).
					sfx, sfy, zs, tz := turn.source(p.shade, fx, fy)
					tdx, tdy = faceToImage((sfx-fx)/cm/z, (sfy-fy)/cm/z, ux, uy)
					shade, _, inFace = p.shade.at(sfx, sfy)
					// Outside the face too: the plane of its outline
					// turns, one side nearer (no seam at the outline).
					f = z * (distCM / (distCM - tz)) / (photoCM / (photoCM - zs))
				} else if live {
					var zf float64
					if shade, zf, inFace = p.shade.at(fx, fy); inFace {
						f = z * (distCM / (distCM - zf)) / (photoCM / (photoCM - zf))
					}
				}
			}
			if pw != nil {
				if wx, wy, ok := pw.at(dx, dy); ok {
					px, py = wx, wy
				}
			}
			sx, sy := fc.X+px/f+tdx, fc.Y+py/f+tdy
			lash := false
			if lid != nil {
				sx, sy, lash = lid.at(sx, sy)
			}
			sx = math.Max(float64(sb.Min.X), math.Min(maxX, sx))
			sy = math.Max(float64(sb.Min.Y), math.Min(maxY, sy))
			x0, y0 := int(sx), int(sy)
			fx, fy := sx-float64(x0), sy-float64(y0)
			p00 := img.PixOffset(x0, y0)
			p10 := p00 + 4
			if x0+1 >= sb.Max.X {
				p10 = p00
			}
			p01 := p00 + img.Stride
			if y0+1 >= sb.Max.Y {
				p01 = p00
			}
			p11 := p01 + (p10 - p00)
			o := (y*W + x) * 3
			for i := range 3 {
				top := float64(img.Pix[p00+i])*(1-fx) + float64(img.Pix[p10+i])*fx
				bot := float64(img.Pix[p01+i])*(1-fx) + float64(img.Pix[p11+i])*fx
				b.rgb[o+i] = uint8(top*(1-fy) + bot*fy + 0.5)
				if lash {
					b.rgb[o+i] = uint8(float64(b.rgb[o+i])*0.45 + 0.5)
				}
				if gl == glassesRim || gl == glassesArm {
					b.rgb[o+i] = uint8(float64(b.rgb[o+i])*0.2 + 0.5)
				}
			}
			if gl == glassesLens && live {
				b.lens[y*W+x] = true
			}
			switch p.opt.Attack {
			case AttackPhoto:
				b.shade[y*W+x] = pr.at(x, y)
			case AttackNoFace:
			default:
				if inFace {
					b.shade[y*W+x] = uint8(math.Min(255, shade*shadeUnit+0.5))
				} else {
					b.shade[y*W+x] = bg
				}
			}
		}
	}
	if c := p.opt.Cache; c != nil {
		c.mu.Lock()
		c.m[t] = b
		c.mu.Unlock()
	}
	return b
}

// boxBlur blurs img with a box of radius r, three passes (about Gaussian):
// what is left of a face is a skin-coloured blob no detector takes for one.
func boxBlur(img *image.NRGBA, r int) *image.NRGBA {
	b := img.Bounds()
	cur := image.NewNRGBA(b)
	draw.Draw(cur, b, img, b.Min, draw.Src)
	tmp := image.NewNRGBA(b)
	for range 3 {
		blur1(tmp, cur, r, true)
		blur1(cur, tmp, r, false)
	}
	return cur
}

func blur1(dst, src *image.NRGBA, r int, horiz bool) {
	b := src.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			var s [4]int
			n := 0
			for d := -r; d <= r; d++ {
				xx, yy := x, y
				if horiz {
					xx = min(max(x+d, b.Min.X), b.Max.X-1)
				} else {
					yy = min(max(y+d, b.Min.Y), b.Max.Y-1)
				}
				o := src.PixOffset(xx, yy)
				for i := range 4 {
					s[i] += int(src.Pix[o+i])
				}
				n++
			}
			o := dst.PixOffset(x, y)
			for i := range 4 {
				dst.Pix[o+i] = uint8(s[i] / n)
			}
		}
	}
}

// TruthEmbedding is an oracle identity vector for tests: one per source
// person, as of the last rendered frame.
func (p *Player) TruthEmbedding() []float32 {
	if p.opt.Attack == AttackSwap && p.flashed && p.lastT >= p.otherAt {
		return []float32{0, 1}
	}
	return []float32{1, 0}
}
