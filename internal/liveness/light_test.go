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
