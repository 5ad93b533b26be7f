package liveness_test

import (
	"context"
	"image"
	"slices"
	"testing"
	"time"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/capture"
	"github.com/livenessd/livenessd/internal/imageio"
	"github.com/livenessd/livenessd/internal/liveness"
	"github.com/livenessd/livenessd/internal/simulate"
	"github.com/livenessd/livenessd/internal/testutil"
)

// frameLimits are the capture handler's limits on a frame.
var frameLimits = imageio.Limits{MaxBytes: capture.DefaultMaxFrameBytes, MaxPixels: capture.DefaultMaxFramePixels, MinSide: 64}

// cpuMeter adds up the process CPU time spent inside the calls it wraps.
// The simulated camera renders and encodes frames in the same process
// between those calls; nothing of it is counted.
type cpuMeter struct{ decode, observe, analyse time.Duration }

// meteredObserver is the face pipeline with its CPU time metered.
type meteredObserver struct {
	liveness.Observer
	m        *cpuMeter
	observed int
}

func (o *meteredObserver) ObserveFrame(ctx context.Context, img image.Image) ([]livenessd.FaceObservation, error) {
	c0 := testutil.ProcessCPU()
	defer func() { o.m.observe += testutil.ProcessCPU() - c0 }()
	o.observed++
	return o.Observer.ObserveFrame(ctx, img)
}

// meteredTarget feeds a liveness.Run as the capture handler does
// (imageio.DecodeReduced at full size with the handler's frame limits:
// libjpeg-turbo, then AddFrame) and
// meters both.
type meteredTarget struct {
	run     *liveness.Run
	m       *cpuMeter
	flashed bool
	guide   liveness.Guidance
	n       int
}

func (t *meteredTarget) Frame(ctx context.Context, at time.Duration, jpg []byte) error {
	c0 := testutil.ProcessCPU()
	img, err := imageio.DecodeReduced(jpg, frameLimits, 0)
	c1 := testutil.ProcessCPU()
	t.m.decode += c1 - c0
	if err != nil {
		return err
	}
	g, _, flash, err := t.run.AddFrame(ctx, liveness.Frame{Index: t.n, At: at, Image: img})
	t.m.analyse += testutil.ProcessCPU() - c1
	t.guide = g
	t.n++
	t.flashed = t.flashed || flash
	return err
}

func (t *meteredTarget) Flashed() bool { return t.flashed }

func (t *meteredTarget) LastGuidance() liveness.Guidance { return t.guide }

func (t *meteredTarget) Color(_ context.Context, c liveness.ColorShown) error {
	t.run.ColorShown(c)
	return nil
}

func (t *meteredTarget) End(_ context.Context, at time.Duration) error {
	t.run.End(at)
	return nil
}

// BenchmarkCapture_CPU measures the CPU time the server spends on one live
// capture of about 4 s (640x480 JPEG frames at 15 fps, 1.0-1.6 s moving
// into the oval, 0.4 s hold, 8 colours of 300 ms, the fewest a challenge
// has): JPEG decoding of every frame, the face pipeline on the frames the
// run observes (every third; models and crops), the per-frame analysis and
// the final fusion. It is process CPU time (all ONNX Runtime threads), so it
// is what a deployment pays per check and is barely inflated when other
// processes share the machine. It reports the median per capture and the
// captures per minute one core sustains at that cost.
func BenchmarkCapture_CPU(b *testing.B) {
	p := MustPipeline(b)
	src := mustSource(b, p, testutil.Sample(b, 1))
	other := mustSource(b, p, testutil.Sample(b, 2))
	var total, decode, observe, rest []float64
	var frames, observed int
	live := 0
	seed := uint64(0)
	for b.Loop() {
		seed++
		ch, err := liveness.NewChallenge(livenessd.ChallengeMovementAndLight)
		if err != nil {
			b.Fatal(err)
		}
		ch.Colors = ch.Colors[:liveness.MinColors]
		for i := range ch.Colors {
			ch.Colors[i].Duration = 300 * time.Millisecond
		}
		pl, err := simulate.NewPlayer(src, ch, simulate.Options{Seed: seed, Other: &other})
		if err != nil {
			b.Fatal(err)
		}
		m := &cpuMeter{}
		obs := &meteredObserver{Observer: p, m: m}
		run := liveness.NewRun(obs, ch, livenessd.Settings{}, liveness.Config{})
		tgt := &meteredTarget{run: run, m: m}
		if err := simulate.Play(b.Context(), pl, tgt, simulate.PlayOptions{}); err != nil {
			b.Fatal(err)
		}
		c0 := testutil.ProcessCPU()
		res, err := run.Finish(b.Context())
		m.analyse += testutil.ProcessCPU() - c0
		if err != nil {
			b.Fatal(err)
		}
		if res.Status == livenessd.StatusSucceeded {
			live++
		}
		sum := m.decode + m.analyse
		total = append(total, ms(sum))
		decode = append(decode, ms(m.decode))
		observe = append(observe, ms(m.observe))
		rest = append(rest, ms(m.analyse-m.observe))
		frames += tgt.n
		observed += obs.observed
	}
	n := float64(len(total))
	b.ReportMetric(median(total), "cpu-ms/capture")
	b.ReportMetric(slices.Min(total), "min-cpu-ms/capture")
	b.ReportMetric(median(decode), "decode-cpu-ms")
	b.ReportMetric(median(observe), "face-cpu-ms")
	b.ReportMetric(median(rest), "analysis-cpu-ms")
	b.ReportMetric(float64(frames)/n, "frames/capture")
	b.ReportMetric(float64(observed)/n, "observed/capture")
	b.ReportMetric(60e3/median(total), "captures/min/core")
	b.ReportMetric(float64(live)/n, "succeeded/op")
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}
