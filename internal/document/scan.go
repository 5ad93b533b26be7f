// Package document reads photographed or scanned identity documents: it
// finds the document's outline and corrects its perspective, finds and
// reads the machine-readable zone (internal/mrz parses it), measures image
// quality, and extracts the holder's portrait as the largest face the face
// pipeline finds (so a small ghost image is ignored when the main portrait
// is there). It knows nothing of HTTP and runs models only through the
// LineReader and FaceFinder interfaces.
package document

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"math"

	"github.com/livenessd/livenessd"
)

// FaceFinder finds faces, largest first (*face.Pipeline's Analyze).
type FaceFinder interface {
	Analyze(ctx context.Context, img image.Image) ([]livenessd.FaceObservation, error)
}

// Defaults of Options.
const (
	// DefaultMaxSide bounds the rectified document's longer side.
	DefaultMaxSide = 1600
	// DefaultPortraitHeight is the extracted portrait's height at most.
	DefaultPortraitHeight = 480
	// DefaultBlurThreshold: sharpness below it flags the image blurry
	// (sharpness is 0-100; see Quality).
	DefaultBlurThreshold = 20
	// DefaultGlareThreshold: more than this percentage of saturated pixels
	// on the document flags glare.
	DefaultGlareThreshold = 2.0
)

// Options configure a Scanner; zero values take the defaults.
type Options struct {
	MaxSide        int
	PortraitHeight int
	BlurThreshold  float64
	GlareThreshold float64
}

// Scanner reads documents. It is safe for concurrent use when its reader
// and face finder are.
type Scanner struct {
	reader LineReader
	faces  FaceFinder
	opts   Options
}

// ErrNoDocument: neither a machine-readable zone nor a portrait was found
// in any image. It wraps livenessd.ErrNoDocument.
var ErrNoDocument = fmt.Errorf("document: %w", livenessd.ErrNoDocument)

// New returns a scanner. reader and faces are required.
func New(reader LineReader, faces FaceFinder, opts Options) (*Scanner, error) {
	if reader == nil || faces == nil {
		return nil, errors.New("document: a line reader and a face finder are required")
	}
	if opts.MaxSide <= 0 {
		opts.MaxSide = DefaultMaxSide
	}
	if opts.PortraitHeight <= 0 {
		opts.PortraitHeight = DefaultPortraitHeight
	}
	if opts.BlurThreshold <= 0 {
		opts.BlurThreshold = DefaultBlurThreshold
	}
	if opts.GlareThreshold <= 0 {
		opts.GlareThreshold = DefaultGlareThreshold
	}
	return &Scanner{reader: reader, faces: faces, opts: opts}, nil
}

// Quality measures one image of a document.
type Quality struct {
	// Sharpness is 0-100: the Laplacian's standard deviation on the
	// document at 1000 px width, capped at 100 (printed text scores 30+).
	Sharpness float64
	Blurry    bool
	// Glare is the percentage of the document's pixels in saturated spots
	// that do not reach its edge (a scan's white margins and background do).
	Glare     float64
	HasGlare  bool
	CutOff    bool // the document's outline touches the frame
	Outlined  bool // an outline was found (false: the image is taken as the document)
	Corners   Quad // source pixels, when Outlined
	Rectified bool // the perspective was corrected
}

// Portrait is the holder's photo found on a document.
type Portrait struct {
	JPEG []byte
	// Image is the decoded crop (aligned: eyes level, with margin).
	Image image.Image
	// Face is the face in the document image it was cut from (rectified
	// when Quality.Rectified), and Faces how many faces that image held.
	Face  livenessd.FaceObservation
	Faces int
}

// Page is what one image yielded.
type Page struct {
	Quality  Quality
	Zone     *Zone     // nil: no MRZ found
	Portrait *Portrait // nil: no face found
}

// Result is what a scan of 1-2 images of one document yielded: the zone
// with the most valid check digits and the largest portrait.
type Result struct {
	Pages    []Page
	Zone     *Zone
	ZonePage int // index of the page the zone came from (-1: none)
	Portrait *Portrait
	PortPage int // index of the page the portrait came from (-1: none)
}

// Scan reads every image (front and back in any order). It returns
// ErrNoDocument when no image holds an MRZ or a face; errors of the reader
// and face finder are returned wrapped.
func (s *Scanner) Scan(ctx context.Context, imgs []image.Image) (*Result, error) {
	res := &Result{ZonePage: -1, PortPage: -1}
	for i, img := range imgs {
		pg, err := s.page(ctx, img)
		if err != nil {
			return nil, fmt.Errorf("document: image %d: %w", i+1, err)
		}
		res.Pages = append(res.Pages, pg)
		if pg.Zone != nil && (res.Zone == nil || zoneScore(pg.Zone) > zoneScore(res.Zone)) {
			res.Zone, res.ZonePage = pg.Zone, i
		}
		if pg.Portrait != nil && (res.Portrait == nil || pg.Portrait.Face.Box.Area() > res.Portrait.Face.Box.Area()) {
			res.Portrait, res.PortPage = pg.Portrait, i
		}
	}
	if res.Zone == nil && res.Portrait == nil {
		return res, ErrNoDocument
	}
	return res, nil
}

func zoneScore(z *Zone) int {
	n := 0
	for _, c := range z.MRZ.Checks {
		if c.Valid {
			n++
		}
	}
	return n
}

