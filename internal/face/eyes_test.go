package face

import (
	"math"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/imageio"
	"github.com/livenessd/livenessd/internal/infer"
	"github.com/livenessd/livenessd/internal/testutil"
)

// TestEyeOpennessSamples checks fr_eye on sample faces whose eyes were
// judged by looking at the photos: closed or looking down (lids over the
// eyes) versus plainly open.
func TestEyeOpennessSamples(t *testing.T) {
	ee, err := NewEyeEstimator(loadModel(t, infer.FREye), DefaultEyeConfig())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		sample int
		at     livenessd.Point // face centre in the photo
		open   bool
	}{
		{1, livenessd.Point{X: 931, Y: 538}, false},  // looking down, lids closed
		{2, livenessd.Point{X: 447, Y: 271}, false},  // looking down
		{2, livenessd.Point{X: 1545, Y: 275}, false}, // looking down
		{4, livenessd.Point{X: 1078, Y: 306}, false}, // eyes closed
		{1, livenessd.Point{X: 1572, Y: 328}, true},
		{1, livenessd.Point{X: 509, Y: 474}, true},
		{3, livenessd.Point{X: 1190, Y: 360}, true},
		{3, livenessd.Point{X: 693, Y: 458}, true},
		{4, livenessd.Point{X: 754, Y: 191}, true},
		{6, livenessd.Point{X: 1590, Y: 403}, true},
		{6, livenessd.Point{X: 362, Y: 625}, true},
		{6, livenessd.Point{X: 1265, Y: 446}, true},
	} {
		img := sampleImage(t, tc.sample)
		o, d := matchFace(sampleObservations(t, tc.sample), tc.at)
		if d > 40 {
			t.Errorf("sample%d: no face near %v", tc.sample, tc.at)
			continue
		}
		eyes, err := ee.Eyes(t.Context(), img, o.Landmarks)
		if err != nil {
			t.Fatal(err)
		}
		both, err := ee.EyeOpenness(t.Context(), img, o.Landmarks)
		if err != nil || both != eyes.Both() {
			t.Fatalf("EyeOpenness %v %v, Eyes %+v", both, err, eyes)
		}
		t.Logf("sample%d face at %4.0f,%4.0f: left %.2f right %.2f both %.2f", tc.sample, tc.at.X, tc.at.Y, eyes.Left, eyes.Right, both)
		if tc.open && both < 0.5 || !tc.open && both > 0.2 {
			t.Errorf("sample%d face at %v: open=%v but P(both open)=%.2f", tc.sample, tc.at, tc.open, both)
		}
	}
}

// TestEyeOpennessLFW measures how often fr_eye calls eyes closed on LFW
// portraits, where nearly every subject has open eyes (a few squint, blink
// or look down; many wear glasses). It is a measurement for the report
// more than a gate: it fails only if the rate gets much worse.
func TestEyeOpennessLFW(t *testing.T) {
	dir := testutil.SharedData(t, "face-verification/lfw/images")
	p := testPipeline(t)
	ee, err := NewEyeEstimator(loadModel(t, infer.FREye), DefaultEyeConfig())
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*", "*.jpg"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no LFW images in %s: %v", dir, err)
	}
	sort.Strings(files)
	n, closed, bothClosed := 0, 0, 0
	var worst []string
	for i := 0; i < len(files); i += 16 {
		b, err := os.ReadFile(files[i])
		if err != nil {
			t.Fatal(err)
		}
		img, err := imageio.Decode(b, imageio.DefaultLimits())
		if err != nil {
			t.Fatal(err)
		}
		obs, err := p.ObserveFrame(t.Context(), img)
		if err != nil || len(obs) == 0 {
			continue
		}
		o, _ := matchFace(obs, livenessd.Point{X: 125, Y: 125}) // LFW faces are centred
		eyes, err := ee.Eyes(t.Context(), img, o.Landmarks)
		if err != nil {
			t.Fatal(err)
		}
		both := eyes.Both()
		n++
		if eyes.Either() < 0.5 {
			bothClosed++
		}
		if both < 0.5 {
			closed++
			worst = append(worst, filepath.Base(files[i]))
		}
	}
	rate := float64(closed) / float64(n)
	t.Logf("LFW: P(both open) < 0.5 on %d of %d faces (%.1f%%): %v; both eyes < 0.5 (Either) on %d", closed, n, 100*rate, worst, bothClosed)
	if n < 40 || rate > 0.25 || float64(bothClosed)/float64(n) > 0.1 {
		t.Errorf("closed-eye rate %.1f%%, both-closed %d, on %d faces", 100*rate, bothClosed, n)
	}
}

func TestEyeCropGeometry(t *testing.T) {
	f := &fakeRunner{spec: infer.FREye, out: []infer.Tensor{{Shape: []int64{1, 2}, Data: []float32{0, float32(math.Log(3))}}}}
	ee, err := NewEyeEstimator(f, DefaultEyeConfig())
	if err != nil {
		t.Fatal(err)
	}
	lm := make([]livenessd.Point, 68)
	for i := range 6 {
		a := 2 * math.Pi * float64(i) / 6
		lm[36+i] = livenessd.Point{X: 100 - 10*math.Cos(a), Y: 100 - 4*math.Sin(a)}
		lm[42+i] = livenessd.Point{X: 160 + 10*math.Cos(a+math.Pi), Y: 100 - 4*math.Sin(a)}
	}
	c := ee.eyeCrop(lm, 36)
	if math.Abs(c.C.X-100) > 1e-9 || math.Abs(c.C.Y-100) > 1e-9 || math.Abs(c.Side-32) > 1e-9 || math.Abs(c.Angle) > 1e-9 {
		t.Errorf("crop %+v, want centre (100,100) side 32 angle 0", c)
	}
	eyes, err := ee.Eyes(t.Context(), sampleImageSynthetic(300, 200), lm)
	if err != nil {
		t.Fatal(err)
	}
	// softmax(0, ln 3) = (0.25, 0.75): open index 1.
	if math.Abs(eyes.Left-0.75) > 1e-6 || math.Abs(eyes.Both()-0.5625) > 1e-6 {
		t.Errorf("eyes %+v", eyes)
	}
	if err := f.in.Validate(); err != nil || f.in.Shape[2] != 24 || f.in.Shape[1] != 1 {
		t.Errorf("input %v %v", f.in.Shape, err)
	}
	for _, v := range f.in.Data {
		if v < 0 || v > 1 {
			t.Fatalf("input value %v outside 0..1", v)
		}
	}
	if _, err := ee.Eyes(t.Context(), sampleImageSynthetic(300, 200), lm[:5]); err == nil {
		t.Error("5 landmarks accepted")
	}
}
