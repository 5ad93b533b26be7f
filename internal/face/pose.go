package face

import (
	"context"
	"fmt"
	"image"
	"math"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/infer"
)

// ModelRunner is the part of a loaded model the measurers need;
// *infer.Session and every Inferencer satisfy it.
type ModelRunner interface {
	Run(ctx context.Context, in infer.Tensor) ([]infer.Tensor, error)
	Spec() infer.Spec
}

// PoseConfig describes a HopeNet-style head-pose model: one classifier per
// angle over Bins bins of BinWidth degrees; the angle is the softmax
// expectation Start + BinWidth*E[bin] (HopeNet's convention). Yaw, Pitch
// and Roll are the output indexes of the three classifiers. The crop is the
// detector box grown by CropScale around its centre (faceplugin's
// predictPose adds a quarter of the box on each side: 1.5), resized to the
// input.
type PoseConfig struct {
	Spec     infer.Spec
	Yaw      int // output index
	Pitch    int
	Roll     int
	Bins     int
	BinWidth float64
	Start    float64
	// CropScale is the crop side relative to the box (width and height
	// scaled separately, as faceplugin does).
	CropScale float64
	// The signs turn the model's angles into this package's convention
	// (docs/QUALITY.md: yaw > 0 turned towards the image left, pitch > 0 up,
	// roll > 0 clockwise on screen): +1 or -1, measured on mirrored and
	// rotated faces (pose_test.go).
	YawSign, PitchSign, RollSign float64
}

// DefaultPoseConfig is fr_pose with the output order and signs measured in
// pose_test.go. Load the model with its Spec. The channel order stays RGB
// (HopeNet's) although faceplugin's predictPose effectively feeds BGR
// (cv.imread gives RGBA, then COLOR_BGR2RGB swaps red and blue): on the 22
// sample faces and their mirror images BGR is much less mirror-consistent
// (worst |yaw + mirrored yaw| 40.8° vs 13.0°, pitch 22.2° vs 8.4°, roll
// 58° vs 14.9°), with similar medians (2.9° vs 3.0° yaw).
func DefaultPoseConfig() PoseConfig {
	return PoseConfig{
		Spec: infer.FRPose.Clone(), Yaw: 0, Pitch: 1, Roll: 2,
		Bins: 66, BinWidth: 3, Start: -99, CropScale: 1.5,
		YawSign: 1, PitchSign: 1, RollSign: 1,
	}
}

// PoseEstimator runs the head-pose model. It is safe for concurrent use
// when the runner is.
type PoseEstimator struct {
	cfg PoseConfig
	m   ModelRunner
}

// NewPoseEstimator checks that the model has three outputs of cfg.Bins
// values and returns an estimator.
func NewPoseEstimator(m ModelRunner, cfg PoseConfig) (*PoseEstimator, error) {
	spec := m.Spec()
	if len(spec.Outputs) < 3 {
		return nil, fmt.Errorf("face: pose model %q has %d outputs, want 3", spec.Name, len(spec.Outputs))
	}
	for _, i := range []int{cfg.Yaw, cfg.Pitch, cfg.Roll} {
		if i < 0 || i >= len(spec.Outputs) {
			return nil, fmt.Errorf("face: pose model %q: output index %d out of range", spec.Name, i)
		}
	}
	if cfg.Bins <= 0 || cfg.BinWidth <= 0 || cfg.CropScale <= 0 {
		return nil, fmt.Errorf("face: pose config needs positive Bins, BinWidth and CropScale")
	}
	if spec.Input.Width <= 0 || spec.Input.Height <= 0 {
		return nil, fmt.Errorf("face: pose model %q: no input size", spec.Name)
	}
	cfg.Spec = spec
	return &PoseEstimator{cfg: cfg, m: m}, nil
}

// Estimate returns the head pose of the face in box (pixels of img).
func (e *PoseEstimator) Estimate(ctx context.Context, img image.Image, box livenessd.Rect) (livenessd.Pose, error) {
	crop := scaleRect(box, e.cfg.CropScale)
	pyr, ox, oy := regionPyramid(img, crop)
	if pyr == nil {
		return livenessd.Pose{}, fmt.Errorf("face: pose: face box %v outside the image: %w", box, livenessd.ErrNoFace)
	}
	return e.estimate(ctx, pyr, crop, ox, oy)
}

// estimateIn is Estimate on a pyramid of the whole image (the pipeline's).
func (e *PoseEstimator) estimateIn(ctx context.Context, pyr *pyramid, box livenessd.Rect) (livenessd.Pose, error) {
	return e.estimate(ctx, pyr, scaleRect(box, e.cfg.CropScale), 0, 0)
}

