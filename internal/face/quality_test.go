package face

import (
	"image"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/imageio"
	"github.com/livenessd/livenessd/internal/infer"
	"github.com/livenessd/livenessd/internal/infer/tfjs"
	"github.com/livenessd/livenessd/internal/testutil"
)

// TestQualitySamples measures every sample face and variants of it:
// darkened (x0.3), brightened (x1.6+50 and x2.2+90), blurred (box-filter
// Gaussian of sigma 1% and 4% of the face width), and shrunk so the face
// is 40 px wide. These variants are where the default thresholds come
// from (docs/QUALITY.md).
func TestQualitySamples(t *testing.T) {
	th := DefaultQualityThresholds()
	faces := sampleFaces(t, 100, 1, 2, 3, 4, 5, 6)
	unflagged := 0
	for _, c := range faces {
		img, o := nearFace(sampleImage(t, c.sample), c.face)
		q := func(m image.Image) QualityReport { return AssessQuality(m, o.Box, o.Landmarks, nil, th) }
		orig := q(img)
		dark := q(adjust(img, 0.3, 0))
		bright := q(adjust(img, 2.2, 90))
		blur := q(blurRegion(img, boxRect(o.Box), int(o.Box.W/100)+1))
		blur4 := q(blurRegion(img, boxRect(o.Box), int(o.Box.W/25)+1))
		s := 40 / o.Box.W
		small := imageio.Resize(img, int(float64(img.Rect.Dx())*s), int(float64(img.Rect.Dy())*s))
		sbox, slm := scaleFace(o, s)
		tiny := AssessQuality(small, sbox, slm, nil, th)
		t.Logf("sample%d w%3.0f: brightness %5.1f sharpness %5.1f %v | dark %5.1f/%5.1f | bright %5.1f clipped %.2f | blur %5.1f, %5.1f | 40px %5.1f %v",
			c.sample, o.Box.W, orig.Brightness, orig.Sharpness, orig.Flags, dark.Brightness, dark.Sharpness,
			bright.Brightness, bright.Clipped, blur.Sharpness, blur4.Sharpness, tiny.Sharpness, tiny.Flags)

		if !slices.ContainsFunc(orig.Flags, func(f string) bool { return f == FlagTooDark || f == FlagTooBright || f == FlagBlurry }) {
			unflagged++
		}
		if !slices.Contains(dark.Flags, FlagTooDark) || math.Abs(dark.Brightness-0.3*orig.Brightness) > 1.5 {
			t.Errorf("darkened: brightness %.1f (orig %.1f), flags %v", dark.Brightness, orig.Brightness, dark.Flags)
		}
		// Sharpness does not depend on exposure (contrast-normalised).
		if math.Abs(dark.Sharpness-orig.Sharpness) > 0.15*orig.Sharpness+2 {
			t.Errorf("darkened sharpness %.1f vs %.1f", dark.Sharpness, orig.Sharpness)
		}
		// (x2.2+90 lifts a face in shadow, sample 5, only to normal.)
		if orig.Brightness >= 30 && !slices.Contains(bright.Flags, FlagTooBright) {
			t.Errorf("brightened: brightness %.1f clipped %.2f, flags %v", bright.Brightness, bright.Clipped, bright.Flags)
		}
		if !(blur4.Sharpness < blur.Sharpness && blur.Sharpness < orig.Sharpness) || !slices.Contains(blur4.Flags, FlagBlurry) {
			t.Errorf("blur: sharpness %.1f -> %.1f -> %.1f, flags %v", orig.Sharpness, blur.Sharpness, blur4.Sharpness, blur4.Flags)
		}
		if blur.Sharpness > 0.5*orig.Sharpness {
			t.Errorf("sigma 1%% blur keeps sharpness %.1f of %.1f", blur.Sharpness, orig.Sharpness)
		}
		if !slices.Contains(tiny.Flags, FlagTooSmall) || slices.Contains(tiny.Flags, FlagBlurry) {
			t.Errorf("40-px face: flags %v (a sharp small face is small, not blurry)", tiny.Flags)
		}
	}
	// The photos are reasonably exposed and sharp: most faces carry none
	// of the exposure/blur flags (sample 4 is soft, sample 5 has a face in shadow).
	if unflagged < len(faces)*3/4 {
		t.Errorf("only %d of %d original faces without exposure/blur flags", unflagged, len(faces))
	}
}

