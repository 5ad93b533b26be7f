package face

import (
	"image"

	"github.com/livenessd/livenessd"
)

// measure fills the quality and pose of an observation from its landmarks.
func (p *Pipeline) measure(img image.Image, o *livenessd.FaceObservation) {
	_ = img
	_ = o
}
