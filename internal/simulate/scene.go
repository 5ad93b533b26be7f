package simulate

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Scene is the world one simulated capture happens in: the shape of the
// face the screen's light falls on, the room light, the screen, the
// camera and its processing, and the attacker's print. DrawScene draws
// every factor at random, so that an evaluation varies what the world
// varies and can report error rates per bin of each factor; DefaultScene
// is a typical laptop set-up for tests that need one fixed world.
//
// Lengths of the face are in centimetres on a face whose eyes are 6.3 cm
// apart (the adult mean); the shape is anchored on the photo's eyes, so
// a shape wider or narrower than the photo's face is a face of another
// build behind the same features (or a renderer whose proxy does not fit
// the photo, which is what an independent check used).
type Scene struct {
	// DepthCM is how far the face front (cheeks, brow) stands before the
	// plane of its outline: 2 cm is a very flat face, 6 cm a deep one.
	DepthCM float64
	// WidthFit is the half-width of the 3-D shape over the half-width of
	// the photo's own face outline (68-point jaw line ends): a real face
	// turns away at its visible outline (1), a proxy that fits the
	// features loosely is narrower or broader (an independent renderer
	// used one about 1.3-1.5 times broader, so the range reaches 1.5).
	WidthFit float64
	// HalfHeightCM is its half-height.
	HalfHeightCM float64
	// Profile is the exponent of the superellipse across the face: 2 is an
	// ellipse, 4 a flat front with steep sides.
	Profile float64
	// NoseCM is how far the nose tip stands before the cheeks.
	NoseCM float64
	// CentreDownCM puts the shape's centre below the eye line.
	CentreDownCM float64
	// AnchorDXCM moves the shape sideways against the photo's features.
	AnchorDXCM float64
	// Glasses puts a pair of glasses on the face: dark rims standing just
	// before the nose's bridge (on a live face they magnify by their own
	// depth as it comes closer), and lenses that mirror the screen.
	Glasses bool
	// LensReflect is the share of the screen's light a lens mirrors into
	// the camera: about 0.5-1% for an anti-reflective coating, 4-5% for an
	// uncoated lens.
	LensReflect float64
	// BlinksPerMin is how often the person blinks; each blink closes both
	// eyes for 0.1-0.3 s (people reading a screen blink about 4-24 times
	// a minute). 0: the eyes stay open. A print never blinks.
	BlinksPerMin float64

	// Screen is "laptop" (30x19 cm) or "phone" (7x14 cm); the camera sits
	// above it, so its light comes from below the camera.
	Screen string
	// ScreenGapCM is the gap between the camera and the screen's top edge.
	ScreenGapCM float64
	// RoomDirectional is the share of the room light that comes from one
	// direction (a lamp, a window) rather than evenly from everywhere:
	// where the room lights the face more, the screen's share is smaller.
	RoomDirectional float64
	// RoomAzimuth and RoomElevation give that direction, degrees from the
	// camera axis (azimuth > 0 towards the image right, elevation > 0 up).
	RoomAzimuth, RoomElevation float64
	// RoomWarmth is the colour of the room's light: 0 daylight (about
	// 6500 K), 1 a warm lamp (about 2700 K, red 1.6 and blue 0.45 times
	// green), below 0 cooler than daylight. The camera's white balance
	// takes the room's colour out of the picture, but not out of the
	// screen's light added to it: each channel rises by the screen's light
	// over the room's in that channel (roomLight).
	RoomWarmth float64
	// Background is how much the scene behind the person answers the
	// screen, relative to the face front (a wall close behind: up to 0.15).
	Background float64

	// HFOV is the camera's field of view in degrees along the frame's long
	// side (across a landscape frame; down an upright phone's).
	HFOV float64
	// Width and Height of the frames, FPS their rate, JitterMS the spread
	// of their timestamps, DropRate the share of frames the camera drops.
	Width, Height int
	FPS           float64
	JitterMS      float64
	DropRate      float64
	JPEGQuality   int
	// Gamma bends the camera's tone curve (1: sRGB), Contrast adds an
	// S-curve (0: none).
	Gamma, Contrast float64
	// WB is the camera's white balance error per channel (green = 1).
	WB [3]float64
	// AE and AWB turn on the camera's automatic exposure and white
	// balance, which pull the frame back towards its look before the
	// colours with time constant AdaptS.
	AE, AWB bool
	AdaptS  float64
	// DriftAmp is the amplitude of slow exposure drift (flicker, clouds).
	DriftAmp float64
	// NoiseSigma is the sensor noise at mid-grey, 8-bit levels.
	NoiseSigma float64
	// ExposureMS is how long each frame integrates the light.
	ExposureMS float64
	// LagMS is the delay from a colour's report to its light on the face
	// in the frames (display and camera pipelines).
	LagMS float64

	// ApproachS is how long the approach to the oval takes; Sway scales
	// the small head motion.
	ApproachS float64
	Sway      float64

	// HeadYaw and HeadPitch are how the head is turned while the colours
	// play (degrees; yaw > 0 turns the face towards the image left, pitch
	// > 0 down: people look at the screen below the camera, not into it).
	// The head makes TurnYaw and TurnPitch of that turn during the
	// approach (it starts at HeadYaw - TurnYaw), and sways about it by up
	// to HeadSway. A print is tilted by PrintYaw and PrintPitch instead.
	HeadYaw, HeadPitch float64
	TurnYaw, TurnPitch float64
	HeadSway           float64
	// ColourDrift is how the face's size changes per second while the
	// colours play, once the person has seen them (relative: -0.04 leans
	// back from the flashing screen by about 1.2 cm a second at 30 cm,
	// 0.05 keeps creeping closer); before that the approach runs on.
	ColourDrift float64

	// PrintYaw and PrintPitch tilt the attacker's print (degrees);
	// PrintExtent is the print's width in face widths: beyond it the
	// frame shows the real room.
	PrintYaw, PrintPitch float64
	PrintExtent          float64
}

// DefaultScene is a mid-range face in front of a laptop in even room
// light, seen by a 640x480 camera at 15 fps without automatic
// adjustments.
func DefaultScene() Scene {
	return Scene{
		DepthCM: 4, WidthFit: 1.05, HalfHeightCM: 11, Profile: 2.5, NoseCM: 2, CentreDownCM: 3.2,
		Screen: "laptop", ScreenGapCM: 1.5,
		HFOV: 65, Width: 640, Height: 480, FPS: 15, JPEGQuality: 80,
		Gamma: 1, WB: [3]float64{1, 1, 1}, AdaptS: 0.3, DriftAmp: 0.015, NoiseSigma: 2, ExposureMS: 20, LagMS: 75,
		LensReflect: 0.04,
		ApproachS:   1.3, Sway: 1, PrintExtent: 3,
	}
}

// Resolutions a drawn scene's camera has.
var Resolutions = [][2]int{{320, 240}, {640, 480}, {640, 360}, {960, 540}, {1280, 720}}

// DrawScene draws every factor of a scene from rng within the ranges the
// world shows.
func DrawScene(rng *rand.Rand) Scene {
	u := func(lo, hi float64) float64 { return lo + (hi-lo)*rng.Float64() }
	s := Scene{
		DepthCM:      u(2, 6),
		WidthFit:     u(0.9, 1.5),
		HalfHeightCM: u(9.5, 12.5),
		Profile:      u(2, 4),
		NoseCM:       u(1.2, 2.6),
		CentreDownCM: u(2, 4.4),
		AnchorDXCM:   u(-0.5, 0.5),

		ScreenGapCM:     u(0.5, 3),
		RoomDirectional: u(0, 0.6),
		RoomAzimuth:     u(-70, 70),
		RoomElevation:   u(-10, 60),
		Background:      0.15 * rng.Float64() * rng.Float64(),

		HFOV:        u(55, 78),
		FPS:         []float64{10, 12, 15, 20, 24, 25, 30}[rng.IntN(7)],
		JitterMS:    u(0, 8),
		DropRate:    0.1 * rng.Float64() * rng.Float64(),
		JPEGQuality: 60 + rng.IntN(36),
		Gamma:       u(0.8, 1.2),
		Contrast:    0.3 * rng.Float64(),
		AE:          rng.IntN(2) == 0,
		AWB:         rng.IntN(2) == 0,
		AdaptS:      u(0.2, 1.2),
		DriftAmp:    u(0, 0.03),
		NoiseSigma:  u(1, 4),
		ExposureMS:  u(8, 33),
		LagMS:       u(30, 200),

		ApproachS:   u(0.7, 2.2),
		Sway:        u(0.3, 2),
		PrintYaw:    u(-20, 20),
		PrintPitch:  u(-20, 20),
		PrintExtent: u(1.6, 3.5),
	}
	if rng.IntN(2) == 0 {
		s.Screen = "laptop"
	} else {
		s.Screen = "phone"
	}
	s.Glasses = rng.IntN(10) < 3
	r := Resolutions[rng.IntN(len(Resolutions))]
	s.Width, s.Height = r[0], r[1]
	for c := range 3 {
		s.WB[c] = u(0.85, 1.15)
	}
	s.WB[1] = 1
	if s.ExposureMS > 1000/s.FPS {
		s.ExposureMS = 1000 / s.FPS
	}
	// Drawn last, so the factors above stay those an earlier build drew
	// for the same seed.
	s.LensReflect = u(0.005, 0.05)
	s.BlinksPerMin = u(4, 24)
	s.RoomWarmth = u(-0.3, 1)
	// Half the phones are held upright: the frame is the sensor's, turned
	// (480x640, with the field of view HFOV down its long side).
	if s.Screen == "phone" && rng.IntN(2) == 0 {
		s.Width, s.Height = s.Height, s.Width
	}
	// People do not hold their heads square to the camera: turned a few
	// degrees, looking down at the screen, turning a little as they come
	// closer.
	s.HeadYaw = u(-10, 10)
	s.HeadPitch = u(-5, 12)
	s.TurnYaw = u(-5, 5)
	s.TurnPitch = u(-5, 5)
	s.HeadSway = u(0.2, 1.2)
	s.ColourDrift = u(-0.04, 0.05)
	return s
}

