package liveness_test

import (
	"math"
	"testing"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/face"
	"github.com/livenessd/livenessd/internal/liveness"
	"github.com/livenessd/livenessd/internal/testutil"
)

// largestSampleFace observes the model package's sample photo n and
// returns its largest face.
func largestSampleFace(t *testing.T, p *face.Pipeline, n int) livenessd.FaceObservation {
	t.Helper()
	obs, err := p.ObserveFrame(t.Context(), testutil.DecodeSample(t, n))
	if err != nil || len(obs) == 0 {
		t.Fatalf("sample%d: %d faces, %v", n, len(obs), err)
	}
	o := obs[0]
	for _, f := range obs[1:] {
		if f.Box.Area() > o.Box.Area() {
			o = f
		}
	}
	return o
}

// The mesh probes on real faces: enough of them, none on the eyes or the
// lips, and normals that face the camera on the whole (the samples' heads
// are turned a little) and turn outwards on either side of the face.
func TestMeshProbes_Samples(t *testing.T) {
	p := MustPipeline(t)
	for _, n := range []int{1, 3, 6} {
		o := largestSampleFace(t, p, n)
		idx, normals, ok := liveness.MeshProbes(o)
		if !ok || len(idx) < 30 {
			t.Fatalf("sample%d: %d probes", n, len(idx))
		}
		l := o.Landmarks
		eyeL, eyeR := mean(l[36:42]), mean(l[42:48])
		iod := math.Hypot(eyeR.X-eyeL.X, eyeR.Y-eyeL.Y)
		ux, uy := (eyeR.X-eyeL.X)/iod, (eyeR.Y-eyeL.Y)/iod
		mid := livenessd.Point{X: (eyeL.X + eyeR.X) / 2, Y: (eyeL.Y + eyeR.Y) / 2}
		var facing, outwards []float64
		for k, i := range idx {
			q := livenessd.Point{X: o.Mesh[i].X, Y: o.Mesh[i].Y}
			for _, c := range []livenessd.Point{eyeL, eyeR, mean(l[48:60])} {
				if math.Hypot(q.X-c.X, q.Y-c.Y) < 0.2*iod {
					t.Errorf("sample%d: probe %d at %v lies on an eye or the mouth", n, i, q)
				}
			}
			facing = append(facing, -normals[k][2])
			// Across the face, along the eye line (the samples' heads roll).
			d := ((q.X-mid.X)*ux + (q.Y-mid.Y)*uy) / iod
			if math.Abs(d) > 0.7 {
				across := normals[k][0]*ux + normals[k][1]*uy
				outwards = append(outwards, across*math.Copysign(1, d))
			}
		}
		mf, mo := avg(facing), avg(outwards)
		t.Logf("sample%d: %d probes; mean n·z %.2f; sides turned outwards by %.2f (%d probes)", n, len(idx), mf, mo, len(outwards))
		if !(mf > 0.6 && mf < 0.97 && mo > 0.2) {
			t.Errorf("sample%d: mean n·z %.2f, sides outwards %.2f: want the face towards the camera, its sides turned out", n, mf, mo)
		}
	}
}

func mean(ps []livenessd.Point) livenessd.Point {
	var m livenessd.Point
	for _, p := range ps {
		m.X += p.X / float64(len(ps))
		m.Y += p.Y / float64(len(ps))
	}
	return m
}

func avg(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// The shading model's fall-off on real faces: least on the face's front,
// more towards its sides, its forehead and its jaw, and a nose flank sampled on each
// side of the ridge, so a face that is flat across still has a predicted
// pattern a print does not answer.
func TestProbeFall_Samples(t *testing.T) {
	p := MustPipeline(t)
	for _, n := range []int{1, 3, 6} {
		o := largestSampleFace(t, p, n)
		fall, flank, pos, ok := liveness.ProbeFall(o)
		if !ok {
			t.Fatalf("sample%d: no probes", n)
		}
		var front, sides, chin []float64 // chin: the forehead and the jaw
		flanks := map[bool]int{}
		for i, f := range fall {
			if math.IsNaN(f) {
				continue
			}
			x, y := pos[i][0], pos[i][1]
			switch {
			case math.Abs(x) > 0.75 && y > 0 && y < 1:
				sides = append(sides, f)
			case y < -0.45 || y > 0.95:
				chin = append(chin, f)
			case math.Abs(x) > 0.3 && math.Abs(x) < 0.55 && y > 0.4 && y < 0.9 && flank[i] < 0.05:
				front = append(front, f)
			}
			if flank[i] > 0.2 {
				flanks[x > 0]++
			}
		}
		t.Logf("sample%d: fall front %.2f (%d), sides %.2f (%d), forehead and jaw %.2f (%d); nose-flank probes %v",
			n, avg(front), len(front), avg(sides), len(sides), avg(chin), len(chin), flanks)
		if len(front) == 0 || len(sides) == 0 || len(chin) == 0 {
			t.Fatalf("sample%d: probes front %d, sides %d, forehead and jaw %d", n, len(front), len(sides), len(chin))
		}
		if !(avg(front) < 0.25 && avg(sides) > avg(front)+0.15 && avg(chin) > avg(front)+0.1) {
			t.Errorf("sample%d: fall-off front %.2f, sides %.2f, forehead and jaw %.2f: want the front least", n, avg(front), avg(sides), avg(chin))
		}
		if flanks[false] == 0 || flanks[true] == 0 {
			t.Errorf("sample%d: nose-flank probes left/right %d/%d, want both sides sampled", n, flanks[false], flanks[true])
		}
	}
}
