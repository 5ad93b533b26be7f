package imageio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/testutil"
)

// gradient returns a w x h opaque image with distinct values everywhere.
func gradient(w, h int) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			m.SetNRGBA(x, y, color.NRGBA{uint8(x * 255 / max(w-1, 1)), uint8(y * 255 / max(h-1, 1)), 128, 255})
		}
	}
	return m
}

func encPNG(t testing.TB, m image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encJPEG(t testing.TB, m image.Image, q int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, m, &jpeg.Options{Quality: q}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func readFile(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// tiffWithOrientation builds a minimal TIFF header + IFD0 holding one
// orientation entry (SHORT), in the given byte order.
func tiffWithOrientation(o uint16, bo binary.ByteOrder) []byte {
	t := make([]byte, 8+2+12+4)
	if bo == binary.LittleEndian {
		copy(t, "II")
	} else {
		copy(t, "MM")
	}
	bo.PutUint16(t[2:], 42)
	bo.PutUint32(t[4:], 8)
	bo.PutUint16(t[8:], 1)
	e := t[10:]
	bo.PutUint16(e[0:], 0x0112)
	bo.PutUint16(e[2:], 3)
	bo.PutUint32(e[4:], 1)
	bo.PutUint16(e[8:], o)
	return t
}

// withExif inserts an APP1 Exif segment right after the JPEG SOI marker.
func withExif(jpg []byte, o uint16, bo binary.ByteOrder) []byte {
	payload := append([]byte("Exif\x00\x00"), tiffWithOrientation(o, bo)...)
	seg := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(payload)+2))
	seg = append(seg, payload...)
	out := append([]byte{}, jpg[:2]...)
	out = append(out, seg...)
	return append(out, jpg[2:]...)
}

func pngChunkBytes(typ string, data []byte) []byte {
	c := make([]byte, 8, 12+len(data))
	binary.BigEndian.PutUint32(c, uint32(len(data)))
	copy(c[4:], typ)
	c = append(c, data...)
	return binary.BigEndian.AppendUint32(c, crc32.ChecksumIEEE(c[4:]))
}

// pngHeader returns a PNG whose IHDR declares w x h, followed by a tiny IDAT.
func pngHeader(w, h uint32) []byte {
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr, w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2 // 8-bit RGB
	out := []byte("\x89PNG\r\n\x1a\n")
	out = append(out, pngChunkBytes("IHDR", ihdr)...)
	out = append(out, pngChunkBytes("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})...)
	return append(out, pngChunkBytes("IEND", nil)...)
}

// jpegHeader returns SOI, a JFIF APP0 and a baseline SOF0 declaring w x h
// (no tables, no image data).
func jpegHeader(w, h uint16) []byte {
	app0 := []byte{0xFF, 0xE0, 0, 16, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0}
	sof := []byte{0xFF, 0xC0, 0, 17, 8, 0, 0, 0, 0, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1}
	binary.BigEndian.PutUint16(sof[5:], h)
	binary.BigEndian.PutUint16(sof[7:], w)
	return append(append([]byte{0xFF, 0xD8}, app0...), sof...)
}

func TestDecodeFormats(t *testing.T) {
	sample := readFile(t, testutil.Sample(t, 1))
	sampleCfg, err := jpeg.DecodeConfig(bytes.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	grad := gradient(160, 120)
	gray := image.NewGray(image.Rect(0, 0, 100, 90))
	for i := range gray.Pix {
		gray.Pix[i] = uint8(i)
	}
	alpha := image.NewNRGBA(image.Rect(0, 0, 100, 100))
	for i := 0; i < len(alpha.Pix); i += 4 {
		copy(alpha.Pix[i:], []byte{0, 0, 0, 0}) // fully transparent black
	}
	alpha.SetNRGBA(0, 0, color.NRGBA{255, 0, 0, 255})
	for _, tc := range []struct {
		name       string
		data       []byte
		w, h       int
		check      func(t *testing.T, m *image.NRGBA)
		maxChanDev int // per-channel tolerance against want, when set
		want       image.Image
	}{
		{name: "SampleJPEG", data: sample, w: sampleCfg.Width, h: sampleCfg.Height},
		{name: "PNGExact", data: encPNG(t, grad), w: 160, h: 120, want: grad},
		{name: "JPEG", data: encJPEG(t, grad, 95), w: 160, h: 120, want: grad, maxChanDev: 12},
		{name: "GrayJPEG", data: encJPEG(t, gray, 100), w: 100, h: 90, want: gray, maxChanDev: 4},
		{name: "GrayPNG", data: encPNG(t, gray), w: 100, h: 90, want: gray},
		{name: "PNGAlphaOverWhite", data: encPNG(t, alpha), w: 100, h: 100, check: func(t *testing.T, m *image.NRGBA) {
			if got := m.NRGBAAt(0, 0); got != (color.NRGBA{255, 0, 0, 255}) {
				t.Errorf("opaque pixel = %v", got)
			}
			if got := m.NRGBAAt(50, 50); got != (color.NRGBA{255, 255, 255, 255}) {
				t.Errorf("transparent pixel = %v, want white", got)
			}
		}},
		{name: "WebPLossy", data: readFile(t, filepath.Join("testdata", "face.lossy.webp")), w: 200, h: 240},
		{name: "WebPLossless", data: readFile(t, filepath.Join("testdata", "face.lossless.webp")), w: 200, h: 240},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Decode(tc.data, DefaultLimits())
			if err != nil {
				t.Fatal(err)
			}
			if got := m.Bounds(); got != image.Rect(0, 0, tc.w, tc.h) {
				t.Fatalf("bounds %v, want %dx%d", got, tc.w, tc.h)
			}
			for i := 3; i < len(m.Pix); i += 4 {
				if m.Pix[i] != 255 {
					t.Fatalf("pixel %d not opaque", i/4)
				}
			}
			if tc.want != nil {
				if d := maxDev(m, tc.want); d > tc.maxChanDev {
					t.Errorf("max channel deviation %d, want <= %d", d, tc.maxChanDev)
				}
			}
			if tc.check != nil {
				tc.check(t, m)
			}
		})
	}
}

func maxDev(a *image.NRGBA, b image.Image) int {
	d := 0
	for y := range a.Rect.Dy() {
		for x := range a.Rect.Dx() {
			p := a.NRGBAAt(x, y)
			q := color.NRGBAModel.Convert(b.At(b.Bounds().Min.X+x, b.Bounds().Min.Y+y)).(color.NRGBA)
			for _, v := range []int{int(p.R) - int(q.R), int(p.G) - int(q.G), int(p.B) - int(q.B)} {
				d = max(d, v, -v)
			}
		}
	}
	return d
}

func TestDecodeLimits(t *testing.T) {
	sample := readFile(t, testutil.Sample(t, 2))
	small := encPNG(t, gradient(79, 300))
	for _, tc := range []struct {
		name    string
		data    []byte
		lim     Limits
		kind    error
		message string
		limit   int64
	}{
		{name: "Bytes", data: sample, lim: Limits{MaxBytes: 50_000}, kind: livenessd.ErrImageTooLarge,
			message: "the limit is 0.1 MB", limit: 50_000},
		{name: "BytesDefault", data: make([]byte, 16_200_000), lim: DefaultLimits(), kind: livenessd.ErrImageTooLarge,
			message: "image is 16.2 MB; the limit is 15 MB", limit: 15_000_000},
		{name: "Pixels", data: sample, lim: Limits{MaxPixels: 100_000}, kind: livenessd.ErrTooManyPixels,
			message: "the limit is 0.1 megapixels", limit: 100_000},
		{name: "HugePNGHeader", data: pngHeader(100000, 100000), lim: DefaultLimits(), kind: livenessd.ErrTooManyPixels,
			message: "image is 100000x100000 (10000 megapixels); the limit is 40 megapixels", limit: 40_000_000},
		{name: "HugeJPEGHeader", data: jpegHeader(65000, 65000), lim: DefaultLimits(), kind: livenessd.ErrTooManyPixels,
			message: "the limit is 40 megapixels", limit: 40_000_000},
		{name: "MinSide", data: small, lim: DefaultLimits(), kind: livenessd.ErrImageTooSmall,
			message: "image is 79x300 px; each side must be at least 80 px", limit: 80},
		{name: "TinyJPEGHeader", data: jpegHeader(4000, 40), lim: DefaultLimits(), kind: livenessd.ErrImageTooSmall,
			message: "at least 80 px", limit: 80},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			m, err := Decode(tc.data, tc.lim)
			runtime.ReadMemStats(&ms1)
			if !errors.Is(err, tc.kind) {
				t.Fatalf("err = %v, want %v", err, tc.kind)
			}
			if m != nil {
				t.Error("image returned with an error")
			}
			if !strings.Contains(err.Error(), tc.message) {
				t.Errorf("message %q does not contain %q", err, tc.message)
			}
			var le *LimitError
			if !errors.As(err, &le) || le.Limit != tc.limit {
				t.Errorf("LimitError = %+v, want limit %d", le, tc.limit)
			}
			// Refused from the header: nothing near the pixel buffer was allocated.
			if got := ms1.TotalAlloc - ms0.TotalAlloc; got > 1<<20 {
				t.Errorf("allocated %d bytes before refusing", got)
			}
		})
	}
	t.Run("ZeroDisables", func(t *testing.T) {
		if _, err := Decode(small, Limits{}); err != nil {
			t.Fatal(err)
		}
	})
}