// Upright reports whether the frame is taller than wide (a phone held
// upright).
func (s Scene) Upright() bool { return s.Height > s.Width }

// roomLight is the room's light per channel relative to green (1, 1, 1 in
// daylight), for warmth w (Scene.RoomWarmth).
func roomLight(w float64) [3]float64 {
	return [3]float64{1 + 0.6*w, 1, 1 - 0.55*w}
}

// Validate reports a scene the renderer cannot use.
func (s Scene) Validate() error {
	switch {
	case s.DepthCM <= 0, s.WidthFit <= 0, s.HalfHeightCM <= 0, s.Profile < 1:
		return fmt.Errorf("simulate: scene: face shape must be positive")
	case s.Width < 64 || s.Height < 64 || s.FPS <= 0 || s.HFOV <= 0 || s.HFOV >= 170:
		return fmt.Errorf("simulate: scene: bad camera %dx%d at %g fps, %g° field of view", s.Width, s.Height, s.FPS, s.HFOV)
	case s.RoomWarmth < -1 || s.RoomWarmth > 1.5:
		return fmt.Errorf("simulate: scene: room warmth %g outside -1..1.5", s.RoomWarmth)
	case s.LensReflect < 0 || s.LensReflect > 1:
		return fmt.Errorf("simulate: scene: lens reflection %g outside 0..1", s.LensReflect)
	case s.BlinksPerMin < 0 || s.BlinksPerMin > 60:
		return fmt.Errorf("simulate: scene: %g blinks a minute outside 0..60", s.BlinksPerMin)
	case s.Gamma <= 0 || s.WB[0] <= 0 || s.WB[1] <= 0 || s.WB[2] <= 0:
		return fmt.Errorf("simulate: scene: bad tone curve or white balance")
	case s.Screen != "laptop" && s.Screen != "phone":
		return fmt.Errorf("simulate: scene: screen %q (want laptop or phone)", s.Screen)
	case math.Abs(s.HeadYaw)+math.Abs(s.TurnYaw)+s.HeadSway > 30 || math.Abs(s.HeadPitch)+math.Abs(s.TurnPitch)+s.HeadSway > 30 || s.HeadSway < 0:
		// Beyond that the renderer's turn of a photo folds the face.
		return fmt.Errorf("simulate: scene: head turned more than 30°")
	}
	return nil
}