// page reads one image: outline and perspective, zone, portrait, quality.
func (s *Scanner) page(ctx context.Context, img image.Image) (Page, error) {
	var pg Page
	b := img.Bounds()
	doc := img
	if q, ok := locate(img); ok {
		pg.Quality.Outlined, pg.Quality.Corners = true, q
		margin := 0.01 * float64(max(b.Dx(), b.Dy()))
		if q.touchesBorder(b.Dx(), b.Dy(), margin) {
			// Part of the document is outside the frame: its outline is
			// not the document's, so read the image as it is.
			pg.Quality.CutOff = true
		} else {
			doc = rectify(img, q, s.opts.MaxSide)
			pg.Quality.Rectified = true
		}
	}
	l := luma(doc)
	s.measure(l, &pg.Quality)
	z, err := readZone(ctx, l, s.reader)
	if err != nil {
		return pg, err
	}
	if z == nil && pg.Quality.Rectified {
		// The outline may have been wrong: try the image as taken.
		if z, err = readZone(ctx, luma(img), s.reader); err != nil {
			return pg, err
		}
	}
	pg.Zone = z
	p, err := s.portrait(ctx, doc)
	if err != nil {
		return pg, err
	}
	if p == nil && pg.Quality.Rectified {
		if p, err = s.portrait(ctx, img); err != nil {
			return pg, err
		}
	}
	pg.Portrait = p
	return pg, nil
}

// Portrait extracts the holder's photo from one image of a document, as
// Scan does: outline and perspective first, then the largest face. It
// returns livenessd.ErrNoFace (wrapped) when there is none.
func (s *Scanner) Portrait(ctx context.Context, img image.Image) (*Portrait, error) {
	doc := img
	rectified := false
	if q, ok := locate(img); ok {
		b := img.Bounds()
		if !q.touchesBorder(b.Dx(), b.Dy(), 0.01*float64(max(b.Dx(), b.Dy()))) {
			doc, rectified = rectify(img, q, s.opts.MaxSide), true
		}
	}
	p, err := s.portrait(ctx, doc)
	if err == nil && p == nil && rectified {
		p, err = s.portrait(ctx, img)
	}
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, fmt.Errorf("document: no portrait: %w", livenessd.ErrNoFace)
	}
	return p, nil
}

// portrait cuts the largest face out of doc: turned so the eyes are level,
// 1.7 face widths wide and 2.1 high (a passport photo's framing), scaled
// to at most PortraitHeight. nil when doc has no face.
func (s *Scanner) portrait(ctx context.Context, doc image.Image) (*Portrait, error) {
	faces, err := s.faces.Analyze(ctx, doc)
	if err != nil {
		return nil, fmt.Errorf("faces: %w", err)
	}
	if len(faces) == 0 {
		return nil, nil
	}
	f := faces[0] // largest: the main portrait, not the ghost image
	angle := 0.0
	if len(f.Keypoints) >= 2 {
		l, r := f.Keypoints[0], f.Keypoints[1]
		angle = math.Atan2(r.Y-l.Y, r.X-l.X)
	}
	c := f.Box.Center()
	side := math.Max(f.Box.W, f.Box.H)
	cw, ch := 1.7*side, 2.1*side
	cy := c.Y - 0.05*side
	scale := math.Min(2, float64(s.opts.PortraitHeight)/ch)
	w, h := max(1, int(cw*scale)), max(1, int(ch*scale))
	src := toNRGBA(doc)
	sb := src.Bounds()
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	cs, sn := math.Cos(angle), math.Sin(angle)
	for y := range h {
		for x := range w {
			dx, dy := (float64(x)+0.5-float64(w)/2)/scale, (float64(y)+0.5-float64(h)/2)/scale
			sx, sy := c.X+cs*dx-sn*dy-0.5, cy+sn*dx+cs*dy-0.5
			o := out.PixOffset(x, y)
			if sx < float64(sb.Min.X)-1 || sy < float64(sb.Min.Y)-1 || sx > float64(sb.Max.X) || sy > float64(sb.Max.Y) {
				copy(out.Pix[o:o+4], []uint8{255, 255, 255, 255})
				continue
			}
			bilinearNRGBA(src, sb, sx, sy, out.Pix[o:o+4])
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, out, &jpeg.Options{Quality: 90}); err != nil {
		return nil, fmt.Errorf("portrait: encode: %w", err)
	}
	return &Portrait{JPEG: buf.Bytes(), Image: out, Face: f, Faces: len(faces)}, nil
}

// measure fills sharpness and glare from the document's luma.
func (s *Scanner) measure(l *plane, q *Quality) {
	w := 1000
	h := max(1, l.h*w/max(1, l.w))
	p := l
	if l.w != w {
		p = l.resize(w, h)
	}
	q.Sharpness = math.Round(10*math.Min(100, math.Sqrt(p.laplacianVariance()))) / 10
	q.Blurry = q.Sharpness < s.opts.BlurThreshold
	q.Glare = glare(l)
	q.HasGlare = q.Glare > s.opts.GlareThreshold
}

// glare is the percentage of pixels in saturated blobs (luma >= 250) that
// do not touch the border: reflections of a light on a glossy document,
// not the white paper or margins of a scan, which reach the edge.
func glare(l *plane) float64 {
	w := min(l.w, 400)
	h := max(1, l.h*w/max(1, l.w))
	p := l
	if w != l.w {
		p = l.resize(w, h)
	}
	var n int
	for _, c := range p.threshold(249.5).components() {
		if c.x0 > 0 && c.y0 > 0 && c.x1 < p.w-1 && c.y1 < p.h-1 {
			n += c.n
		}
	}
	return math.Round(1000*float64(n)/float64(max(1, len(p.pix)))) / 10
}
