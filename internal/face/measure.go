package face

import (
	"image"

	"github.com/livenessd/livenessd"
)

// measure fills the quality, pose and quality flags of an observation from
// its box and landmarks (quality.go, pose.go).
func (p *Pipeline) measure(img image.Image, o *livenessd.FaceObservation) {
	r := AssessQuality(img, o.Box, o.Landmarks, nil, DefaultQualityThresholds())
	o.Quality, o.Pose, o.Flags = r.Quality, r.Pose, r.Flags
}
