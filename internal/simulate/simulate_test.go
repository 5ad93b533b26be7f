package simulate_test

import (
	"context"
	"errors"
	"image"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/capture"
	"github.com/livenessd/livenessd/internal/liveness"
	"github.com/livenessd/livenessd/internal/simulate"
)

func testSource() simulate.Source {
	img := image.NewNRGBA(image.Rect(0, 0, 250, 250))
	for i := range img.Pix {
		img.Pix[i] = 150
		if i%4 == 3 {
			img.Pix[i] = 255
		}
	}
	return simulate.CentralFace(img)
}

func whiteChallenge() livenessd.Challenge {
	ch := livenessd.Challenge{ID: "w", Oval: livenessd.Oval{CenterX: 0.5, CenterY: 0.5, Width: 0.45, Height: 0.78}}
	for range 6 {
		ch.Colors = append(ch.Colors, livenessd.ColorStep{Color: livenessd.RGB{255, 255, 255}, Duration: 400 * time.Millisecond})
	}
	return ch
}

// lit returns the relative brightening of the green channel at (x, y)
// between a frame with the screen white and one without light.
func lit(t *testing.T, opt simulate.Options, x, y int) float64 {
	t.Helper()
	return litRGB(t, opt, x, y)[1]
}

// litRGB is lit for each channel.
func litRGB(t *testing.T, opt simulate.Options, x, y int) [3]float64 {
	t.Helper()
	src := testSource()
	opt.NoiseSigma = 1e-6
	opt.Width, opt.Height = 320, 240 // fast under -race
	if opt.Scene == nil {
		sc := simulate.DefaultScene()
		sc.DriftAmp = 0
		opt.Scene = &sc
	}
	on, err := simulate.NewPlayer(src, whiteChallenge(), opt)
	if err != nil {
		t.Fatal(err)
	}
	off, _ := simulate.NewPlayer(src, whiteChallenge(), opt)
	var a, b *image.NRGBA
	for at := time.Duration(0); at <= 2*time.Second; at += 66 * time.Millisecond {
		if at >= time.Second && at < time.Second+66*time.Millisecond {
			on.Flash(at)
		}
		a, b = on.Render(at), off.Render(at)
	}
	ca, cb := a.NRGBAAt(x, y), b.NRGBAAt(x, y)
	return [3]float64{float64(ca.R)/float64(cb.R) - 1, float64(ca.G)/float64(cb.G) - 1, float64(ca.B)/float64(cb.B) - 1}
}

// The room's colour: the camera balances it out of the picture but not out
// of the screen's light, which raises each channel by the screen's light
// over the room's in it. A white screen in a warm room raises blue more
// than red, in daylight alike, in a cool room red more; the luminance it
// adds stays about the same.
func TestPlayer_RoomColour(t *testing.T) {
	ch := whiteChallenge()
	cx, cy := int(ch.Oval.CenterX*320), int(ch.Oval.CenterY*240)
	var daylight float64
	for _, test := range []struct {
		name           string
		warmth         float64
		blueOverRedMin float64
		blueOverRedMax float64
	}{
		{"daylight", 0, 0.95, 1.05},
		{"warm lamp", 1, 2.2, 5},
		{"cool", -0.3, 0.5, 0.9},
	} {
		t.Run(test.name, func(t *testing.T) {
			sc := simulate.DefaultScene()
			sc.DriftAmp, sc.RoomWarmth = 0, test.warmth
			c := litRGB(t, simulate.Options{Strength: 0.1, Scene: &sc}, cx, cy)
			if r := c[2] / c[0]; r < test.blueOverRedMin || r > test.blueOverRedMax {
				t.Errorf("blue rose %.3f, red %.3f: ratio %.2f, want %.2f-%.2f", c[2], c[0], r, test.blueOverRedMin, test.blueOverRedMax)
			}
			y := 0.2126*c[0] + 0.7152*c[1] + 0.0722*c[2]
			if test.warmth == 0 {
				daylight = y
			} else if daylight > 0 && math.Abs(y/daylight-1) > 0.25 {
				t.Errorf("luminance rose %.3f, in daylight %.3f", y, daylight)
			}
		})
	}
}

