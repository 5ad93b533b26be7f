package liveness

import (
	"math"
	"time"

	"github.com/livenessd/livenessd"
)

// "In the oval", measured on real faces (docs/PROTOCOL.md "In the oval",
// docs/ACCURACY.md "Oval fit"). The face's size is its contour width: the
// distance between the ends of the 68-point jaw line (points 0 and 16, at
// the ears). On real photos and video frames it is 1.02 times the width of
// the face outline that FaceMesh's silhouette traces (p1-p99 0.97-1.07),
// where the detector box is 0.95 times and varies twice as much. Fill is
// that width over the oval's width: 1.0 is a face outline as wide as the
// oval.
//
// A face fills the oval from FitMin: at a fill of 0.70 the head with its
// hair touches the oval's sides; up to FitMax the cheeks go past the oval's
// edge by a few percent at most. FitStart bounds the face at the start,
// relative to the start oval (StartScale times the target): the face must
// fit inside it, so that reaching the target takes a real approach. The
// smallest growth from the start to the target is FitMin/(FitStart *
// StartScale) = 1.41, above the verdict's Growth threshold (1.2) with room
// for measurement noise.
const (
	FitMin     = 0.70
	FitMax     = 1.20
	FitStart   = 0.90
	StartScale = 0.55
	// FitMaxOffset bounds the distance of the face's centre from the
	// oval's, in oval widths (across) and heights (down).
	FitMaxOffset = 0.20
	// holdMaxMove is the movement between two observations, in face
	// widths, above which the face is asked to hold still.
	holdMaxMove = 0.08
	// ApproachGrowth and ApproachFill: a face in the target oval that has
	// grown less than ApproachGrowth times since the capture's far views
	// (the growth the parallax measures) is asked to come closer until it
	// has, or until it fills ApproachFill of the oval (its outline as wide
	// as the oval, where it still visibly fits: docs/ACCURACY.md "Oval
	// fit"). The parallax of a face's relief grows with the approach,
	// about (depth/near distance)(1 - 1/growth): live captures that grew
	// less than 1.7 times were refused by the 3-D rule nine times as often
	// as those that grew 2.4 times or more (docs/ACCURACY.md "Enough
	// approach").
	ApproachGrowth = 2.0
	ApproachFill   = 1.0
	// ApproachWait bounds how long more approach is asked for after the
	// face first was in the oval: a simulated person told to come closer
	// from the smallest fill to 1.0 takes about 2 s (a quarter of the
	// face's size per second after a reaction time).
	ApproachWait = 4 * time.Second
)

// Fit is the oval-fit rule: the face fits the start oval up to Start (its
// fill of the start oval), is in the target from Min to Max with its
// centre at most MaxOffset from the oval's, and, when Growth > 0, has
// grown Growth times since the far views or fills GrowthFill of the oval
// (asked for during GrowthWait from its first time in the oval). A client
// with its own rule (Amplify's component) gets a Fit that accepts
// whatever that rule accepts, so no capture the client flashed is refused
// for not reaching the oval.
type Fit struct {
	Start, Min, Max, MaxOffset float64
	Growth, GrowthFill         float64
	GrowthWait                 time.Duration
}

// DefaultFit is the rule livenessd's own SDK guides by.
func DefaultFit() Fit {
	return Fit{Start: FitStart, Min: FitMin, Max: FitMax, MaxOffset: FitMaxOffset,
		Growth: ApproachGrowth, GrowthFill: ApproachFill, GrowthWait: ApproachWait}
}

// contourPerBox is the contour width per detector box width, for faces
// measured without the 68 landmarks (median on real faces).
const contourPerBox = 1.07

// Stage is where a capture stands in the approach.
type Stage string

const (
	// StageStart: the face must first fit inside the start oval.
	StageStart Stage = "start"
	// StageTarget: the face was seen small enough; it must now fill the
	// target oval.
	StageTarget Stage = "target"
)

// Position is the latest observed face relative to the ovals, for the
// client's progress display.
type Position struct {
	Stage Stage
	// Fill is the face's contour width over the target oval's width
	// (0 without a face).
	Fill float64
	// Need is the fill the face must reach in the target stage: Fit.Min,
	// or more while the approach is shorter than Fit.Growth (0 in the
	// start stage and without a face).
	Need float64
}

// faceFit returns the face's contour width and the centre of the face
// outline (between the chin and the top of the forehead), in pixels.
func faceFit(o livenessd.FaceObservation) (width float64, centre livenessd.Point) {
	b := o.Box
	switch {
	case len(o.Landmarks) == 68:
		l := o.Landmarks
		width = dist(l[0], l[16])
		brow := meanPt(l[17:27])
		chin := l[8]
		// The forehead's top lies 0.24 brow-to-chin distances above the
		// brows (FaceMesh silhouette, median on real faces); the centre
		// of the outline is then within 2% of its height of the
		// silhouette's.
		top := sub(brow, scale(sub(chin, brow), 0.24))
		centre = lerp(top, chin, 0.5)
		centre.X = (l[0].X + l[16].X) / 2
	default:
		width = contourPerBox * b.W
		centre = b.Center()
	}
	if width <= 0 {
		width = contourPerBox * b.W
	}
	return width, centre
}

// StartOval is the challenge's start oval; challenges stored before it
// existed take the default, StartScale times the target.
func StartOval(ch livenessd.Challenge) livenessd.Oval {
	if ch.Start.Width > 0 && ch.Start.Height > 0 {
		return ch.Start
	}
	return ch.Oval.Scale(StartScale)
}

// placement is one face measured against the challenge's ovals.
type placement struct {
	fill      float64 // contour width / target oval width
	startFill float64 // contour width / start oval width
	dx, dy    float64 // centre offset in target oval widths and heights
}

func place(o livenessd.FaceObservation, ch livenessd.Challenge, w, h int) placement {
	fw, c := faceFit(o)
	cx, cy, ow, oh := ch.Oval.Pixels(w, h)
	_, _, sw, _ := StartOval(ch).Pixels(w, h)
	p := placement{fill: fw / ow, startFill: fw / sw, dx: (c.X - cx) / ow, dy: (c.Y - cy) / oh}
	if math.IsNaN(p.fill) || math.IsInf(p.fill, 0) {
		p.fill, p.startFill = 0, 0
	}
	return p
}

// fitsStart reports whether the face fits inside the start oval.
func (p placement) fitsStart(f Fit) bool { return p.startFill <= f.Start }

// need is the fill a face that has grown grown times since the far views
// must reach: Min, or what makes the growth Growth, at most GrowthFill
// (Min when grown is unknown, 0).
func (p placement) need(f Fit, grown float64) float64 {
	n := f.Min
	if f.Growth > 0 && grown > 0 {
		n = math.Max(n, math.Min(f.GrowthFill, p.fill*f.Growth/grown))
	}
	return n
}

// target is the guidance towards the target oval and whether the face is
// in it: filling it (Min-Max) with its centre within MaxOffset.
func (p placement) target(f Fit) (Guidance, bool) {
	off := math.Abs(p.dx) > f.MaxOffset || math.Abs(p.dy) > f.MaxOffset
	switch {
	case p.fill < f.Min:
		// Far from the oval sideways: first move into it, then closer.
		if math.Abs(p.dx) > 2*f.MaxOffset || math.Abs(p.dy) > 2*f.MaxOffset {
			return GuideMoveIntoOval, false
		}
		return GuideMoveCloser, false
	case p.fill > f.Max:
		return GuideTooClose, false
	case off:
		return GuideMoveIntoOval, false
	}
	return GuideOK, true
}
