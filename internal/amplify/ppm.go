package amplify

import (
	"bufio"
	"errors"
	"fmt"
	"image"
	"io"
)

// Limits of one decoded frame; the decoder scales frames to at most
// DefaultMaxWidth wide, these only stop a broken stream.
const (
	maxPPMSide   = 4096
	maxPPMPixels = 4096 * 2304
)

var errPPM = errors.New("amplify: malformed PPM frame")

// readPPM reads one binary PPM (P6, maxval 255) from r into a new RGBA
// image (the analysis may keep it). It returns io.EOF at a
// clean end of stream. ffmpeg's image2pipe with the ppm encoder writes
// exactly this: "P6\n<w> <h>\n255\n" and w*h*3 bytes.
func readPPM(r *bufio.Reader) (*image.RGBA, error) {
	magic := make([]byte, 2)
	if _, err := io.ReadFull(r, magic); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		return nil, fmt.Errorf("%w: %v", errPPM, err)
	}
	if magic[0] != 'P' || magic[1] != '6' {
		return nil, fmt.Errorf("%w: magic %q", errPPM, magic)
	}
	var dims [3]int
	for i := range dims {
		v, err := ppmInt(r)
		if err != nil {
			return nil, err
		}
		dims[i] = v
	}
	w, h, maxval := dims[0], dims[1], dims[2]
	if w < 1 || h < 1 || w > maxPPMSide || h > maxPPMSide || w*h > maxPPMPixels {
		return nil, fmt.Errorf("%w: size %dx%d", errPPM, w, h)
	}
	if maxval != 255 {
		return nil, fmt.Errorf("%w: maxval %d", errPPM, maxval)
	}
	// Exactly one whitespace byte ends the header (ppmInt consumed it).
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	row := make([]byte, w*3)
	for y := range h {
		if _, err := io.ReadFull(r, row); err != nil {
			return nil, fmt.Errorf("%w: pixels: %v", errPPM, err)
		}
		p := img.Pix[y*img.Stride : y*img.Stride+w*4]
		for x := range w {
			p[4*x], p[4*x+1], p[4*x+2], p[4*x+3] = row[3*x], row[3*x+1], row[3*x+2], 0xff
		}
	}
	return img, nil
}

// ppmInt reads whitespace, optional '#' comments, then a decimal number
// and the one whitespace byte after it.
func ppmInt(r *bufio.Reader) (int, error) {
	c, err := r.ReadByte()
	for {
		if err != nil {
			return 0, fmt.Errorf("%w: header: %v", errPPM, err)
		}
		switch {
		case c == '#':
			for c != '\n' && err == nil {
				c, err = r.ReadByte()
			}
			continue
		case isSpace(c):
			c, err = r.ReadByte()
			continue
		}
		break
	}
	n, digits := 0, 0
	for ; err == nil && '0' <= c && c <= '9'; c, err = r.ReadByte() {
		if digits++; digits > 6 {
			return 0, fmt.Errorf("%w: number too long", errPPM)
		}
		n = n*10 + int(c-'0')
	}
	if err != nil {
		return 0, fmt.Errorf("%w: header: %v", errPPM, err)
	}
	if digits == 0 || !isSpace(c) {
		return 0, fmt.Errorf("%w: header byte %q", errPPM, c)
	}
	return n, nil
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\v' || c == '\f'
}
