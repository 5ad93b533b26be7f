// Package imageio turns untrusted image bytes into pixels: it checks the
// byte, pixel and side limits from the header before any pixel is decoded,
// applies the EXIF orientation, and offers the crop/resize/tensor helpers the
// face pipeline needs. Only JPEG, PNG and WebP are accepted.
package imageio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"io"

	"golang.org/x/image/webp"

	"github.com/livenessd/livenessd"
)

// Default limits (issue 3): 15 MB of encoded input (decimal megabytes),
// 40 megapixels, 80 px on the shorter side.
const (
	DefaultMaxBytes  = 15_000_000
	DefaultMaxPixels = 40_000_000
	DefaultMinSide   = 80
)

// Limits bound what Decode accepts. A zero or negative field disables that check.
type Limits struct {
	MaxBytes  int64 // encoded bytes
	MaxPixels int64 // width*height from the header
	MinSide   int   // shorter side in pixels
	// Budget, shared by every decode of the process, bounds the memory of
	// the decodes in flight together; nil: no bound beyond MaxPixels.
	Budget *Budget
}

// DefaultLimits returns 15 MB, 40 megapixels, 80 px.
func DefaultLimits() Limits {
	return Limits{MaxBytes: DefaultMaxBytes, MaxPixels: DefaultMaxPixels, MinSide: DefaultMinSide}
}

// LimitError reports a violated limit. It unwraps to its Kind
// (livenessd.ErrImageTooLarge, ErrTooManyPixels or ErrImageTooSmall), so
// callers match it with errors.Is and can read Limit/Actual with errors.As to
// fill an API error's details.
type LimitError struct {
	Kind   error
	Limit  int64 // the limit in Unit
	Actual int64 // the measured value in Unit
	Unit   string
	Width  int // image size from the header, when known
	Height int
}

// Units of LimitError.
const (
	UnitBytes  = "bytes"
	UnitPixels = "pixels"
	// UnitDecodeBytes: the memory a decode would take, against the budget.
	UnitDecodeBytes = "bytes of decode memory"
)

func (e *LimitError) Error() string {
	if e.Unit == UnitDecodeBytes {
		return fmt.Sprintf("image is %dx%d and needs about %d MB to decode; the decode memory budget is %d MB",
			e.Width, e.Height, e.Actual>>20, e.Limit>>20)
	}
	switch e.Kind {
	case livenessd.ErrImageTooLarge:
		return fmt.Sprintf("image is %s; the limit is %s", formatMB(e.Actual), formatMB(e.Limit))
	case livenessd.ErrTooManyPixels:
		return fmt.Sprintf("image is %dx%d (%s megapixels); the limit is %s megapixels",
			e.Width, e.Height, formatMP(e.Actual), formatMP(e.Limit))
	case livenessd.ErrImageTooSmall:
		return fmt.Sprintf("image is %dx%d px; each side must be at least %d px", e.Width, e.Height, e.Limit)
	}
	return fmt.Sprintf("%v: %d %s, limit %d", e.Kind, e.Actual, e.Unit, e.Limit)
}

// Unwrap returns the error kind.
func (e *LimitError) Unwrap() error { return e.Kind }

func formatMB(n int64) string {
	if n%1_000_000 == 0 {
		return fmt.Sprintf("%d MB", n/1_000_000)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/1e6)
}

func formatMP(n int64) string {
	if n%1_000_000 == 0 {
		return fmt.Sprintf("%d", n/1_000_000)
	}
	return fmt.Sprintf("%.1f", float64(n)/1e6)
}

// Format is a sniffed container format.
type Format string

// Accepted formats.
const (
	JPEG Format = "jpeg"
	PNG  Format = "png"
	WebP Format = "webp"
)

