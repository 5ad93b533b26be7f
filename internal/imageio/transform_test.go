package imageio

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"testing"

	"github.com/livenessd/livenessd/internal/infer"
	"github.com/livenessd/livenessd/internal/testutil"
)

func TestCrop(t *testing.T) {
	src := gradient(100, 80)
	for _, tc := range []struct {
		name string
		r    image.Rectangle
	}{
		{"Inside", image.Rect(10, 20, 60, 50)},
		{"OverLeftTop", image.Rect(-10, -5, 30, 40)},
		{"OverRightBottom", image.Rect(80, 60, 130, 100)},
		{"Outside", image.Rect(200, 200, 220, 230)},
		{"Whole", src.Bounds()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Crop(src, tc.r)
			if c.Rect != image.Rect(0, 0, tc.r.Dx(), tc.r.Dy()) {
				t.Fatalf("bounds %v", c.Rect)
			}
			for y := range tc.r.Dy() {
				for x := range tc.r.Dx() {
					p := image.Pt(tc.r.Min.X+x, tc.r.Min.Y+y)
					want := color.NRGBA{0, 0, 0, 255}
					if p.In(src.Rect) {
						want = src.NRGBAAt(p.X, p.Y)
					}
					if got := c.NRGBAAt(x, y); got != want {
						t.Fatalf("(%d,%d) = %v, want %v", x, y, got, want)
					}
				}
			}
		})
	}
}

func TestResize(t *testing.T) {
	uniform := image.NewNRGBA(image.Rect(0, 0, 97, 61))
	for i := 0; i < len(uniform.Pix); i += 4 {
		copy(uniform.Pix[i:], []byte{37, 150, 222, 255})
	}
	grad := gradient(256, 256)
	for _, tc := range []struct {
		name   string
		src    *image.NRGBA
		w, h   int
		maxDev int
		want   func(x, y, w, h int) color.NRGBA
	}{
		{"UniformUp", uniform, 300, 200, 0, func(int, int, int, int) color.NRGBA { return color.NRGBA{37, 150, 222, 255} }},
		{"UniformDown", uniform, 13, 9, 0, func(int, int, int, int) color.NRGBA { return color.NRGBA{37, 150, 222, 255} }},
		{"UniformBoxed", uniform, 20, 7, 0, func(int, int, int, int) color.NRGBA { return color.NRGBA{37, 150, 222, 255} }},
		// A linear ramp stays linear under bilinear and box filters (away from clamped edges).
		{"GradientHalf", grad, 128, 128, 2, func(x, y, w, h int) color.NRGBA {
			return color.NRGBA{uint8(min(255, 2*x)), uint8(min(255, 2*y)), 128, 255}
		}},
		{"GradientQuarter", grad, 64, 64, 3, func(x, y, w, h int) color.NRGBA {
			return color.NRGBA{uint8(min(255, 4*x+1)), uint8(min(255, 4*y+1)), 128, 255}
		}},
		{"Identity", grad, 256, 256, 0, func(x, y, w, h int) color.NRGBA { return grad.NRGBAAt(x, y) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := Resize(tc.src, tc.w, tc.h)
			if m.Rect != image.Rect(0, 0, tc.w, tc.h) {
				t.Fatalf("bounds %v", m.Rect)
			}
			worst := 0
			for y := 1; y < tc.h-1; y++ {
				for x := 1; x < tc.w-1; x++ {
					got, want := m.NRGBAAt(x, y), tc.want(x, y, tc.w, tc.h)
					for _, d := range []int{int(got.R) - int(want.R), int(got.G) - int(want.G), int(got.B) - int(want.B), int(got.A) - int(want.A)} {
						worst = max(worst, d, -d)
					}
				}
			}
			if worst > tc.maxDev {
				t.Errorf("max deviation %d, want <= %d", worst, tc.maxDev)
			}
		})
	}
	t.Run("ResizeIntoNoAllocs", func(t *testing.T) {
		src := gradient(300, 200)
		dst := image.NewNRGBA(image.Rect(0, 0, 224, 224))
		if a := testing.AllocsPerRun(5, func() { ResizeInto(dst, src) }); a > 2 {
			t.Errorf("%v allocations, want <= 2 (column tables)", a)
		}
	})
	t.Run("Degenerate", func(t *testing.T) {
		if m := Resize(grad, 0, 10); m.Rect.Dx() != 0 {
			t.Errorf("bounds %v", m.Rect)
		}
		ResizeInto(image.NewNRGBA(image.Rect(0, 0, 5, 5)), image.NewNRGBA(image.Rect(0, 0, 0, 0)))
	})
}

func TestEncodeJPEG(t *testing.T) {
	src := gradient(200, 150)
	data, err := EncodeJPEG(src, 90)
	if err != nil {
		t.Fatal(err)
	}
	m, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if m.Bounds().Size() != image.Pt(200, 150) {
		t.Errorf("size %v", m.Bounds().Size())
	}
	if d := maxDev(toNRGBA(m), src); d > 10 {
		t.Errorf("max deviation %d", d)
	}
}

