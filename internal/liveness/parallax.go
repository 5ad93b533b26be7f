package liveness

import (
	"math"

	"github.com/livenessd/livenessd"
)

// Parallax of the face's own pixels during the approach (graded with the
// shading: finish.go, Thresholds.Parallax, ParallaxAlone). Between a far
// and a near view of the approach, a flat print's image changes by a
// projective map of the plane; a face's
// front, standing centimetres before its outline, grows more than its
// outline as it comes closer. Both views are cropped to the face's width
// (so the maps are near the identity; each crop pixel the frame's mean
// under it), points of the far crop (every
// other FaceMesh point and a grid over the face) are tracked into the
// near one by Lucas-Kanade on their own pixels (FaceMesh's points only
// start the search: its learned shape prior damps the parallax), and the
// displacements are fitted as
//
//	q = A·p + t + β·(p - c)·h(p) + γ·h(p) + ν·n(p) + κ·(p - c)·u(p) + λ·(p - c)·v(p)
//
// with h the face's convexity (1 at its front, 0 at its outline, an
// ellipse over the mesh's extent with the nose standing out), A, t an
// affine map, γ the shift a face off the camera's axis or turning adds
// (its front moves sideways over its outline), ν the nose's own share of
// that shift (n is the nose's bump: how far a nose stands before the
// cheeks varies apart from the face's depth, so a head turning during the
// approach moves it by its own amount, which fitted with γ alone leaked
// into β: a dev capture (seed 56, session 63) of a broad, shallow face
// turning 4-5° in yaw and pitch read β 0.0014, t 0.7 (0.0081, t 2.0 with
// ν; 0.0112, t 12 replayed without the turn), and replayed with a 6 cm
// deep face 0.0028, t 0.9 (0.040, t 14 with ν)) and u, v the
// position across and down the face (in half-widths). β is the front's
// magnification beyond the outline's: 0 for a print, a few percent for a
// face coming from arm's length to the oval. κ and λ are the projective
// parts of a turn about the vertical and the horizontal axis (the
// magnification grows towards the side that comes nearer): people turn a
// little as they approach, and a print held tilted back or forward comes
// nearer at one edge; without λ that tilt reads as relief (on dev
// captures of tilted prints, t >= 4 for 13 of 99), without κ a turn is
// noise in β's fit. λ needs the grid: FaceMesh has few points above the
// brows, so up and down were measured between the eye band (and a pair of
// glasses' rims, standing forward) and the mouth and chin, and λ took the
// band's relief from β (glasses wearers' t fell below 2 for 9 of 47 dev
// captures); with the forehead tracked, none did.

// cropSide is the side of the face crops in pixels; the face's width is
// cropFace of it.
const (
	cropSide = 128
	cropFace = 0.66
)

// faceCrop is one view of the face: luma resampled around the mesh,
// scaled so the face's width is cropFace of the crop, and the mesh in
// crop pixels.
type faceCrop struct {
	width float64 // the mesh's width in frame pixels
	luma  []float32
	pts   []livenessd.Point
	// depth is the mesh's own depth per point in crop pixels (FaceMesh's
	// z: smaller is nearer), kept for diagnosis (ParallaxView).
	depth []float64
}

// meshBounds is the extent of mesh m in the image.
func meshBounds(m []livenessd.Point3) (minX, maxX, minY, maxY float64) {
	return bounds(len(m), func(i int) (float64, float64) { return m[i].X, m[i].Y })
}

// bounds is the extent of n points, the i-th at xy(i).
func bounds(n int, xy func(int) (float64, float64)) (minX, maxX, minY, maxY float64) {
	minX, maxX, minY, maxY = math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for i := range n {
		x, y := xy(i)
		minX, maxX = math.Min(minX, x), math.Max(maxX, x)
		minY, maxY = math.Min(minY, y), math.Max(maxY, y)
	}
	return minX, maxX, minY, maxY
}

