package imageio

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"strings"
	"testing"
	"time"

	"github.com/livenessd/livenessd"
)

func TestBudget(t *testing.T) {
	rgba := encPNG(t, image.NewNRGBA(image.Rect(0, 0, 100, 100))) // 8 bytes a pixel: 80 000
	gray := encPNG(t, image.NewGray(image.Rect(0, 0, 100, 100)))  // 5 bytes a pixel: 50 000
	lim := DefaultLimits()

	t.Run("OverBudget", func(t *testing.T) {
		lim.Budget = NewBudget(60_000, time.Second)
		_, err := Decode(rgba, lim)
		var le *LimitError
		if !errors.Is(err, livenessd.ErrTooManyPixels) || !errors.As(err, &le) || le.Actual != 80_000 ||
			!strings.Contains(err.Error(), "decode memory budget") {
			t.Fatalf("err = %v, want ErrTooManyPixels naming the budget", err)
		}
		if _, err := Decode(gray, lim); err != nil {
			t.Fatalf("an image within the budget: %v", err)
		}
	})
	t.Run("Busy", func(t *testing.T) {
		b := NewBudget(100_000, 50*time.Millisecond)
		lim.Budget = b
		release, err := b.reserve(60_000, 1, 1)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Decode(gray, lim); !errors.Is(err, livenessd.ErrOverloaded) {
			t.Fatalf("err = %v, want ErrOverloaded while the budget is taken", err)
		}
		release()
		for range 3 { // the reservation is returned after each decode
			if _, err := Decode(gray, lim); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := DecodeReduced(gray, lim, 50); err != nil {
			t.Fatal(err)
		}
		if !b.sem.TryAcquire(100_000) {
			t.Fatal("a decode kept part of the budget")
		}
	})
}

func TestDecodeCost(t *testing.T) {
	cfg := func(m color.Model) image.Config { return image.Config{ColorModel: m, Width: 10, Height: 10} }
	for _, test := range []struct {
		name        string
		f           Format
		cfg         image.Config
		progressive bool
		want        int64
	}{
		{"PNGGray", PNG, cfg(color.GrayModel), false, 500},
		{"PNGRGBA", PNG, cfg(color.NRGBAModel), false, 800},
		{"PNGRGBA64", PNG, cfg(color.RGBA64Model), false, 1200},
		{"PNGPalette", PNG, cfg(color.Palette{color.Black}), false, 500},
		{"JPEG", JPEG, cfg(color.YCbCrModel), false, 700},
		{"JPEGProgressive", JPEG, cfg(color.YCbCrModel), true, 1900},
		{"WebP", WebP, cfg(color.YCbCrModel), false, 800},
	} {
		if got := decodeCost(test.f, test.cfg, test.progressive); got != test.want {
			t.Errorf("%s: cost %d, want %d", test.name, got, test.want)
		}
	}
}

func TestJPEGProgressive(t *testing.T) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, 64, 48)), nil); err != nil {
		t.Fatal(err)
	}
	if jpegProgressive(buf.Bytes()) {
		t.Error("a baseline JPEG reads as progressive")
	}
	if !jpegProgressive(progressiveJPEG(64, 48, 4)) {
		t.Error("a progressive JPEG reads as baseline")
	}
	for _, junk := range [][]byte{nil, {0xFF, 0xD8}, {0xFF, 0xD8, 0xFF, 0xC2}, {0xFF, 0xD8, 0x00, 0x00, 0x00, 0x00}} {
		if jpegProgressive(junk) {
			t.Errorf("%x reads as progressive", junk)
		}
	}
}