func TestDecodeBadInput(t *testing.T) {
	sample := readFile(t, testutil.Sample(t, 3))
	var gifBuf bytes.Buffer
	if err := gif.Encode(&gifBuf, gradient(100, 100), nil); err != nil {
		t.Fatal(err)
	}
	pngData := encPNG(t, gradient(120, 120))
	corruptPNG := bytes.Clone(pngData)
	corruptPNG[len(corruptPNG)-20] ^= 0xFF // inside IDAT: checksum mismatch
	corruptJPEG := bytes.Clone(sample)
	for i := len(corruptJPEG) / 3; i < len(corruptJPEG)/3+64; i++ {
		corruptJPEG[i] = 0xFF // a run of markers inside the entropy-coded data
	}
	for _, tc := range []struct {
		name string
		data []byte
		kind error
	}{
		{"Empty", nil, livenessd.ErrInvalidImage},
		{"GIF", gifBuf.Bytes(), livenessd.ErrUnsupportedImage},
		{"BMP", append([]byte("BM"), make([]byte, 200)...), livenessd.ErrUnsupportedImage},
		{"TIFF", append([]byte("II*\x00"), make([]byte, 200)...), livenessd.ErrUnsupportedImage},
		{"HEIC", append([]byte("\x00\x00\x00\x18ftypheic"), make([]byte, 200)...), livenessd.ErrUnsupportedImage},
		{"Text", []byte("hello, this is not an image"), livenessd.ErrUnsupportedImage},
		{"TruncatedJPEG", sample[:len(sample)/2], livenessd.ErrInvalidImage},
		{"JPEGHeaderOnly", sample[:300], livenessd.ErrInvalidImage},
		{"CorruptJPEG", corruptJPEG, livenessd.ErrInvalidImage},
		{"TruncatedPNG", pngData[:len(pngData)/2], livenessd.ErrInvalidImage},
		{"CorruptPNG", corruptPNG, livenessd.ErrInvalidImage},
		{"PNGSignatureOnly", pngData[:8], livenessd.ErrInvalidImage},
		{"TruncatedWebP", readFile(t, filepath.Join("testdata", "face.lossy.webp"))[:400], livenessd.ErrInvalidImage},
		{"PNGZeroDims", pngHeader(0, 0), livenessd.ErrInvalidImage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Decode(tc.data, DefaultLimits())
			if !errors.Is(err, tc.kind) {
				t.Fatalf("err = %v, want %v", err, tc.kind)
			}
			if m != nil {
				t.Error("image returned with an error")
			}
		})
	}
}

