// Package apiface adapts the face pipeline (internal/face) to the API's
// consumer-side api.FaceComparer interface, so internal/api itself does not
// depend on the face pipeline or ONNX Runtime.
package apiface

import (
	"context"
	"errors"
	"fmt"
	"image"

	"github.com/livenessd/livenessd/internal/api"
	"github.com/livenessd/livenessd/internal/face"
)

// Comparer is what Comparer needs of *face.Pipeline.
type Comparer interface {
	Compare(ctx context.Context, source, target image.Image, threshold float64) (*face.Comparison, error)
}

// Adapter implements api.FaceComparer on a face pipeline.
type Adapter struct{ P Comparer }

var _ api.FaceComparer = Adapter{}

// New returns an adapter over p.
func New(p Comparer) Adapter { return Adapter{P: p} }

// CompareFaces implements api.FaceComparer, translating face.ErrNoSourceFace
// and face.ErrNoTargetFace into the API's kinds.
func (a Adapter) CompareFaces(ctx context.Context, source, target image.Image, threshold float64) (*api.FaceComparison, error) {
	c, err := a.P.Compare(ctx, source, target, threshold)
	switch {
	case errors.Is(err, face.ErrNoSourceFace):
		return nil, fmt.Errorf("%w: %w", api.ErrNoSourceFace, err)
	case errors.Is(err, face.ErrNoTargetFace):
		return nil, fmt.Errorf("%w: %w", api.ErrNoTargetFace, err)
	case err != nil:
		return nil, err
	}
	return &api.FaceComparison{
		Similarity:      c.Similarity,
		Confidence:      c.Confidence,
		Threshold:       c.Threshold,
		IsMatch:         c.IsMatch,
		Source:          detail(c.SourceFace),
		Target:          detail(c.TargetFace),
		SourceFaceCount: c.SourceFaces,
		TargetFaceCount: c.TargetFaces,
	}, nil
}

func detail(f face.FaceSummary) api.FaceDetail {
	return api.FaceDetail{BoundingBox: f.BoundingBox, Confidence: f.Confidence, Quality: f.Quality, Pose: f.Pose}
}
