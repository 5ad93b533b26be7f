// Package apiface adapts the face pipeline (internal/face) to the API's
// consumer-side api.FaceComparer interface, so internal/api itself does not
// depend on the face pipeline or ONNX Runtime.
package apiface

import (
	"context"
	"image"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/api"
	"github.com/livenessd/livenessd/internal/face"
)

// Comparer is what Adapter needs of *face.Pipeline.
type Comparer interface {
	CompareWith(ctx context.Context, source, target image.Image, opt livenessd.CompareOptions) (*face.Comparison, error)
}

// Adapter implements api.FaceComparer on a face pipeline.
type Adapter struct{ P Comparer }

var _ api.FaceComparer = Adapter{}

// New returns an adapter over p.
func New(p Comparer) Adapter { return Adapter{P: p} }

// CompareFaces implements api.FaceComparer. Errors pass through: "no face"
// is livenessd.ErrNoSourceFace / ErrNoTargetFace, which the API's error
// table maps.
func (a Adapter) CompareFaces(ctx context.Context, source, target image.Image, opt livenessd.CompareOptions) (*api.FaceComparison, error) {
	c, err := a.P.CompareWith(ctx, source, target, opt)
	if err != nil {
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
		SourceFaces:     faceBoxes(c.SourceBoxes),
		TargetFaces:     faceBoxes(c.TargetBoxes),
		SourceIndex:     c.SourceIndex,
		TargetIndex:     c.TargetIndex,
	}, nil
}

func detail(f face.FaceSummary) api.FaceDetail {
	return api.FaceDetail{BoundingBox: f.BoundingBox, Confidence: f.Confidence, Quality: f.Quality, Pose: f.Pose}
}

func faceBoxes(fs []face.FaceBox) []api.FaceBox {
	out := make([]api.FaceBox, len(fs))
	for i, f := range fs {
		out[i] = api.FaceBox{BoundingBox: f.BoundingBox, Confidence: f.Confidence}
	}
	return out
}