// Sniff identifies the format from the magic bytes. Known but unsupported
// formats (GIF, BMP, TIFF, HEIF/AVIF) and unknown data return an error
// wrapping livenessd.ErrUnsupportedImage.
func Sniff(data []byte) (Format, error) {
	switch {
	case len(data) == 0:
		return "", fmt.Errorf("imageio: empty input: %w", livenessd.ErrInvalidImage)
	case bytes.HasPrefix(data, []byte{0xFF, 0xD8, 0xFF}):
		return JPEG, nil
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return PNG, nil
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		return WebP, nil
	}
	name := "unknown"
	switch {
	case bytes.HasPrefix(data, []byte("GIF8")):
		name = "GIF"
	case bytes.HasPrefix(data, []byte("BM")):
		name = "BMP"
	case bytes.HasPrefix(data, []byte("II*\x00")), bytes.HasPrefix(data, []byte("MM\x00*")):
		name = "TIFF"
	case len(data) >= 12 && string(data[4:8]) == "ftyp":
		name = "HEIF/AVIF"
	}
	return "", fmt.Errorf("imageio: %s format (accepted: JPEG, PNG, WebP): %w", name, livenessd.ErrUnsupportedImage)
}

// Config checks the byte limit, sniffs the format and reads the header, and
// enforces the pixel and side limits; no pixel data is decoded.
func Config(data []byte, lim Limits) (Format, image.Config, error) {
	if lim.MaxBytes > 0 && int64(len(data)) > lim.MaxBytes {
		return "", image.Config{}, fmt.Errorf("imageio: %w",
			&LimitError{Kind: livenessd.ErrImageTooLarge, Limit: lim.MaxBytes, Actual: int64(len(data)), Unit: UnitBytes})
	}
	f, err := Sniff(data)
	if err != nil {
		return "", image.Config{}, err
	}
	var cfg image.Config
	r := bytes.NewReader(data)
	switch f {
	case JPEG:
		cfg, err = jpeg.DecodeConfig(r)
	case PNG:
		cfg, err = png.DecodeConfig(r)
	case WebP:
		cfg, err = webp.DecodeConfig(r)
	}
	if err != nil {
		return f, cfg, fmt.Errorf("imageio: %s header: %v: %w", f, err, livenessd.ErrInvalidImage)
	}
	if err := checkDims(cfg.Width, cfg.Height, lim); err != nil {
		return f, cfg, err
	}
	if f == JPEG {
		// Every progressive scan walks all blocks of the image, and an
		// AC scan made of end-of-band runs costs a few dozen bytes: 130 KB
		// of such scans over 36 megapixels kept the standard decoder busy
		// for about a minute here.
		if limit := maxScans(cfg.Width, cfg.Height); jpegScans(data, limit+1) > limit {
			return f, cfg, fmt.Errorf("imageio: jpeg has more than %d scans for %dx%d pixels: %w",
				limit, cfg.Width, cfg.Height, livenessd.ErrInvalidImage)
		}
	}
	return f, cfg, nil
}

// Scan limits of progressive JPEGs: at most MaxJPEGScans, and at most
// jpegScanBudget/pixels but never fewer than 12 (12 at 40 megapixels, 33
// at 12). Encoders write about 10 scans (libjpeg's progressive script for
// colour has 10); a scan over 36 megapixels costs roughly 0.1-0.2 s.
const (
	MaxJPEGScans   = 100
	jpegScanBudget = 400_000_000 // pixel-scans
	minJPEGScans   = 12
)

func maxScans(w, h int) int {
	px := max(int64(w)*int64(h), 1)
	return int(min(MaxJPEGScans, max(minJPEGScans, jpegScanBudget/px)))
}

