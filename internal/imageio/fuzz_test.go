package imageio

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"image"
	"os"
	"path/filepath"
	"testing"

	"github.com/livenessd/livenessd"
)

// fuzzLimits keep fuzzed decodes small: the header checks run before pixels.
var fuzzLimits = Limits{MaxBytes: 1 << 20, MaxPixels: 1 << 20, MinSide: 1}

// kinds are the only error kinds Decode may return.
var kinds = []error{livenessd.ErrImageTooLarge, livenessd.ErrTooManyPixels, livenessd.ErrImageTooSmall,
	livenessd.ErrUnsupportedImage, livenessd.ErrInvalidImage}

func checkDecodeResult(t *testing.T, m *image.NRGBA, err error) {
	t.Helper()
	if err != nil {
		for _, k := range kinds {
			if errors.Is(err, k) {
				if m != nil {
					t.Fatal("image and error returned")
				}
				return
			}
		}
		t.Fatalf("error of no known kind: %v", err)
	}
	if m == nil || m.Rect.Min != (image.Point{}) || int64(m.Rect.Dx())*int64(m.Rect.Dy()) > fuzzLimits.MaxPixels {
		t.Fatalf("bad image %v", m)
	}
}

func addFileSeeds(f *testing.F, names ...string) {
	for _, n := range names {
		if b, err := os.ReadFile(filepath.Join("testdata", n)); err == nil {
			f.Add(b)
		}
	}
}

func FuzzDecode(f *testing.F) {
	addFileSeeds(f, "face.lossy.webp", "face.exif6.webp")
	f.Add(encPNG(f, gradient(16, 12)))
	jpg := encJPEG(f, gradient(24, 16), 75)
	f.Add(jpg)
	f.Add(withExif(jpg, 6, binary.LittleEndian))
	f.Add(pngHeader(100000, 100000))
	f.Add(jpegHeader(65000, 65000))
	f.Add(progressiveJPEG(64, 48, 4))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Decode(data, fuzzLimits)
		checkDecodeResult(t, m, err)
	})
}

func FuzzExifOrientation(f *testing.F) {
	jpg := encJPEG(f, gradient(8, 8), 50)
	for o := uint16(0); o <= 9; o++ {
		f.Add(withExif(jpg, o, binary.BigEndian))
	}
	f.Add(append([]byte("\x89PNG\r\n\x1a\n"), pngChunkBytes("eXIf", tiffWithOrientation(3, binary.LittleEndian))...))
	riff := append([]byte("RIFF\x00\x00\x00\x00WEBPEXIF\x1a\x00\x00\x00"), tiffWithOrientation(5, binary.LittleEndian)...)
	f.Add(riff)
	f.Add([]byte{0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x08, 'E', 'x', 'i', 'f', 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		o := Orientation(data)
		if o < 1 || o > 8 {
			t.Fatalf("orientation %d", o)
		}
		if len(data) >= 8 {
			// The TIFF parser on its own must also stay in range.
			if v := tiffOrientation(data); v < 1 || v > 8 {
				t.Fatalf("tiff orientation %d", v)
			}
		}
		// Orient must preserve the pixel count for every value.
		m := gradient(3, 2)
		if r := Orient(m, o); r.Rect.Dx()*r.Rect.Dy() != 6 {
			t.Fatalf("orient %d gave %v", o, r.Rect)
		}
	})
}

func FuzzDecodeBase64(f *testing.F) {
	png := encPNG(f, gradient(16, 12))
	f.Add(base64.StdEncoding.EncodeToString(png))
	f.Add("data:image/png;base64," + base64.RawURLEncoding.EncodeToString(png))
	f.Add(wrap76(base64.StdEncoding.EncodeToString(encJPEG(f, gradient(20, 20), 60))))
	f.Add("data:,")
	f.Add("data:image/png;base64,")
	f.Add("====")
	f.Fuzz(func(t *testing.T, s string) {
		m, err := DecodeBase64(s, fuzzLimits)
		checkDecodeResult(t, m, err)
		if b, err := Base64Bytes(s, fuzzLimits.MaxBytes); err == nil && int64(len(b)) > fuzzLimits.MaxBytes {
			t.Fatalf("%d bytes returned over the limit", len(b))
		}
	})
}

func FuzzDecodeReduced(f *testing.F) {
	jpg := encJPEG(f, gradient(48, 32), 75)
	f.Add(jpg)
	f.Add(withExif(jpg, 8, binary.BigEndian))
	f.Add(jpg[:len(jpg)*2/3])
	f.Add(progressiveJPEG(64, 48, 4))
	f.Add(jpegHeader(1000, 1000))
	f.Fuzz(func(t *testing.T, data []byte) {
		// minSide 8: every JPEG of 16 px or more takes the reduced path.
		m, err := DecodeReduced(data, fuzzLimits, 8)
		checkDecodeResult(t, m, err)
		if err == nil {
			if _, cfg, _ := Config(data, fuzzLimits); max(m.Rect.Dx(), m.Rect.Dy()) > max(cfg.Width, cfg.Height) {
				t.Fatalf("reduced %v is larger than the stored %dx%d", m.Rect, cfg.Width, cfg.Height)
			}
		}
	})
}
