package ocr_test

import (
	"image"
	"testing"

	"github.com/livenessd/livenessd/internal/mrz"
	"github.com/livenessd/livenessd/internal/ocr"
	"github.com/livenessd/livenessd/internal/testutil"
)

func MustRecognizer(tb testing.TB) *ocr.Recognizer {
	tb.Helper()
	r, err := ocr.New(testutil.Runtime(tb), testutil.Cache(tb))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { r.Close() })
	return r
}

// A blank line reads as nothing: the decoder adds no characters of its own.
func TestRecognizer_ReadLine_Blank(t *testing.T) {
	r := MustRecognizer(t)
	g := image.NewGray(image.Rect(0, 0, 400, 48))
	for i := range g.Pix {
		g.Pix[i] = 255
	}
	got, err := r.ReadLine(t.Context(), g)
	if err != nil {
		t.Fatal(err)
	}
	if g := got.Greedy(); len(g) != 0 {
		t.Errorf("blank line read as %q", mrz.Text(g))
	}
}
