package face

import (
	"context"
	"math"
	"sort"
	"testing"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/infer"
)

// poseCase is one sample face measured on the original, mirrored and
// rotated photo.
type poseCase struct {
	sample int
	face   livenessd.FaceObservation
}

// sampleFaces returns the faces of at least minW pixels in the samples.
func sampleFaces(t *testing.T, minW float64, samples ...int) []poseCase {
	t.Helper()
	var out []poseCase
	for _, n := range samples {
		for _, o := range sampleObservations(t, n) {
			if o.Box.W >= minW {
				out = append(out, poseCase{n, o})
			}
		}
	}
	if len(out) == 0 {
		t.Fatalf("no face of %v px or more found in samples %v", minW, samples)
	}
	return out
}

func TestPoseMirrorAndRotation(t *testing.T) {
	p := testPipeline(t)
	pe, err := NewPoseEstimator(loadModel(t, DefaultPoseConfig().Spec), DefaultPoseConfig())
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	var rollDeltas, lmRollDeltas []float64
	for _, c := range sampleFaces(t, 140, 3, 6) {
		// Work on the face's neighbourhood: mirroring and rotating the
		// whole photo would only cost time.
		img, o := nearFace(sampleImage(t, c.sample), c.face)
		pose, err := pe.Estimate(ctx, img, o.Box)
		if err != nil {
			t.Fatal(err)
		}
		// Mirror: yaw and roll change sign, pitch stays.
		mir := mirror(img)
		mbox := o.Box
		mbox.X = float64(img.Rect.Dx()) - o.Box.X - o.Box.W
		mp, err := pe.Estimate(ctx, mir, mbox)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(pose.Yaw+mp.Yaw) > 10 || (math.Abs(pose.Yaw) > 10 && pose.Yaw*mp.Yaw > 0) {
			t.Errorf("sample%d box %v: yaw %.1f, mirrored %.1f", c.sample, c.face.Box, pose.Yaw, mp.Yaw)
		}
		if math.Abs(pose.Roll+mp.Roll) > 10 {
			t.Errorf("sample%d box %v: roll %.1f, mirrored %.1f", c.sample, c.face.Box, pose.Roll, mp.Roll)
		}
		if math.Abs(pose.Pitch-mp.Pitch) > 10 {
			t.Errorf("sample%d box %v: pitch %.1f, mirrored %.1f", c.sample, c.face.Box, pose.Pitch, mp.Pitch)
		}
		// Rotate 20 degrees clockwise about the face: roll grows by ~20.
		rot := rotate(img, 20, o.Box.Center())
		robs, err := p.Analyze(ctx, rot)
		if err != nil {
			t.Fatal(err)
		}
		ro, d := matchFace(robs, o.Box.Center())
		if d > o.Box.W/4 {
			t.Errorf("sample%d box %v: face not found after rotation", c.sample, c.face.Box)
			continue
		}
		rp, err := pe.Estimate(ctx, rot, ro.Box)
		if err != nil {
			t.Fatal(err)
		}
		rollDeltas = append(rollDeltas, rp.Roll-pose.Roll)
		lp, _ := PoseFromLandmarks(o.Landmarks)
		rlp, _ := PoseFromLandmarks(ro.Landmarks)
		lmRollDeltas = append(lmRollDeltas, rlp.Roll-lp.Roll)
		t.Logf("sample%d box %4.0f: pose %+.1f/%+.1f/%+.1f mirrored %+.1f/%+.1f/%+.1f rotated roll %+.1f (landmarks %+.1f -> %+.1f)",
			c.sample, o.Box.W, pose.Yaw, pose.Pitch, pose.Roll, mp.Yaw, mp.Pitch, mp.Roll, rp.Roll, lp.Roll, rlp.Roll)
	}
	if m := median(rollDeltas); math.Abs(m-20) > 5 {
		t.Errorf("model roll change after a 20° rotation: median %.1f (all %.1f)", m, rollDeltas)
	}
	if m := median(lmRollDeltas); math.Abs(m-20) > 3 {
		t.Errorf("landmark roll change after a 20° rotation: median %.1f (all %.1f)", m, lmRollDeltas)
	}
}

// TestPoseFromLandmarksAgrees checks the landmark pose against the model
// on every sample face and its mirror image (where the fitted constants
// come from).
func TestPoseFromLandmarksAgrees(t *testing.T) {
	pe, err := NewPoseEstimator(loadModel(t, DefaultPoseConfig().Spec), DefaultPoseConfig())
	if err != nil {
		t.Fatal(err)
	}
	var lm, model []float64
	var absErr []float64
	for _, c := range sampleFaces(t, 60, 1, 2, 4, 5) {
		pose, err := pe.Estimate(t.Context(), sampleImage(t, c.sample), c.face.Box)
		if err != nil {
			t.Fatal(err)
		}
		lp, ok := PoseFromLandmarks(c.face.Landmarks)
		if !ok {
			t.Fatal("no landmark pose")
		}
		lm, model = append(lm, lp.Yaw), append(model, pose.Yaw)
		absErr = append(absErr, math.Abs(lp.Yaw-pose.Yaw))
	}
	r := correlation(lm, model)
	t.Logf("yaw: landmarks vs fr_pose r=%.3f, median |diff| %.1f° over %d faces", r, median(absErr), len(lm))
	if r < 0.9 || median(absErr) > 8 {
		t.Errorf("landmark yaw disagrees with the model: r=%.3f, median |diff| %.1f", r, median(absErr))
	}
}