// TestDecodeEXIF checks every orientation in both byte orders: a red block
// in the stored top-left corner and a blue one in the stored top-right corner
// must land where a viewer shows them.
func TestDecodeEXIF(t *testing.T) {
	const w, h, s = 160, 96, 24
	src := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range src.Pix {
		src.Pix[i] = 255
	}
	fill := func(x0, y0 int, c color.NRGBA) {
		for y := y0; y < y0+s; y++ {
			for x := x0; x < x0+s; x++ {
				src.SetNRGBA(x, y, c)
			}
		}
	}
	red, blue := color.NRGBA{255, 0, 0, 255}, color.NRGBA{0, 0, 255, 255}
	fill(0, 0, red)
	fill(w-s, 0, blue)
	jpg := encJPEG(t, src, 95)
	type corner int
	const (
		TL corner = iota
		TR
		BL
		BR
	)
	for _, tc := range []struct {
		o         uint16
		red, blue corner
	}{
		{1, TL, TR}, {2, TR, TL}, {3, BR, BL}, {4, BL, BR},
		{5, TL, BL}, {6, TR, BR}, {7, BR, TR}, {8, BL, TL},
	} {
		for _, bo := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
			t.Run(bo.String()+string(rune('0'+tc.o)), func(t *testing.T) {
				data := withExif(jpg, tc.o, bo)
				if got := Orientation(data); got != int(tc.o) {
					t.Fatalf("Orientation = %d, want %d", got, tc.o)
				}
				m, err := Decode(data, DefaultLimits())
				if err != nil {
					t.Fatal(err)
				}
				dw, dh := w, h
				if tc.o >= 5 {
					dw, dh = h, w
				}
				if m.Bounds() != image.Rect(0, 0, dw, dh) {
					t.Fatalf("bounds %v, want %dx%d", m.Bounds(), dw, dh)
				}
				at := func(c corner) color.NRGBA {
					x, y := s/2, s/2
					if c == TR || c == BR {
						x = dw - 1 - s/2
					}
					if c == BL || c == BR {
						y = dh - 1 - s/2
					}
					return m.NRGBAAt(x, y)
				}
				if c := at(tc.red); c.R < 200 || c.B > 60 {
					t.Errorf("red corner %d = %v", tc.red, c)
				}
				if c := at(tc.blue); c.B < 200 || c.R > 60 {
					t.Errorf("blue corner %d = %v", tc.blue, c)
				}
			})
		}
	}
	t.Run("SamplePhotoRotated", func(t *testing.T) {
		data := readFile(t, testutil.Sample(t, 4))
		plain, err := Decode(data, DefaultLimits())
		if err != nil {
			t.Fatal(err)
		}
		rot, err := Decode(withExif(data, 6, binary.BigEndian), DefaultLimits())
		if err != nil {
			t.Fatal(err)
		}
		pw, ph := plain.Rect.Dx(), plain.Rect.Dy()
		if rot.Rect.Dx() != ph || rot.Rect.Dy() != pw {
			t.Fatalf("rotated %v, plain %v", rot.Rect, plain.Rect)
		}
		// 90 degrees clockwise: display (x, y) is stored (y, h-1-x).
		for _, p := range []image.Point{{0, 0}, {10, 200}, {ph - 1, pw - 1}, {ph / 2, pw / 3}} {
			if a, b := rot.NRGBAAt(p.X, p.Y), plain.NRGBAAt(p.Y, ph-1-p.X); a != b {
				t.Errorf("rotated %v = %v, stored = %v", p, a, b)
			}
		}
	})
	t.Run("PNGeXIf", func(t *testing.T) {
		p := encPNG(t, gradient(120, 90))
		// Insert eXIf after IHDR (8 signature + 25 IHDR bytes).
		data := append(append(bytes.Clone(p[:33]), pngChunkBytes("eXIf", tiffWithOrientation(8, binary.BigEndian))...), p[33:]...)
		m, err := Decode(data, DefaultLimits())
		if err != nil {
			t.Fatal(err)
		}
		if m.Bounds() != image.Rect(0, 0, 90, 120) {
			t.Errorf("bounds %v, want 90x120", m.Bounds())
		}
	})
	t.Run("WebPEXIFChunk", func(t *testing.T) {
		webp := readFile(t, filepath.Join("testdata", "face.exif6.webp"))
		if got := Orientation(webp); got != 6 {
			t.Fatalf("Orientation = %d, want 6", got)
		}
		m, err := Decode(webp, DefaultLimits())
		if err != nil {
			t.Fatal(err)
		}
		if m.Bounds() != image.Rect(0, 0, 240, 200) {
			t.Errorf("bounds %v, want 240x200", m.Bounds())
		}
	})
}

