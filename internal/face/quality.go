package face

import (
	"image"
	"math"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/infer"
)

// Quality flags (livenessd.FaceObservation.Flags).
const (
	FlagTooDark     = "too_dark"
	FlagTooBright   = "too_bright"
	FlagBlurry      = "blurry"
	FlagTooSmall    = "too_small"
	FlagExtremePose = "extreme_pose"
	FlagCutOff      = "cut_off"
)

// QualityThresholds decide the quality flags; docs/QUALITY.md explains
// the formulas and how the defaults were measured.
type QualityThresholds struct {
	DarkBelow    float64 // brightness (0-100) under which too_dark
	BrightAbove  float64 // brightness over which too_bright
	ClippedAbove float64 // fraction of face pixels at luma >= 250 over which too_bright
	BlurryBelow  float64 // sharpness (0-100) under which blurry
	MinFaceSide  float64 // shorter box side in pixels under which too_small
	MaxYaw       float64 // |degrees| over which extreme_pose
	MaxPitch     float64
	MaxRoll      float64
	// OutsideAbove is the fraction of the box area outside the frame over
	// which cut_off (also set when a landmark lies outside the frame).
	OutsideAbove float64
}

// DefaultQualityThresholds are calibrated on the sample photos and their
// darkened, brightened, blurred and shrunk variants (quality_test.go).
func DefaultQualityThresholds() QualityThresholds {
	return QualityThresholds{
		DarkBelow: 22, BrightAbove: 85, ClippedAbove: 0.25,
		BlurryBelow: 12,
		MinFaceSide: 50,
		MaxYaw:      45, MaxPitch: 30, MaxRoll: 45,
		OutsideAbove: 0.10,
	}
}

// QualityReport is everything AssessQuality measured.
type QualityReport struct {
	livenessd.Quality
	// FaceSize is the shorter side of the face box in pixels.
	FaceSize float64
	// Clipped is the fraction of face-region pixels with luma >= 250.
	Clipped float64
	// LaplacianVar is the raw sharpness measure (see docs/QUALITY.md).
	LaplacianVar float64 // variance of the Laplacian over variance of the luma
	// Outside is the fraction of the box area outside the frame.
	Outside float64
	Pose    livenessd.Pose
	Flags   []string
}

// Measurement constants (docs/QUALITY.md).
const (
	// qualitySide is the largest side of the grey face-region raster the
	// brightness and sharpness are measured on, so the numbers do not
	// depend on the photo's resolution; smaller regions are measured at
	// their own size (never upsampled, which would read as blur).
	qualitySide    = 96
	minQualitySide = 16
	// sharpnessK maps the contrast-normalised Laplacian energy v to 0-100:
	// 100*v/(v+K); v = K scores 50.
	sharpnessK = 0.12
)

// MeasureQuality measures brightness and sharpness of the face in box
// (pixels of img) with its 68 landmarks (nil allowed), and returns the
// flags of DefaultQualityThresholds; the pose behind extreme_pose comes
// from the landmarks (PoseFromLandmarks).
func MeasureQuality(img image.Image, box livenessd.Rect, lm68 []livenessd.Point) (livenessd.Quality, []string) {
	r := AssessQuality(img, box, lm68, nil, DefaultQualityThresholds())
	return r.Quality, r.Flags
}

