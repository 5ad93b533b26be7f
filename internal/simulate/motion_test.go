package simulate_test

import (
	"context"
	"image"
	"slices"
	"testing"
	"time"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/liveness"
	"github.com/livenessd/livenessd/internal/simulate"
	"github.com/livenessd/livenessd/internal/testutil"
	"github.com/livenessd/livenessd/internal/testutil/facetest"
)

// truthTarget feeds a liveness.Run with the player's true face geometry
// (no face model): the guidance the player reacts to is the real rule's.
type truthTarget struct {
	*simulate.RunTarget
	p   *simulate.Player
	obs *truthObserver
}

type truthObserver struct{ faces []livenessd.FaceObservation }

func (o *truthObserver) ObserveFrame(context.Context, image.Image) ([]livenessd.FaceObservation, error) {
	return o.faces, nil
}

func (t *truthTarget) Frame(ctx context.Context, at time.Duration, jpg []byte) error {
	t.obs.faces = t.p.Truth(at)
	return t.RunTarget.Frame(ctx, at, jpg)
}

// steps is the guidance sequence without repeats.
func steps(gs []liveness.Guidance) []liveness.Guidance {
	return slices.Compact(slices.Clone(gs))
}

// TestPlayer_Start plays near and far starts against the real guidance
// rule (on the true geometry): a near start waits, moves back while told
// move_back, then comes closer and gets the colours; a far start is never
// asked to move back.
func TestPlayer_Start(t *testing.T) {
	ch, err := liveness.NewChallenge(livenessd.ChallengeMovement)
	if err != nil {
		t.Fatal(err)
	}
	for _, test := range []struct {
		start    simulate.Start
		moveBack bool
	}{
		{simulate.StartNear, true},
		{simulate.StartFar, false},
	} {
		seeds := uint64(5)
		if raceEnabled {
			seeds = 2
		}
		for seed := range seeds {
			p, err := simulate.NewPlayer(testSource(), ch, simulate.Options{Start: test.start, Seed: seed, Width: 320, Height: 240})
			if err != nil {
				t.Fatal(err)
			}
			obs := &truthObserver{}
			run := liveness.NewRun(obs, ch, livenessd.Settings{}, liveness.Config{})
			tgt := &truthTarget{RunTarget: &simulate.RunTarget{Run: run}, p: p, obs: obs}
			if err := simulate.Play(t.Context(), p, tgt, simulate.PlayOptions{MaxDuration: 20 * time.Second}); err != nil {
				t.Fatalf("%s seed %d: %v (guidance %v)", test.start, seed, err, steps(tgt.Guidance))
			}
			g := steps(tgt.Guidance)
			back := slices.Index(g, liveness.GuideMoveBack)
			closer := slices.Index(g, liveness.GuideMoveCloser)
			if test.moveBack && (back != 0 || closer < back) {
				t.Errorf("%s seed %d: guidance %v, want move_back first, then move_closer", test.start, seed, g)
			}
			if !test.moveBack && back >= 0 {
				t.Errorf("%s seed %d: guidance %v asks a far start to move back", test.start, seed, g)
			}
			if !run.Flashed() {
				t.Errorf("%s seed %d: never flashed", test.start, seed)
			}
		}
	}
}

func TestParseStart(t *testing.T) {
	for _, s := range simulate.Starts {
		if got, err := simulate.ParseStart(string(s)); err != nil || got != s {
			t.Errorf("ParseStart(%q) = %q, %v", s, got, err)
		}
	}
	if _, err := simulate.ParseStart("middle"); err == nil {
		t.Error("unknown start accepted")
	}
	if _, err := simulate.NewPlayer(testSource(), whiteChallenge(), simulate.Options{Start: "middle"}); err == nil {
		t.Error("NewPlayer accepted an unknown start")
	}
}

// TestPlayer_NearStartRealPipeline plays a near start in process through
// the real face pipeline (the path of livenessd eval liveness): move_back,
// then move_closer, then the colours, and the capture is live; on a
// landscape frame and on an upright phone's (the ovals sized on the long
// side, so the approach is the same).
func TestPlayer_NearStartRealPipeline(t *testing.T) {
	p := facetest.Pipeline(t)
	img := testutil.DecodeSample(t, 1)
	src, err := simulate.DetectSource(t.Context(), p, img)
	if err != nil {
		t.Fatal(err)
	}
	ch := livenessd.Challenge{ID: "near", Type: livenessd.ChallengeMovementAndLight,
		Oval: livenessd.Oval{CenterX: 0.5, CenterY: 0.5, Width: 0.45, Height: 0.78}}
	for _, k := range []int{0, 6, 2, 1, 7, 5, 3, 4} {
		ch.Colors = append(ch.Colors, livenessd.ColorStep{Color: liveness.Palette[k], Duration: 400 * time.Millisecond})
	}
	for _, test := range []struct {
		name string
		w, h int
	}{{"Landscape", 480, 360}, {"Upright", 360, 480}} {
		t.Run(test.name, func(t *testing.T) {
			sc := simulate.DefaultScene()
			if test.h > test.w {
				sc.Screen = "phone"
			}
			pl, err := simulate.NewPlayer(src, ch, simulate.Options{Start: simulate.StartNear, Strength: 0.05, Seed: 8, Width: test.w, Height: test.h, Scene: &sc})
			if err != nil {
				t.Fatal(err)
			}
			run := liveness.NewRun(p, ch, livenessd.Settings{}, liveness.Config{})
			tgt := &simulate.RunTarget{Run: run}
			if err := simulate.Play(t.Context(), pl, tgt, simulate.PlayOptions{MaxDuration: 20 * time.Second}); err != nil {
				t.Fatalf("play: %v (guidance %v)", err, steps(tgt.Guidance))
			}
			res, err := run.Finish(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			g := steps(tgt.Guidance)
			t.Logf("guidance %v; %s conf=%.2f reason=%q signals=%v", g, res.Status, res.Confidence, res.Reason, res.Signals)
			back, closer := slices.Index(g, liveness.GuideMoveBack), slices.Index(g, liveness.GuideMoveCloser)
			if back < 0 || closer < back || !run.Flashed() {
				t.Errorf("guidance %v (flashed %v): want move_back, then move_closer, then the colours", g, run.Flashed())
			}
			if res.Status != livenessd.StatusSucceeded {
				t.Errorf("status %s (%s), want SUCCEEDED", res.Status, res.Reason)
			}
			// A near start moves back only until the face fits the start
			// oval, and means to stop at 72-100% of the target: the
			// guidance keeps it coming until the parallax has its growth
			// (or the face fills the oval). Seed 8's person stops at 1.87-1.88
			// times without it.
			if gr := res.Signals["parallax_growth"]; gr < 0.95*liveness.ApproachGrowth {
				t.Errorf("parallax growth %.2f at the flash, want about %.1f or more", gr, liveness.ApproachGrowth)
			}
		})
	}
}
