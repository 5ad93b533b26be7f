package simulate

import (
	"image"
	"image/color"
	"image/draw"

	xdraw "golang.org/x/image/draw"
	"golang.org/x/image/math/f64"

	"github.com/livenessd/livenessd"
)

// FitFrame renders a real photo as a w x h camera frame in which the face
// outline (a rectangle in img's pixels, e.g. FaceMesh's silhouette) is fill
// times as wide as the oval and its centre sits on the oval's centre,
// shifted by dx oval widths and dy oval heights: the picture a person sees
// when their face fills the drawn oval that much. The photo is scaled
// (bilinear) and cropped; beyond its edges the frame is mid grey.
func FitFrame(img image.Image, outline livenessd.Rect, oval livenessd.Oval, fill, dx, dy float64, w, h int) *image.NRGBA {
	dst := image.NewNRGBA(image.Rect(0, 0, w, h))
	draw.Draw(dst, dst.Bounds(), image.NewUniform(color.NRGBA{128, 128, 128, 255}), image.Point{}, draw.Src)
	cx, cy, ow, oh := oval.Pixels(w, h)
	if outline.W <= 0 || fill <= 0 {
		return dst
	}
	s := fill * ow / outline.W
	c := outline.Center()
	tx := cx + dx*ow - c.X*s
	ty := cy + dy*oh - c.Y*s
	// dst = s*src + t
	m := f64.Aff3{s, 0, tx, 0, s, ty}
	xdraw.BiLinear.Transform(dst, m, img, img.Bounds(), xdraw.Over, nil)
	return dst
}
