package liveness

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/livenessd/livenessd"
)

// meshAt projects a rigid 3-D face (cm; z towards the camera negative, as
// FaceMesh gives it) through a pinhole camera of focal length f pixels at
// distance d, depths scaled like the image as FaceMesh scales them.
func meshAt(pts [][3]float64, f, d float64) *record {
	m := make([]livenessd.Point3, len(pts))
	for i, p := range pts {
		zc := d + p[2]
		m[i] = livenessd.Point3{X: 320 + f*p[0]/zc, Y: 240 + f*p[1]/zc, Z: p[2] * f / d}
	}
	return &record{face: livenessd.FaceObservation{Mesh: m}}
}

func TestMeshParallax(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	face := make([][3]float64, meshPoints)
	for i := range face {
		x, y := rng.Float64()*14-7, rng.Float64()*20-10
		// A dome: the centre stands 5 cm before the outline.
		z := -5 * math.Max(0, 1-(x*x/49+y*y/100))
		face[i] = [3]float64{x, y, z}
	}
	flat := make([][3]float64, meshPoints)
	for i, p := range face {
		flat[i] = [3]float64{p[0], p[1], 0}
	}
	const f = 500.0 // 640 px wide, 65° field of view
	for _, test := range []struct {
		name string
		far  []*record
		near []*record
		want float64
		tol  float64
	}{
		// A 3-D face: the slope is 1/f, times half the width: 320/500.
		{"Face", []*record{meshAt(face, f, 60)}, []*record{meshAt(face, f, 30)}, 320 / f, 0.08},
		// A print: its points all lie in one plane; FaceMesh still gives
		// it depths (a face's), but it only scales.
		{"Print", []*record{withDepth(meshAt(flat, f, 60), face, f, 60)}, []*record{withDepth(meshAt(flat, f, 30), face, f, 30)}, 0, 0.05},
	} {
		t.Run(test.name, func(t *testing.T) {
			got := meshParallax(test.far, test.near, 640)
			if math.Abs(got-test.want) > test.tol {
				t.Errorf("parallax = %.3f, want %.3f ± %.2f", got, test.want, test.tol)
			}
		})
	}
}

// withDepth gives a flat print's mesh the depths of a face, as FaceMesh
// predicts them from the printed face.
func withDepth(r *record, face [][3]float64, f, d float64) *record {
	for i := range r.face.Mesh {
		r.face.Mesh[i].Z = face[i][2] * f / d
	}
	return r
}
