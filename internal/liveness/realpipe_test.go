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

func TestRun_RealPipelineSpeed(t *testing.T) {
	p := MustPipeline(t)
	src := mustSource(t, p, testutil.Sample(t, 1))
	ch, _ := liveness.NewChallenge(livenessd.ChallengeMovementAndLight)
	pl, err := simulate.NewPlayer(src, ch, simulate.Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, at := range []time.Duration{0, 2 * time.Second} {
		img := pl.Render(at)
		start := time.Now()
		faces, err := p.ObserveFrame(t.Context(), img)
		t.Logf("t=%v observe %v faces=%d err=%v", at, time.Since(start), len(faces), err)
		start = time.Now()
		pl.Render(at)
		t.Logf("render %v", time.Since(start))
		if len(faces) > 0 {
			t.Logf("box %+v live %.3f pose %+v lm %d", faces[0].Box, faces[0].LiveScore, faces[0].Pose, len(faces[0].Landmarks))
		}
	}
}
