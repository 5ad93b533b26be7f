package liveness_test

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/liveness"
	"github.com/livenessd/livenessd/internal/simulate"
)

// synthFace draws a face-like test photo: a textured skin ellipse with dark
// eyes and mouth on a textured background, seeded so two persons differ.
func synthFace(seed uint64, bright float64) simulate.Source {
	const n = 250
	rng := rand.New(rand.NewPCG(seed, 1))
	img := image.NewNRGBA(image.Rect(0, 0, n, n))
	skin := [3]float64{190 + rng.Float64()*30, 140 + rng.Float64()*20, 110 + rng.Float64()*20}
	for y := range n {
		for x := range n {
			fx, fy := (float64(x)-125)/55, (float64(y)-128)/68
			c := [3]float64{90 + 40*math.Sin(float64(x)/9), 100 + 30*math.Cos(float64(y)/7), 110}
			if fx*fx+fy*fy < 1 {
				c = skin
				for _, e := range [][2]float64{{105, 115}, {145, 115}} {
					if math.Hypot(float64(x)-e[0], float64(y)-e[1]) < 7 {
						c = [3]float64{40, 30, 30}
					}
				}
				if math.Abs(float64(y)-165) < 3 && math.Abs(float64(x)-125) < 18 {
					c = [3]float64{120, 40, 50}
				}
			}
			tex := 6 * math.Sin(float64(x*7+y*3)/5)
			img.SetNRGBA(x, y, color.NRGBA{
				uint8(math.Min(255, (c[0]+tex)*bright)), uint8(math.Min(255, (c[1]+tex)*bright)),
				uint8(math.Min(255, (c[2]+tex)*bright)), 255,
			})
		}
	}
	return simulate.Source{Img: img, Face: livenessd.Rect{X: 70, Y: 60, W: 110, H: 136}}
}

// oracle answers ObserveFrame with the simulator's true geometry of the
// frame being played.
type oracle struct {
	faces []livenessd.FaceObservation
	live  float64
}

func (o *oracle) ObserveFrame(context.Context, image.Image) ([]livenessd.FaceObservation, error) {
	out := slices.Clone(o.faces)
	for i := range out {
		out[i].LiveScore = o.live
	}
	return out, nil
}

// oracleTarget sets the oracle's answer for each frame before the run sees it.
type oracleTarget struct {
	*simulate.RunTarget
	p   *simulate.Player
	o   *oracle
	ids map[*image.NRGBA][]float32
}

func (t *oracleTarget) Frame(ctx context.Context, at time.Duration, jpg []byte) error {
	t.o.faces = t.p.Truth(at)
	return t.RunTarget.Frame(ctx, at, jpg)
}

type simCase struct {
	attack   simulate.Attack
	strength float64
	bright   float64
	seed     uint64
	noColors bool
	// stall loses the frames of colours stall[0]..stall[1]-1 (0-based;
	// stallTarget): a stream that stalls.
	stall [2]int
}

func playOracle(t testing.TB, c simCase, limit int) (livenessd.Result, []liveness.Guidance) {
	t.Helper()
	res, g, _ := playOracleRun(t, c, limit)
	return res, g
}

