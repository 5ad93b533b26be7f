package face

import (
	"context"
	"fmt"
	"image"
	"math"

	"github.com/livenessd/livenessd"
)

// FaceSummary describes the face a comparison used.
type FaceSummary struct {
	// BoundingBox is the detector box as ratios of the image size.
	BoundingBox livenessd.BoundingBox `json:"boundingBox"`
	// Confidence is the detector's confidence that this is a face, 0-100.
	Confidence float64           `json:"confidence"`
	Quality    livenessd.Quality `json:"quality"`
	Pose       livenessd.Pose    `json:"pose"`
}

// Comparison is the result of comparing the largest face of two images.
type Comparison struct {
	// Similarity is the calibrated 0-100 similarity (Calibration).
	Similarity float64 `json:"similarity"`
	// IsMatch is Similarity >= Threshold.
	IsMatch bool `json:"isMatch"`
	// Confidence is the confidence in the match as the seed API defines it:
	// the similarity score itself (seed example: 95.3 / 95.3).
	Confidence float64     `json:"confidence"`
	Threshold  float64     `json:"threshold"`
	SourceFace FaceSummary `json:"sourceFace"`
	TargetFace FaceSummary `json:"targetFace"`
	// SourceFaces and TargetFaces count the faces found in each image.
	SourceFaces int `json:"sourceFaceCount"`
	TargetFaces int `json:"targetFaceCount"`
	// Cosine is the raw cosine similarity of the two embeddings.
	Cosine float64 `json:"-"`
}

// Compare finds the faces in both images (multi-scale, as Analyze), takes
// the largest of each and returns their calibrated similarity. A threshold
// <= 0 means the configured default. Errors: ErrNoSourceFace or
// ErrNoTargetFace (both livenessd.ErrNoFace) when an image has no face;
// livenessd.ErrInvalidImage for a nil or empty image; inference errors
// wrapped with context.
func (p *Pipeline) Compare(ctx context.Context, source, target image.Image, threshold float64) (*Comparison, error) {
	if threshold <= 0 {
		threshold = p.cfg.Threshold
	}
	if math.IsNaN(threshold) || threshold > 100 {
		return nil, fmt.Errorf("face: compare: threshold %v outside 0..100: %w", threshold, livenessd.ErrInvalidRequest)
	}
	src, ns, err := p.Largest(ctx, source)
	if err != nil {
		return nil, fmt.Errorf("face: compare: source: %w", err)
	}
	if ns == 0 {
		return nil, ErrNoSourceFace
	}
	tgt, nt, err := p.Largest(ctx, target)
	if err != nil {
		return nil, fmt.Errorf("face: compare: target: %w", err)
	}
	if nt == 0 {
		return nil, ErrNoTargetFace
	}
	cos := Cosine(src.Embedding, tgt.Embedding)
	sim := round1(p.cfg.Calibration.Score(cos))
	return &Comparison{
		Similarity:  sim,
		IsMatch:     sim >= threshold,
		Confidence:  sim,
		Threshold:   threshold,
		SourceFace:  summary(src, source.Bounds()),
		TargetFace:  summary(tgt, target.Bounds()),
		SourceFaces: ns,
		TargetFaces: nt,
		Cosine:      cos,
	}, nil
}

// Largest finds every face as Analyze does and measures only the largest
// (by box area), including its embedding; n is the number of faces found.
// With no face, n is 0 and the observation is zero, without error.
// Errors: livenessd.ErrInvalidImage for a nil or empty image, inference
// errors wrapped with context.
func (p *Pipeline) Largest(ctx context.Context, img image.Image) (livenessd.FaceObservation, int, error) {
	if img == nil || img.Bounds().Empty() {
		return livenessd.FaceObservation{}, 0, fmt.Errorf("empty image: %w", livenessd.ErrInvalidImage)
	}
	pyr := newPyramid(img)
	dets, err := p.det.detect(ctx, pyr, true)
	if err != nil || len(dets) == 0 {
		return livenessd.FaceObservation{}, 0, err
	}
	sortByArea(dets)
	o, err := p.describe(ctx, img, pyr, dets[0], what{embed: true})
	return o, len(dets), err
}

// summary reports a face with the precision its measurement has: box
// ratios to 1e-4, scores and angles to 0.1.
func summary(o livenessd.FaceObservation, b image.Rectangle) FaceSummary {
	bb := o.Box.Normalize(b.Dx(), b.Dy())
	r4 := func(v float64) float64 { return math.Round(v*1e4) / 1e4 }
	return FaceSummary{
		BoundingBox: livenessd.BoundingBox{Width: r4(bb.Width), Height: r4(bb.Height), Left: r4(bb.Left), Top: r4(bb.Top)},
		Confidence:  round1(100 * o.Score),
		Quality:     livenessd.Quality{Brightness: round1(o.Quality.Brightness), Sharpness: round1(o.Quality.Sharpness)},
		Pose:        livenessd.Pose{Yaw: round1(o.Pose.Yaw), Pitch: round1(o.Pose.Pitch), Roll: round1(o.Pose.Roll)},
	}
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }
