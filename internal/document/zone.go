package document

import (
	"context"
	"image"
	"math"
	"slices"
	"strings"

	"github.com/livenessd/livenessd/internal/ctc"
	"github.com/livenessd/livenessd/internal/mrz"
)

// LineReader reads one line of MRZ text (A-Z, 0-9 and '<') from an image of
// that line, dark text on a light background, upright: the probabilities
// of the CTC blank and of each MRZ character per time step (a reader
// without them returns ctc.Certain of its text).
type LineReader interface {
	ReadLine(ctx context.Context, line *image.Gray) (ctc.Frames, error)
}

// workWidth is the width text lines are searched at: MRZ characters are
// then 12-20 px wide on a document filling a third to all of the frame.
const workWidth = 960

// lineHeight is the height, in pixels, a text line is sampled at for the
// reader (OCR-B capitals of about 32 px).
const lineHeight = 48

// stretches are the horizontal scalings a zone is read at, in turn, until
// every check digit matches: the recogniser emits one column per 8 input
// pixels and needs a blank between repeated characters ("<<", "22"),
// which a narrow print leaves too few columns for, while widening a
// normally spaced line makes it drop others.
var stretches = [...]float64{1, 1.6}

// splitRatio: lines longer than this many times their height are read in
// parts cut between characters; the recogniser was trained on short text
// crops and drops letters on a whole 44-character line.
const splitRatio = 12.0

// textLine is a candidate line of text found in the work plane.
type textLine struct {
	box   component
	slope float64
}

// orientation is a deskewed view of the source: work plane coordinates map
// back to source pixels.
type orientation struct {
	work    *plane
	angle   float64 // radians the source was turned by
	toSrc   func(x, y float64) (float64, float64)
	upright bool // false: turned by another 180°
}

// orient scales src to the work width and turns it so text runs
// horizontally, by the angle whose projection profile of dark strokes is
// sharpest (text lines are the strongest periodic structure on a document).
func orient(src *plane) []orientation {
	// Small images are enlarged at most 4x: enough to separate the lines of
	// a 280 px card, and no work on pixels that do not exist.
	scale := math.Min(4, float64(workWidth)/float64(max(src.w, src.h)))
	w, h := max(1, int(float64(src.w)*scale)), max(1, int(float64(src.h)*scale))
	small := src.resize(w, h)
	strokes := small.blackhat(w/60+1, w/120+1)
	m := strokes.threshold(strokes.otsu())
	angle := dominantAngle(m)
	var out []orientation
	for _, extra := range []float64{0, math.Pi} {
		a := angle + extra
		work := small.rotate(a)
		c, s := math.Cos(a), math.Sin(a)
		cx, cy := float64(small.w-1)/2, float64(small.h-1)/2
		ox, oy := float64(work.w-1)/2, float64(work.h-1)/2
		sx, sy := float64(src.w)/float64(small.w), float64(src.h)/float64(small.h)
		out = append(out, orientation{
			work: work, angle: a, upright: extra == 0,
			toSrc: func(x, y float64) (float64, float64) {
				dx, dy := x-ox, y-oy
				return (cx+c*dx+s*dy+0.5)*sx - 0.5, (cy-s*dx+c*dy+0.5)*sy - 0.5
			},
		})
	}
	return out
}

// maxAnglePoints bounds the pixels dominantAngle projects (180 angles each).
const maxAnglePoints = 20000

// dominantAngle is the rotation (radians, any of -90..90°) that makes the
// mask's on pixels line up in the fewest, fullest rows.
func dominantAngle(m *mask) float64 {
	var xs, ys []float64
	n := 0
	for _, on := range m.on {
		if on {
			n++
		}
	}
	// A sample of at most maxAnglePoints strokes pixels decides as well.
	step := max(1, n/maxAnglePoints)
	k := 0
	for i, on := range m.on {
		if on {
			if k%step == 0 {
				xs = append(xs, float64(i%m.w))
				ys = append(ys, float64(i/m.w))
			}
			k++
		}
	}
	if len(xs) == 0 {
		return 0
	}
	diag := math.Hypot(float64(m.w), float64(m.h))
	bins := make([]float64, int(2*diag)+2)
	score := func(a float64) float64 {
		clear(bins)
		c, s := math.Cos(a), math.Sin(a)
		for i := range xs {
			bins[int(ys[i]*c+xs[i]*s+diag)]++
		}
		var sum float64
		for _, b := range bins {
			sum += b * b
		}
		return sum
	}
	best, bestA := -1.0, 0.0
	for deg := -90.0; deg < 90; deg++ {
		if v := score(deg * math.Pi / 180); v > best {
			best, bestA = v, deg
		}
	}
	fine := bestA
	for d := bestA - 1; d <= bestA+1; d += 0.25 {
		if v := score(d * math.Pi / 180); v > best {
			best, fine = v, d
		}
	}
	// Turning by -a brings a row at angle a back to horizontal.
	return fine * math.Pi / 180
}

// textLines finds long thin runs of dark strokes: candidate MRZ lines.
func textLines(p *plane) []textLine {
	strokes := p.blackhat(p.w/60+1, p.w/120+1)
	m := strokes.threshold(strokes.otsu())
	// Join the characters of a line, keep lines apart.
	joined := maskPlane(m).morph(p.w/50+1, 1, true).threshold(0.5)
	var out []textLine
	for _, c := range joined.components() {
		w, h := c.width(), c.height()
		if w < p.w/4 || h < 4 || h > p.w/12 || w < 6*h {
			continue
		}
		out = append(out, textLine{box: c, slope: c.slope()})
	}
	slices.SortFunc(out, func(a, b textLine) int { return a.box.y0 - b.box.y0 })
	return zoneLines(out, p.w)
}

// maxZoneLines bounds the lines read per orientation (three TD1 zones'
// worth): reading is the expensive step.
const maxZoneLines = 9