func TestToTensor(t *testing.T) {
	// 2x1 image: (10,20,30) and (200,100,0).
	img := image.NewNRGBA(image.Rect(0, 0, 2, 1))
	copy(img.Pix, []byte{10, 20, 30, 255, 200, 100, 0, 255})
	gray := image.NewGray(image.Rect(0, 0, 2, 1))
	copy(gray.Pix, []byte{50, 150})
	in := func(order infer.ColorOrder, layout infer.Layout, mean, std float32) infer.ImageInput {
		return infer.ImageInput{Name: "x", Width: 2, Height: 1, Layout: layout, Order: order,
			Mean: [3]float32{mean, mean, mean}, Std: [3]float32{std, std, std}}
	}
	l0 := 0.299*10 + 0.587*20 + 0.114*30
	l1 := 0.299*200 + 0.587*100 + 0.114*0
	for _, tc := range []struct {
		name string
		img  image.Image
		in   infer.ImageInput
		want []float32
	}{
		{"RGBNCHWRaw", img, in(infer.RGB, infer.NCHW, 0, 1), []float32{10, 200, 20, 100, 30, 0}},
		{"RGBNHWCRaw", img, in(infer.RGB, infer.NHWC, 0, 1), []float32{10, 20, 30, 200, 100, 0}},
		{"BGRNCHWRaw", img, in(infer.BGR, infer.NCHW, 0, 1), []float32{30, 0, 20, 100, 10, 200}},
		{"BGRNHWCRaw", img, in(infer.BGR, infer.NHWC, 0, 1), []float32{30, 20, 10, 0, 100, 200}},
		{"GrayScaled", img, in(infer.Gray, infer.NCHW, 0, 255), []float32{float32(l0 / 255), float32(l1 / 255)}},
		{"FRDetectNorm", img, infer.ImageInput{Name: "x", Width: 2, Height: 1, Layout: infer.NCHW, Order: infer.RGB,
			Mean: infer.FRDetect.Input.Mean, Std: infer.FRDetect.Input.Std},
			[]float32{(10 - 127) / 128., (200 - 127) / 128., (20 - 127) / 128., (100 - 127) / 128., (30 - 127) / 128., (0 - 127) / 128.}},
		{"PerChannel", img, infer.ImageInput{Name: "x", Width: 2, Height: 1, Layout: infer.NHWC, Order: infer.RGB,
			Mean: [3]float32{1, 2, 3}, Std: [3]float32{2, 4, 8}},
			[]float32{4.5, 4.5, 27. / 8, 99.5, 24.5, -3. / 8}},
		{"GrayImageToRGB", gray, in(infer.RGB, infer.NCHW, 0, 1), []float32{50, 150, 50, 150, 50, 150}},
		{"GrayImageToGray", gray, in(infer.Gray, infer.NCHW, 0, 1), []float32{50, 150}},
		{"GenericImage", rgba64(), in(infer.BGR, infer.NHWC, 0, 1), []float32{3, 2, 1, 6, 5, 4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := make([]float32, len(tc.want)+1)
			got[len(tc.want)] = 42
			if err := ToTensor(got, tc.img, tc.in); err != nil {
				t.Fatal(err)
			}
			for i, w := range tc.want {
				if d := got[i] - w; d > 1e-4 || d < -1e-4 {
					t.Errorf("value %d = %v, want %v (all %v)", i, got[i], w, got)
				}
			}
			if got[len(tc.want)] != 42 {
				t.Error("wrote past the tensor")
			}
		})
	}
	t.Run("Errors", func(t *testing.T) {
		if err := ToTensor(make([]float32, 6), img, in(infer.RGB, infer.NCHW, 0, 1)); err != nil {
			t.Fatal(err)
		}
		if err := ToTensor(make([]float32, 5), img, in(infer.RGB, infer.NCHW, 0, 1)); err == nil {
			t.Error("short buffer accepted")
		}
		if err := ToTensor(make([]float32, 600), img, infer.FRLandmark.Input); err == nil {
			t.Error("wrong size accepted")
		}
		if err := ToTensor(make([]float32, 6), img, in(infer.RGB, "NWHC", 0, 1)); err == nil {
			t.Error("unknown layout accepted")
		}
	})
	t.Run("SubImage", func(t *testing.T) {
		big := gradient(50, 40)
		sub := big.SubImage(image.Rect(10, 5, 12, 6)).(*image.NRGBA)
		got := make([]float32, 6)
		if err := ToTensor(got, sub, in(infer.RGB, infer.NHWC, 0, 1)); err != nil {
			t.Fatal(err)
		}
		p := big.NRGBAAt(11, 5)
		if got[3] != float32(p.R) || got[4] != float32(p.G) {
			t.Errorf("sub-image offset ignored: %v vs %v", got, p)
		}
	})
	t.Run("NewInput", func(t *testing.T) {
		tt, err := NewInput(gradient(320, 240), infer.FRDetect.Input)
		if err != nil {
			t.Fatal(err)
		}
		if err := tt.Validate(); err != nil || tt.Shape[1] != 3 || tt.Shape[2] != 240 || tt.Shape[3] != 320 {
			t.Errorf("shape %v err %v", tt.Shape, err)
		}
	})
}

// rgba64 is a 2x1 image type without a fast path: (1,2,3) and (4,5,6).
func rgba64() *image.RGBA64 {
	m := image.NewRGBA64(image.Rect(0, 0, 2, 1))
	m.SetRGBA64(0, 0, color.RGBA64{0x0101, 0x0202, 0x0303, 0xFFFF})
	m.SetRGBA64(1, 0, color.RGBA64{0x0404, 0x0505, 0x0606, 0xFFFF})
	return m
}

func BenchmarkToTensor(b *testing.B) {
	m, err := Decode(readFile(b, testutil.Sample(b, 1)), DefaultLimits())
	if err != nil {
		b.Fatal(err)
	}
	spec := infer.FRDetect
	small := Resize(m, spec.Input.Width, spec.Input.Height)
	dst := make([]float32, 3*spec.Input.Width*spec.Input.Height)
	b.Run("FRDetect320x240", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := ToTensor(dst, small, spec.Input); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Resize1920to320", func(b *testing.B) {
		out := image.NewNRGBA(image.Rect(0, 0, 320, 240))
		b.ReportAllocs()
		for b.Loop() {
			ResizeInto(out, m)
		}
	})
}