// newFaceCrop crops the face of mesh m (frame pixels) from px.
func newFaceCrop(px pixels, m []livenessd.Point3) (*faceCrop, bool) {
	if len(m) != meshPoints {
		return nil, false
	}
	minX, maxX, minY, maxY := meshBounds(m)
	w := maxX - minX
	if w < 24 {
		return nil, false
	}
	cx, cy := (minX+maxX)/2, (minY+maxY)/2
	s := w / (cropFace * cropSide) // frame pixels per crop pixel
	c := &faceCrop{width: w, luma: cropLuma(px, cx, cy, s), pts: make([]livenessd.Point, len(m)), depth: make([]float64, len(m))}
	for i, p := range m {
		c.pts[i] = pt((p.X-cx)/s+cropSide/2, (p.Y-cy)/s+cropSide/2)
		c.depth[i] = p.Z / s
	}
	return c, true
}

// cropLuma is the crop's luma around frame point (cx, cy), s frame pixels
// per crop pixel: each crop pixel is the frame's mean over its footprint,
// a square of side s (at least one pixel, where the mean is bilinear
// interpolation). A near face spans several frame pixels per crop pixel;
// one sample each aliased its texture and kept each pixel's own noise
// (sensor, JPEG), which the tracks then followed as if it were the face.
// The mean is taken across, then down, from running sums.
func cropLuma(px pixels, cx, cy, s float64) []float32 {
	side := math.Max(s, 1)
	at := func(i int) float64 { return (float64(i) - cropSide/2) * s } // crop pixel i's centre from (cx, cy)
	// The frame pixels under the footprints (pixel k covers k-0.5..k+0.5).
	span := func(c float64, lo, hi int) (k0, n int) {
		k0 = min(max(int(math.Floor(c+at(0)-side/2+0.5)), lo), hi)
		k1 := min(max(int(math.Floor(c+at(cropSide-1)+side/2+0.5)), lo), hi)
		return k0, k1 - k0 + 1
	}
	kx, nx := span(cx, px.r.Min.X, px.r.Max.X-1)
	ky, ny := span(cy, px.r.Min.Y, px.r.Max.Y-1)
	// Footprint edges in the running sums' coordinates (cell k from k to k+1).
	ox, oy := cx-side/2-(float64(kx)-0.5), cy-side/2-(float64(ky)-0.5)
	across := make([]float32, ny*cropSide) // frame row r's mean over crop column x's footprint
	sums := make([]float64, max(nx, ny)+1)
	for r := range ny {
		row := sums[:nx+1]
		for k := range nx {
			row[k+1] = row[k] + px.lumaAt(kx+k, ky+r)
		}
		for x := range cropSide {
			across[r*cropSide+x] = float32(boxMean(row, ox+at(x), ox+at(x)+side))
		}
	}
	luma := make([]float32, cropSide*cropSide)
	col := sums[:ny+1]
	for x := range cropSide {
		for r := range ny {
			col[r+1] = col[r] + float64(across[r*cropSide+x])
		}
		for y := range cropSide {
			luma[y*cropSide+x] = float32(boxMean(col, oy+at(y), oy+at(y)+side))
		}
	}
	return luma
}

// boxMean is the mean over a..b of the cells whose running sums are sums
// (cell k spans k..k+1, sums[k] the total before it), the interval
// clamped to the cells (the nearest cell when it lies outside them).
func boxMean(sums []float64, a, b float64) float64 {
	n := float64(len(sums) - 1)
	a, b = math.Min(math.Max(a, 0), n), math.Min(math.Max(b, 0), n)
	if b-a < 1e-9 {
		k := min(int(a), len(sums)-2)
		return sums[k+1] - sums[k]
	}
	return (runningSum(sums, b) - runningSum(sums, a)) / (b - a)
}

// runningSum is the total of the cells up to x (0 <= x <= len(sums)-1).
func runningSum(sums []float64, x float64) float64 {
	k := int(x)
	if k >= len(sums)-1 {
		return sums[len(sums)-1]
	}
	return sums[k] + (x-float64(k))*(sums[k+1]-sums[k])
}