// The screen's light: a live face answers most at its front, less towards
// its sides and not at all behind it; a flat print facing the camera
// answers nearly evenly, its surround included.
func TestPlayer_Reflection(t *testing.T) {
	ch := whiteChallenge()
	cx, cy := int(ch.Oval.CenterX*320), int(ch.Oval.CenterY*240)
	const s = 0.1
	flat := simulate.DefaultScene()
	flat.DriftAmp = 0
	for _, test := range []struct {
		name string
		opt  simulate.Options
		// expected change at the centre, near the face's outline, and
		// beside the face
		centre, side, outside   float64
		centreTol, tol, outsTol float64
	}{
		{"Live3D", simulate.Options{Attack: simulate.AttackNone, Strength: s}, s, 0.6 * s, 0, 0.2 * s, 0.3 * s, 0.005},
		{"PhotoFlat", simulate.Options{Attack: simulate.AttackPhoto, Strength: s, Scene: &flat}, s, 0.9 * s, 0.8 * s, 0.2 * s, 0.15 * s, 0.25 * s},
	} {
		t.Run(test.name, func(t *testing.T) {
			c := lit(t, test.opt, cx, cy)
			e := lit(t, test.opt, cx+50, cy)
			o := lit(t, test.opt, cx+100, cy-30)
			if math.Abs(c-test.centre) > test.centreTol {
				t.Errorf("centre change = %.3f, want %.3f", c, test.centre)
			}
			if math.Abs(e-test.side) > test.tol {
				t.Errorf("side change = %.3f, want about %.3f", e, test.side)
			}
			if math.Abs(o-test.outside) > test.outsTol {
				t.Errorf("change beside the face = %.3f, want about %.3f", o, test.outside)
			}
		})
	}
}

// A flatter face answers more evenly than a deep one.
func TestPlayer_FaceDepth(t *testing.T) {
	ch := whiteChallenge()
	cx, cy := int(ch.Oval.CenterX*320), int(ch.Oval.CenterY*240)
	contrast := func(depth float64) float64 {
		sc := simulate.DefaultScene()
		sc.DriftAmp, sc.DepthCM = 0, depth
		opt := simulate.Options{Strength: 0.1, Scene: &sc}
		return 1 - lit(t, opt, cx+40, cy)/lit(t, opt, cx, cy)
	}
	flat, deep := contrast(2), contrast(6)
	if !(flat > 0 && deep > flat+0.1) {
		t.Errorf("centre-to-side contrast: 2 cm deep %.3f, 6 cm deep %.3f; want both > 0 and the deep face's larger", flat, deep)
	}
}

func TestPlayer_AWBCompensates(t *testing.T) {
	ch := whiteChallenge()
	cx, cy := int(ch.Oval.CenterX*320), int(ch.Oval.CenterY*240)
	// Strong light, so the camera's reaction to it dominates its reaction
	// to the slow exposure drift.
	plain := lit(t, simulate.Options{Strength: 0.5}, cx, cy)
	awb := lit(t, simulate.Options{Strength: 0.5, AWB: true}, cx, cy)
	if !(awb < plain) {
		t.Errorf("response with AWB %.3f, without %.3f: AWB should take some back", awb, plain)
	}
}

// DrawScene stays within the documented ranges and is reproducible.
func TestDrawScene(t *testing.T) {
	upright := 0
	for seed := range uint64(200) {
		a := simulate.DrawScene(rand.New(rand.NewPCG(seed, 1)))
		b := simulate.DrawScene(rand.New(rand.NewPCG(seed, 1)))
		if a != b {
			t.Fatalf("seed %d: two draws differ", seed)
		}
		if err := a.Validate(); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		if a.DepthCM < 2 || a.DepthCM > 6 || a.Gamma < 0.8 || a.Gamma > 1.2 || a.FPS < 10 || a.FPS > 30 ||
			a.JPEGQuality < 60 || a.JPEGQuality > 95 || max(a.Width, a.Height) < 320 || max(a.Width, a.Height) > 1280 ||
			a.BlinksPerMin < 4 || a.BlinksPerMin > 24 || math.Abs(a.HeadYaw) > 10 || a.HeadPitch < -5 || a.HeadPitch > 12 ||
			math.Abs(a.TurnYaw) > 5 || math.Abs(a.TurnPitch) > 5 || a.HeadSway < 0.2 || a.HeadSway > 1.2 ||
			a.ColourDrift < -0.04 || a.ColourDrift > 0.05 {
			t.Fatalf("seed %d: scene out of range: %+v", seed, a)
		}
		if a.Upright() {
			upright++
			if a.Screen != "phone" {
				t.Fatalf("seed %d: a %s camera held upright (%dx%d)", seed, a.Screen, a.Width, a.Height)
			}
		}
		for _, f := range simulate.Factors {
			if b := f.Bin(a); b == "" || !slices.Contains(f.Labels, b) {
				t.Fatalf("factor %s: bin %q not among its labels %q", f.Name, b, f.Labels)
			}
		}
	}
	// Half the phones (half the scenes) are upright: 50 of 200 expected.
	if upright < 30 || upright > 70 {
		t.Errorf("%d of 200 scenes upright, want about 50", upright)
	}
	if err := (simulate.Scene{}).Validate(); err == nil {
		t.Error("the zero scene validates")
	}
}

