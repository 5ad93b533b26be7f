package imageio

import (
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"math"
	"strconv"
	"testing"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/testutil"
)

func TestReduceFactor(t *testing.T) {
	for _, test := range []struct{ w, h, min, want int }{
		{4000, 3000, 1920, 2},
		{3000, 4000, 1000, 4},
		{1920, 1080, 1920, 1},
		{3838, 100, 1920, 1}, // 1919 at half size
		{3839, 100, 1920, 2}, // ceil(3839/2) = 1920, as libjpeg sizes it
		{16000, 1000, 1920, 8},
		{640, 480, 0, 1},
	} {
		if got := reduceFactor(test.w, test.h, test.min); got != test.want {
			t.Errorf("reduceFactor(%d, %d, %d) = %d, want %d", test.w, test.h, test.min, got, test.want)
		}
	}
}

// boxDown averages k x k blocks (the last ones partial), the reference a
// DCT-domain reduction should approximate.
func boxDown(m *image.NRGBA, k int) *image.NRGBA {
	w, h := (m.Rect.Dx()+k-1)/k, (m.Rect.Dy()+k-1)/k
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			var s [3]int
			n := 0
			for yy := y * k; yy < min((y+1)*k, m.Rect.Dy()); yy++ {
				for xx := x * k; xx < min((x+1)*k, m.Rect.Dx()); xx++ {
					p := m.NRGBAAt(xx, yy)
					s[0], s[1], s[2] = s[0]+int(p.R), s[1]+int(p.G), s[2]+int(p.B)
					n++
				}
			}
			out.SetNRGBA(x, y, color.NRGBA{uint8(s[0] / n), uint8(s[1] / n), uint8(s[2] / n), 255})
		}
	}
	return out
}

// meanDev is the mean absolute difference of the RGB channels.
func meanDev(a, b *image.NRGBA) float64 {
	var s float64
	for y := range a.Rect.Dy() {
		for x := range a.Rect.Dx() {
			p, q := a.NRGBAAt(x, y), b.NRGBAAt(x, y)
			s += math.Abs(float64(p.R)-float64(q.R)) + math.Abs(float64(p.G)-float64(q.G)) + math.Abs(float64(p.B)-float64(q.B))
		}
	}
	return s / float64(3*a.Rect.Dx()*a.Rect.Dy())
}

func TestDecodeReduced(t *testing.T) {
	// A real photo at 960x640 (sample1 halved: small enough for -race).
	sample, err := Decode(readFile(t, testutil.Sample(t, 1)), DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	photo := encJPEG(t, Resize(sample, 960, 640), 90)
	full, err := Decode(photo, DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	for _, test := range []struct {
		minSide, k int
	}{{450, 2}, {200, 4}, {100, 8}, {500, 1}, {0, 1}} {
		got, err := DecodeReduced(photo, DefaultLimits(), test.minSide)
		if err != nil {
			t.Fatal(err)
		}
		want := boxDown(full, test.k)
		if got.Rect != want.Rect {
			t.Fatalf("minSide %d: size %v, want %v (1/%d)", test.minSide, got.Rect, want.Rect, test.k)
		}
		// The DCT-domain reduction is an area average up to JPEG rounding
		// and libjpeg's chroma filtering.
		d := meanDev(got, want)
		t.Logf("minSide %d (1/%d): mean deviation %.2f", test.minSide, test.k, d)
		if d > 2.5 {
			t.Errorf("minSide %d: mean deviation %.2f from the box-filtered full decode", test.minSide, d)
		}

	}

	t.Run("EXIF", func(t *testing.T) {
		rot := withExif(encJPEG(t, gradient(400, 200), 90), 6, binary.BigEndian) // rotate 90° clockwise
		m, err := DecodeReduced(rot, DefaultLimits(), 100)
		if err != nil {
			t.Fatal(err)
		}
		if m.Rect.Dx() != 50 || m.Rect.Dy() != 100 {
			t.Fatalf("size %v, want 50x100 (1/4, then rotated)", m.Rect.Size())
		}
		// The gradient's red rises left to right; after rotating by 90°
		// clockwise it rises top to bottom.
		if top, bottom := m.NRGBAAt(25, 2).R, m.NRGBAAt(25, 97).R; top >= bottom {
			t.Errorf("red top %d, bottom %d: orientation not applied", top, bottom)
		}
	})
	t.Run("NotJPEG", func(t *testing.T) {
		m, err := DecodeReduced(encPNG(t, gradient(800, 600)), DefaultLimits(), 100)
		if err != nil || m.Rect.Dx() != 800 {
			t.Fatalf("PNG: %v, %v; want the full-size image", m.Rect, err)
		}
	})
	t.Run("LimitsOnStoredSize", func(t *testing.T) {
		lim := DefaultLimits()
		lim.MaxPixels = 500_000 // the photo has 614 kP, its 1/8 reduction 10 kP
		if _, err := DecodeReduced(photo, lim, 100); !errors.Is(err, livenessd.ErrTooManyPixels) {
			t.Fatalf("err = %v, want ErrTooManyPixels", err)
		}
	})
	t.Run("Corrupt", func(t *testing.T) {
		for name, data := range map[string][]byte{
			"Truncated": photo[:len(photo)/2],
			"Header":    jpegHeader(4000, 3000),
		} {
			m, err := DecodeReduced(data, DefaultLimits(), 100)
			_, want := Decode(data, DefaultLimits())
			if m != nil || err == nil || !errors.Is(err, livenessd.ErrInvalidImage) || err.Error() != want.Error() {
				t.Errorf("%s: %v; want Decode's error %v", name, err, want)
			}
		}
	})
}

func BenchmarkDecodeReduced(b *testing.B) {
	data := readFile(b, testutil.Sample(b, 1))
	lim := DefaultLimits()
	for _, minSide := range []int{0, 900, 400} {
		b.Run("min"+strconv.Itoa(minSide), func(b *testing.B) {
			for b.Loop() {
				if _, err := DecodeReduced(data, lim, minSide); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