// cell is where x falls between the samples lo..hi (clamped): the lower
// sample, the upper one and the fraction between them.
func cell(x float64, lo, hi int) (i0, i1 int, f float64) {
	// Comparisons, not math.Max and math.Min: this runs five times per
	// patch pixel and tracking step, and those calls were half the fit's
	// time.
	if l := float64(lo); x < l {
		x = l
	} else if h := float64(hi) - 1e-9; x > h {
		x = h
	}
	i0 = int(x)
	return i0, min(i0+1, hi), x - float64(i0)
}

// bilerp interpolates the four samples around a point at fractions fx, fy.
func bilerp(v00, v10, v01, v11, fx, fy float64) float64 {
	return (v00*(1-fx)+v10*fx)*(1-fy) + (v01*(1-fx)+v11*fx)*fy
}

// at is the crop's luma at (x, y), bilinear, clamped to the crop.
func (c *faceCrop) at(x, y float64) float64 {
	x0, x1, fx := cell(x, 0, cropSide-1)
	y0, y1, fy := cell(y, 0, cropSide-1)
	v := c.luma
	return bilerp(float64(v[y0*cropSide+x0]), float64(v[y0*cropSide+x1]), float64(v[y1*cropSide+x0]), float64(v[y1*cropSide+x1]), fx, fy)
}

// lkHalf is the half-side of the tracked patches (crop pixels).
const lkHalf = 6

// track finds where the patch of far around p lies in near, starting at
// q0: Lucas-Kanade on patches normalised to zero mean and unit spread
// (the views differ in exposure and screen light). ok is false on a patch
// without texture in both directions or when the search diverges.
func track(far, near *faceCrop, p, q0 livenessd.Point) (livenessd.Point, bool) {
	const n = (2*lkHalf + 1) * (2*lkHalf + 1)
	var tpl [n]float64
	k := 0
	var m, v float64
	for dy := -lkHalf; dy <= lkHalf; dy++ {
		for dx := -lkHalf; dx <= lkHalf; dx++ {
			tpl[k] = far.at(p.X+float64(dx), p.Y+float64(dy))
			m += tpl[k]
			k++
		}
	}
	m /= n
	for i := range tpl {
		tpl[i] -= m
		v += tpl[i] * tpl[i]
	}
	sd := math.Sqrt(v / n)
	if sd < 2 {
		return q0, false
	}
	for i := range tpl {
		tpl[i] /= sd
	}
	q := q0
	var cur, gx, gy [n]float64
	for range 20 {
		k = 0
		m, v = 0, 0
		for dy := -lkHalf; dy <= lkHalf; dy++ {
			for dx := -lkHalf; dx <= lkHalf; dx++ {
				x, y := q.X+float64(dx), q.Y+float64(dy)
				cur[k] = near.at(x, y)
				gx[k] = (near.at(x+0.5, y) - near.at(x-0.5, y))
				gy[k] = (near.at(x, y+0.5) - near.at(x, y-0.5))
				m += cur[k]
				k++
			}
		}
		m /= n
		for i := range cur {
			cur[i] -= m
			v += cur[i] * cur[i]
		}
		s := math.Sqrt(v / n)
		if s < 2 {
			return q, false
		}
		var a, b, c, ex, ey float64
		for i := range cur {
			e := cur[i]/s - tpl[i]
			x, y := gx[i]/s, gy[i]/s
			a += x * x
			b += x * y
			c += y * y
			ex += x * e
			ey += y * e
		}
		det := a*c - b*b
		// Both directions must carry texture.
		if tr := a + c; det <= 0 || (tr-math.Sqrt(tr*tr-4*det))/2 < 0.002*n {
			return q, false
		}
		ux := -(c*ex - b*ey) / det
		uy := -(a*ey - b*ex) / det
		q.X += ux
		q.Y += uy
		if math.Hypot(q.X-q0.X, q.Y-q0.Y) > 12 {
			return q, false
		}
		if ux*ux+uy*uy < 1e-4 {
			return q, true
		}
	}
	return q, true
}

// FaceMesh's eye corners (its topology's indexes; the same points as
// face.MeshLeftEyeOuter and the others).
const (
	meshEyeLeftOuter  = 33
	meshEyeLeftInner  = 133
	meshEyeRightInner = 362
	meshEyeRightOuter = 263
)