// The glasses bin tells coated from uncoated lenses; a recording from
// before the lens reflection was drawn (no blinks either) had 4%.
func TestFactors_GlassesBin(t *testing.T) {
	var glasses simulate.Factor
	for _, f := range simulate.Factors {
		if f.Name == "glasses" {
			glasses = f
		}
	}
	for _, test := range []struct {
		on           bool
		reflect, bpm float64
		want         string
	}{
		{false, 0.03, 10, "none"},
		{true, 0.01, 10, "coated lenses (< 2%)"},
		{true, 0.03, 10, "uncoated lenses (2-5%)"},
		{true, 0, 10, "coated lenses (< 2%)"},
		{true, 0, 0, "uncoated lenses (2-5%)"},
	} {
		s := simulate.DefaultScene()
		s.Glasses, s.LensReflect, s.BlinksPerMin = test.on, test.reflect, test.bpm
		if got := glasses.Bin(s); got != test.want {
			t.Errorf("glasses %v, reflection %g, %g blinks a minute: bin %q, want %q", test.on, test.reflect, test.bpm, got, test.want)
		}
	}
}

// --glasses puts glasses on the share of sessions asked for and changes
// nothing else of their scenes.
func TestEvalConfig_GlassesOverride(t *testing.T) {
	for _, test := range []struct {
		name     string
		glasses  *simulate.GlassesOverride
		min, max int // sessions of 400 with glasses
	}{
		{"AsDrawn", nil, 90, 150},
		{"All", &simulate.GlassesOverride{Share: 1, LensReflect: 0}, 400, 400},
		{"None", &simulate.GlassesOverride{Share: 0, LensReflect: -1}, 0, 0},
		{"Half", &simulate.GlassesOverride{Share: 0.5, LensReflect: -1}, 170, 230},
	} {
		t.Run(test.name, func(t *testing.T) {
			cfg := simulate.EvalConfig{VaryScenes: true, Glasses: test.glasses}
			drawn := simulate.EvalConfig{VaryScenes: true}
			n := 0
			for seed := range uint64(400) {
				a, b := simulate.SessionScene(cfg, seed), simulate.SessionScene(drawn, seed)
				if a.Glasses {
					n++
				}
				if test.glasses != nil && test.glasses.LensReflect >= 0 && a.LensReflect != test.glasses.LensReflect {
					t.Fatalf("seed %d: lens reflection %g, want %g", seed, a.LensReflect, test.glasses.LensReflect)
				}
				a.Glasses, a.LensReflect = b.Glasses, b.LensReflect
				if a != b {
					t.Fatalf("seed %d: the override changed more than the glasses: %+v against %+v", seed, a, b)
				}
			}
			if n < test.min || n > test.max {
				t.Errorf("%d of 400 sessions with glasses, want %d-%d", n, test.min, test.max)
			}
		})
	}
}

func TestParseAttack(t *testing.T) {
	for _, a := range simulate.Attacks {
		if got, err := simulate.ParseAttack(string(a)); err != nil || got != a {
			t.Errorf("ParseAttack(%q) = %q, %v", a, got, err)
		}
	}
	if _, err := simulate.ParseAttack("mask"); err == nil {
		t.Error("unknown attack accepted")
	}
}

