package liveness

import (
	"math"
	"slices"
	"testing"
	"time"
)

func TestSkinProbes(t *testing.T) {
	const probes, frames = 10, 12
	// rec is frame j: skin patches measured, and a mesh of probes unless
	// noMesh; lost lists the probes not measured on it.
	rec := func(j int, noMesh bool, lost ...int) record {
		r := record{at: time.Duration(j) * 100 * time.Millisecond, hasLay: true}
		for p := range nPatch {
			r.s.ok[p] = true
			r.s.patch[p] = [3]float64{100, 80, 60}
		}
		if noMesh {
			return r
		}
		r.s.mesh = make([][3]float32, probes)
		r.s.mok = make([]bool, probes)
		for i := range probes {
			// Probe i's colour changes with the frame, unlike the patches.
			r.s.mesh[i] = [3]float32{float32(100 + i + j), float32(80 + i), 60}
			r.s.mok[i] = !slices.Contains(lost, i)
		}
		return r
	}
	chinOut := func(r record, out bool) record {
		r.s.ok[patchChin] = !out
		return r
	}
	all := func(except ...int) []bool {
		m := make([]bool, probes)
		for i := range m {
			m[i] = !slices.Contains(except, i)
		}
		return m
	}
	for _, test := range []struct {
		name   string
		recs   func(j int) record
		want   []bool // nil: the patches
		frames int    // frames in the series
	}{
		{"AllProbes", func(j int) record { return rec(j, false) }, all(), frames},
		{"ProbeLostOnce", func(j int) record {
			if j == 5 {
				return rec(j, false, 3)
			}
			return rec(j, false)
		}, all(3), frames},
		{"MeshLostOnTwoFrames", func(j int) record { return rec(j, j == 4 || j == 9) }, all(), frames - 2},
		{"MeshMostlyLost", func(j int) record { return rec(j, j%2 == 0) }, nil, frames},
		{"TooFewProbes", func(j int) record { return rec(j, false, 0, 1, 2) }, nil, frames},
		// The chin's patch below the image's edge on the last frames:
		// the probes still read the skin there.
		{"ChinOutOfView", func(j int) record { return chinOut(rec(j, false), j >= 8) }, all(), frames},
		// Without probes those frames have no skin colour.
		{"ChinOutOfViewNoProbes", func(j int) record { return chinOut(rec(j, false, 0, 1, 2), j >= 8) }, nil, 8},
	} {
		t.Run(test.name, func(t *testing.T) {
			r := &Run{mesh: meshSet{idx: make([]int, probes)}}
			for j := range frames {
				r.recs = append(r.recs, test.recs(j))
			}
			// A frame outside the window, with no probe measured, is not
			// looked at.
			out := rec(frames+5, false, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9)
			r.recs = append(r.recs, out)
			to := time.Duration(frames-1) * 100 * time.Millisecond
			got := r.skinProbes(0, to)
			if !slices.Equal(got, test.want) {
				t.Fatalf("skinProbes = %v, want %v", got, test.want)
			}
			ser := r.lightSeries(0, to, got)
			if len(ser.t) != test.frames {
				t.Fatalf("series of %d frames, want %d", len(ser.t), test.frames)
			}
			for j, at := range ser.t {
				want := features([3]float64{100, 80, 60})
				if test.want != nil {
					rr := r.recs[int(at/(100*time.Millisecond))]
					want = features(probeMean(rr.s.mesh, test.want))
				}
				for c := range 3 {
					if math.Abs(ser.raw[c][j]-want[c]) > 1e-12 {
						t.Fatalf("frame %d feature %d = %v, want %v", j, c, ser.raw[c][j], want[c])
					}
				}
			}
		})
	}
}

func TestColourGaps(t *testing.T) {
	ms := func(v int) time.Duration { return time.Duration(v) * time.Millisecond }
	on := []time.Duration{ms(1000), ms(1400), ms(1800), ms(2200)}
	// every returns frames every 66 ms from..to, leaving out [skipFrom, skipTo).
	every := func(from, to, skipFrom, skipTo int) []time.Duration {
		var ts []time.Duration
		for v := from; v <= to; v += 66 {
			if v < skipFrom || v >= skipTo {
				ts = append(ts, ms(v))
			}
		}
		return ts
	}
	for _, test := range []struct {
		name string
		ts   []time.Duration
		lag  time.Duration
		want int
	}{
		{"AllFrames", every(1000, 2600, 0, 0), 0, 0},
		{"AllFramesAtLag", every(1000, 2700, 0, 0), ms(100), 0},
		{"NoFrames", nil, 0, 4},
		{"OneColourLost", every(1000, 2600, 1400, 1800), 0, 1},
		{"TwoColoursLost", every(1000, 2600, 1400, 2200), 0, 2},
		// The lag moves the intervals: frames lost while the second
		// colour was on the screen leave its interval in camera time
		// (1540-1880 ms at 100 ms) partly covered.
		{"LostBeforeTheLag", every(1000, 2700, 1400, 1800), ms(100), 0},
		{"LostAtTheLag", every(1000, 2700, 1500, 1900), ms(100), 1},
		// Frames only at a colour's edges (inside the guard) count as none.
		{"OnlyAtEdges", []time.Duration{ms(1010), ms(1390), ms(1810), ms(2210)}, 0, 4},
		{"StreamStopped", every(1000, 1700, 0, 0), 0, 2},
	} {
		t.Run(test.name, func(t *testing.T) {
			if got := colourGaps(test.ts, on, test.lag); got != test.want {
				t.Errorf("colourGaps = %d, want %d", got, test.want)
			}
		})
	}
}