// The temples are the ends of the eye band: farther than templeX
// inter-ocular distances across from the eyes' midpoint, from templeAbove
// above the eye line to templeBelow below it. Their tracks are left out of
// the fit: a pair of glasses' outer rims, hinges and arms stand there at
// about the depth of the face's front, where the convexity h puts the
// surface at its side, so they magnify as the front does and read as a
// face flatter than a print (on dev captures, +0.019 of excess
// magnification there against about 0 along the rest of the band, and
// the fit's β fell below 0 for some wearers). Set from the frame's
// geometry (the lenses end about 0.9 inter-ocular distances out), not
// fitted; faces without glasses lose these few tracks' depth (their t
// falls a little, ACCURACY seed 17).
const (
	templeX     = 0.75
	templeAbove = 0.35
	templeBelow = 0.40
)

// temples reports whether a crop point lies on the temples of the face
// whose mesh (crop pixels) is m.
func temples(m []livenessd.Point) func(livenessd.Point) bool {
	l := lerp(m[meshEyeLeftOuter], m[meshEyeLeftInner], 0.5)
	r := lerp(m[meshEyeRightInner], m[meshEyeRightOuter], 0.5)
	c := lerp(l, r, 0.5)
	iod := dist(l, r)
	if iod < 1 {
		return func(livenessd.Point) bool { return false }
	}
	ux, uy := (r.X-l.X)/iod, (r.Y-l.Y)/iod
	return func(p livenessd.Point) bool {
		dx, dy := p.X-c.X, p.Y-c.Y
		across, down := (dx*ux+dy*uy)/iod, (-dx*uy+dy*ux)/iod
		return math.Abs(across) > templeX && down > -templeAbove && down < templeBelow
	}
}

// parallaxResult is the fitted magnification of the face's front beyond
// its outline between the two views, and its t statistic.
type parallaxResult struct {
	beta, t float64
	points  int
	dropped int     // tracks that did not come back (forward-backward)
	growth  float64 // near width / far width
}

// kept is the share of the fit's tracks that came back from their round
// trip (NaN without tracks).
func (p parallaxResult) kept() float64 {
	if p.points+p.dropped == 0 {
		return math.NaN()
	}
	return float64(p.points) / float64(p.points+p.dropped)
}

// trusted reports whether the fit kept enough of its tracks
// (Thresholds.ParallaxKept) to be evidence of the face's relief or of its
// flatness.
func (p parallaxResult) trusted(th Thresholds) bool {
	return th.ParallaxKept <= 0 || p.kept() >= th.ParallaxKept
}

// A track is kept when its round trip (far to near and back) ends within
// fbSpread times the capture's median round trip, or within fbFloor crop
// pixels (a capture so clean that its median is a few hundredths of a
// pixel must not lose good tracks to it).
const (
	fbSpread = 3
	fbFloor  = 0.25
)

// parFarViews is how many of the farthest views before the colours the
// parallax is measured from, each against the view at the flash. One
// pair of views is a fragile sample: on dev captures replayed with
// nothing changed but the camera's white balance (which moves which
// frame is the farthest), one capture's t ranged over 2.1-8.1. The fit is
// made from each far view and the medians taken. Three far views against
// the flash's were chosen on dev recordings (seeds 32 and 36, 340 live
// captures and 337 prints that pass the other checks) over one pair and
// over 2x2 and 3x3 far and near views (the near ones the latest before
// the flash): at the built thresholds 4 live captures refused by the 3-D
// rule and 1 print accepted, against 4 and 3 with one pair, 5 and 0 with
// 2x2, 7 and 0 with 3x3 (the earlier near views are less near, and their
// fits weaker for live faces).
const parFarViews = 3

// parallax is the capture's parallax fit, measured once for the views
// kept so far.
func (r *Run) parallax() parallaxResult {
	if r.par == nil {
		p := medianParallax(r.parFar, r.parNear)
		r.par = &p
	}
	return *r.par
}

