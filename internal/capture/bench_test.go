package capture_test

import (
	"slices"
	"testing"
	"time"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/capture"
	"github.com/livenessd/livenessd/internal/liveness"
	"github.com/livenessd/livenessd/internal/simulate"
)

// BenchmarkCapture_LastFrameToResult plays a 4-second, 15 fps, 640x480
// live capture in real time over the real WebSocket, with the real face
// pipeline, session service and SQLite store, and measures the time from
// the last frame sent to the result received (the fusion, the JPEG
// encoding of the reference image and the stored result). Each iteration
// takes about 4 s: run with -benchtime=5x.
func BenchmarkCapture_LastFrameToResult(b *testing.B) {
	p := MustPipeline(b)
	// About 1.0-1.6 s to reach the oval, 0.4 s of hold, the fewest colours a
	// challenge has (8) at 300 ms: a capture of about 4 s (3.7 s measured).
	e := MustOpenEnvWith(b, capture.Config{Observer: p}, func() (livenessd.Challenge, error) {
		ch, err := liveness.NewChallenge(livenessd.ChallengeMovementAndLight)
		ch.Colors = ch.Colors[:liveness.MinColors]
		for i := range ch.Colors {
			ch.Colors[i].Duration = 300 * time.Millisecond
		}
		return ch, err
	})
	src, other := mustSource(b, p, 1), mustSource(b, p, 2)
	var lat []time.Duration
	live := 0
	for b.Loop() {
		status, sess, d, _ := playOverWS(b, e, src, other, simulate.AttackNone, simulate.StartFar, simulate.DefaultStrength, true)
		if status == string(livenessd.StatusSucceeded) {
			live++
		} else if sess != nil && sess.Result != nil {
			b.Logf("%s: %q, signals %v", status, sess.Result.Reason, sess.Result.Signals)
		}
		lat = append(lat, d)
	}
	b.ReportMetric(float64(live)/float64(len(lat)), "succeeded/op")
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "ms-median-last-frame-to-result")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "ms-max-last-frame-to-result")
}