// zoneLines keeps the lines that have a neighbour like an MRZ line's: the
// same left edge and a similar length (MRZ lines are printed to the same
// length, though faint trailing fillers may shorten one), a similar
// height, and a gap under two and a half line heights. Prose
// and field labels rarely line up like that, so far fewer lines are read.
func zoneLines(ls []textLine, w int) []textLine {
	tol := max(4, w/12)
	alike := func(a, b textLine) bool {
		ha, hb := float64(a.box.height()), float64(b.box.height())
		gap := float64(b.box.y0 - a.box.y1)
		wa, wb := float64(a.box.width()), float64(b.box.width())
		return abs(a.box.x0-b.box.x0) <= tol && math.Min(wa, wb) >= 0.6*math.Max(wa, wb) &&
			ha <= 1.7*hb && hb <= 1.7*ha && gap < 2.5*math.Max(ha, hb)
	}
	var out []textLine
	for i, l := range ls {
		if (i > 0 && alike(ls[i-1], l)) || (i+1 < len(ls) && alike(l, ls[i+1])) {
			out = append(out, l)
		}
	}
	if len(out) > maxZoneLines {
		// The MRZ is at the bottom of a correctly oriented document.
		out = out[len(out)-maxZoneLines:]
	}
	return out
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func maskPlane(m *mask) *plane {
	p := newPlane(m.w, m.h)
	for i, on := range m.on {
		if on {
			p.pix[i] = 1
		}
	}
	return p
}

// cropLine samples one text line from the source at lineHeight, following
// the line's own slope (perspective leaves lines slightly tilted).
func cropLine(src *plane, o orientation, l textLine, hStretch float64) *image.Gray {
	b := l.box
	bh := float64(b.height())
	pad := 0.35 * bh
	x0, x1 := float64(b.x0)-pad, float64(b.x1)+pad
	cyMid := (float64(b.y0) + float64(b.y1)) / 2
	xMid := (x0 + x1) / 2
	scale := lineHeight / (bh + 2*pad)
	xscale := scale * hStretch
	w := max(8, int((x1-x0)*xscale))
	out := newPlane(w, lineHeight)
	for y := range lineHeight {
		for x := range w {
			wx := x0 + float64(x)/xscale
			wy := cyMid + (float64(y)-lineHeight/2)/scale + l.slope*(wx-xMid)
			sx, sy := o.toSrc(wx, wy)
			out.pix[y*w+x] = src.sample(sx, sy)
		}
	}
	stretch(out)
	return out.gray()
}

// stretch maps the 2nd..98th percentile of the values to 0..255.
func stretch(p *plane) {
	v := slices.Clone(p.pix)
	slices.Sort(v)
	lo, hi := v[len(v)*2/100], v[len(v)*98/100]
	if hi-lo < 1 {
		return
	}
	k := 255 / (hi - lo)
	for i, x := range p.pix {
		p.pix[i] = max(0, min(255, (x-lo)*k))
	}
}

// Zone is a machine-readable zone found and read in an image.
type Zone struct {
	MRZ   *mrz.MRZ
	Lines []string // as read, before corrections
	// Box is the zone's outline in source pixels (four corners).
	Box [4]image.Point
}

// readZone finds the MRZ in src and reads it: every candidate line is read
// and the run of 2-3 consecutive lines that parses with the most valid
// check digits wins. It returns nil when no run parses.
func readZone(ctx context.Context, src *plane, r LineReader) (*Zone, error) {
	var best *Zone
	bestScore := -1
	views := orient(src)
	for _, stretch := range stretches {
		z, score, err := readZoneAt(ctx, src, views, r, stretch)
		if err != nil {
			return nil, err
		}
		if z != nil && score > bestScore {
			best, bestScore = z, score
		}
		if best != nil && best.MRZ.Valid() {
			break
		}
	}
	return best, nil
}

// readZoneAt reads the candidate lines of each orientation at one stretch.
func readZoneAt(ctx context.Context, src *plane, views []orientation, r LineReader, stretch float64) (*Zone, int, error) {
	var best *Zone
	bestScore := -1
	for _, o := range views {
		lines := textLines(o.work)
		texts := make([]string, len(lines))
		read := make([]readLineResult, len(lines))
		for i, l := range lines {
			if err := ctx.Err(); err != nil {
				return nil, 0, err
			}
			crop := cropLine(src, o, l, stretch)
			f, err := readLine(ctx, r, crop)
			if err != nil {
				return nil, 0, err
			}
			read[i] = readLineResult{frames: f, greedy: f.Greedy()}
			texts[i] = mrz.Text(read[i].greedy)
		}
		for i := range lines {
			for _, n := range []int{3, 2} {
				if i+n > len(lines) || !looksLikeMRZ(texts[i:i+n]) {
					continue
				}
				m, err := mrz.ReadGlyphs(fitted(read[i:i+n], texts[i:i+n]))
				if err != nil {
					continue
				}
				score := 0
				for _, c := range m.Checks {
					if c.Valid {
						score += 2
					}
				}
				score += n // a full TD1 beats two of its lines
				if score > bestScore {
					bestScore = score
					best = &Zone{MRZ: m, Lines: slices.Clone(texts[i : i+n]), Box: zoneBox(o, lines[i:i+n])}
				}
			}
		}
		if best != nil && best.MRZ.Valid() {
			break
		}
	}
	return best, bestScore, nil
}

// readLineResult is one line's frames and their greedy reading, with its
// alignments to MRZ line lengths (computed when first asked for).
type readLineResult struct {
	frames  ctc.Frames
	greedy  []mrz.Glyph
	aligned map[int][]mrz.Glyph
}

// fitted gives lines of the length their layout fixes: a line read one or
// two characters off it is re-decoded as the most probable reading of that
// length from its frames (ctc.Align), which finds where the recogniser
// dropped or doubled a character; lines that cannot be aligned are left
// to mrz.ReadGlyphs's filler rule.
func fitted(ls []readLineResult, texts []string) [][]mrz.Glyph {
	out := make([][]mrz.Glyph, len(ls))
	n, ok := mrz.LineLength(texts)
	for j := range ls {
		l := &ls[j]
		out[j] = l.greedy
		if !ok || len(l.greedy) == n {
			continue
		}
		a, done := l.aligned[n]
		if !done {
			a, _ = l.frames.Align(n)
			if l.aligned == nil {
				l.aligned = map[int][]mrz.Glyph{}
			}
			l.aligned[n] = a
		}
		if a != nil {
			out[j] = a
		}
	}
	return out
}

// looksLikeMRZ: every line has fillers, similar lengths near 30, 36 or 44.
func looksLikeMRZ(ts []string) bool {
	for _, t := range ts {
		if len(t) < 26 || len(t) > 48 || !strings.Contains(t, "<") {
			return false
		}
	}
	return true
}

func zoneBox(o orientation, ls []textLine) [4]image.Point {
	x0, y0, x1, y1 := ls[0].box.x0, ls[0].box.y0, ls[0].box.x1, ls[0].box.y1
	for _, l := range ls[1:] {
		x0, y0, x1, y1 = min(x0, l.box.x0), min(y0, l.box.y0), max(x1, l.box.x1), max(y1, l.box.y1)
	}
	var out [4]image.Point
	for i, p := range [4][2]int{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}} {
		sx, sy := o.toSrc(float64(p[0]), float64(p[1]))
		out[i] = image.Pt(int(math.Round(sx)), int(math.Round(sy)))
	}
	return out
}

