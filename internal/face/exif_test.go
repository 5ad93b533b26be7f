package face_test

import (
	"bytes"
	"image"
	"image/jpeg"
	"testing"

	"github.com/livenessd/livenessd/internal/imageio"
)

// withOrientation inserts an EXIF APP1 segment holding only the given
// orientation tag right after the JPEG's SOI marker.
func withOrientation(jpg []byte, o uint16) []byte {
	tiff := []byte{'M', 'M', 0, 42, 0, 0, 0, 8, // big-endian header, IFD at 8
		0, 1, // one entry
		0x01, 0x12, 0, 3, 0, 0, 0, 1, byte(o >> 8), byte(o), 0, 0, // Orientation, SHORT, 1
		0, 0, 0, 0} // no next IFD
	payload := append([]byte("Exif\x00\x00"), tiff...)
	seg := []byte{0xFF, 0xE1, byte((len(payload) + 2) >> 8), byte(len(payload) + 2)}
	seg = append(seg, payload...)
	out := append([]byte{}, jpg[:2]...)
	out = append(out, seg...)
	return append(out, jpg[2:]...)
}

// A phone photo stored sideways with EXIF orientation 6 ("rotate 90° CW to
// view") decodes upright and matches the upright face.
func TestPipeline_Compare_EXIFRotated(t *testing.T) {
	p := MustPipeline(t)
	upright := largestCrop(t, p, 6, 1.6)
	w, h := upright.Bounds().Dx(), upright.Bounds().Dy()
	// Stored pixels: the upright image turned 90° counter-clockwise.
	stored := image.NewNRGBA(image.Rect(0, 0, h, w))
	for y := range h {
		for x := range w {
			stored.SetNRGBA(y, w-1-x, upright.NRGBAAt(x, y))
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, stored, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	img, err := imageio.Decode(withOrientation(buf.Bytes(), 6), imageio.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	if got := img.Bounds().Size(); got != upright.Bounds().Size() {
		t.Fatalf("decoded size %v, want the upright %v", got, upright.Bounds().Size())
	}
	var diff int
	for i := 0; i < len(img.Pix); i += 4 {
		d := int(img.Pix[i]) - int(upright.Pix[i])
		diff += max(d, -d)
	}
	if mean := float64(diff) / float64(w*h); mean > 6 {
		t.Fatalf("decoded image differs from the upright one by %.1f per pixel: orientation not applied", mean)
	}
	c, err := p.Compare(t.Context(), upright, img, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !c.IsMatch {
		t.Errorf("EXIF-rotated vs upright: similarity %.1f, want a match", c.Similarity)
	}
}