// medianParallax fits the parallax from each far view to the near one
// and returns the median of each measure over the fits that could be
// made (NaN when none).
func medianParallax(fars []*faceCrop, near *faceCrop) parallaxResult {
	var beta, t, points, dropped, growth []float64
	for _, far := range fars {
		if far == near {
			continue
		}
		p := faceParallax(far, near)
		if math.IsNaN(p.beta) || math.IsNaN(p.t) {
			continue
		}
		beta, t = append(beta, p.beta), append(t, p.t)
		points, dropped = append(points, float64(p.points)), append(dropped, float64(p.dropped))
		growth = append(growth, p.growth)
	}
	if len(t) == 0 {
		res := parallaxResult{beta: math.NaN(), t: math.NaN()}
		if len(fars) > 0 && near != nil {
			res.growth = near.width / fars[0].width
		}
		return res
	}
	return parallaxResult{beta: median(beta), t: median(t), points: int(math.Round(median(points))),
		dropped: int(math.Round(median(dropped))), growth: median(growth)}
}

// faceParallax fits the parallax between the far and near views.
func faceParallax(far, near *faceCrop) parallaxResult {
	res := parallaxResult{beta: math.NaN(), t: math.NaN()}
	if far == nil || near == nil {
		return res
	}
	res.growth = near.width / far.width
	// The far mesh's extent and its nose tip give the convexity h.
	minX, maxX, minY, maxY := bounds(len(far.pts), func(i int) (float64, float64) { return far.pts[i].X, far.pts[i].Y })
	cx, cy, a, b := (minX+maxX)/2, (minY+maxY)/2, (maxX-minX)/2, (maxY-minY)/2
	nose := far.pts[4]
	// h is the convexity at p, n the nose's bump, r2 the squared radius
	// over the ellipse.
	h := func(p livenessd.Point) (hv, n, r2 float64) {
		u, w := (p.X-cx)/a, (p.Y-cy)/b
		r2 = u*u + w*w
		d2 := ((p.X-nose.X)*(p.X-nose.X) + (p.Y-nose.Y)*(p.Y-nose.Y)) / (0.12 * 0.12 * 4 * a * a)
		n = math.Exp(-d2)
		return math.Sqrt(math.Max(0, 1-r2)) + 0.5*n, n, r2
	}
	// The mesh's similarity from far to near starts each search.
	sim, ok := similarityFit(far.pts, near.pts)
	if !ok {
		return res
	}
	back, ok := sim.inverse()
	if !ok {
		return res
	}
	// Each track is followed back from the near view to the far one. A
	// patch whose pixels do not move as one surface (an eye that blinks
	// in one view, a moving highlight, hair at the outline) comes back
	// elsewhere; the fit keeps the tracks that return to within
	// fbSpread times the capture's median round trip (at least fbFloor
	// crop pixels), so the limit follows the capture's own noise (its
	// resolution, JPEG, sharpness) rather than one camera's.
	type tracked struct {
		p, q  livenessd.Point
		hv, n float64
		fb    float64
	}
	var tracks []tracked
	var fbs []float64
	onTemples := temples(far.pts)
	for _, p := range trackStarts(far.pts, cx, cy, a, b) {
		hv, n, r2 := h(p)
		if r2 > 0.8 || p.X < lkHalf+2 || p.Y < lkHalf+2 || p.X > cropSide-lkHalf-3 || p.Y > cropSide-lkHalf-3 || onTemples(p) {
			continue
		}
		q, ok := track(far, near, p, sim.apply(p))
		if !ok {
			continue
		}
		pb, ok := track(near, far, q, back.apply(q))
		if !ok {
			continue
		}
		fb := math.Hypot(pb.X-p.X, pb.Y-p.Y)
		tracks = append(tracks, tracked{p, q, hv, n, fb})
		fbs = append(fbs, fb)
	}
	if len(tracks) == 0 {
		return res
	}
	fbMax := math.Max(fbFloor, fbSpread*median(fbs))
	var rows [][]float64
	var ys []float64
	for _, tr := range tracks {
		if tr.fb > fbMax {
			res.dropped++
			continue
		}
		p, q, hv, n := tr.p, tr.q, tr.hv, tr.n
		dx, dy := p.X-cx, p.Y-cy
		u, v := dx/a, dy/a // κ's and λ's columns: turns about the vertical and the horizontal axis
		rows = append(rows,
			[]float64{p.X, p.Y, 1, 0, 0, 0, dx * hv, hv, 0, dx * u, dx * v, n, 0},
			[]float64{0, 0, 0, p.X, p.Y, 1, dy * hv, 0, hv, dy * u, dy * v, 0, n})
		ys = append(ys, q.X, q.Y)
		res.points++
	}
	if res.points < 20 {
		return res
	}
	w := make([]float64, len(rows))
	for i := range w {
		w[i] = 1
	}
	// Two passes: the second without the worst tenth of the points.
	for pass := range 2 {
		beta, se, ok := weightedLeastSquares(rows, ys, w)
		if !ok {
			return res
		}
		res.beta = beta[6] / math.Max(1e-9, (beta[0]+beta[4])/2)
		res.t = beta[6] / se[6]
		if pass == 1 {
			break
		}
		r := make([]float64, res.points)
		for i := range r {
			var fx, fy float64
			for j := range beta {
				fx += rows[2*i][j] * beta[j]
				fy += rows[2*i+1][j] * beta[j]
			}
			r[i] = math.Hypot(ys[2*i]-fx, ys[2*i+1]-fy)
		}
		cut := quantile(r, 0.9)
		for i, v := range r {
			if v > cut {
				w[2*i], w[2*i+1] = 0, 0
			}
		}
	}
	return res
}

