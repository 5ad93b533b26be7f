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

// FaceBox is one face found in an image: its box and detector confidence.
type FaceBox struct {
	BoundingBox livenessd.BoundingBox `json:"boundingBox"`
	Confidence  float64               `json:"confidence"` // 0-100
}

// Comparison is the result of comparing one face of each of two images.
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
	// SourceBoxes and TargetBoxes list the faces found, largest first: the
	// order a livenessd.SelectIndex selection counts in.
	SourceBoxes []FaceBox `json:"sourceFaces"`
	TargetBoxes []FaceBox `json:"targetFaces"`
	// SourceIndex and TargetIndex are the compared faces' positions in
	// those lists.
	SourceIndex int `json:"sourceFaceIndex"`
	TargetIndex int `json:"targetFaceIndex"`
	// Cosine is the raw cosine similarity of the two embeddings (of the
	// fused embeddings when Config.Fusion is on).
	Cosine float64 `json:"-"`
}

// ImageSide is the longer side, in pixels, an image needs for the search
// to keep its promise (DetectorConfig.MinFace, or MinFaceFraction of the
// longer side, whichever is larger): past MinFace/MinFaceFraction the
// smallest face to find grows with the image, so an image reduced to that
// side still shows every such face at MinFace pixels or more. 0 when the
// detector sets no fraction.
func (p *Pipeline) ImageSide() int {
	d := p.cfg.Detector
	if d.MinFace <= 0 || d.MinFaceFraction <= 0 {
		return 0
	}
	return int(math.Round(d.MinFace / d.MinFaceFraction))
}

// Compare compares the largest face of each image (CompareWith with the
// default selection and the given threshold).
func (p *Pipeline) Compare(ctx context.Context, source, target image.Image, threshold float64) (*Comparison, error) {
	return p.CompareWith(ctx, source, target, livenessd.CompareOptions{Threshold: threshold})
}

// CompareWith finds the faces in both images (multi-scale, as Analyze;
// with the largest-face rule the fine search runs only when it could find
// a larger face), takes the face each selection names and returns their
// calibrated similarity. A threshold <= 0 means the configured default.
// Errors: livenessd.ErrNoSourceFace or livenessd.ErrNoTargetFace (both
// livenessd.ErrNoFace) when an image has no face; livenessd.ErrInvalidRequest
// for a bad threshold or a face index beyond the faces found;
// livenessd.ErrInvalidImage for a nil or empty image; inference errors
// wrapped with context.
func (p *Pipeline) CompareWith(ctx context.Context, source, target image.Image, opt livenessd.CompareOptions) (*Comparison, error) {
	threshold := opt.Threshold
	if threshold <= 0 {
		threshold = p.cfg.Threshold
	}
	if math.IsNaN(threshold) || threshold > 100 {
		return nil, fmt.Errorf("face: compare: threshold %v outside 0..100: %w", threshold, livenessd.ErrInvalidRequest)
	}
	src, err := p.Select(ctx, source, opt.Source)
	if err != nil {
		return nil, fmt.Errorf("face: compare: source: %w", err)
	}
	if len(src.Faces) == 0 {
		return nil, livenessd.ErrNoSourceFace
	}
	tgt, err := p.Select(ctx, target, opt.Target)
	if err != nil {
		return nil, fmt.Errorf("face: compare: target: %w", err)
	}
	if len(tgt.Faces) == 0 {
		return nil, livenessd.ErrNoTargetFace
	}
	cos := Cosine(src.Face.Embedding, tgt.Face.Embedding)
	sim := round1(p.cfg.Calibration.Score(cos))
	return &Comparison{
		Similarity:  sim,
		IsMatch:     sim >= threshold,
		Confidence:  sim,
		Threshold:   threshold,
		SourceFace:  summary(src.Face, source.Bounds()),
		TargetFace:  summary(tgt.Face, target.Bounds()),
		SourceFaces: len(src.Faces),
		TargetFaces: len(tgt.Faces),
		SourceBoxes: boxes(src.Faces, source.Bounds()),
		TargetBoxes: boxes(tgt.Faces, target.Bounds()),
		SourceIndex: src.Index,
		TargetIndex: tgt.Index,
		Cosine:      cos,
	}, nil
}

// Selected is the face a selection picked, measured with its embedding,
// and every face found.
type Selected struct {
	Face  livenessd.FaceObservation
	Index int // position of Face in Faces
	// Faces are the boxes and scores of the faces found, largest first.
	Faces []livenessd.FaceObservation
}