// playOracleRun plays one capture with the oracle observer and returns
// its verdict, the guidance and the run.
func playOracleRun(t testing.TB, c simCase, limit int) (livenessd.Result, []liveness.Guidance, *liveness.Run) {
	t.Helper()
	// A fixed challenge and seeds keep the outcome deterministic (the
	// random ones are measured in docs/ACCURACY.md).
	ch := fixedChallenge()
	if c.bright == 0 {
		c.bright = 1
	}
	src := synthFace(c.seed, c.bright)
	other := synthFace(c.seed+1000, c.bright)
	// 320x240 keeps the test fast (under -race); the analysis does not
	// depend on the frame size.
	p, err := simulate.NewPlayer(src, ch, simulate.Options{Attack: c.attack, Strength: c.strength, Seed: c.seed, Other: &other, Width: 320, Height: 240})
	if err != nil {
		t.Fatal(err)
	}
	o := &oracle{live: 0.95}
	run := liveness.NewRun(identityObserver{o, p}, ch, livenessd.Settings{AuditImagesLimit: limit}, oracleConfig)
	tgt := &oracleTarget{RunTarget: &simulate.RunTarget{Run: run}, p: p, o: o}
	var target simulate.Target = tgt
	if c.noColors {
		target = noColorTarget{tgt}
	}
	if c.stall[1] > c.stall[0] {
		target = &stallTarget{oracleTarget: tgt, from: c.stall[0], to: c.stall[1]}
	}
	if err := simulate.Play(t.Context(), p, target, simulate.PlayOptions{MaxDuration: 3 * time.Second}); err != nil && !errors.Is(err, simulate.ErrNeverFlashed) {
		t.Fatalf("play: %v", err)
	}
	res, err := run.Finish(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return res, tgt.Guidance, run
}

// BenchmarkRun_Finish measures the fusion after the last frame (the
// verdict's latency once the frames are measured): the light analysis with
// its 200 random sequences, the mesh shading fit and the checks.
func BenchmarkRun_Finish(b *testing.B) {
	_, _, run := playOracleRun(b, simCase{attack: simulate.AttackNone, strength: 0.05, seed: 3}, 0)
	snap := run.Snapshot()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := liveness.RestoreRun(snap, liveness.Config{}).Finish(b.Context()); err != nil {
			b.Fatal(err)
		}
	}
}

// identityObserver gives each source person its own embedding.
type identityObserver struct {
	o *oracle
	p *simulate.Player
}

func (i identityObserver) ObserveFrame(ctx context.Context, img image.Image) ([]livenessd.FaceObservation, error) {
	faces, err := i.o.ObserveFrame(ctx, img)
	for k := range faces {
		faces[k].Embedding = i.p.TruthEmbedding()
	}
	return faces, err
}

type noColorTarget struct{ *oracleTarget }

func (noColorTarget) Color(context.Context, liveness.ColorShown) error { return nil }

// stallTarget loses the frames from the onset of colour from to 250 ms
// after the onset of colour to: colours from..to-1 reach the camera (after
// its lag) in no frame.
type stallTarget struct {
	*oracleTarget
	from, to int
	stalled  bool
	resumeAt time.Duration // 0 until colour to is shown
}

func (s *stallTarget) Color(ctx context.Context, c liveness.ColorShown) error {
	switch c.Index {
	case s.from:
		s.stalled = true
	case s.to:
		s.resumeAt = c.At + 250*time.Millisecond
	}
	return s.oracleTarget.Color(ctx, c)
}

func (s *stallTarget) Frame(ctx context.Context, at time.Duration, jpg []byte) error {
	if s.stalled && (s.resumeAt == 0 || at < s.resumeAt) {
		return nil
	}
	return s.oracleTarget.Frame(ctx, at, jpg)
}

// oracleConfig is the analysis for the oracle observer, which knows the
// face's box and keypoints but has no face mesh: the shading check needs
// the mesh and is left to the tests with the real pipeline
// (TestRun_RealFrames: a print fails it), as is a print.
var oracleConfig = liveness.Config{SkipShading: true}

func TestRun_Simulated(t *testing.T) {
	for _, test := range []struct {
		name   string
		c      simCase
		live   bool
		reason string
	}{
		{"Live", simCase{attack: simulate.AttackNone, seed: 1}, true, ""},
		{"Replay", simCase{attack: simulate.AttackReplay, seed: 4}, false, liveness.ReasonLight},
		{"Delayed", simCase{attack: simulate.AttackDelayed, seed: 5}, false, liveness.ReasonLight},
		{"Swap", simCase{attack: simulate.AttackSwap, seed: 6}, false, liveness.ReasonFaceChanged},
		{"Dark", simCase{attack: simulate.AttackNone, seed: 8, bright: 0.15}, false, liveness.ReasonLighting},
		{"NoColourEvents", simCase{attack: simulate.AttackNone, seed: 9, noColors: true}, false, liveness.ReasonLight},
		// A stream that stalls for one colour still answers the rest;
		// for two, the answer cannot be judged: incomplete (retry), an
		// acquisition failure, not a wrong answer.
		{"StalledOneColour", simCase{attack: simulate.AttackNone, seed: 1, stall: [2]int{3, 4}}, true, ""},
		{"StalledTwoColours", simCase{attack: simulate.AttackNone, seed: 1, stall: [2]int{3, 5}}, false, liveness.ReasonIncomplete},
	} {
		t.Run(test.name, func(t *testing.T) {
			res, _ := playOracle(t, test.c, 2)
			t.Logf("%s conf=%.2f reason=%q signals=%v", res.Status, res.Confidence, res.Reason, res.Signals)
			if res.IsLive != test.live {
				t.Errorf("isLive = %v, want %v", res.IsLive, test.live)
			}
			wantStatus := livenessd.StatusFailed
			if test.live {
				wantStatus = livenessd.StatusSucceeded
			}
			if res.Status != wantStatus {
				t.Errorf("status = %s, want %s", res.Status, wantStatus)
			}
			if test.reason != "" && res.Reason != test.reason {
				t.Errorf("reason = %q, want %q", res.Reason, test.reason)
			}
			if gaps := res.Signals["light_gaps"]; test.c.stall[1] > test.c.stall[0] && gaps != float64(test.c.stall[1]-test.c.stall[0]) {
				t.Errorf("light_gaps = %v, want %d", gaps, test.c.stall[1]-test.c.stall[0])
			}
			if len(res.ReferenceImage) == 0 {
				t.Error("no reference image")
			}
			if test.live && len(res.Validations) != 4 {
				t.Errorf("validations = %v, want all four", res.Validations)
			}
		})
	}
}