// screenRect is the screen's light-emitting rectangle in camera
// coordinates (centimetres; x to the image right, y down, z away from the
// camera): centre below the camera, width and height.
func (s Scene) screenRect() (cy, w, h float64) {
	w, h = 30, 19
	if s.Screen == "phone" {
		w, h = 7, 14
	}
	return s.ScreenGapCM + h/2, w, h
}

// Factor is one varied factor of the scene (or of the capture) and how
// an evaluation bins it.
type Factor struct {
	Name string
	// Labels are the bins in their natural order.
	Labels []string
	// Bin returns the bin label of a scene.
	Bin func(Scene) string
}

// factor builds a Factor binned by edges of a scene value.
func factor(name string, v func(Scene) float64, edges []float64, labels ...string) Factor {
	return Factor{Name: name, Labels: labels, Bin: func(s Scene) string { return BinOf(v(s), edges, labels...) }}
}

// Factors are the scene factors an evaluation reports per bin.
var Factors = []Factor{
	factor("face depth", func(s Scene) float64 { return s.DepthCM }, []float64{3.33, 4.67}, "2-3.3 cm", "3.3-4.7 cm", "4.7-6 cm"),
	factor("3-D shape width / face outline", func(s Scene) float64 { return s.WidthFit }, []float64{1.1, 1.3}, "0.9-1.1", "1.1-1.3", "1.3-1.5"),
	factor("face profile", func(s Scene) float64 { return s.Profile }, []float64{2.67, 3.33}, "round", "medium", "flat front"),
	factor("nose", func(s Scene) float64 { return s.NoseCM }, []float64{1.67, 2.13}, "small", "medium", "large"),
	// Coated lenses mirror little of the screen, so the shading carries
	// their wearers less (docs/ACCURACY.md, "Glasses, again").
	{Name: "glasses", Labels: []string{"none", "coated lenses (< 2%)", "uncoated lenses (2-5%)"}, Bin: func(s Scene) string {
		r := s.LensReflect
		if r == 0 && s.BlinksPerMin == 0 {
			r = 0.04 // recorded before the reflection was drawn (nor blinks): it was 4%
		}
		switch {
		case !s.Glasses:
			return "none"
		case r < 0.02:
			return "coated lenses (< 2%)"
		}
		return "uncoated lenses (2-5%)"
	}},
	factor("blinks", func(s Scene) float64 { return s.BlinksPerMin }, []float64{0.5, 10.67, 17.33}, "none", "4-11 a minute", "11-17 a minute", "17-24 a minute"),
	{Name: "screen", Labels: []string{"laptop", "phone"}, Bin: func(s Scene) string { return s.Screen }},
	factor("room light", func(s Scene) float64 { return s.RoomDirectional }, []float64{0.2, 0.4}, "even", "mixed", "directional"),
	factor("room light colour", func(s Scene) float64 { return s.RoomWarmth }, []float64{0.1, 0.55}, "daylight or cooler", "neutral white", "warm lamp"),
	factor("background", func(s Scene) float64 { return s.Background }, []float64{0.02}, "far", "near wall"),
	{Name: "resolution", Labels: resolutionLabels(), Bin: func(s Scene) string { return fmt.Sprintf("%dx%d", s.Width, s.Height) }},
	{Name: "orientation", Labels: []string{"landscape", "upright"}, Bin: func(s Scene) string {
		if s.Upright() {
			return "upright"
		}
		return "landscape"
	}},
	factor("frame rate", func(s Scene) float64 { return s.FPS }, []float64{14, 21}, "10-12 fps", "15-20 fps", "24-30 fps"),
	factor("dropped frames", func(s Scene) float64 { return s.DropRate }, []float64{0.02}, "< 2%", "2-10%"),
	factor("JPEG quality", func(s Scene) float64 { return float64(s.JPEGQuality) }, []float64{72, 84}, "60-71", "72-83", "84-95"),
	factor("tone curve", func(s Scene) float64 { return s.Gamma }, []float64{0.933, 1.067}, "γ 0.8-0.93", "γ 0.93-1.07", "γ 1.07-1.2"),
	factor("white balance error", func(s Scene) float64 { return math.Max(math.Abs(s.WB[0]-1), math.Abs(s.WB[2]-1)) },
		[]float64{0.05, 0.1}, "< 5%", "5-10%", "10-15%"),
	{Name: "auto exposure/WB", Labels: []string{"off", "AE", "AWB", "AE+AWB"}, Bin: func(s Scene) string {
		switch {
		case s.AE && s.AWB:
			return "AE+AWB"
		case s.AE:
			return "AE"
		case s.AWB:
			return "AWB"
		}
		return "off"
	}},
	factor("noise", func(s Scene) float64 { return s.NoiseSigma }, []float64{2, 3}, "σ 1-2", "σ 2-3", "σ 3-4"),
	factor("display lag", func(s Scene) float64 { return s.LagMS }, []float64{87, 143}, "30-86 ms", "87-142 ms", "143-200 ms"),
	factor("approach", func(s Scene) float64 { return s.ApproachS }, []float64{1.2, 1.7}, "fast", "medium", "slow"),
	factor("head turn (at the colours)", func(s Scene) float64 { return math.Max(math.Abs(s.HeadYaw), math.Abs(s.HeadPitch)) },
		[]float64{0.5, 5, 8}, "none", "< 5°", "5-8°", "8-12°"),
	factor("head turning (during the approach)", func(s Scene) float64 { return math.Max(math.Abs(s.TurnYaw), math.Abs(s.TurnPitch)) },
		[]float64{0.25, 3}, "none", "< 3°", "3-5°"),
	factor("movement during the colours", func(s Scene) float64 { return s.ColourDrift }, []float64{-0.015, 0.015, 0.0325},
		"leaning back (1.5-4%/s)", "still (< 1.5%/s)", "creeping closer (1.5-3%/s)", "closer (3-5%/s)"),
	factor("print tilt", func(s Scene) float64 { return math.Max(math.Abs(s.PrintYaw), math.Abs(s.PrintPitch)) }, []float64{10}, "< 10°", "10-20°"),
}

func resolutionLabels() []string {
	var l []string
	for _, r := range Resolutions {
		l = append(l, fmt.Sprintf("%dx%d", r[0], r[1]))
	}
	for _, r := range Resolutions {
		l = append(l, fmt.Sprintf("%dx%d", r[1], r[0])) // upright
	}
	return l
}

// BinOf labels v by the first of the ascending edges it is below:
// labels[i] below edges[i], labels[len(edges)] at or above the last.
func BinOf(v float64, edges []float64, labels ...string) string {
	for i, e := range edges {
		if v < e {
			return labels[i]
		}
	}
	return labels[len(edges)]
}