// gridStep is the spacing (crop pixels) of the tracks laid over the face
// besides FaceMesh's points.
const gridStep = 6

// trackStarts are the far view's points to track: every other FaceMesh
// point, and a grid every gridStep crop pixels over the box of the face's
// ellipse (centre cx, cy, half-axes a, b; the caller keeps those inside).
// FaceMesh has few points above the brows, so without the grid the
// forehead carried 2-5 of about 180 tracks and up-and-down was measured
// between the eye band and the mouth and chin alone.
func trackStarts(mesh []livenessd.Point, cx, cy, a, b float64) []livenessd.Point {
	starts := make([]livenessd.Point, 0, len(mesh)/2+int((2*a/gridStep+1)*(2*b/gridStep+1)))
	for i := 0; i < len(mesh); i += 2 {
		starts = append(starts, mesh[i])
	}
	for y := cy - b; y <= cy+b; y += gridStep {
		for x := cx - a; x <= cx+a; x += gridStep {
			starts = append(starts, pt(x, y))
		}
	}
	return starts
}

// similarity is x' = s·R·x + t.
type similarity struct{ a, b, tx, ty float64 } // x' = a x - b y + tx, y' = b x + a y + ty

func (s similarity) apply(p livenessd.Point) livenessd.Point {
	return pt(s.a*p.X-s.b*p.Y+s.tx, s.b*p.X+s.a*p.Y+s.ty)
}

// inverse is the similarity that undoes s.
func (s similarity) inverse() (similarity, bool) {
	d := s.a*s.a + s.b*s.b
	if d < 1e-12 {
		return similarity{}, false
	}
	a, b := s.a/d, -s.b/d
	return similarity{a, b, -(a*s.tx - b*s.ty), -(b*s.tx + a*s.ty)}, true
}

// similarityFit is the least-squares similarity from ps to qs.
func similarityFit(ps, qs []livenessd.Point) (similarity, bool) {
	var rows [][]float64
	var ys []float64
	for i := range ps {
		p := ps[i]
		rows = append(rows, []float64{p.X, -p.Y, 1, 0}, []float64{p.Y, p.X, 0, 1})
		ys = append(ys, qs[i].X, qs[i].Y)
	}
	w := make([]float64, len(rows))
	for i := range w {
		w[i] = 1
	}
	beta, _, ok := weightedLeastSquares(rows, ys, w)
	if !ok {
		return similarity{}, false
	}
	return similarity{beta[0], beta[1], beta[2], beta[3]}, true
}