func TestOrientationMalformed(t *testing.T) {
	jpg := encJPEG(t, gradient(100, 100), 80)
	good := withExif(jpg, 6, binary.LittleEndian)
	for _, tc := range []struct {
		name string
		data []byte
		want int
	}{
		{"NoExif", jpg, 1},
		{"Good", good, 6},
		{"ValueZero", withExif(jpg, 0, binary.LittleEndian), 1},
		{"ValueNine", withExif(jpg, 9, binary.LittleEndian), 1},
		{"TruncatedSegment", good[:20], 1},
		{"BadSegmentLength", append([]byte{0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF}, make([]byte, 10)...), 1},
		{"BadIFDOffset", func() []byte {
			d := bytes.Clone(good)
			copy(d[4+2+6+4:], []byte{0xFF, 0xFF, 0xFF, 0x7F})
			return d
		}(), 1},
		{"Empty", nil, 1},
		{"AfterJFIFAndXMP", func() []byte {
			app0 := []byte{0xFF, 0xE0, 0, 16, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0}
			xmp := append([]byte{0xFF, 0xE1, 0, 2 + 29}, []byte("http://ns.adobe.com/xap/1.0/\x00")...)
			withO := withExif(jpg, 3, binary.BigEndian)
			out := append([]byte{0xFF, 0xD8}, app0...)
			out = append(out, xmp...)
			return append(out, withO[2:]...)
		}(), 3},
		{"ExifAfterScanIgnored", append(bytes.Clone(jpg[:len(jpg)-2]), withExif([]byte{0xFF, 0xD8}, 6, binary.BigEndian)[2:]...), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Orientation(tc.data); got != tc.want {
				t.Errorf("Orientation = %d, want %d", got, tc.want)
			}
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	data := readFile(b, testutil.Sample(b, 1))
	lim := DefaultLimits()
	b.Run("NRGBA", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Decode(data, lim); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Native", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := DecodeImage(data, lim); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// progressiveJPEG builds a w x h grey progressive JPEG whose coefficients
// are all zero: one DC scan (one bit per block) and acScans AC scans that
// each cover every block with end-of-band runs of 32767 blocks (a few
// bytes per scan, a walk over all blocks for the decoder).
func progressiveJPEG(w, h, acScans int) []byte {
	seg := func(marker byte, body ...byte) []byte {
		s := []byte{0xFF, marker, 0, 0}
		binary.BigEndian.PutUint16(s[2:], uint16(len(body)+2))
		return append(s, body...)
	}
	out := []byte{0xFF, 0xD8}
	out = append(out, seg(0xDB, append([]byte{0}, bytes.Repeat([]byte{1}, 64)...)...)...)
	sof := []byte{8, 0, 0, 0, 0, 1, 1, 0x11, 0}
	binary.BigEndian.PutUint16(sof[1:], uint16(h))
	binary.BigEndian.PutUint16(sof[3:], uint16(w))
	out = append(out, seg(0xC2, sof...)...)
	one := append([]byte{1}, make([]byte, 15)...) // one code of length 1
	dht := append(append([]byte{0x00}, one...), 0x00)
	dht = append(append(append(dht, 0x10), one...), 0xE0) // AC: EOBRUN with 14 extra bits
	out = append(out, seg(0xC4, dht...)...)
	blocks := ((w + 7) / 8) * ((h + 7) / 8)
	out = append(out, seg(0xDA, 1, 1, 0x00, 0, 0, 0x00)...)
	dc := make([]byte, (blocks+7)/8) // '0' per block: DC difference category 0
	if r := blocks % 8; r != 0 {
		dc[len(dc)-1] = 0xFF >> r
	}
	out = append(out, dc...)
	// '0' + 14 ones = an end-of-band run of 32767 blocks.
	var bits []byte
	for covered := 0; covered < blocks; covered += 32767 {
		bits = append(bits, 0)
		for range 14 {
			bits = append(bits, 1)
		}
	}
	for len(bits)%8 != 0 {
		bits = append(bits, 1)
	}
	var ac []byte
	for i := 0; i < len(bits); i += 8 {
		var b byte
		for _, v := range bits[i : i+8] {
			b = b<<1 | v
		}
		ac = append(ac, b)
		if b == 0xFF {
			ac = append(ac, 0x00)
		}
	}
	for range acScans {
		out = append(out, seg(0xDA, 1, 1, 0x00, 1, 63, 0x00)...)
		out = append(out, ac...)
	}
	return append(out, 0xFF, 0xD9)
}

func TestDecodeProgressiveScanLimit(t *testing.T) {
	ok := progressiveJPEG(640, 480, 9)
	if n := jpegScans(ok, 1000); n != 10 {
		t.Fatalf("counted %d scans, want 10", n)
	}
	m, err := Decode(ok, DefaultLimits())
	if err != nil {
		t.Fatalf("10-scan progressive JPEG: %v", err)
	}
	if c := m.NRGBAAt(100, 100); c.R != 128 || c.G != 128 || c.B != 128 {
		t.Errorf("pixel %v, want grey 128", c)
	}
	// 20000 scans in 1.3 MB: without the limit the decoder would walk
	// 560,000 blocks 20000 times (1000 scans took about a minute here).
	for _, tc := range []struct {
		w, h, scans int
		ok          bool
	}{
		{6000, 6000, 20000, false},
		{6000, 6000, 13, false}, // 36 MP: at most 12 scans
		{6000, 6000, 12, true},
		{4000, 3000, 34, false}, // 12 MP: at most 33
		{4000, 3000, 33, true},
		{640, 480, 101, false}, // small: at most 100
		{640, 480, 100, true},
	} {
		data := progressiveJPEG(tc.w, tc.h, tc.scans-1)
		start := time.Now()
		if tc.ok {
			if _, _, err := Config(data, DefaultLimits()); err != nil {
				t.Errorf("%dx%d with %d scans: %v", tc.w, tc.h, tc.scans, err)
			}
			continue
		}
		_, err := Decode(data, DefaultLimits())
		if !errors.Is(err, livenessd.ErrInvalidImage) || !strings.Contains(err.Error(), "scans") {
			t.Fatalf("%dx%d with %d scans: err = %v", tc.w, tc.h, tc.scans, err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("refusing took %v", d)
		}
	}
}

func TestDecodeImage(t *testing.T) {
	sample := readFile(t, testutil.Sample(t, 5))
	plain, err := Decode(sample, DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	gray := image.NewGray(image.Rect(0, 0, 100, 90))
	for _, tc := range []struct {
		name string
		data []byte
		want string // dynamic type
	}{
		{"UprightJPEG", sample, "*image.YCbCr"},
		{"GrayJPEG", encJPEG(t, gray, 90), "*image.Gray"},
		{"RotatedJPEG", withExif(sample, 8, binary.LittleEndian), "*image.NRGBA"},
		{"PNG", encPNG(t, gradient(100, 100)), "*image.NRGBA"},
		{"WebPLossy", readFile(t, filepath.Join("testdata", "face.lossy.webp")), "*image.YCbCr"},
		{"WebPLossless", readFile(t, filepath.Join("testdata", "face.lossless.webp")), "*image.NRGBA"},
		{"WebPRotated", readFile(t, filepath.Join("testdata", "face.exif6.webp")), "*image.NRGBA"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := DecodeImage(tc.data, DefaultLimits())
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprintf("%T", m); got != tc.want {
				t.Errorf("type %s, want %s", got, tc.want)
			}
			if m.Bounds().Min != (image.Point{}) {
				t.Errorf("origin %v", m.Bounds().Min)
			}
		})
	}
	// Same pixels as Decode.
	m, _ := DecodeImage(sample, DefaultLimits())
	if d := maxDev(plain, m); d != 0 {
		t.Errorf("DecodeImage differs from Decode by %d", d)
	}
	if _, err := DecodeImage(pngHeader(100000, 100000), DefaultLimits()); !errors.Is(err, livenessd.ErrTooManyPixels) {
		t.Errorf("huge header: %v", err)
	}
}