// readLine reads a line in as many parts as splitRatio asks for; when the
// text's length is not within one of an MRZ line's (30, 36, 44) and the
// line looks like one (it has fillers), it is read again in one more part
// and whole, and the reading nearest an MRZ length is kept: the recogniser
// drops characters at some cuts and not at others.
func readLine(ctx context.Context, r LineReader, crop *image.Gray) (ctc.Frames, error) {
	parts := max(1, int(math.Ceil(float64(crop.Rect.Dx())/float64(crop.Rect.Dy())/splitRatio)))
	var best ctc.Frames
	bestOff := math.MaxInt
	for k, n := range []int{parts, parts + 1, 1} {
		if k == 2 && parts == 1 {
			break
		}
		f, err := readSplit(ctx, r, crop, n)
		if err != nil {
			return ctc.Frames{}, err
		}
		t := mrz.Text(f.Greedy())
		if off := mrzLengthOffset(t); off < bestOff {
			best, bestOff = f, off
		}
		if bestOff <= 1 || !strings.Contains(t, "<") {
			break
		}
	}
	return best, nil
}

// mrzLengthOffset is how far len(t) is from the nearest MRZ line length.
func mrzLengthOffset(t string) int {
	off := math.MaxInt
	for _, n := range []int{30, 36, 44} {
		off = min(off, abs(len(t)-n))
	}
	return off
}

// readSplit reads a line in parts cut at the columns with the least ink
// near equal divisions.
func readSplit(ctx context.Context, r LineReader, g *image.Gray, parts int) (ctc.Frames, error) {
	w, h := g.Rect.Dx(), g.Rect.Dy()
	ink := make([]int, w)
	for y := h / 4; y < 3*h/4; y++ {
		for x := range w {
			ink[x] += 255 - int(g.Pix[y*g.Stride+x])
		}
	}
	cuts := []int{0}
	for k := 1; k < parts; k++ {
		target := k * w / parts
		best := target
		for x := max(1, target-h/2); x < min(w-1, target+h/2); x++ {
			if ink[x] < ink[best] {
				best = x
			}
		}
		cuts = append(cuts, best)
	}
	cuts = append(cuts, w)
	var out []ctc.Frames
	for k := 0; k+1 < len(cuts); k++ {
		sub := g.SubImage(image.Rect(cuts[k], 0, cuts[k+1], h)).(*image.Gray)
		c := image.NewGray(image.Rect(0, 0, sub.Rect.Dx()+h/2, h))
		for i := range c.Pix {
			c.Pix[i] = 255
		}
		for y := range h {
			copy(c.Pix[y*c.Stride+h/4:], sub.Pix[y*sub.Stride:y*sub.Stride+sub.Rect.Dx()])
		}
		f, err := r.ReadLine(ctx, c)
		if err != nil {
			return ctc.Frames{}, err
		}
		out = append(out, f)
	}
	return ctc.Concat(out...), nil
}
