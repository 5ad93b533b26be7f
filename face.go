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