// jpegScans counts start-of-scan markers, stopping at limit. It walks the
// marker segments and skips entropy-coded data to the next marker that is
// not a restart marker or a stuffed 0xFF00.
func jpegScans(d []byte, limit int) int {
	n, p := 0, 2
	for p+4 <= len(d) && n < limit {
		if d[p] != 0xFF {
			return n // not at a marker: let the decoder report the corruption
		}
		m := d[p+1]
		switch {
		case m == 0xFF: // fill byte
			p++
			continue
		case m == 0xD9: // EOI
			return n
		case m == 0x01 || (m >= 0xD0 && m <= 0xD7):
			p += 2
			continue
		}
		l := int(binary.BigEndian.Uint16(d[p+2:]))
		if l < 2 {
			return n
		}
		p += 2 + l
		if m != 0xDA {
			continue
		}
		n++
		// Entropy-coded data runs to the next real marker.
		for p < len(d) {
			i := bytes.IndexByte(d[p:], 0xFF)
			if i < 0 || p+i+1 >= len(d) {
				return n
			}
			p += i
			if next := d[p+1]; next != 0x00 && (next < 0xD0 || next > 0xD7) {
				break
			}
			p += 2
		}
	}
	return n
}

// jpegProgressive reports whether the frame header before the first scan
// is progressive (SOF2, SOF6, SOF10, SOF14): such a decode keeps every
// coefficient of the image.
func jpegProgressive(d []byte) bool {
	p := 2
	for p+4 <= len(d) {
		if d[p] != 0xFF {
			return false
		}
		m := d[p+1]
		switch {
		case m == 0xFF:
			p++
			continue
		case m == 0xC2 || m == 0xC6 || m == 0xCA || m == 0xCE:
			return true
		case m == 0xDA || m == 0xD9 || m == 0xC0 || m == 0xC1 || m == 0xC3:
			return false
		case m == 0x01 || (m >= 0xD0 && m <= 0xD7):
			p += 2
			continue
		}
		l := int(binary.BigEndian.Uint16(d[p+2:]))
		if l < 2 {
			return false
		}
		p += 2 + l
	}
	return false
}

func checkDims(w, h int, lim Limits) error {
	if w <= 0 || h <= 0 {
		return fmt.Errorf("imageio: header declares %dx%d: %w", w, h, livenessd.ErrInvalidImage)
	}
	px := int64(w) * int64(h)
	if lim.MaxPixels > 0 && px > lim.MaxPixels {
		return fmt.Errorf("imageio: %w", &LimitError{Kind: livenessd.ErrTooManyPixels, Limit: lim.MaxPixels,
			Actual: px, Unit: UnitPixels, Width: w, Height: h})
	}
	if lim.MinSide > 0 && min(w, h) < lim.MinSide {
		return fmt.Errorf("imageio: %w", &LimitError{Kind: livenessd.ErrImageTooSmall, Limit: int64(lim.MinSide),
			Actual: int64(min(w, h)), Unit: UnitPixels, Width: w, Height: h})
	}
	return nil
}

// Decode checks the limits (bytes, then the header's pixels and sides),
// decodes the pixels, applies the EXIF orientation and returns an opaque
// NRGBA image with origin (0,0). Transparent pixels are composited over
// white. Errors wrap livenessd.ErrImageTooLarge, ErrTooManyPixels,
// ErrImageTooSmall (as *LimitError), ErrUnsupportedImage or ErrInvalidImage.
func Decode(data []byte, lim Limits) (*image.NRGBA, error) {
	img, o, release, err := decodeRaw(data, lim)
	if err != nil {
		return nil, err
	}
	defer release()
	out := toNRGBA(img)
	if o > 1 {
		out = Orient(out, o)
	}
	return out, nil
}

// DecodeImage is Decode without the conversion to NRGBA when none is
// needed: an upright JPEG or lossy WebP without alpha comes back as the
// decoder's *image.YCbCr (or *image.Gray), which saves a full pass over
// the pixels for consumers that read YCbCr directly. Everything else (PNG,
// lossless WebP, transparency, EXIF rotation) is returned as Decode
// returns it. Origin is (0,0) either way.
func DecodeImage(data []byte, lim Limits) (image.Image, error) {
	img, o, release, err := decodeRaw(data, lim)
	if err != nil {
		return nil, err
	}
	defer release()
	if o <= 1 && img.Bounds().Min == (image.Point{}) {
		switch img.(type) {
		case *image.YCbCr, *image.Gray:
			return img, nil
		}
	}
	out := toNRGBA(img)
	if o > 1 {
		out = Orient(out, o)
	}
	return out, nil
}