// Select finds the faces of img and measures the one sel names, including
// its embedding (fused with the Config.Fusion model's when it is on). No face is not an error: Faces is empty. Errors:
// livenessd.ErrInvalidRequest for an unknown rule or an index beyond the
// faces found, livenessd.ErrInvalidImage for a nil or empty image,
// inference errors wrapped with context.
func (p *Pipeline) Select(ctx context.Context, img image.Image, sel livenessd.FaceSelection) (Selected, error) {
	if img == nil || img.Bounds().Empty() {
		return Selected{}, fmt.Errorf("empty image: %w", livenessd.ErrInvalidImage)
	}
	mode := searchAll
	switch sel.Rule {
	case "", livenessd.SelectLargest:
		mode = searchLargest
	case livenessd.SelectCentral, livenessd.SelectIndex:
	default:
		return Selected{}, fmt.Errorf("unknown face selection %q: %w", sel.Rule, livenessd.ErrInvalidRequest)
	}
	if sel.Rule == livenessd.SelectIndex && sel.Index < 0 {
		return Selected{}, fmt.Errorf("face index %d is negative: %w", sel.Index, livenessd.ErrInvalidRequest)
	}
	pyr := newPyramid(img)
	dets, err := p.det.detect(ctx, pyr, mode)
	if err != nil || len(dets) == 0 {
		return Selected{}, err
	}
	sortByArea(dets)
	out := Selected{Faces: make([]livenessd.FaceObservation, len(dets))}
	for i, d := range dets {
		out.Faces[i] = livenessd.FaceObservation{Box: d.Box, Score: d.Score}
	}
	switch sel.Rule {
	case livenessd.SelectCentral:
		out.Index = central(dets, img.Bounds())
	case livenessd.SelectIndex:
		if sel.Index >= len(dets) {
			return Selected{}, fmt.Errorf("face index %d, but %d faces were found: %w", sel.Index, len(dets), livenessd.ErrInvalidRequest)
		}
		out.Index = sel.Index
	}
	out.Face, err = p.describe(ctx, img, pyr, dets[out.Index], what{embed: true, fused: true})
	return out, err
}

// central is the index of the detection whose box centre is nearest the
// centre of the image (the first of equals: the larger face).
func central(dets []detection, b image.Rectangle) int {
	cx, cy := float64(b.Dx())/2, float64(b.Dy())/2
	best, bestD := 0, math.Inf(1)
	for i, d := range dets {
		c := d.Box.Center()
		if dd := math.Hypot(c.X-cx, c.Y-cy); dd < bestD {
			best, bestD = i, dd
		}
	}
	return best
}

// Largest finds the faces as Select does with the largest-face rule and
// measures the largest, including its embedding; n is the number of faces
// found. With no face, n is 0 and the observation is zero, without error.
func (p *Pipeline) Largest(ctx context.Context, img image.Image) (livenessd.FaceObservation, int, error) {
	s, err := p.Select(ctx, img, livenessd.FaceSelection{})
	return s.Face, len(s.Faces), err
}

// summary reports a face with the precision its measurement has: box
// ratios to 1e-4, scores and angles to 0.1.
func summary(o livenessd.FaceObservation, b image.Rectangle) FaceSummary {
	fb := box(o, b)
	return FaceSummary{
		BoundingBox: fb.BoundingBox,
		Confidence:  fb.Confidence,
		Quality:     livenessd.Quality{Brightness: round1(o.Quality.Brightness), Sharpness: round1(o.Quality.Sharpness)},
		Pose:        livenessd.Pose{Yaw: round1(o.Pose.Yaw), Pitch: round1(o.Pose.Pitch), Roll: round1(o.Pose.Roll)},
	}
}

func box(o livenessd.FaceObservation, b image.Rectangle) FaceBox {
	bb := o.Box.Normalize(b.Dx(), b.Dy())
	r4 := func(v float64) float64 { return math.Round(v*1e4) / 1e4 }
	return FaceBox{
		BoundingBox: livenessd.BoundingBox{Width: r4(bb.Width), Height: r4(bb.Height), Left: r4(bb.Left), Top: r4(bb.Top)},
		Confidence:  round1(100 * o.Score),
	}
}

func boxes(faces []livenessd.FaceObservation, b image.Rectangle) []FaceBox {
	out := make([]FaceBox, len(faces))
	for i, f := range faces {
		out[i] = box(f, b)
	}
	return out
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }
