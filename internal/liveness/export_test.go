package liveness

import (
	"github.com/livenessd/livenessd"
)

// MeshProbes exposes the mesh probe choice and its normals to the
// real-model tests (package liveness_test), which may import face.
func MeshProbes(o livenessd.FaceObservation) (idx []int, normals [][3]float64, ok bool) {
	ms, ok := selectMeshSet(o)
	if !ok {
		return nil, nil, false
	}
	for _, n := range ms.normals(o.Mesh) {
		normals = append(normals, n.arr())
	}
	return ms.idx, normals, true
}

// ProbeFall exposes the shading model's predicted fall-off at each probe
// of o (faceFall), with the nose-flank part apart and the probes' places
// on the face (IODs), to the real-model tests.
func ProbeFall(o livenessd.FaceObservation) (fall, flank []float64, pos [][2]float64, ok bool) {
	ms, ok := selectMeshSet(o)
	if !ok {
		return nil, nil, nil, false
	}
	f, ok := newFaceFrame(o)
	if !ok {
		return nil, nil, nil, false
	}
	mesh := make([]pointSum, len(o.Mesh))
	for i, q := range o.Mesh {
		p := f.to(pt(q.X, q.Y))
		mesh[i] = pointSum{X: p.X, Y: p.Y, n: 1}
	}
	for _, i := range ms.idx {
		p := mesh[i]
		fall = append(fall, faceFall(mesh, p))
		flank = append(flank, noseFlank(mesh, p))
		pos = append(pos, [2]float64{p.X, p.Y})
	}
	return fall, flank, pos, true
}