// decodeRaw checks the limits, reserves the decode's memory and decodes;
// it returns the decoder's image, the EXIF orientation still to apply and
// the release of the reservation, to call once the image is converted.
func decodeRaw(data []byte, lim Limits) (_ image.Image, _ int, release func(), err error) {
	f, cfg, err := Config(data, lim)
	if err != nil {
		return nil, 0, nil, err
	}
	release, err = lim.Budget.reserve(decodeCost(f, cfg, f == JPEG && jpegProgressive(data)), cfg.Width, cfg.Height)
	if err != nil {
		return nil, 0, nil, err
	}
	img, o, err := decodeFormat(data, f)
	if err != nil {
		release()
		return nil, 0, nil, err
	}
	return img, o, release, nil
}

// decodeFormat decodes data, known to be in format f.
func decodeFormat(data []byte, f Format) (image.Image, int, error) {
	var err error
	var img image.Image
	r := bytes.NewReader(data)
	switch f {
	case JPEG:
		img, err = jpeg.Decode(r)
	case PNG:
		img, err = png.Decode(r)
	case WebP:
		img, err = webp.Decode(r)
	}
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return nil, 0, fmt.Errorf("imageio: %s truncated: %v: %w", f, err, livenessd.ErrInvalidImage)
		}
		return nil, 0, fmt.Errorf("imageio: %s: %v: %w", f, err, livenessd.ErrInvalidImage)
	}
	return img, Orientation(data), nil
}

// toNRGBA converts any decoded image to an opaque NRGBA with origin (0,0),
// with fast paths for the decoders' usual outputs.
func toNRGBA(img image.Image) *image.NRGBA {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	switch src := img.(type) {
	case *image.YCbCr:
		// draw's YCbCr fast path writes RGBA; opaque RGBA and NRGBA share bytes.
		dst := image.NewRGBA(image.Rect(0, 0, w, h))
		draw.Draw(dst, dst.Bounds(), src, b.Min, draw.Src)
		return &image.NRGBA{Pix: dst.Pix, Stride: dst.Stride, Rect: dst.Rect}
	case *image.Gray:
		dst := image.NewNRGBA(image.Rect(0, 0, w, h))
		for y := range h {
			s := src.Pix[(y+b.Min.Y-src.Rect.Min.Y)*src.Stride+(b.Min.X-src.Rect.Min.X):]
			d := dst.Pix[y*dst.Stride:]
			for x := range w {
				v := s[x]
				d[4*x], d[4*x+1], d[4*x+2], d[4*x+3] = v, v, v, 255
			}
		}
		return dst
	case *image.NRGBA:
		dst := image.NewNRGBA(image.Rect(0, 0, w, h))
		for y := range h {
			copy(dst.Pix[y*dst.Stride:y*dst.Stride+4*w], src.Pix[src.PixOffset(b.Min.X, b.Min.Y+y):])
		}
		flattenNRGBA(dst)
		return dst
	}
	dst := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		d := dst.Pix[y*dst.Stride:]
		for x := range w {
			c := color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
			d[4*x], d[4*x+1], d[4*x+2], d[4*x+3] = c.R, c.G, c.B, c.A
		}
	}
	flattenNRGBA(dst)
	return dst
}

// flattenNRGBA composites non-opaque pixels over white and makes them opaque,
// so colour under transparent areas cannot leak into a model input.
func flattenNRGBA(m *image.NRGBA) {
	p := m.Pix
	for i := 3; i < len(p); i += 4 {
		a := uint32(p[i])
		if a == 255 {
			continue
		}
		for c := i - 3; c < i; c++ {
			p[c] = uint8((uint32(p[c])*a + 255*(255-a) + 127) / 255)
		}
		p[i] = 255
	}
}
