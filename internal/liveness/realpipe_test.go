package liveness_test

import (
	"image"
	_ "image/jpeg"
	"os"
	"testing"
	"time"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/face"
	"github.com/livenessd/livenessd/internal/liveness"
	"github.com/livenessd/livenessd/internal/simulate"
	"github.com/livenessd/livenessd/internal/testutil"
)

// MustPipeline loads the real face pipeline (skips without models unless
// LIVENESS_REQUIRE_MODELS=1).
func MustPipeline(tb testing.TB) *face.Pipeline {
	tb.Helper()
	p, err := face.NewPipeline(testutil.Runtime(tb), testutil.Cache(tb), face.DefaultConfig())
	if err != nil {
		tb.Fatalf("pipeline: %v", err)
	}
	tb.Cleanup(func() { p.Close() })
	return p
}

func mustSource(tb testing.TB, obs liveness.Observer, path string) simulate.Source {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		tb.Fatal(err)
	}
	src, err := simulate.DetectSource(tb.Context(), obs, img)
	if err != nil {
		tb.Fatal(err)
	}
	return src
}

// fixedChallenge makes the real-model test deterministic.
func fixedChallenge() livenessd.Challenge {
	ch := livenessd.Challenge{ID: "fixed", Type: livenessd.ChallengeMovementAndLight,
		Oval: livenessd.Oval{CenterX: 0.5, CenterY: 0.5, Width: 0.45, Height: 0.78}}
	for _, k := range []int{0, 6, 2, 1, 7, 5, 3, 4} {
		ch.Colors = append(ch.Colors, livenessd.ColorStep{Color: liveness.Palette[k], Duration: 400 * time.Millisecond})
	}
	return ch
}

// TestRun_RealFrames measures each signal on frames rendered from a real
// photo and analysed by the real face pipeline: the live face passes every
// check, and each attack fails on the signal meant to catch it.
func TestRun_RealFrames(t *testing.T) {
	p := MustPipeline(t)
	src := mustSource(t, p, testutil.Sample(t, 1))
	// The swapped-in person faces the camera (sample 2 is a profile, turned
	// 63°, which the evaluation leaves out and the detector loses once the
	// simulator scales it to the first face's width).
	other := mustSource(t, p, testutil.Sample(t, 5))
	th := liveness.DefaultThresholds()
	for _, test := range []struct {
		attack simulate.Attack
		check  func(t *testing.T, s map[string]float64)
	}{
		{simulate.AttackNone, func(t *testing.T, s map[string]float64) {
			if s["light_matched"] < th.LightMatched || s["light_shading"] < th.Shading || s["identity"] < th.Identity || s["growth"] < th.Growth {
				t.Errorf("live face failed a signal")
			}
		}},
		{simulate.AttackPhoto, func(t *testing.T, s map[string]float64) {
			if s["light_matched"] < th.LightMatched {
				t.Errorf("a print reflects the right colours; matched = %v", s["light_matched"])
			}
			if s["light_shading"] >= th.Shading {
				t.Errorf("a flat print shows shading %v >= %v", s["light_shading"], th.Shading)
			}
		}},
		{simulate.AttackReplay, func(t *testing.T, s map[string]float64) {
			if s["light_matched"] >= th.LightMatched {
				t.Errorf("replay matched %v of the colours", s["light_matched"])
			}
		}},
		{simulate.AttackDelayed, func(t *testing.T, s map[string]float64) {
			if s["light_margin"] >= th.LightMargin {
				t.Errorf("a one-step-late response has margin %v", s["light_margin"])
			}
		}},
		{simulate.AttackSwap, func(t *testing.T, s map[string]float64) {
			if s["identity"] >= th.Identity {
				t.Errorf("swap identity = %v", s["identity"])
			}
		}},
	} {
		t.Run(string(test.attack), func(t *testing.T) {
			if raceEnabled && test.attack != simulate.AttackNone && test.attack != simulate.AttackPhoto {
				t.Skip("slow under -race; run without -race for every attack")
			}
			ch := fixedChallenge()
			// 480x360 frames keep the test affordable under -race; the swap
			// needs 640x480 for the second (smaller) face to be found.
			w, h := 480, 360
			if test.attack == simulate.AttackSwap {
				w, h = 640, 480
			}
			pl, err := simulate.NewPlayer(src, ch, simulate.Options{Attack: test.attack, Strength: 0.05, Seed: 11, Other: &other, Width: w, Height: h})
			if err != nil {
				t.Fatal(err)
			}
			run := liveness.NewRun(p, ch, livenessd.Settings{}, liveness.Config{})
			if err := simulate.Play(t.Context(), pl, &simulate.RunTarget{Run: run}, simulate.PlayOptions{}); err != nil {
				t.Fatal(err)
			}
			res, err := run.Finish(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s conf=%.2f reason=%q signals=%v", res.Status, res.Confidence, res.Reason, res.Signals)
			test.check(t, res.Signals)
			if live := test.attack == simulate.AttackNone; res.IsLive != live {
				t.Errorf("isLive = %v, want %v", res.IsLive, live)
			}
		})
	}
}
