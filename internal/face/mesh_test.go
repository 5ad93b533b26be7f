package face

import (
	"math"
	"testing"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/infer"
	"github.com/livenessd/livenessd/internal/infer/tfjs"
	"github.com/livenessd/livenessd/internal/testutil"
)

func loadMesh(t testing.TB) ModelRunner {
	t.Helper()
	s, err := tfjs.Load(testutil.Runtime(t), tfjs.FaceMesh, testutil.ModelDir(t), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestMeshSamples runs FaceMesh on the sample faces and checks it against
// the 68-point landmarks: the points lie on the face, and the eye and
// mouth corners of both models agree.
func TestMeshSamples(t *testing.T) {
	me, err := NewMeshEstimator(loadMesh(t), DefaultMeshConfig(tfjs.FaceMesh))
	if err != nil {
		t.Fatal(err)
	}
	pairs := []struct {
		name       string
		mesh, lm68 int
	}{
		{"LeftEyeOuter", MeshLeftEyeOuter, 36}, {"LeftEyeInner", MeshLeftEyeInner, 39},
		{"RightEyeInner", MeshRightEyeInner, 42}, {"RightEyeOuter", MeshRightEyeOuter, 45},
		{"MouthLeft", MeshMouthLeft, 48}, {"MouthRight", MeshMouthRight, 54},
	}
	var all []float64
	for _, c := range sampleFaces(t, 100, 1, 3, 6) {
		img, o := sampleImage(t, c.sample), c.face
		mesh, err := me.Estimate(t.Context(), img, o.Box, o.Landmarks)
		if err != nil {
			t.Fatal(err)
		}
		if len(mesh.Points) != 468 || mesh.Presence < 0.5 {
			t.Fatalf("sample%d box %v: %d points, presence %.2f", c.sample, o.Box, len(mesh.Points), mesh.Presence)
		}
		grown := scaleRect(o.Box, 1.2)
		inside := 0
		for _, q := range mesh.Points {
			if math.IsNaN(q.X+q.Y+q.Z) || math.IsInf(q.X+q.Y+q.Z, 0) {
				t.Fatalf("non-finite point %+v", q)
			}
			if q.X >= grown.X && q.X <= grown.X+grown.W && q.Y >= grown.Y && q.Y <= grown.Y+grown.H {
				inside++
			}
		}
		if inside < 468*97/100 {
			t.Errorf("sample%d box %v: only %d of 468 points inside the box grown by 20%%", c.sample, o.Box, inside)
		}
		lm := o.Landmarks
		iod := math.Hypot(lm[45].X-lm[36].X, lm[45].Y-lm[36].Y)
		for _, pr := range pairs {
			a, b := mesh.Points[pr.mesh], lm[pr.lm68]
			d := math.Hypot(a.X-b.X, a.Y-b.Y) / iod
			all = append(all, d)
			if d > 0.15 {
				t.Errorf("sample%d box %v: %s differs by %.2f eye distances", c.sample, o.Box, pr.name, d)
			}
		}
		// The nose tip is nearer the camera (more negative z) than the eye corners.
		eyesZ := (mesh.Points[MeshLeftEyeOuter].Z + mesh.Points[MeshRightEyeOuter].Z) / 2
		if nz := mesh.Points[MeshNoseTip].Z; nz >= eyesZ {
			t.Errorf("sample%d box %v: nose z %.1f not in front of eye z %.1f", c.sample, o.Box, nz, eyesZ)
		}
	}
	t.Logf("mesh vs 68-point corners: median %.3f, max %.3f eye distances over %d points", median(all), maxOf(all), len(all))
	if median(all) > 0.05 {
		t.Errorf("median corner disagreement %.3f eye distances", median(all))
	}
}

func TestMeshNoFace(t *testing.T) {
	me, err := NewMeshEstimator(loadMesh(t), DefaultMeshConfig(tfjs.FaceMesh))
	if err != nil {
		t.Fatal(err)
	}
	// Window blinds in the top-left of sample 6: no face there.
	mesh, err := me.Estimate(t.Context(), sampleImage(t, 6), livenessd.Rect{X: 20, Y: 40, W: 200, H: 200}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("presence on window blinds: %.3f", mesh.Presence)
	if mesh.Presence > 0.5 {
		t.Errorf("presence %.2f on a region without a face", mesh.Presence)
	}
}

func TestMeshConfigChecks(t *testing.T) {
	f := &fakeRunner{spec: tfjs.FaceMesh}
	if _, err := NewMeshEstimator(f, DefaultMeshConfig(tfjs.FaceMesh)); err != nil {
		t.Fatal(err)
	}
	bad := DefaultMeshConfig(tfjs.FaceMesh)
	bad.Points = 68
	if _, err := NewMeshEstimator(f, bad); err == nil {
		t.Error("68 points accepted for a 1404-value output")
	}
	bad = DefaultMeshConfig(tfjs.FaceMesh)
	bad.PointsOutput = 7
	if _, err := NewMeshEstimator(f, bad); err == nil {
		t.Error("output 7 accepted")
	}
	// Wrong output length at run time is an error, not a panic.
	f.out = []infer.Tensor{{Shape: []int64{1, 3}, Data: []float32{1, 2, 3}}}
	me, _ := NewMeshEstimator(f, DefaultMeshConfig(tfjs.FaceMesh))
	if _, err := me.Estimate(t.Context(), sampleImageSynthetic(300, 300), livenessd.Rect{X: 100, Y: 100, W: 80, H: 80}, nil); err == nil {
		t.Error("short output accepted")
	}
}

func maxOf(v []float64) float64 {
	m := math.Inf(-1)
	for _, x := range v {
		m = math.Max(m, x)
	}
	return m
}