func TestChallengeOf(t *testing.T) {
	ch, err := liveness.NewChallenge(livenessd.ChallengeMovementAndLight)
	if err != nil {
		t.Fatal(err)
	}
	m := capture.ChallengeMsg{ChallengeID: ch.ID, Oval: ch.Oval, Start: ch.Start}
	for _, c := range ch.Colors {
		m.Colors = append(m.Colors, capture.ColorMsg{Color: c.Color, DurationMs: c.Duration.Milliseconds()})
	}
	got := simulate.ChallengeOf(m)
	if got.ID != ch.ID || got.Oval != ch.Oval || got.Start != ch.Start || len(got.Colors) != len(ch.Colors) {
		t.Fatalf("round trip = %+v, want %+v", got, ch)
	}
	for i := range got.Colors {
		if got.Colors[i] != ch.Colors[i] {
			t.Errorf("colour %d = %+v, want %+v", i, got.Colors[i], ch.Colors[i])
		}
	}
}

type fakeObserver []livenessd.FaceObservation

func (f fakeObserver) ObserveFrame(context.Context, image.Image) ([]livenessd.FaceObservation, error) {
	return f, nil
}

// TestDetectSource checks the crop, the pose kept from the photo and the
// count of other people the simulated camera would see.
func TestDetectSource(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 400, 300))
	main := livenessd.FaceObservation{Box: livenessd.Rect{X: 150, Y: 100, W: 80, H: 100}, Pose: livenessd.Pose{Yaw: 32}}
	for _, test := range []struct {
		name   string
		faces  fakeObserver
		others int
	}{
		{"Alone", fakeObserver{main}, 0},
		{"BystanderInView", fakeObserver{main, {Box: livenessd.Rect{X: 210, Y: 130, W: 40, H: 50}}}, 1},
		{"TinyFaceOnAPoster", fakeObserver{main, {Box: livenessd.Rect{X: 120, Y: 90, W: 20, H: 25}}}, 0},
		{"FaceCutByTheCrop", fakeObserver{main, {Box: livenessd.Rect{X: 10, Y: 100, W: 80, H: 100}}}, 0},
	} {
		t.Run(test.name, func(t *testing.T) {
			src, err := simulate.DetectSource(t.Context(), test.faces, img)
			if err != nil {
				t.Fatal(err)
			}
			if src.Others != test.others {
				t.Errorf("others = %d, want %d", src.Others, test.others)
			}
			if src.Pose.Yaw != 32 {
				t.Errorf("pose = %+v, want the photo's", src.Pose)
			}
			if b := src.Img.Bounds(); b.Dx() != 136 || b.Dy() != 170 {
				t.Errorf("crop %v, want 1.7 times the face box", b)
			}
		})
	}
	if _, err := simulate.DetectSource(t.Context(), fakeObserver{}, img); !errors.Is(err, livenessd.ErrNoFace) {
		t.Errorf("no face: err = %v", err)
	}
}

