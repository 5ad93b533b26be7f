package face

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/infer"
	"github.com/livenessd/livenessd/internal/infer/tfjs"
)

// LandmarkConfig describes the 68-point landmark model. The crop is the
// square of side CropScale*max(box W, H) centred on the detector box,
// resized to the model input; the outputs are x,y pairs in 0..1 of it.
type LandmarkConfig struct {
	Spec      infer.Spec
	CropScale float64
}

// EmbedderConfig describes the identity model: the five alignment points
// are mapped onto Template (given for a 112x112 crop and scaled to the
// model input) by a similarity transform.
type EmbedderConfig struct {
	Spec     infer.Spec
	Template [5]livenessd.Point
	// Output is the index of the embedding among the model's outputs.
	Output int
}

// FusionConfig adds a second identity model to face comparison (Select,
// CompareWith). It sees dlib's 68-point face chip (the alignment
// tfjs.FaceRecognition was trained on, a square input); its L2-normalised
// embedding is appended to the first model's, the two scaled by
// sqrt(1-Weight) and sqrt(Weight), so the cosine of two fused embeddings is
// (1-Weight)*cosine1 + Weight*cosine2 and Calibration applies to that.
// ObserveFrame and Analyze keep the first model's embedding alone: the
// liveness identity check is calibrated on it, and video frames do not pay
// for a second model.
type FusionConfig struct {
	Spec infer.Spec
	// Output is the index of the embedding among the model's outputs.
	Output int
	// Weight of the second model's cosine, in (0, 1).
	Weight float64
	// Disabled compares by the first model alone (the default). Turning
	// fusion on needs a Calibration fitted for the fused cosine
	// (`livenessd eval faces --fit`; docs/MODELS.md).
	Disabled bool
}

// LivenessConfig describes the passive anti-spoofing model: a square crop
// of side CropScale*box width around the box centre (the frame's edge
// pixels repeat where it leaves the image), softmax over the outputs,
// LiveIndex is the live class.
type LivenessConfig struct {
	Spec      infer.Spec
	CropScale float64
	LiveIndex int
	// ChromaSigma smooths the input's colour (not its luma) with a
	// Gaussian of this many input pixels before the model sees it, as a
	// camera's chroma noise reduction does (smoothChroma); 0 = off.
	ChromaSigma float64
	// Disabled skips the model: ObserveFrame leaves LiveScore zero.
	Disabled bool
}

// Config is everything the pipeline needs to know about its models.
// Replace any model by changing its Spec (File may be absolute, or
// relative to the model cache) and, for the embedder, the Template and
// Calibration; see docs/MODELS.md "Using your own models".
type Config struct {
	Detector  DetectorConfig
	Landmarks LandmarkConfig
	Embedder  EmbedderConfig
	Fusion    FusionConfig
	Liveness  LivenessConfig
	// Mesh is the dense 3-D landmark model ObserveFrame runs on each face
	// (the liveness analysis places its light probes and surface normals
	// on it).
	Mesh        MeshConfig
	Calibration Calibration
	// Threshold is the default similarity (0-100) at or above which two
	// faces match.
	Threshold float64
}

// DefaultThreshold is the default match threshold (seed: 90).
const DefaultThreshold = 90

// DefaultConfig is the faceplugin model set with measured settings.
func DefaultConfig() Config {
	lm := infer.FRLandmark.Clone()
	return Config{
		Detector:  DefaultDetector(),
		Landmarks: LandmarkConfig{Spec: lm, CropScale: 1},
		Embedder:  EmbedderConfig{Spec: infer.FRFeature.Clone(), Template: ArcFaceTemplate},
		// dlib's face descriptor network with fr_feature, off: it raises
		// TAR on LFW but more than doubles the false matches of look-alike
		// impostors at the calibrated thresholds (docs/ACCURACY.md
		// "faces-choice"). Its weight, for when it is turned on, is
		// z1 + 0.75*z2 of the two cosines' z-scores with the impostor
		// deviations of the non-LFW development sets (0.1107, 0.0401):
		// 0.75*0.1107/0.0401 = 2.07 = Weight/(1-Weight).
		Fusion: FusionConfig{Spec: tfjs.FaceRecognition.Clone(), Weight: 0.674, Disabled: true},
		// fr_liveness: BGR input and class 0 = live, measured on NUAA
		// (192 frames, live vs print): AUC 1.0000 BGR, 0.9932 RGB. Crop
		// 2.4x the box width: the scale that kept every real and
		// simulated live face and every NUAA print apart (docs/ACCURACY.md).
		// Colour smoothed with sigma 0.8 input pixels (smoothChroma): noise
		// independent per channel and pixel, which a webcam's processor
		// removes and an independent renderer did not, made the model refuse
		// 19 of 39 of its live captures (10 with it; on 60 fresh ones,
		// paired, 11 before and 6 with it). 0.8 is the largest of
		// 0.6-1.0 that keeps NUAA's prints accepted at 1 of 96; NUAA's live
		// frames, the Silent-Face samples and the real clips keep their
		// verdicts (docs/ACCURACY.md "Passive texture").
		Liveness: LivenessConfig{
			Spec:        infer.FRLiveness.Clone(),
			CropScale:   2.4,
			LiveIndex:   0,
			ChromaSigma: 0.8,
		},
		Mesh:        DefaultMeshConfig(tfjs.FaceMesh.Clone()),
		Calibration: DefaultCalibration(),
		Threshold:   DefaultThreshold,
	}
}

