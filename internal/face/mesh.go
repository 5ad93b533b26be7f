package face

import (
	"context"
	"fmt"
	"image"
	"math"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/infer"
)

// MeshConfig describes a FaceMesh-style dense landmark model: a square
// crop of side CropScale*max(box W, H) around the face, turned upright by
// the eye line when 68 landmarks are given, regresses Points 3-D points
// (x, y in input pixels, z in the same unit) in output PointsOutput and a
// face-presence score (0..1) in output PresenceOutput.
type MeshConfig struct {
	Spec           infer.Spec
	PointsOutput   int
	PresenceOutput int
	Points         int
	CropScale      float64
	// Disabled skips the model: ObserveFrame leaves Mesh nil.
	Disabled bool
}

// DefaultMeshConfig is Human's facemesh (tfjs.FaceMesh, translated to
// ONNX by internal/infer/tfjs). The crop scale 1.3 (of fr_detect's box)
// is where the mesh's eye and mouth corners agree best with fr_landmark's
// (median 0.022 of the eye distance; 1.5: 0.036, 1.7: 0.050, 1.9: 0.077).
func DefaultMeshConfig(spec infer.Spec) MeshConfig {
	return MeshConfig{Spec: spec, PointsOutput: 0, PresenceOutput: 1, Points: 468, CropScale: 1.3}
}

// MeshEstimator runs the dense landmark model.
type MeshEstimator struct {
	cfg MeshConfig
	m   ModelRunner
}

// NewMeshEstimator checks the model's outputs against cfg.
func NewMeshEstimator(m ModelRunner, cfg MeshConfig) (*MeshEstimator, error) {
	spec := m.Spec()
	if cfg.PointsOutput < 0 || cfg.PointsOutput >= len(spec.Outputs) || cfg.PresenceOutput >= len(spec.Outputs) {
		return nil, fmt.Errorf("face: mesh model %q: output indexes %d/%d out of range", spec.Name, cfg.PointsOutput, cfg.PresenceOutput)
	}
	if cfg.Points <= 0 || cfg.CropScale <= 0 || spec.Input.Width <= 0 || spec.Input.Height <= 0 {
		return nil, fmt.Errorf("face: mesh config needs points, crop scale and an input size")
	}
	if sh := spec.Outputs[cfg.PointsOutput].Shape; len(sh) > 0 && sh[len(sh)-1] > 0 && sh[len(sh)-1] != int64(3*cfg.Points) {
		return nil, fmt.Errorf("face: mesh model %q: points output has %d values, want %d", spec.Name, sh[len(sh)-1], 3*cfg.Points)
	}
	cfg.Spec = spec
	return &MeshEstimator{cfg: cfg, m: m}, nil
}

// Mesh is the dense landmark result.
type Mesh struct {
	// Points are in image pixels; Z uses the same scale (negative towards
	// the camera), relative to the face's centre plane.
	Points []livenessd.Point3
	// Presence is the model's probability that the crop holds a face.
	Presence float64
}

// Estimate returns the mesh of the face in box. lm68 (optional) turns the
// crop so the eyes are level, which is how the model was trained.
func (e *MeshEstimator) Estimate(ctx context.Context, img image.Image, box livenessd.Rect, lm68 []livenessd.Point) (Mesh, error) {
	c, side, angle := e.crop(box, lm68)
	h := side * math.Sqrt2 / 2
	pyr, ox, oy := regionPyramid(img, livenessd.Rect{X: c.X - h, Y: c.Y - h, W: 2 * h, H: 2 * h})
	if pyr == nil {
		return Mesh{}, fmt.Errorf("face: mesh: face box %v outside the image: %w", box, livenessd.ErrNoFace)
	}
	return e.estimate(ctx, pyr, ox, oy, c, side, angle)
}

// estimateIn is Estimate on a pyramid of the whole image (the pipeline's).
func (e *MeshEstimator) estimateIn(ctx context.Context, pyr *pyramid, box livenessd.Rect, lm68 []livenessd.Point) (Mesh, error) {
	c, side, angle := e.crop(box, lm68)
	return e.estimate(ctx, pyr, 0, 0, c, side, angle)
}

// crop returns the crop centre, side and rotation (radians).
func (e *MeshEstimator) crop(box livenessd.Rect, lm68 []livenessd.Point) (livenessd.Point, float64, float64) {
	c := box.Center()
	side := e.cfg.CropScale * math.Max(box.W, box.H)
	angle := 0.0
	if len(lm68) == 68 {
		le, re := meanPoint(lm68[36:42]), meanPoint(lm68[42:48])
		angle = math.Atan2(re.Y-le.Y, re.X-le.X)
	}
	return c, side, angle
}

func (e *MeshEstimator) estimate(ctx context.Context, pyr *pyramid, ox, oy float64, c livenessd.Point, side, angle float64) (Mesh, error) {
	in := e.cfg.Spec.Input
	if side <= 0 || math.IsNaN(side+angle) {
		return Mesh{}, fmt.Errorf("face: mesh: empty face box")
	}
	// Output pixel (u, v) -> image: c + R(angle) * (s*(u, v) - side/2).
	sx, sy := side/float64(in.Width), side/float64(in.Height)
	cs, sn := math.Cos(angle), math.Sin(angle)
	x0, y0 := -side/2, -side/2
	m := affine{
		A: cs * sx, B: -sn * sy, C: c.X - ox + cs*x0 - sn*y0,
		D: sn * sx, E: cs * sy, F: c.Y - oy + sn*x0 + cs*y0,
	}
	data := sample(pyr, m, in, in.Width, in.Height, borderReplicate, nil)
	out, err := e.m.Run(ctx, inputTensor(in, in.Width, in.Height, data))
	if err != nil {
		return Mesh{}, fmt.Errorf("face: mesh: %w", err)
	}
	if e.cfg.PointsOutput >= len(out) || len(out[e.cfg.PointsOutput].Data) != 3*e.cfg.Points {
		return Mesh{}, fmt.Errorf("face: mesh: output %d does not hold %d points", e.cfg.PointsOutput, e.cfg.Points)
	}
	var res Mesh
	if e.cfg.PresenceOutput >= 0 && e.cfg.PresenceOutput < len(out) && len(out[e.cfg.PresenceOutput].Data) > 0 {
		res.Presence = math.Max(0, math.Min(1, float64(out[e.cfg.PresenceOutput].Data[0])))
	}
	v := out[e.cfg.PointsOutput].Data
	res.Points = make([]livenessd.Point3, e.cfg.Points)
	zs := (sx + sy) / 2
	for i := range res.Points {
		// Input pixel coordinates (pixel centres at +0.5 in the affine map).
		u, w, z := float64(v[3*i]), float64(v[3*i+1]), float64(v[3*i+2])
		x, y := m.apply(u, w)
		res.Points[i] = livenessd.Point3{X: x + ox, Y: y + oy, Z: z * zs}
	}
	return res, nil
}

// FaceMesh indexes matching the 68-point (iBUG) landmarks, for checks and
// for callers that need a few named points: outer and inner eye corners
// (image left eye first), nose tip, mouth corners.
var (
	MeshLeftEyeOuter  = 33  // 68-point 36
	MeshLeftEyeInner  = 133 // 68-point 39
	MeshRightEyeInner = 362 // 68-point 42
	MeshRightEyeOuter = 263 // 68-point 45
	MeshNoseTip       = 1   // 68-point 30 (approximately)
	MeshMouthLeft     = 61  // 68-point 48
	MeshMouthRight    = 291 // 68-point 54
)
