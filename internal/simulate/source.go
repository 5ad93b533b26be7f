package simulate

import (
	"context"
	"fmt"
	"image"
	"image/draw"
	"math"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/liveness"
)

// DetectSource finds the largest face of img with obs and returns a source
// cropped to 1.7 times its box, so other people of a group photo stay out
// of the simulated camera's view. Errors wrap livenessd.ErrNoFace.
func DetectSource(ctx context.Context, obs liveness.Observer, img image.Image) (Source, error) {
	faces, err := obs.ObserveFrame(ctx, img)
	if err != nil {
		return Source{}, fmt.Errorf("simulate: detect: %w", err)
	}
	if len(faces) == 0 {
		return Source{}, fmt.Errorf("simulate: %w", livenessd.ErrNoFace)
	}
	best := faces[0]
	for _, f := range faces[1:] {
		if f.Box.Area() > best.Box.Area() {
			best = f
		}
	}
	c := best.Box.Center()
	w, h := best.Box.W*1.7, best.Box.H*1.7
	r := image.Rect(int(c.X-w/2), int(c.Y-h/2), int(c.X+w/2), int(c.Y+h/2)).Intersect(img.Bounds())
	dst := image.NewNRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	draw.Draw(dst, dst.Bounds(), img, r.Min, draw.Src)
	box := best.Box
	box.X -= float64(r.Min.X)
	box.Y -= float64(r.Min.Y)
	src := Source{Img: dst, Face: box, Pose: best.Pose}
	for _, f := range faces {
		// Another face of at least a fifth of the largest one's area wholly
		// inside the crop is a second person in the simulated camera's view.
		fr := image.Rect(int(f.Box.X), int(f.Box.Y), int(f.Box.X+f.Box.W), int(f.Box.Y+f.Box.H))
		if f.Box != best.Box && f.Box.Area() >= 0.2*best.Box.Area() && fr.In(r) {
			src.Others++
		}
	}
	off := livenessd.Point{X: float64(r.Min.X), Y: float64(r.Min.Y)}
	switch {
	case len(best.Landmarks) == 68:
		src.Eyes = [2]livenessd.Point{meanOff(best.Landmarks[36:42], off), meanOff(best.Landmarks[42:48], off)}
		l0, l16 := best.Landmarks[0], best.Landmarks[16]
		src.Contour = math.Hypot(l16.X-l0.X, l16.Y-l0.Y)
	case len(best.Keypoints) == 5:
		src.Eyes = [2]livenessd.Point{meanOff(best.Keypoints[0:1], off), meanOff(best.Keypoints[1:2], off)}
	}
	return src, nil
}

func meanOff(ps []livenessd.Point, off livenessd.Point) livenessd.Point {
	var m livenessd.Point
	for _, p := range ps {
		m.X += (p.X - off.X) / float64(len(ps))
		m.Y += (p.Y - off.Y) / float64(len(ps))
	}
	return m
}

// ToNRGBA converts any image to *image.NRGBA with its origin at 0,0.
func ToNRGBA(img image.Image) *image.NRGBA {
	b := img.Bounds()
	dst := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(dst, dst.Bounds(), img, b.Min, draw.Src)
	return dst
}