// DefaultCalibration is fitted for fr_feature with ArcFace 5-point
// alignment by `livenessd eval faces --fit` on the four development sets
// (325,729 impostor pairs pooled; docs/ACCURACY.md "Face matching").
func DefaultCalibration() Calibration {
	return Calibration{Knots: []Knot{
		{Cosine: -1, Score: 0},
		{Cosine: 0.008, Score: 40}, // median impostor
		{Cosine: 0.252, Score: 80}, // FMR 1e-2
		{Cosine: 0.343, Score: 90}, // FMR 1e-3
		{Cosine: 0.425, Score: 95}, // FMR 1e-4
		{Cosine: 1, Score: 100},
	}}
}

// Validate checks the settings that would make the pipeline misbehave.
func (c Config) Validate() error {
	if c.Detector.ScoreThreshold <= 0 || c.Detector.ScoreThreshold >= 1 {
		return fmt.Errorf("face: detector score threshold %v outside (0,1)", c.Detector.ScoreThreshold)
	}
	if c.Detector.IoUThreshold <= 0 || c.Detector.IoUThreshold > 1 {
		return fmt.Errorf("face: detector IoU threshold %v outside (0,1]", c.Detector.IoUThreshold)
	}
	if c.Detector.DetectSize <= 0 || c.Detector.MinFace <= 0 {
		return fmt.Errorf("face: detector DetectSize and MinFace must be positive")
	}
	if c.Detector.TileOverlap < 0 || c.Detector.TileOverlap >= min(c.Detector.Spec.Input.Width, c.Detector.Spec.Input.Height) {
		return fmt.Errorf("face: detector tile overlap %d does not fit the %dx%d input", c.Detector.TileOverlap, c.Detector.Spec.Input.Width, c.Detector.Spec.Input.Height)
	}
	for _, s := range []infer.Spec{c.Detector.Spec, c.Landmarks.Spec, c.Embedder.Spec} {
		if s.Input.Width <= 0 || s.Input.Height <= 0 || s.File == "" {
			return fmt.Errorf("face: model %q needs a file and a positive input size", s.Name)
		}
	}
	if c.Embedder.Output < 0 || (len(c.Embedder.Spec.Outputs) > 0 && c.Embedder.Output >= len(c.Embedder.Spec.Outputs)) {
		return fmt.Errorf("face: embedder output %d of %d", c.Embedder.Output, len(c.Embedder.Spec.Outputs))
	}
	if f := c.Fusion; !f.Disabled {
		in := f.Spec.Input
		if in.Width <= 0 || in.Width != in.Height || f.Spec.File == "" {
			return fmt.Errorf("face: fusion model %q needs a file and a square input", f.Spec.Name)
		}
		if !(f.Weight > 0 && f.Weight < 1) {
			return fmt.Errorf("face: fusion weight %v outside (0,1)", f.Weight)
		}
		if f.Output < 0 || (len(f.Spec.Outputs) > 0 && f.Output >= len(f.Spec.Outputs)) {
			return fmt.Errorf("face: fusion output %d of %d", f.Output, len(f.Spec.Outputs))
		}
	}
	if c.Landmarks.CropScale <= 0 || (!c.Liveness.Disabled && c.Liveness.CropScale <= 0) {
		return fmt.Errorf("face: crop scales must be positive")
	}
	if !c.Liveness.Disabled && (c.Liveness.LiveIndex < 0 || c.Liveness.Spec.Input.Width <= 0) {
		return fmt.Errorf("face: liveness model %q: bad live index or input size", c.Liveness.Spec.Name)
	}
	if !c.Mesh.Disabled && (c.Mesh.Points <= 0 || c.Mesh.CropScale <= 0 || c.Mesh.Spec.File == "" || c.Mesh.Spec.Input.Width <= 0) {
		return fmt.Errorf("face: mesh model %q needs a file, points, a crop scale and an input size", c.Mesh.Spec.Name)
	}
	if err := c.Calibration.Validate(); err != nil {
		return err
	}
	if c.Threshold < 0 || c.Threshold > 100 {
		return fmt.Errorf("face: threshold %v outside 0..100", c.Threshold)
	}
	return nil
}

// LoadConfig reads a JSON file whose fields override DefaultConfig (a
// partial file changes only what it names). Unknown fields are an error,
// so a misspelt key does not silently keep the default.
func LoadConfig(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("face: config: %w", err)
	}
	return ParseConfig(b)
}

// ParseConfig is LoadConfig on bytes.
func ParseConfig(b []byte) (Config, error) {
	c := DefaultConfig()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Config{}, fmt.Errorf("face: config: %w", err)
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}
