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
	src.Skin = skinTone(img, best)
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

// skinTone is the individual typology angle (ITA°, Chardon et al. 1991) of
// the face's skin: atan((L* - 50) / b*) over the cheeks and forehead
// (placed from the 68 landmarks), the standard way to bin skin from very
// light (> 55°) to dark (< -30°). NaN without landmarks.
func skinTone(img image.Image, f livenessd.FaceObservation) float64 {
	if len(f.Landmarks) != 68 {
		return math.NaN()
	}
	l := f.Landmarks
	eyeL, eyeR := meanOff(l[36:42], livenessd.Point{}), meanOff(l[42:48], livenessd.Point{})
	iod := math.Hypot(eyeR.X-eyeL.X, eyeR.Y-eyeL.Y)
	mid := livenessd.Point{X: (eyeL.X + eyeR.X) / 2, Y: (eyeL.Y + eyeR.Y) / 2}
	patches := []livenessd.Point{
		{X: mid.X, Y: mid.Y - 0.55*iod},                        // forehead
		{X: (l[30].X + l[2].X) / 2, Y: (l[30].Y + l[2].Y) / 2}, // cheeks
		{X: (l[30].X + l[14].X) / 2, Y: (l[30].Y + l[14].Y) / 2},
	}
	r := math.Max(2, 0.12*iod)
	var sumL, sumB float64
	n := 0
	for _, c := range patches {
		for y := int(c.Y - r); y <= int(c.Y+r); y++ {
			for x := int(c.X - r); x <= int(c.X+r); x++ {
				if !(image.Point{X: x, Y: y}.In(img.Bounds())) {
					continue
				}
				cr, cg, cb, _ := img.At(x, y).RGBA()
				L, b := labLB(float64(cr>>8), float64(cg>>8), float64(cb>>8))
				sumL += L
				sumB += b
				n++
			}
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return math.Atan2(sumL/float64(n)-50, sumB/float64(n)) * 180 / math.Pi
}

// labLB converts an sRGB colour to CIE L* and b* (D65).
func labLB(r, g, b float64) (L, bb float64) {
	lin := func(v float64) float64 {
		v /= 255
		if v <= 0.04045 {
			return v / 12.92
		}
		return math.Pow((v+0.055)/1.055, 2.4)
	}
	R, G, B := lin(r), lin(g), lin(b)
	Y := 0.2126*R + 0.7152*G + 0.0722*B
	Z := (0.0193*R + 0.1192*G + 0.9505*B) / 1.089
	f := func(t float64) float64 {
		if t > 216.0/24389 {
			return math.Cbrt(t)
		}
		return (24389.0/27*t + 16) / 116
	}
	return 116*f(Y) - 16, 200 * (f(Y) - f(Z))
}

// SkinBins are SkinBin's labels, lightest first.
var SkinBins = []string{"very light (ITA > 55°)", "light (41-55°)", "intermediate (28-41°)", "tan (10-28°)", "brown/dark (ITA <= 10°)", "unknown"}

// SkinBin labels an ITA° the way dermatology does, with the two darkest
// classes merged (they are rare in the photos available here).
func SkinBin(ita float64) string {
	switch {
	case math.IsNaN(ita):
		return "unknown"
	case ita > 55:
		return "very light (ITA > 55°)"
	case ita > 41:
		return "light (41-55°)"
	case ita > 28:
		return "intermediate (28-41°)"
	case ita > 10:
		return "tan (10-28°)"
	}
	return "brown/dark (ITA <= 10°)"
}
