package simulate_test

import (
	"strings"
	"testing"
	"time"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/liveness"
	"github.com/livenessd/livenessd/internal/simulate"
	"github.com/livenessd/livenessd/internal/testutil"
	"github.com/livenessd/livenessd/internal/testutil/facetest"
)

// TestReplay_RealPipeline renders one replay and plays it, through the
// real face pipeline, to sessions whose ovals are the smallest and the
// largest the server draws, off centre both ways, with drawn colours:
// each gets its colours and is live.
func TestReplay_RealPipeline(t *testing.T) {
	p := facetest.Pipeline(t)
	src, err := simulate.DetectSource(t.Context(), p, testutil.DecodeSample(t, 1))
	if err != nil {
		t.Fatal(err)
	}
	r, err := simulate.NewReplay(src, simulate.Options{Strength: 0.05, Seed: 3, Width: 480, Height: 360}, 12)
	if err != nil {
		t.Fatal(err)
	}
	for _, test := range []struct {
		name   string
		width  float64
		centre float64
	}{
		{"Smallest", liveness.OvalMinWidth, 0.5 - liveness.OvalJitter},
		{"Largest", liveness.OvalMaxWidth, 0.5 + liveness.OvalJitter},
	} {
		t.Run(test.name, func(t *testing.T) {
			ch, err := liveness.NewChallenge(livenessd.ChallengeMovementAndLight)
			if err != nil {
				t.Fatal(err)
			}
			h := test.width * liveness.OvalAspect * 4 / 3
			ch.Oval = livenessd.Oval{CenterX: test.centre, CenterY: test.centre, Width: test.width, Height: h}
			ch.Start = ch.Oval.Scale(liveness.StartScale)
			run := liveness.NewRun(p, ch, livenessd.Settings{}, liveness.Config{})
			tgt := &simulate.RunTarget{Run: run}
			if err := r.Play(t.Context(), ch, tgt, simulate.PlayOptions{}); err != nil {
				t.Fatalf("play: %v (guidance %v)", err, steps(tgt.Guidance))
			}
			res, err := run.Finish(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != livenessd.StatusSucceeded {
				t.Errorf("status %s (%s), signals %v; want SUCCEEDED", res.Status, res.Reason, res.Signals)
			}
		})
	}
}

func TestNewReplay_Refuses(t *testing.T) {
	ae := simulate.DefaultScene()
	ae.AE = true
	for _, test := range []struct {
		name string
		opt  simulate.Options
		hold int
		want string
	}{
		{"OneHeldFrame", simulate.Options{}, 1, "at least 2 held frames"},
		{"Attack", simulate.Options{Attack: simulate.AttackPhoto}, 8, "live captures only"},
		{"AutoExposure", simulate.Options{Scene: &ae}, 8, "automatic exposure"},
		{"AutoWhiteBalance", simulate.Options{AWB: true}, 8, "automatic exposure"},
	} {
		t.Run(test.name, func(t *testing.T) {
			_, err := simulate.NewReplay(testSource(), test.opt, test.hold)
			if err == nil || !strings.Contains(err.Error(), test.want) {
				t.Errorf("err = %v, want one about %q", err, test.want)
			}
		})
	}
}

// A colour outside the palette has no frames: Play says so before the
// first frame instead of showing the wrong light.
func TestReplay_ColourNotInPalette(t *testing.T) {
	r, err := simulate.NewReplay(testSource(), simulate.Options{Width: 160, Height: 120, Seed: 1}, 2)
	if err != nil {
		t.Fatal(err)
	}
	ch := whiteChallenge()
	ch.Colors[2].Color = livenessd.RGB{10, 20, 30}
	tgt := &simulate.RunTarget{}
	err = r.Play(t.Context(), ch, tgt, simulate.PlayOptions{MaxDuration: time.Second})
	if err == nil || !strings.Contains(err.Error(), "not in the palette") {
		t.Errorf("err = %v, want a colour not in the palette", err)
	}
}
