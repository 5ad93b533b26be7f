// Package liveness decides whether a capture shows a live person: it draws
// the random challenge, measures every frame as it arrives, and fuses the
// signals into a 0-100 confidence. It is pure over frames and face
// observations: no HTTP, no storage, no ONNX Runtime.
package liveness

import (
	"context"
	"image"
	"time"

	"github.com/livenessd/livenessd"
)

// Frame is one camera frame of a capture.
type Frame struct {
	Index int
	// At is the capture timestamp relative to the start of the capture, on
	// the client's clock (the same clock as ColorShown.At).
	At    time.Duration
	Image image.Image
}

// ColorShown records when the client put Challenge.Colors[Index] on screen.
type ColorShown struct {
	Index int
	At    time.Duration
}

// Observer measures the faces in one image. face.Pipeline implements it;
// the analysis needs Box, Keypoints, Landmarks, Pose, Quality, Embedding and
// LiveScore of each face.
type Observer interface {
	ObserveFrame(ctx context.Context, img image.Image) ([]livenessd.FaceObservation, error)
}

// Guidance is an instruction for the person in front of the camera,
// computed from the latest frames.
type Guidance string

const (
	GuideNoFace        Guidance = "no_face"
	GuideMultipleFaces Guidance = "multiple_faces"
	GuideMoveBack      Guidance = "move_back" // the face does not fit the start oval yet
	GuideMoveCloser    Guidance = "move_closer"
	GuideTooClose      Guidance = "too_close" // the face overflows the target oval
	GuideMoveIntoOval  Guidance = "move_into_oval"
	GuideTooDark       Guidance = "too_dark"
	GuideTooBright     Guidance = "too_bright"
	GuideFaceCamera    Guidance = "face_camera" // head turned past Thresholds.MaxPose
	GuideHoldStill     Guidance = "hold_still"
	GuideOK            Guidance = "ok"
)