// AssessQuality measures the face and sets flags from th. pose, when not
// nil, is used for extreme_pose (e.g. from PoseEstimator); otherwise the
// pose is estimated from lm68 when it holds 68 points.
//
//   - brightness = mean BT.601 luma of the face region * 100/255;
//   - sharpness = 100*v/(v+0.12), v = variance of the 4-neighbour
//     Laplacian over variance of the luma, on the face region resampled
//     (area-averaged, never enlarged) to at most 96x96 grey: a
//     contrast-free share of fine detail;
//
// the face region is the box of landmarks 17-67 (brows, eyes, nose,
// mouth) or, without landmarks, the central 60% x 70% of the box.
func AssessQuality(img image.Image, box livenessd.Rect, lm68 []livenessd.Point, pose *livenessd.Pose, th QualityThresholds) QualityReport {
	var rep QualityReport
	rep.FaceSize = math.Max(0, math.Min(box.W, box.H))
	b := img.Bounds()
	iw, ih := float64(b.Dx()), float64(b.Dy())
	rep.Outside = outsideFraction(box, iw, ih)
	landmarksOut := false
	for _, p := range lm68 {
		if p.X < 0 || p.Y < 0 || p.X > iw || p.Y > ih {
			landmarksOut = true
			break
		}
	}
	if pose != nil {
		rep.Pose = *pose
	} else if lp, ok := PoseFromLandmarks(lm68); ok {
		rep.Pose = lp
	}
	region := faceRegion(box, lm68)
	if g, side, ok := greyRegion(img, region); ok {
		rep.Brightness, rep.Clipped = brightness(g)
		rep.LaplacianVar = laplacianEnergy(g, side, side)
		rep.Sharpness = 100 * rep.LaplacianVar / (rep.LaplacianVar + sharpnessK)
	}
	rep.Brightness = round2(rep.Brightness)
	rep.Sharpness = round2(rep.Sharpness)
	var flags []string
	if rep.Brightness < th.DarkBelow {
		flags = append(flags, FlagTooDark)
	}
	if rep.Brightness > th.BrightAbove || rep.Clipped > th.ClippedAbove {
		flags = append(flags, FlagTooBright)
	}
	if rep.Sharpness < th.BlurryBelow {
		flags = append(flags, FlagBlurry)
	}
	if rep.FaceSize < th.MinFaceSide {
		flags = append(flags, FlagTooSmall)
	}
	if math.Abs(rep.Pose.Yaw) > th.MaxYaw || math.Abs(rep.Pose.Pitch) > th.MaxPitch || math.Abs(rep.Pose.Roll) > th.MaxRoll {
		flags = append(flags, FlagExtremePose)
	}
	if rep.Outside > th.OutsideAbove || landmarksOut {
		flags = append(flags, FlagCutOff)
	}
	rep.Flags = flags
	return rep
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

// outsideFraction is the share of r's area outside a w x h frame.
func outsideFraction(r livenessd.Rect, w, h float64) float64 {
	if r.W <= 0 || r.H <= 0 {
		return 0
	}
	ix := math.Max(0, math.Min(r.X+r.W, w)-math.Max(r.X, 0))
	iy := math.Max(0, math.Min(r.Y+r.H, h)-math.Max(r.Y, 0))
	return 1 - ix*iy/(r.W*r.H)
}

// faceRegion is the part of the face quality is measured on.
func faceRegion(box livenessd.Rect, lm []livenessd.Point) livenessd.Rect {
	if len(lm) == 68 {
		x0, y0, x1, y1 := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
		for _, p := range lm[17:] {
			x0, y0 = math.Min(x0, p.X), math.Min(y0, p.Y)
			x1, y1 = math.Max(x1, p.X), math.Max(y1, p.Y)
		}
		if x1-x0 >= 2 && y1-y0 >= 2 && !math.IsInf(x0, 0) && !math.IsNaN(x0+y0+x1+y1) {
			return livenessd.Rect{X: x0, Y: y0, W: x1 - x0, H: y1 - y0}
		}
	}
	return livenessd.Rect{X: box.X + 0.2*box.W, Y: box.Y + 0.15*box.H, W: 0.6 * box.W, H: 0.7 * box.H}
}

// greyRegion resamples the region (clipped to the image) to a square luma
// raster (0..255) of side min(96, shorter region side), area-averaged
// through the pyramid.
func greyRegion(img image.Image, r livenessd.Rect) ([]float32, int, bool) {
	b := img.Bounds()
	x0, y0 := math.Max(r.X, 0), math.Max(r.Y, 0)
	x1, y1 := math.Min(r.X+r.W, float64(b.Dx())), math.Min(r.Y+r.H, float64(b.Dy()))
	if x1-x0 < 2 || y1-y0 < 2 || math.IsNaN(x0+y0+x1+y1) {
		return nil, 0, false
	}
	r = livenessd.Rect{X: x0, Y: y0, W: x1 - x0, H: y1 - y0}
	pyr, ox, oy := regionPyramid(img, r)
	if pyr == nil {
		return nil, 0, false
	}
	side := int(math.Max(minQualitySide, math.Min(qualitySide, math.Min(r.W, r.H))))
	in := infer.ImageInput{Name: "grey", Width: side, Height: side, Layout: infer.NCHW, Order: infer.Gray, Std: [3]float32{1, 1, 1}}
	m := affine{A: r.W / float64(side), C: r.X - ox, E: r.H / float64(side), F: r.Y - oy}
	return sample(pyr, m, in, side, side, borderReplicate, nil), side, true
}

// brightness returns mean luma in 0-100 and the fraction of clipped pixels.
func brightness(g []float32) (mean, clipped float64) {
	var s float64
	n := 0
	for _, v := range g {
		s += float64(v)
		if v >= 250 {
			n++
		}
	}
	return s / float64(len(g)) * 100 / 255, float64(n) / float64(len(g))
}

// laplacianEnergy is the variance of the 4-neighbour Laplacian over the
// variance of the values, both over the interior of a w x h raster
// (0 for a flat raster). Dividing by the luma variance makes it
// independent of exposure and contrast.
func laplacianEnergy(g []float32, w, h int) float64 {
	var s, ss, is, iss float64
	n := 0
	for y := 1; y < h-1; y++ {
		for x := 1; x < w-1; x++ {
			i := y*w + x
			v := float64(g[i])
			l := float64(g[i-1]+g[i+1]+g[i-w]+g[i+w]) - 4*v
			s += l
			ss += l * l
			is += v
			iss += v * v
			n++
		}
	}
	if n == 0 {
		return 0
	}
	fn := float64(n)
	lv := ss/fn - (s/fn)*(s/fn)
	iv := iss/fn - (is/fn)*(is/fn)
	// 1 grey level squared keeps flat regions at 0 instead of noise/noise.
	return lv / (iv + 1)
}
