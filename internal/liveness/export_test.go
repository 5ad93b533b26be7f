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
