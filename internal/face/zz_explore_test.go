package face

import (
	"math"
	"testing"

	"github.com/livenessd/livenessd/internal/infer"
)

func TestExploreOrder(t *testing.T) {
	p := testPipeline(t)
	faces := sampleFaces(t, p, 60, 1, 2, 3, 4, 5, 6)
	for _, order := range []infer.ColorOrder{infer.RGB, infer.BGR} {
		spec := infer.FRPose.Clone()
		spec.Input.Order = order
		s, err := testutil_load(t, spec)
		if err != nil {
			t.Fatal(err)
		}
		pe, _ := NewPoseEstimator(s, DefaultPoseConfig())
		var asym, lmx, my []float64
		for _, c := range faces {
			img := sampleImage(t, c.sample)
			pose, _ := pe.Estimate(t.Context(), img, c.face.Box)
			mbox := c.face.Box
			mbox.X = float64(img.Rect.Dx()) - mbox.X - mbox.W
			mp, _ := pe.Estimate(t.Context(), mirror(img), mbox)
			asym = append(asym, math.Abs(pose.Yaw+mp.Yaw))
			lp, _ := PoseFromLandmarks(c.face.Landmarks)
			lmx, my = append(lmx, lp.Roll), append(my, pose.Roll)
		}
		t.Logf("%s: median |yaw+mirrored yaw| %.2f, roll r vs landmarks %.3f", order, median(asym), correlation(lmx, my))
	}
}

func testutil_load(t *testing.T, spec infer.Spec) (*infer.Session, error) {
	return loadModel(t, spec), nil
}