func TestQualityCutOffAndPose(t *testing.T) {
	c := sampleFaces(t, 150, 6)[0]
	img, o := sampleImage(t, c.sample), c.face
	if r := AssessQuality(img, o.Box, o.Landmarks, nil, DefaultQualityThresholds()); slices.Contains(r.Flags, FlagCutOff) {
		t.Fatalf("whole face flagged cut_off: %+v", r)
	}
	// Crop the photo through the middle of the face: half the box is out.
	cut := int(o.Box.X + o.Box.W/2)
	cropped := imageio.Crop(img, image.Rect(cut, 0, img.Rect.Dx(), img.Rect.Dy()))
	box := o.Box
	box.X -= float64(cut)
	lm := make([]livenessd.Point, len(o.Landmarks))
	for i, q := range o.Landmarks {
		lm[i] = livenessd.Point{X: q.X - float64(cut), Y: q.Y}
	}
	r := AssessQuality(cropped, box, lm, nil, DefaultQualityThresholds())
	if !slices.Contains(r.Flags, FlagCutOff) || math.Abs(r.Outside-0.5) > 0.02 {
		t.Errorf("half-cut face: outside %.2f flags %v", r.Outside, r.Flags)
	}
	// A given pose overrides the landmark pose.
	for _, tc := range []struct {
		pose    livenessd.Pose
		extreme bool
	}{
		{livenessd.Pose{Yaw: 10, Pitch: -5, Roll: 3}, false},
		{livenessd.Pose{Yaw: -60}, true},
		{livenessd.Pose{Pitch: 35}, true},
		{livenessd.Pose{Roll: 50}, true},
	} {
		r := AssessQuality(img, o.Box, o.Landmarks, &tc.pose, DefaultQualityThresholds())
		if got := slices.Contains(r.Flags, FlagExtremePose); got != tc.extreme || r.Pose != tc.pose {
			t.Errorf("pose %+v: flags %v", tc.pose, r.Flags)
		}
	}
}

func TestQualitySynthetic(t *testing.T) {
	uniform := func(v uint8) *image.NRGBA {
		m := image.NewNRGBA(image.Rect(0, 0, 200, 200))
		for i := range m.Pix {
			m.Pix[i] = v
			if i%4 == 3 {
				m.Pix[i] = 255
			}
		}
		return m
	}
	checker := image.NewNRGBA(image.Rect(0, 0, 200, 200))
	for y := range 200 {
		for x := range 200 {
			v := uint8(60)
			if (x/2+y/2)%2 == 0 {
				v = 190
			}
			o := checker.PixOffset(x, y)
			checker.Pix[o], checker.Pix[o+1], checker.Pix[o+2], checker.Pix[o+3] = v, v, v, 255
		}
	}
	box := livenessd.Rect{X: 40, Y: 40, W: 120, H: 120}
	for _, tc := range []struct {
		name       string
		img        image.Image
		brightness float64
		sharpAbove float64
		sharpBelow float64
		flags      []string
	}{
		{"Black", uniform(0), 0, -1, 0.001, []string{FlagTooDark, FlagBlurry}},
		{"Grey", uniform(128), 50.2, -1, 0.001, []string{FlagBlurry}},
		{"White", uniform(255), 100, -1, 0.001, []string{FlagTooBright, FlagBlurry}},
		{"Checker", checker, 49.02, 90, 100.001, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, flags := MeasureQuality(tc.img, box, nil)
			if math.Abs(q.Brightness-tc.brightness) > 0.6 || q.Sharpness <= tc.sharpAbove || q.Sharpness >= tc.sharpBelow {
				t.Errorf("quality %+v", q)
			}
			if !slices.Equal(flags, tc.flags) {
				t.Errorf("flags %v, want %v", flags, tc.flags)
			}
		})
	}
	t.Run("OutsideFraction", func(t *testing.T) {
		for _, tc := range []struct {
			r    livenessd.Rect
			want float64
		}{
			{livenessd.Rect{X: 10, Y: 10, W: 50, H: 50}, 0},
			{livenessd.Rect{X: -25, Y: 10, W: 50, H: 50}, 0.5},
			{livenessd.Rect{X: 180, Y: 180, W: 40, H: 40}, 0.75},
			{livenessd.Rect{X: 500, Y: 500, W: 10, H: 10}, 1},
			{livenessd.Rect{}, 0},
		} {
			if got := outsideFraction(tc.r, 200, 200); math.Abs(got-tc.want) > 1e-9 {
				t.Errorf("%+v: %v, want %v", tc.r, got, tc.want)
			}
		}
	})
	t.Run("Degenerate", func(t *testing.T) {
		for _, b := range []livenessd.Rect{{}, {X: math.NaN(), W: 10, H: 10}, {X: 1e9, Y: 1e9, W: 10, H: 10}} {
			q, flags := MeasureQuality(uniform(100), b, nil)
			if q.Brightness != 0 || !slices.Contains(flags, FlagTooSmall) && b.W == 0 {
				t.Errorf("box %+v: %+v %v", b, q, flags)
			}
		}
	})
}

