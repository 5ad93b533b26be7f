package livenessd

// Point is a 2-D position in pixels of the image it belongs to.
type Point struct{ X, Y float64 }

// Rect is an axis-aligned box in pixels: top-left corner and size.
type Rect struct{ X, Y, W, H float64 }

// Area is W*H.
func (r Rect) Area() float64 { return r.W * r.H }

// Center is the centre of the box.
func (r Rect) Center() Point { return Point{r.X + r.W/2, r.Y + r.H/2} }

// BoundingBox is a box as ratios of the image's width and height, origin at
// the top-left, as AWS Rekognition reports it. Values can fall outside [0,1]
// when the face is cut off by the frame.
type BoundingBox struct {
	Width  float64 `json:"width"`
	Height float64 `json:"height"`
	Left   float64 `json:"left"`
	Top    float64 `json:"top"`
}

// Normalize converts a pixel box to ratios of a w x h image.
func (r Rect) Normalize(w, h int) BoundingBox {
	return BoundingBox{Width: r.W / float64(w), Height: r.H / float64(h), Left: r.X / float64(w), Top: r.Y / float64(h)}
}

// Pose is head orientation in degrees.
type Pose struct {
	Yaw   float64 `json:"yaw"`
	Pitch float64 `json:"pitch"`
	Roll  float64 `json:"roll"`
}

// Quality holds image quality measures on a 0-100 scale.
type Quality struct {
	Brightness float64 `json:"brightness"`
	Sharpness  float64 `json:"sharpness"`
}

// Point3 is a 3-D landmark: X, Y in image pixels, Z in the same scale
// relative to the face's centre (negative towards the camera).
type Point3 struct{ X, Y, Z float64 }

// FaceObservation is everything the face pipeline measures of one face in
// one image. Fields a caller did not ask for stay zero/nil.
type FaceObservation struct {
	Box   Rect    // detector box in pixels
	Score float64 // detector confidence 0..1
	// Keypoints are the 5 alignment points: left eye centre, right eye
	// centre, nose tip, left mouth corner, right mouth corner ("left" = image left).
	Keypoints []Point
	Landmarks []Point  // 68 points (iBUG 300-W order)
	Mesh      []Point3 // 468 FaceMesh points, when requested
	Pose      Pose
	Quality   Quality
	// Embedding is the L2-normalised identity vector of the configured model
	// (for a face a comparison selected, the fused vector of both identity
	// models when the face pipeline fuses two; face.FusionConfig).
	Embedding []float32
	// LiveScore is the passive anti-spoofing probability that the crop is a
	// live face (0..1), when requested.
	LiveScore float64
	// EyesOpen is the probability both eyes are open (0..1), when requested.
	EyesOpen float64
	Flags    []string // quality flags: too_dark, too_bright, blurry, too_small, extreme_pose, cut_off
}

// SelectionRule names how a comparison picks one face among those found.
type SelectionRule string

// Selection rules. The zero value means SelectLargest.
const (
	// SelectLargest takes the face with the largest box. The search for
	// small faces runs only when no face large enough to be the largest is
	// found first, so faces much smaller than the largest may go unlisted.
	SelectLargest SelectionRule = "largest"
	// SelectCentral takes the face whose box centre is nearest the image
	// centre, after searching for every face.
	SelectCentral SelectionRule = "central"
	// SelectIndex takes FaceSelection.Index in the list of every face
	// found, largest first.
	SelectIndex SelectionRule = "index"
)

// FaceSelection says which face of an image a comparison uses.
type FaceSelection struct {
	Rule  SelectionRule
	Index int // SelectIndex only: 0-based, largest face first
}

// CompareOptions are a comparison's parameters.
type CompareOptions struct {
	// Threshold is the similarity (0-100) at or above which the faces
	// match; <= 0 means the configured default.
	Threshold      float64
	Source, Target FaceSelection
}