// Glasses stand before a live face, so as it comes closer their front
// grows more than its outline does, while the temple arms slope back to
// the ears, which grow as the outline; a print's glasses are part of the
// flat picture.
func TestPlayer_GlassesDepth(t *testing.T) {
	// span is the span of the dark pixels (rims, temple arms) over the
	// face box's width on the row cm centimetres below the eyes, at time
	// at: 0.15 (the lenses' middle) ends at the rims' outer edges, -0.3
	// at the arms' ends by the ears.
	span := func(p *simulate.Player, at time.Duration, cm float64) float64 {
		img := p.Render(at)
		f := p.Truth(at)[0]
		el, er := f.Keypoints[0], f.Keypoints[1]
		y := int(math.Round((el.Y+er.Y)/2 + cm/6.3*math.Hypot(er.X-el.X, er.Y-el.Y)))
		lo, hi := -1, -1
		for x := range img.Bounds().Dx() {
			if img.NRGBAAt(x, y).G < 70 {
				if lo < 0 {
					lo = x
				}
				hi = x
			}
		}
		if lo < 0 {
			t.Fatalf("nothing dark %g cm below the eyes at %v", cm, at)
		}
		return float64(hi-lo) / f.Box.W
	}
	for _, test := range []struct {
		attack         simulate.Attack
		rimMin, rimMax float64 // growth of the rims' span, far to near
		armMin, armMax float64 // growth of the arms' span
		illustration   string
	}{
		{simulate.AttackNone, 1.03, 1.3, 0.97, 1.02, "a live face's glasses' front magnifies beyond its outline, the arms' ends as the outline"},
		{simulate.AttackPhoto, 0.98, 1.02, 0.98, 1.02, "a print's glasses scale with the print"},
	} {
		t.Run(string(test.attack), func(t *testing.T) {
			sc := simulate.DefaultScene()
			sc.Glasses, sc.LensReflect, sc.DriftAmp, sc.Sway = true, 0, 0, 0
			p, err := simulate.NewPlayer(testSource(), whiteChallenge(), simulate.Options{Attack: test.attack, Strength: 0.03, Seed: 3, NoiseSigma: 1e-6, Width: 640, Height: 480, Scene: &sc})
			if err != nil {
				t.Fatal(err)
			}
			farRim, farArm := span(p, 0, 0.15), span(p, 0, -0.3)
			var nearRim, nearArm float64
			for at := time.Duration(0); at <= 6*time.Second; at += 500 * time.Millisecond {
				nearRim, nearArm = span(p, at, 0.15), span(p, at, -0.3)
			}
			if g := nearRim / farRim; g < test.rimMin || g > test.rimMax {
				t.Errorf("rims' span over the face's width grew %.3f times (far %.3f, near %.3f), want %.2f-%.2f: %s", g, farRim, nearRim, test.rimMin, test.rimMax, test.illustration)
			}
			if g := nearArm / farArm; g < test.armMin || g > test.armMax {
				t.Errorf("arms' span over the face's width grew %.3f times (far %.3f, near %.3f), want %.2f-%.2f: %s", g, farArm, nearArm, test.armMin, test.armMax, test.illustration)
			}
		})
	}
}

// A replay's other colour sequence comes from the player's seed: one seed
// plays the same replay again (the end-to-end tests assert on it).
func TestPlayer_ReplaySeeded(t *testing.T) {
	challenge, err := liveness.NewChallenge(livenessd.ChallengeMovementAndLight)
	if err != nil {
		t.Fatal(err)
	}
	frame := func(seed uint64) []uint8 {
		p, err := simulate.NewPlayer(testSource(), challenge, simulate.Options{Attack: simulate.AttackReplay, Strength: 0.1, Seed: seed, Width: 160, Height: 120})
		if err != nil {
			t.Fatal(err)
		}
		var img *image.NRGBA
		p.Flash(time.Second)
		for at := time.Duration(0); at <= 4*time.Second; at += 100 * time.Millisecond {
			img = p.Render(at)
		}
		return img.Pix
	}
	a, b := frame(5), frame(5)
	if !slices.Equal(a, b) {
		t.Error("two replays from seed 5 differ")
	}
}

// fixedObserver sees one face in the middle of every frame.
type fixedObserver struct{}

func (fixedObserver) ObserveFrame(_ context.Context, img image.Image) ([]livenessd.FaceObservation, error) {
	b := img.Bounds()
	w := 0.3 * float64(b.Dx())
	return []livenessd.FaceObservation{{Box: livenessd.Rect{X: float64(b.Dx())/2 - w/2, Y: float64(b.Dy())/2 - 0.6*w, W: w, H: 1.2 * w}, Score: 0.99}}, nil
}