func BenchmarkMeasureQuality(b *testing.B) {
	img := sampleImageSynthetic(1280, 960)
	box := livenessd.Rect{X: 400, Y: 300, W: 220, H: 260}
	b.ReportAllocs()
	for b.Loop() {
		MeasureQuality(img, box, nil)
	}
}

// TestMeasurersBadGeometry feeds degenerate boxes and landmarks to every
// measurer (fake models): errors or zero values, never a panic.
func TestMeasurersBadGeometry(t *testing.T) {
	img := sampleImageSynthetic(300, 200)
	nan, inf := math.NaN(), math.Inf(1)
	boxes := []livenessd.Rect{{}, {X: nan, Y: 10, W: 50, H: 50}, {X: 10, Y: 10, W: inf, H: 50}, {X: -1e12, Y: 0, W: 10, H: 10},
		{X: 10, Y: 10, W: -50, H: 50}, {X: 290, Y: 190, W: 1e9, H: 1e9}}
	lms := [][]livenessd.Point{nil, make([]livenessd.Point, 68), make([]livenessd.Point, 67)}
	bad := make([]livenessd.Point, 68)
	for i := range bad {
		bad[i] = livenessd.Point{X: nan, Y: inf}
	}
	lms = append(lms, bad)
	pose := &fakeRunner{spec: DefaultPoseConfig().Spec, out: []infer.Tensor{
		{Shape: []int64{1, 66}, Data: make([]float32, 66)}, {Shape: []int64{1, 66}, Data: make([]float32, 66)}, {Shape: []int64{1, 66}, Data: make([]float32, 66)}}}
	pe, _ := NewPoseEstimator(pose, DefaultPoseConfig())
	eyes := &fakeRunner{spec: DefaultEyeConfig().Spec, out: []infer.Tensor{{Shape: []int64{1, 2}, Data: []float32{0, 0}}}}
	ee, _ := NewEyeEstimator(eyes, DefaultEyeConfig())
	mesh := &fakeRunner{spec: tfjs.FaceMesh, out: []infer.Tensor{{Shape: []int64{1, 1404}, Data: make([]float32, 1404)}, {Shape: []int64{1, 1}, Data: []float32{1}}}}
	me, _ := NewMeshEstimator(mesh, DefaultMeshConfig(tfjs.FaceMesh))
	for _, b := range boxes {
		for _, lm := range lms {
			MeasureQuality(img, b, lm)
			PoseFromLandmarks(lm)
			pe.Estimate(t.Context(), img, b)
			ee.Eyes(t.Context(), img, lm)
			me.Estimate(t.Context(), img, b, lm)
		}
	}
}

// TestQualityLFW checks the exposure and blur flags on LFW portraits
// (press photos of many skin tones, JPEG-compressed, faces ~110 px): they
// are usable faces, so the flags must stay rare. (Every 16th image.)
func TestQualityLFW(t *testing.T) {
	dir := testutil.SharedData(t, "face-verification/lfw/images")
	p := testPipeline(t)
	files, err := filepath.Glob(filepath.Join(dir, "*", "*.jpg"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no LFW images in %s: %v", dir, err)
	}
	sort.Strings(files)
	n, flagged := 0, 0
	var br, sh []float64
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
		o, _ := matchFace(obs, livenessd.Point{X: 125, Y: 125})
		r := AssessQuality(img, o.Box, o.Landmarks, nil, DefaultQualityThresholds())
		n++
		if slices.ContainsFunc(r.Flags, func(f string) bool { return f == FlagTooDark || f == FlagTooBright || f == FlagBlurry }) {
			flagged++
			t.Logf("%s: brightness %.1f sharpness %.1f %v", filepath.Base(files[i]), r.Brightness, r.Sharpness, r.Flags)
		}
		br, sh = append(br, r.Brightness), append(sh, r.Sharpness)
	}
	slices.Sort(br)
	slices.Sort(sh)
	t.Logf("LFW: %d faces, %d with exposure/blur flags; brightness p5/p50/p95 %.1f/%.1f/%.1f, sharpness %.1f/%.1f/%.1f",
		n, flagged, br[n/20], br[n/2], br[n*19/20], sh[n/20], sh[n/2], sh[n*19/20])
	if n < 40 || flagged > n/20 {
		t.Errorf("%d of %d LFW faces flagged", flagged, n)
	}
}
