package face

import (
	"context"
	"fmt"
	"image"
	"math"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/infer"
)

// EyeConfig describes a per-eye open/closed classifier (fr_eye: 24x24 grey,
// input /255, softmax over two classes). The crop is a square centred on
// the mean of the four eyelid landmarks, side CropScale times the
// eye-corner distance (faceplugin uses 1.6), turned so the eye line is
// horizontal.
type EyeConfig struct {
	Spec      infer.Spec
	OpenIndex int // softmax class meaning "open"
	CropScale float64
	// Upright turns each crop by the face's roll; without it the crop is
	// axis-aligned as in faceplugin's predictEye.
	Upright bool
}

// DefaultEyeConfig is fr_eye with the class order measured in eyes_test.go.
func DefaultEyeConfig() EyeConfig {
	return EyeConfig{Spec: infer.FREye.Clone(), OpenIndex: 1, CropScale: 1.6, Upright: true}
}

// EyeEstimator runs the eye-state model on both eyes of a face.
type EyeEstimator struct {
	cfg EyeConfig
	m   ModelRunner
}

// NewEyeEstimator checks the model description and returns an estimator.
func NewEyeEstimator(m ModelRunner, cfg EyeConfig) (*EyeEstimator, error) {
	spec := m.Spec()
	if len(spec.Outputs) < 1 || spec.Input.Width <= 0 || spec.Input.Height <= 0 {
		return nil, fmt.Errorf("face: eye model %q: needs an input size and an output", spec.Name)
	}
	if cfg.OpenIndex < 0 || cfg.CropScale <= 0 {
		return nil, fmt.Errorf("face: eye config: bad open index %d or crop scale %v", cfg.OpenIndex, cfg.CropScale)
	}
	cfg.Spec = spec
	return &EyeEstimator{cfg: cfg, m: m}, nil
}

// Eyes holds the probability that each eye is open ("left" = image left,
// the subject's right eye).
type Eyes struct {
	Left, Right float64
}

// Both is the probability that both eyes are open, taking the two eyes as
// independent evidence: Left*Right.
func (e Eyes) Both() float64 { return e.Left * e.Right }

// Either is max(Left, Right): low only when both eyes look closed. On LFW
// it falls below 0.5 on 3-4% of (open-eyed) faces where Both does on 10-14%
// (docs/QUALITY.md), so a blink test should use it.
func (e Eyes) Either() float64 { return math.Max(e.Left, e.Right) }

// EyeOpenness returns the probability that both eyes of the face with the
// 68 landmarks lm68 (pixels of img) are open; see Eyes.Both.
func (e *EyeEstimator) EyeOpenness(ctx context.Context, img image.Image, lm68 []livenessd.Point) (float64, error) {
	eyes, err := e.Eyes(ctx, img, lm68)
	return eyes.Both(), err
}

// Eyes classifies each eye.
func (e *EyeEstimator) Eyes(ctx context.Context, img image.Image, lm68 []livenessd.Point) (Eyes, error) {
	if len(lm68) != 68 {
		return Eyes{}, fmt.Errorf("face: eyes: want 68 landmarks, have %d", len(lm68))
	}
	l, r := e.eyeCrop(lm68, 36), e.eyeCrop(lm68, 42)
	region := union(l.bounds(), r.bounds())
	pyr, ox, oy := regionPyramid(img, region)
	if pyr == nil {
		return Eyes{}, fmt.Errorf("face: eyes: landmarks outside the image: %w", livenessd.ErrNoFace)
	}
	return e.eyes(ctx, pyr, ox, oy, l, r)
}

// eyesIn is Eyes on a pyramid of the whole image (the pipeline's).
func (e *EyeEstimator) eyesIn(ctx context.Context, pyr *pyramid, lm68 []livenessd.Point) (Eyes, error) {
	if len(lm68) != 68 {
		return Eyes{}, fmt.Errorf("face: eyes: want 68 landmarks, have %d", len(lm68))
	}
	return e.eyes(ctx, pyr, 0, 0, e.eyeCrop(lm68, 36), e.eyeCrop(lm68, 42))
}

func (e *EyeEstimator) eyes(ctx context.Context, pyr *pyramid, ox, oy float64, l, r eyeCrop) (Eyes, error) {
	var out Eyes
	var err error
	if out.Left, err = e.classify(ctx, pyr, ox, oy, l); err != nil {
		return out, err
	}
	if out.Right, err = e.classify(ctx, pyr, ox, oy, r); err != nil {
		return out, err
	}
	return out, nil
}

// eyeCrop is a square of side Side centred on C, turned by Angle radians.
type eyeCrop struct {
	C     livenessd.Point
	Side  float64
	Angle float64
}

func (c eyeCrop) bounds() livenessd.Rect {
	h := c.Side * math.Sqrt2 / 2
	return livenessd.Rect{X: c.C.X - h, Y: c.C.Y - h, W: 2 * h, H: 2 * h}
}

// eyeCrop builds the crop of the eye whose six landmarks start at first
// (36: image-left eye, 42: image-right eye).
func (e *EyeEstimator) eyeCrop(lm []livenessd.Point, first int) eyeCrop {
	c := meanPoint([]livenessd.Point{lm[first+1], lm[first+2], lm[first+4], lm[first+5]})
	a, b := lm[first], lm[first+3]
	dist := math.Hypot(b.X-a.X, b.Y-a.Y)
	angle := 0.0
	if e.cfg.Upright {
		angle = math.Atan2(b.Y-a.Y, b.X-a.X)
	} else {
		dist = math.Abs(b.X - a.X)
	}
	return eyeCrop{C: c, Side: math.Max(dist*e.cfg.CropScale, 1), Angle: angle}
}

func (e *EyeEstimator) classify(ctx context.Context, pyr *pyramid, ox, oy float64, c eyeCrop) (float64, error) {
	in := e.cfg.Spec.Input
	// Output pixel (u, v) -> image point: centre + R(angle) * (s*(u,v) - side/2).
	sx, sy := c.Side/float64(in.Width), c.Side/float64(in.Height)
	cs, sn := math.Cos(c.Angle), math.Sin(c.Angle)
	x0, y0 := -c.Side/2, -c.Side/2
	m := affine{
		A: cs * sx, B: -sn * sy, C: c.C.X - ox + cs*x0 - sn*y0,
		D: sn * sx, E: cs * sy, F: c.C.Y - oy + sn*x0 + cs*y0,
	}
	data := sample(pyr, m, in, in.Width, in.Height, borderReplicate, nil)
	out, err := e.m.Run(ctx, inputTensor(in, in.Width, in.Height, data))
	if err != nil {
		return 0, fmt.Errorf("face: eyes: %w", err)
	}
	if len(out) == 0 || e.cfg.OpenIndex >= len(out[0].Data) {
		return 0, fmt.Errorf("face: eyes: output has no class %d", e.cfg.OpenIndex)
	}
	return softmax(out[0].Data)[e.cfg.OpenIndex], nil
}

func union(a, b livenessd.Rect) livenessd.Rect {
	x0, y0 := math.Min(a.X, b.X), math.Min(a.Y, b.Y)
	x1, y1 := math.Max(a.X+a.W, b.X+b.W), math.Max(a.Y+a.H, b.Y+b.H)
	return livenessd.Rect{X: x0, Y: y0, W: x1 - x0, H: y1 - y0}
}