// estimate runs the model on crop (image pixels); (ox, oy) is the image
// position of the pyramid's origin.
func (e *PoseEstimator) estimate(ctx context.Context, pyr *pyramid, crop livenessd.Rect, ox, oy float64) (livenessd.Pose, error) {
	in := e.cfg.Spec.Input
	if crop.W <= 0 || crop.H <= 0 {
		return livenessd.Pose{}, fmt.Errorf("face: pose: empty face box")
	}
	m := affine{A: crop.W / float64(in.Width), C: crop.X - ox, E: crop.H / float64(in.Height), F: crop.Y - oy}
	data := sample(pyr, m, in, in.Width, in.Height, borderReplicate, nil)
	out, err := e.m.Run(ctx, inputTensor(in, in.Width, in.Height, data))
	if err != nil {
		return livenessd.Pose{}, fmt.Errorf("face: pose: %w", err)
	}
	angle := func(i int) (float64, error) {
		if i >= len(out) || len(out[i].Data) != e.cfg.Bins {
			return 0, fmt.Errorf("face: pose: output %d does not hold %d bins", i, e.cfg.Bins)
		}
		var ex float64
		for b, p := range softmax(out[i].Data) {
			ex += p * float64(b)
		}
		return e.cfg.Start + e.cfg.BinWidth*ex, nil
	}
	var p livenessd.Pose
	if p.Yaw, err = angle(e.cfg.Yaw); err != nil {
		return p, err
	}
	if p.Pitch, err = angle(e.cfg.Pitch); err != nil {
		return p, err
	}
	if p.Roll, err = angle(e.cfg.Roll); err != nil {
		return p, err
	}
	p.Yaw *= e.cfg.YawSign
	p.Pitch *= e.cfg.PitchSign
	p.Roll *= e.cfg.RollSign
	return p, nil
}

// scaleRect grows r by s around its centre.
func scaleRect(r livenessd.Rect, s float64) livenessd.Rect {
	c := r.Center()
	return livenessd.Rect{X: c.X - r.W*s/2, Y: c.Y - r.H*s/2, W: r.W * s, H: r.H * s}
}

// subImager is implemented by the standard library's image types.
type subImager interface {
	SubImage(r image.Rectangle) image.Image
}

// regionPyramid builds a pyramid over the part of img under r (clipped to
// the image, plus a 2-pixel margin for interpolation), so the cost follows
// the face and not the photo. It returns the image position of the
// pyramid's origin, or nil when r misses the image.
func regionPyramid(img image.Image, r livenessd.Rect) (*pyramid, float64, float64) {
	if !finite(r.X, r.Y, r.W, r.H) || r.W <= 0 || r.H <= 0 {
		return nil, 0, 0
	}
	b := img.Bounds()
	ir := image.Rect(int(math.Floor(r.X))-2, int(math.Floor(r.Y))-2, int(math.Ceil(r.X+r.W))+2, int(math.Ceil(r.Y+r.H))+2).
		Add(b.Min).Intersect(b)
	if ir.Empty() {
		return nil, 0, 0
	}
	sub := img
	if s, ok := img.(subImager); ok {
		sub = s.SubImage(ir)
	} else {
		ir = b
	}
	return newPyramid(sub), float64(ir.Min.X - b.Min.X), float64(ir.Min.Y - b.Min.Y)
}

func finite(v ...float64) bool {
	for _, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}

// PoseFromLandmarks is a geometric head pose from 68 landmarks (iBUG
// order), for when no pose model runs. Roll is the angle of the line
// through the eye centres (positive when the image-right eye is lower).
// Yaw and pitch come from where the nose tip sits relative to the eyes and
// mouth, in the roll-corrected face frame, scaled by constants fitted to
// fr_pose on the sample photos (pose_test.go); expect errors of 10° or
// more beyond ±30°.
func PoseFromLandmarks(lm []livenessd.Point) (livenessd.Pose, bool) {
	if len(lm) != 68 {
		return livenessd.Pose{}, false
	}
	le, re := meanPoint(lm[36:42]), meanPoint(lm[42:48])
	dx, dy := re.X-le.X, re.Y-le.Y
	iod := math.Hypot(dx, dy)
	if iod < 1e-6 {
		return livenessd.Pose{}, false
	}
	roll := math.Atan2(dy, dx)
	// Face frame: x along the eye line, y down the face, unit = eye distance.
	cs, sn := math.Cos(-roll), math.Sin(-roll)
	eyeMid := livenessd.Point{X: (le.X + re.X) / 2, Y: (le.Y + re.Y) / 2}
	local := func(p livenessd.Point) (float64, float64) {
		x, y := p.X-eyeMid.X, p.Y-eyeMid.Y
		return (x*cs - y*sn) / iod, (x*sn + y*cs) / iod
	}
	nx, ny := local(lm[30])
	mouth := meanPoint([]livenessd.Point{lm[48], lm[54]})
	_, my := local(mouth)
	// Jaw extremes: the nose's position between the face sides measures
	// yaw better than its offset from the eye midpoint alone.
	jl, _ := local(lm[0])
	jr, _ := local(lm[16])
	yawRatio := 0.0
	if w := jr - jl; w > 1e-6 {
		yawRatio = ((nx - jl) - (jr - nx)) / w // -1..1
	}
	pitchRatio := 0.0
	if my > 1e-6 {
		pitchRatio = ny/my - pitchNeutral
	}
	return livenessd.Pose{
		Yaw:   yawGain * math.Asin(math.Max(-1, math.Min(1, yawRatio))) * 180 / math.Pi,
		Pitch: pitchGain * pitchRatio,
		Roll:  roll * 180 / math.Pi,
	}, true
}

// Constants of PoseFromLandmarks (fitted in TestPoseFromLandmarksAgrees).
// Least squares against fr_pose (DefaultPoseConfig) over the 22 faces of
// at least 60 px in the six sample photos and their mirror images:
// yaw r = 0.97, pitch r = 0.73 (pitch from 2-D landmarks is rough).
const (
	yawGain      = -0.70
	pitchGain    = -80.0
	pitchNeutral = 0.4375
)

func meanPoint(ps []livenessd.Point) livenessd.Point {
	var m livenessd.Point
	for _, p := range ps {
		m.X += p.X
		m.Y += p.Y
	}
	n := float64(len(ps))
	return livenessd.Point{X: m.X / n, Y: m.Y / n}
}