// TestRestoreRun checks that a Run restored from its Snapshot (after a
// gob round trip, as eval liveness --record/--rescore stores it) fuses to
// the same verdict and signals as the Run that measured the frames.
func TestRestoreRun(t *testing.T) {
	ch := fixedChallenge()
	src, other := synthFace(21, 1), synthFace(22, 1)
	for _, attack := range []simulate.Attack{simulate.AttackNone, simulate.AttackPhoto} {
		t.Run(string(attack), func(t *testing.T) {
			p, err := simulate.NewPlayer(src, ch, simulate.Options{Attack: attack, Seed: 21, Other: &other, Width: 320, Height: 240})
			if err != nil {
				t.Fatal(err)
			}
			o := &oracle{live: 0.95}
			run := liveness.NewRun(identityObserver{o, p}, ch, livenessd.Settings{}, liveness.Config{})
			tgt := &oracleTarget{RunTarget: &simulate.RunTarget{Run: run}, p: p, o: o}
			if err := simulate.Play(t.Context(), p, tgt, simulate.PlayOptions{MaxDuration: 3 * time.Second}); err != nil {
				t.Fatalf("play: %v", err)
			}
			want, err := run.Finish(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := gob.NewEncoder(&buf).Encode(run.Snapshot()); err != nil {
				t.Fatal(err)
			}
			var snap liveness.Snapshot
			if err := gob.NewDecoder(&buf).Decode(&snap); err != nil {
				t.Fatal(err)
			}
			restored := liveness.RestoreRun(snap, liveness.Config{})
			got, err := restored.Finish(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != want.Status || got.Confidence != want.Confidence || got.Reason != want.Reason {
				t.Errorf("restored verdict %s %.2f %q, want %s %.2f %q", got.Status, got.Confidence, got.Reason, want.Status, want.Confidence, want.Reason)
			}
			if len(got.Signals) != len(want.Signals) {
				t.Errorf("restored %d signals, want %d", len(got.Signals), len(want.Signals))
			}
			for k, v := range want.Signals {
				if got.Signals[k] != v {
					t.Errorf("signal %s = %v, want %v", k, got.Signals[k], v)
				}
			}
			if _, _, _, err := restored.AddFrame(t.Context(), liveness.Frame{Image: image.NewGray(image.Rect(0, 0, 8, 8))}); !errors.Is(err, liveness.ErrTooManyFrames) {
				t.Errorf("restored run took a frame: %v", err)
			}
		})
	}
}

func TestIsAcquisitionFailure(t *testing.T) {
	for reason, want := range map[string]bool{
		liveness.ReasonNoFace: true, liveness.ReasonMultipleFaces: true, liveness.ReasonLighting: true,
		liveness.ReasonBlurry: true, liveness.ReasonPose: true, liveness.ReasonIncomplete: true,
		liveness.ReasonFaceChanged: false, liveness.ReasonMovement: false, liveness.ReasonLight: false,
		liveness.ReasonSpoof: false, "": false,
	} {
		if got := liveness.IsAcquisitionFailure(reason); got != want {
			t.Errorf("IsAcquisitionFailure(%q) = %v, want %v", reason, got, want)
		}
	}
}

// The parallax is reported always and graded only from a threshold: a
// flat capture (no magnification of the front) fails the check, a face
// passes it. A strong parallax (Thresholds.ParallaxAlone and its t, or the
// smaller PreciseParallaxAlone at its higher t) is 3-D evidence alone: the
// shading is then reported without being graded; short of both routes, the
// shading is graded as before.
func TestParallaxCheck(t *testing.T) {
	for _, test := range []struct {
		name          string
		threshold     float64
		noPrecise     bool // Thresholds.PreciseParallaxAlone 0
		beta, tstat   float64
		graded        bool
		passed        bool
		wantThreshold float64 // the graded parallax's threshold
		shadingGraded bool
	}{
		{"ReportedOnly", 0, false, 0.001, 5, false, false, 0, true},
		{"Flat", 0.005, false, 0.001, 5, true, false, 0.005, true},
		{"Face", 0.005, false, 0.03, 5, true, true, 0.005, true},
		{"StrongFace", 0.005, false, 0.03, 12, true, true, 0.010, false},
		{"StrongAtThresholds", 0.005, false, 0.010, 8, true, true, 0.010, false},
		{"LargeButNoisy", 0.005, false, 0.03, 7.9, true, true, 0.005, true},
		// A broad, shallow face: its front stands little forward, the
		// fit is sure of it (an independent renderer's live capture).
		{"PreciseFace", 0.005, false, 0.0086, 11.8, true, true, 0.008, false},
		{"PreciseAtThresholds", 0.005, false, 0.008, 10, true, true, 0.008, false},
		// The most significant print seen: neither route.
		{"PrintLike", 0.005, false, 0.0095, 9.1, true, true, 0.005, true},
		{"SignificantButSmall", 0.005, false, 0.0079, 40, true, true, 0.005, true},
		{"PreciseRouteOff", 0.005, true, 0.0086, 11.8, true, true, 0.005, true},
		{"StrongWithParallaxReportedOnly", 0, false, 0.03, 12, false, false, 0, true},
	} {
		t.Run(test.name, func(t *testing.T) {
			th := liveness.DefaultThresholds()
			th.Parallax = test.threshold
			if test.noPrecise {
				th.PreciseParallaxAlone = 0
			}
			snap := liveness.Snapshot{Challenge: fixedChallenge(),
				Parallax: liveness.ParallaxFit{Beta: test.beta, T: test.tstat, Points: 150, Growth: 2}}
			res, err := liveness.RestoreRun(snap, liveness.Config{Thresholds: &th}).Finish(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Signals["parallax_beta"]; got != test.beta {
				t.Errorf("parallax_beta = %v, want %v", got, test.beta)
			}
			var found, shading *livenessd.SignalCheck
			for i, c := range res.Checks {
				switch c.Name {
				case "parallax":
					found = &res.Checks[i]
				case "light_shading":
					shading = &res.Checks[i]
				}
			}
			switch {
			case (found != nil) != test.graded:
				t.Errorf("parallax graded = %v, want %v", found != nil, test.graded)
			case found != nil && found.Passed != test.passed:
				t.Errorf("parallax passed = %v, want %v", found.Passed, test.passed)
			case found != nil && found.Threshold != test.wantThreshold:
				t.Errorf("parallax threshold = %v, want %v", found.Threshold, test.wantThreshold)
			}
			if (shading != nil) != test.shadingGraded {
				t.Errorf("light_shading graded = %v, want %v", shading != nil, test.shadingGraded)
			}
		})
	}
}
