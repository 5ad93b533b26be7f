package face

import (
	"testing"

	"github.com/livenessd/livenessd/internal/infer"
	"github.com/livenessd/livenessd/internal/infer/tfjs"
)

// BenchmarkMeasurers times pose, eyes, mesh and quality on one sample face
// (model time included; the image pyramid is shared as in the pipeline).
func BenchmarkMeasurers(b *testing.B) {
	img := sampleImage(b, 6)
	obs := sampleObservations(b, 6)
	if len(obs) == 0 {
		b.Fatal("no face in sample 6")
	}
	o := obs[0]
	pyr := newPyramid(img)
	pe, _ := NewPoseEstimator(loadModel(b, DefaultPoseConfig().Spec), DefaultPoseConfig())
	ee, _ := NewEyeEstimator(loadModel(b, infer.FREye), DefaultEyeConfig())
	me, err := NewMeshEstimator(loadMesh(b), DefaultMeshConfig(tfjs.FaceMesh))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("Pose", func(b *testing.B) {
		for b.Loop() {
			if _, err := pe.estimateIn(b.Context(), pyr, o.Box); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Eyes", func(b *testing.B) {
		for b.Loop() {
			if _, err := ee.eyesIn(b.Context(), pyr, o.Landmarks); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Mesh", func(b *testing.B) {
		for b.Loop() {
			if _, err := me.estimateIn(b.Context(), pyr, o.Box, o.Landmarks); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Quality", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			MeasureQuality(img, o.Box, o.Landmarks)
		}
	})
}