// One seed plays the same evaluation again: the challenges too are drawn
// from it.
func TestEvaluate_Reproducible(t *testing.T) {
	run := func() livenessd.Challenge {
		outs, err := simulate.Evaluate(t.Context(), simulate.EvalConfig{
			Faces: []simulate.Source{testSource(), testSource()}, Observer: fixedObserver{}, Sessions: 1,
			Kinds: []simulate.Attack{simulate.AttackNoFace}, Settings: []simulate.Setting{{Strength: 0.03}},
			Seed: 3, Workers: 1, Snapshots: true,
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(outs) != 1 || outs[0].Snapshot == nil {
			t.Fatalf("%d outcomes, want 1 with a snapshot", len(outs))
		}
		return outs[0].Snapshot.Challenge
	}
	if a, b := run(), run(); !reflect.DeepEqual(a, b) {
		t.Errorf("seed 3 drew different challenges: %+v and %+v", a, b)
	}
}

// A live person blinks: the lids cover the eyes in some frames (a print
// never does), and a scene without blinks keeps them open.
func TestPlayer_Blinks(t *testing.T) {
	src := testSource()
	el, er := src.Face.X+0.32*src.Face.W, src.Face.X+0.68*src.Face.W
	ey := src.Face.Y + 0.40*src.Face.H
	for y := range 250 {
		for x := range 250 {
			if math.Hypot(float64(x)-el, float64(y)-ey) < 3 || math.Hypot(float64(x)-er, float64(y)-ey) < 3 {
				o := src.Img.PixOffset(x, y)
				src.Img.Pix[o], src.Img.Pix[o+1], src.Img.Pix[o+2] = 20, 20, 20
			}
		}
	}
	// pupils counts the dark pixels of the frame at.
	pupils := func(p *simulate.Player, at time.Duration) int {
		img := p.Render(at)
		n := 0
		for i := 1; i < len(img.Pix); i += 4 {
			if img.Pix[i] < 45 {
				n++
			}
		}
		return n
	}
	for _, test := range []struct {
		name       string
		attack     simulate.Attack
		perMin     float64
		wantClosed bool
	}{
		{"Live", simulate.AttackNone, 30, true},
		{"LiveNoBlinks", simulate.AttackNone, 0, false},
		{"Print", simulate.AttackPhoto, 30, false},
	} {
		t.Run(test.name, func(t *testing.T) {
			sc := simulate.DefaultScene()
			sc.BlinksPerMin, sc.DriftAmp, sc.Sway = test.perMin, 0, 0
			p, err := simulate.NewPlayer(src, whiteChallenge(), simulate.Options{Attack: test.attack, Seed: 5, NoiseSigma: 1e-6, Width: 320, Height: 240, Scene: &sc})
			if err != nil {
				t.Fatal(err)
			}
			open, closed, frames := 0, 0, 0
			for at := time.Duration(0); at < 12*time.Second; at += 40 * time.Millisecond {
				switch n := pupils(p, at); {
				case n == 0:
					closed++
				case n > 4:
					open++
				}
				frames++
			}
			if open < frames/2 {
				t.Errorf("pupils visible in %d of %d frames, want most", open, frames)
			}
			if got := closed > 0; got != test.wantClosed {
				t.Errorf("eyes shut in %d of %d frames; want shut in some: %v", closed, frames, test.wantClosed)
			}
		})
	}
}

// A turned head: the face's front moves over its outline towards the side
// the face turns to (yaw > 0: the image left; pitch > 0: down), by about
// its height before the outline times the sine of the turn, and the
// rendered frame shows what Truth says. A print does not turn.
func TestPlayer_HeadTurn(t *testing.T) {
	src := testSource()
	// A dark mark where Truth puts the nose.
	b := src.Face
	nx, ny := int(b.X+0.5*b.W), int(b.Y+0.6*b.H)
	for y := ny - 5; y < ny+5; y++ {
		for x := nx - 5; x < nx+5; x++ {
			o := src.Img.PixOffset(x, y)
			src.Img.Pix[o], src.Img.Pix[o+1], src.Img.Pix[o+2] = 20, 20, 20
		}
	}
	// nose returns the mark's centroid in the frame at time at, Truth's
	// nose, its box's centre and the box's width.
	nose := func(attack simulate.Attack, yaw, pitch float64, at time.Duration) (mark, truth, box [2]float64, width float64) {
		sc := simulate.DefaultScene()
		sc.DriftAmp, sc.Sway, sc.HeadYaw, sc.HeadPitch = 0, 0, yaw, pitch
		p, err := simulate.NewPlayer(src, whiteChallenge(), simulate.Options{Attack: attack, Seed: 5, NoiseSigma: 1e-6, Width: 640, Height: 480, Scene: &sc})
		if err != nil {
			t.Fatal(err)
		}
		var img *image.NRGBA
		for ti := time.Duration(0); ti <= at; ti += 200 * time.Millisecond {
			img = p.Render(ti)
		}
		var sx, sy, n float64
		for y := range img.Bounds().Dy() {
			for x := range img.Bounds().Dx() {
				if img.NRGBAAt(x, y).G < 60 {
					sx, sy, n = sx+float64(x), sy+float64(y), n+1
				}
			}
		}
		if n == 0 {
			t.Fatalf("yaw %g, pitch %g: the mark is not in the frame", yaw, pitch)
		}
		f := p.Truth(at)[0]
		c := f.Box.Center()
		return [2]float64{sx / n, sy / n}, [2]float64{f.Keypoints[2].X, f.Keypoints[2].Y}, [2]float64{c.X, c.Y}, f.Box.W
	}
	// The mark stands about 4-6 cm before the outline (the default face
	// is 4 cm deep, its nose 2 cm); the box is about 14 cm wide. The
	// head is as solid at the start of the approach, far from the
	// camera, as at its end (it once turned only from half the goal's
	// size, so the farthest views were flat and square).
	const end = 4 * time.Second
	// The unturned face each case is measured against, rendered once per
	// kind and time.
	type refKey struct {
		attack simulate.Attack
		at     time.Duration
	}
	refs := map[refKey]struct{ mark, truth, box [2]float64 }{}
	for _, test := range []struct {
		name       string
		attack     simulate.Attack
		yaw, pitch float64
		at         time.Duration
		axis       int     // 0: across, 1: down
		lo, hi     float64 // the mark's move against the box's centre, cm
	}{
		{"yaw towards the image left", simulate.AttackNone, 10, 0, end, 0, -1.3, -0.4},
		{"yaw towards the image right", simulate.AttackNone, -10, 0, end, 0, 0.4, 1.3},
		{"pitch down", simulate.AttackNone, 0, 10, end, 1, 0.4, 1.3},
		{"yaw at the start, far", simulate.AttackNone, 10, 0, 0, 0, -1.3, -0.4},
		{"pitch at the start, far", simulate.AttackNone, 0, 10, 0, 1, 0.4, 1.3},
		{"a print does not turn", simulate.AttackPhoto, 10, 10, end, 0, -0.1, 0.1},
	} {
		t.Run(test.name, func(t *testing.T) {
			m, tr, box, width := nose(test.attack, test.yaw, test.pitch, test.at)
			key := refKey{test.attack, test.at}
			r, ok := refs[key]
			if !ok {
				r.mark, r.truth, r.box, _ = nose(test.attack, 0, 0, test.at)
				refs[key] = r
			}
			ref, refTruth, refBox := r.mark, r.truth, r.box
			a := test.axis
			move := ((m[a] - box[a]) - (ref[a] - refBox[a])) / (width / 14)
			if move < test.lo || move > test.hi {
				t.Errorf("the front moved %.2f cm over the box's centre, want %.1f..%.1f", move, test.lo, test.hi)
			}
			// The mark's centroid is not quite its centre's image (its
			// sides turn unevenly): within a quarter and a pixel.
			rendered, truth := m[a]-ref[a], tr[a]-refTruth[a]
			if math.Abs(rendered-truth) > 0.25*math.Abs(truth)+1 {
				t.Errorf("the rendered mark moved %.1f px, Truth's nose %.1f px", rendered, truth)
			}
		})
	}
}

// While the colours play the person holds as still as they can: once they
// have seen the colours, the face's size drifts by the scene's
// ColourDrift per second (leaning back, or creeping closer).
func TestPlayer_ColourDrift(t *testing.T) {
	for _, drift := range []float64{-0.04, 0, 0.05} {
		sc := simulate.DefaultScene()
		sc.DriftAmp, sc.Sway, sc.ColourDrift = 0, 0, drift
		p, err := simulate.NewPlayer(testSource(), whiteChallenge(), simulate.Options{Seed: 9, NoiseSigma: 1e-6, Width: 320, Height: 240, Scene: &sc})
		if err != nil {
			t.Fatal(err)
		}
		const flash = 4 * time.Second
		var w1 float64
		for at := time.Duration(0); at <= flash+2700*time.Millisecond; at += 100 * time.Millisecond {
			if at == flash {
				p.Flash(at)
			}
			p.Render(at)
			if at == flash+700*time.Millisecond { // after any reaction time (250-600 ms)
				w1 = p.Truth(at)[0].Box.W
			}
		}
		w2 := p.Truth(flash + 2700*time.Millisecond)[0].Box.W
		want := math.Exp(2 * drift)
		// The breathing scale (0.6%) rides on it.
		if got := w2 / w1; math.Abs(got-want) > 0.015 {
			t.Errorf("drift %g/s: the face's size changed %.3f times over 2 s of colours, want %.3f", drift, got, want)
		}
	}
}