func TestPoseFromLandmarksGeometry(t *testing.T) {
	// A frontal, symmetric 68-point face: rotating it rotates the roll
	// exactly and leaves yaw at zero.
	base := make([]livenessd.Point, 68)
	for i := range 17 { // jaw
		a := math.Pi * float64(i) / 16
		base[i] = livenessd.Point{X: -50 * math.Cos(a), Y: 10 + 50*math.Sin(a)}
	}
	for i := 17; i < 68; i++ {
		base[i] = livenessd.Point{X: 0, Y: 20}
	}
	for i := range 6 { // eyes
		a := 2 * math.Pi * float64(i) / 6
		base[36+i] = livenessd.Point{X: -20 - 8*math.Cos(a), Y: -5 * math.Sin(a)}
		base[42+i] = livenessd.Point{X: 20 + 8*math.Cos(a+math.Pi), Y: -5 * math.Sin(a)}
	}
	base[30] = livenessd.Point{X: 0, Y: 20}
	base[48], base[54] = livenessd.Point{X: -18, Y: 45}, livenessd.Point{X: 18, Y: 45}
	for _, deg := range []float64{0, 15, -30, 60} {
		a := deg * math.Pi / 180
		lm := make([]livenessd.Point, 68)
		for i, q := range base {
			lm[i] = livenessd.Point{X: 300 + q.X*math.Cos(a) - q.Y*math.Sin(a), Y: 200 + q.X*math.Sin(a) + q.Y*math.Cos(a)}
		}
		pose, ok := PoseFromLandmarks(lm)
		if !ok || math.Abs(pose.Roll-deg) > 1e-6 || math.Abs(pose.Yaw) > 1e-6 {
			t.Errorf("rotation %v: pose %+v ok %v", deg, pose, ok)
		}
	}
	// Nose moved towards the image-left jaw: the face turns to image left, yaw > 0.
	lm := append([]livenessd.Point(nil), base...)
	lm[30].X = -20
	if pose, _ := PoseFromLandmarks(lm); pose.Yaw <= 10 {
		t.Errorf("turned face: yaw %.1f, want > 10", pose.Yaw)
	}
	if _, ok := PoseFromLandmarks(base[:5]); ok {
		t.Error("5 points accepted")
	}
}

// fakeRunner returns fixed outputs (no model needed).
type fakeRunner struct {
	spec infer.Spec
	out  []infer.Tensor
	in   infer.Tensor
}

func (f *fakeRunner) Run(_ context.Context, in infer.Tensor) ([]infer.Tensor, error) {
	f.in = in
	return f.out, nil
}
func (f *fakeRunner) Spec() infer.Spec { return f.spec }

func TestPoseDecode(t *testing.T) {
	// One-hot logits at bins 33 (yaw 0), 43 (pitch 30), 20 (roll -39).
	hot := func(bin int) infer.Tensor {
		d := make([]float32, 66)
		d[bin] = 50
		return infer.Tensor{Shape: []int64{1, 66}, Data: d}
	}
	f := &fakeRunner{spec: infer.FRPose, out: []infer.Tensor{hot(33), hot(43), hot(20)}}
	pe, err := NewPoseEstimator(f, DefaultPoseConfig())
	if err != nil {
		t.Fatal(err)
	}
	img := sampleImageSynthetic(400, 300)
	pose, err := pe.Estimate(t.Context(), img, livenessd.Rect{X: 100, Y: 80, W: 120, H: 140})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(pose.Yaw-0) > 1e-6 || math.Abs(pose.Pitch-30) > 1e-6 || math.Abs(pose.Roll+39) > 1e-6 {
		t.Errorf("pose %+v, want 0/30/-39", pose)
	}
	if err := f.in.Validate(); err != nil || f.in.Shape[2] != 224 {
		t.Errorf("input %v: %v", f.in.Shape, err)
	}
	if _, err := pe.Estimate(t.Context(), img, livenessd.Rect{X: 1000, Y: 1000, W: 10, H: 10}); err == nil {
		t.Error("box outside the image accepted")
	}
	f.out = f.out[:2]
	if _, err := pe.Estimate(t.Context(), img, livenessd.Rect{X: 100, Y: 80, W: 120, H: 140}); err == nil {
		t.Error("missing output accepted")
	}
	bad := DefaultPoseConfig()
	bad.Roll = 5
	if _, err := NewPoseEstimator(f, bad); err == nil {
		t.Error("output index 5 accepted")
	}
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func correlation(x, y []float64) float64 {
	var sx, sy, sxx, syy, sxy float64
	n := float64(len(x))
	for i := range x {
		sx += x[i]
		sy += y[i]
		sxx += x[i] * x[i]
		syy += y[i] * y[i]
		sxy += x[i] * y[i]
	}
	return (n*sxy - sx*sy) / math.Sqrt((n*sxx-sx*sx)*(n*syy-sy*sy))
}
