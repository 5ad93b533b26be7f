package imageio

import (
	"encoding/binary"
	"image"
)

// Orientation returns the EXIF orientation (1..8) stored in a JPEG APP1
// segment, a WebP EXIF chunk or a PNG eXIf chunk, or 1 when there is none or
// it cannot be read. It never reads outside data and does bounded work: it
// walks at most maxSegments segments/chunks and maxIFDEntries IFD0 entries.
func Orientation(data []byte) int {
	var tiff []byte
	switch {
	case len(data) >= 2 && data[0] == 0xFF && data[1] == 0xD8:
		tiff = jpegExif(data)
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		tiff = riffChunk(data, "EXIF")
	case len(data) >= 8 && string(data[:8]) == "\x89PNG\r\n\x1a\n":
		tiff = pngChunk(data, "eXIf")
	}
	if tiff == nil {
		return 1
	}
	// Some writers keep the JPEG "Exif\0\0" prefix inside WebP/PNG chunks.
	if len(tiff) >= 6 && string(tiff[:6]) == "Exif\x00\x00" {
		tiff = tiff[6:]
	}
	return tiffOrientation(tiff)
}

const (
	maxSegments   = 64
	maxIFDEntries = 512
	tagOrient     = 0x0112
)

// jpegExif returns the TIFF payload of the first APP1 "Exif" segment before
// the image data.
func jpegExif(d []byte) []byte {
	p := 2
	for range maxSegments {
		// Skip fill bytes.
		for p < len(d) && d[p] == 0xFF && p+1 < len(d) && d[p+1] == 0xFF {
			p++
		}
		if p+4 > len(d) || d[p] != 0xFF {
			return nil
		}
		marker := d[p+1]
		if marker == 0xDA || marker == 0xD9 { // SOS/EOI: no metadata after this point
			return nil
		}
		if marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7) { // standalone markers
			p += 2
			continue
		}
		n := int(binary.BigEndian.Uint16(d[p+2:]))
		if n < 2 || p+2+n > len(d) {
			return nil
		}
		seg := d[p+4 : p+2+n]
		if marker == 0xE1 && len(seg) >= 6 && string(seg[:6]) == "Exif\x00\x00" {
			return seg[6:]
		}
		p += 2 + n
	}
	return nil
}

// riffChunk returns the payload of the first top-level chunk with the id.
func riffChunk(d []byte, id string) []byte {
	p := 12
	for range maxSegments {
		if p+8 > len(d) {
			return nil
		}
		n := int64(binary.LittleEndian.Uint32(d[p+4:]))
		end := int64(p+8) + n
		if end > int64(len(d)) {
			return nil
		}
		if string(d[p:p+4]) == id {
			return d[p+8 : end]
		}
		p = int(end + n&1) // chunks are padded to even sizes
	}
	return nil
}

// pngChunk returns the payload of the first chunk with the id before IDAT.
func pngChunk(d []byte, id string) []byte {
	p := 8
	for range maxSegments {
		if p+8 > len(d) {
			return nil
		}
		n := int64(binary.BigEndian.Uint32(d[p:]))
		end := int64(p+8) + n
		if end+4 > int64(len(d)) {
			return nil
		}
		typ := string(d[p+4 : p+8])
		if typ == id {
			return d[p+8 : end]
		}
		if typ == "IDAT" || typ == "IEND" {
			return nil
		}
		p = int(end + 4) // CRC
	}
	return nil
}

// tiffOrientation reads tag 0x0112 from IFD0 of a TIFF structure.
func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 1
	}
	if bo.Uint16(t[2:]) != 42 {
		return 1
	}
	off := int64(bo.Uint32(t[4:]))
	if off < 8 || off+2 > int64(len(t)) {
		return 1
	}
	n := int(bo.Uint16(t[off:]))
	n = min(n, maxIFDEntries)
	for i := range n {
		e := off + 2 + int64(i)*12
		if e+12 > int64(len(t)) {
			return 1
		}
		if bo.Uint16(t[e:]) != tagOrient {
			continue
		}
		typ, count := bo.Uint16(t[e+2:]), bo.Uint32(t[e+4:])
		var v int
		switch {
		case typ == 3 && count >= 1: // SHORT, stored left-justified in the value field
			v = int(bo.Uint16(t[e+8:]))
		case typ == 4 && count >= 1: // LONG, seen from some writers
			v = int(bo.Uint32(t[e+8:]))
		default:
			return 1
		}
		if v < 1 || v > 8 {
			return 1
		}
		return v
	}
	return 1
}

// Orient returns img transformed for display according to EXIF orientation
// o (1..8). Orientation 1 or an unknown value returns img itself.
func Orient(img *image.NRGBA, o int) *image.NRGBA {
	if o < 2 || o > 8 {
		return img
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	dst := image.NewNRGBA(image.Rect(0, 0, dw, dh))
	for y := range dh {
		d := dst.Pix[y*dst.Stride:]
		for x := range dw {
			var sx, sy int
			switch o {
			case 2: // mirror horizontal
				sx, sy = w-1-x, y
			case 3: // rotate 180
				sx, sy = w-1-x, h-1-y
			case 4: // mirror vertical
				sx, sy = x, h-1-y
			case 5: // transpose
				sx, sy = y, x
			case 6: // rotate 90 clockwise
				sx, sy = y, h-1-x
			case 7: // transverse
				sx, sy = w-1-y, h-1-x
			case 8: // rotate 90 counter-clockwise
				sx, sy = w-1-y, x
			}
			s := img.Pix[img.PixOffset(b.Min.X+sx, b.Min.Y+sy):]
			copy(d[4*x:4*x+4], s[:4])
		}
	}
	return dst
}
