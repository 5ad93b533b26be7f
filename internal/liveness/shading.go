package liveness

import (
	"math"
)

// Shading against the face's shape. Each mesh probe's response to the
// screen colours (its features projected on the expected signal) is fitted
// across the face as
//
//	a = A·(1 - K·f) + gx·x + gy·y
//
// where f is how much less of the screen's light the probe's place should
// get than the face front on a 3-D face, and x, y the probe's place on the
// face. K = 1 is a face that answers as the model predicts, K = 0 a surface
// that answers evenly: a flat print, whatever face is printed on it. The
// linear terms take up a tilted print's gradient (nearer parts get more
// light) and uneven room light, which f (symmetric, curved) is nearly
// independent of.
//
// The model of f (faceFall) asks only what every face has, not one face's
// shape. The face is convex and turns away from the camera (and the screen
// beside it) at its outline, across and down: f = 1 - sqrt(1 - u² - w²)
// with u the probe's distance from the midline over the mesh's half-width
// at its height, on its own side (a turned head has one side narrower),
// and w its distance from the face's vertical middle over the mesh's
// half-height there. And the nose stands out of it: its flanks face
// sideways, so a band either side of the nose ridge, from the eyes to the
// tip, gets less light than the ridge and the cheeks beside it. A face
// that is flat across its front (a broad face, a shallow one) still has
// the fall-off above its brows, along its jaw and on its nose. Measured on
// the dev split (247 live captures and 246 prints over face shapes up to
// 1.5 times broader than the photo's outline), refusing 2% of the live
// captures let 97% of the prints through with the outline across alone,
// and 19% with this model (docs/ACCURACY.md).
//
// The normals model, s = n·l with n the probe's own normal from the
// tracked mesh, is reported but not graded: measured in simulation, where
// the light on every pixel is known, the outline model predicts the light
// the probes get (correlation 0.7-0.8 over the probes of a face) and the
// mesh's local normals do not (0.1: FaceMesh's depths are a learned prior,
// noisy point by point).

// screenElevation is how far below the camera axis the screen's light
// comes from (a laptop or phone camera sits above the screen).
const screenElevation = 15 * math.Pi / 180

// noseFlankWidth is the nose's half-width scale (IODs; about 0.9 cm), and
// noseFlankWeight the fall-off on its flanks against the outline's: a
// nose stands 1.5-2.5 cm out of the face, so its flanks turn 40-60° from
// the ridge (n·l 0.5-0.75), over few probes. Both were chosen on the dev
// split, on a plateau (weights 3-4 and widths 0.12-0.16 do about as well;
// docs/ACCURACY.md).
const (
	noseFlankWidth  = 0.14
	noseFlankWeight = 3
)

// shadingZ is how many standard errors of the fall-off the shading check
// allows above the estimate (about 97.5% one-sided).
const shadingZ = 2

// shadingModel selects the prediction of each probe's share of light.
type shadingModel int

const (
	outlineModel shadingModel = iota
	normalsModel
)

// meshShadingResult is the fit.
type meshShadingResult struct {
	k float64 // fall-off per unit of (1 - s), relative to the front's response
	t float64 // significance of the fall-off (its t statistic, > 0 falling)
	// upper is k plus shadingZ standard errors: the steepest fall-off the
	// capture is consistent with. A flat surface is refused only when even
	// this is small, so a face measured noisily (glasses, a beard, a dim
	// screen) is not taken for flat.
	upper  float64
	probes int
	spread float64 // weighted spread of the predicted fall-off over the probes used
}

// meshShading fits the response of the mesh probes in ser to the expected
// signal e (at the mesh series' frames: atMeshFrames) (features chosen by use: chroma only, or chroma and luminance)
// against the shares of light model predicts.
func meshShading(e *[3][]float64, ser *lightSeries, use [3]bool, model shadingModel) meshShadingResult {
	res := meshShadingResult{k: math.NaN(), t: math.NaN(), upper: math.NaN()}
	var ee float64
	for c := range 3 {
		if use[c] {
			ee += dot(e[c], e[c])
		}
	}
	if ee <= 0 || len(ser.mesh) == 0 {
		return res
	}
	l := vec3{0, math.Sin(screenElevation), -math.Cos(screenElevation)}
	var rows [][]float64
	var ys, ws []float64
	for p := range ser.mesh {
		if !ser.mok[p] {
			continue
		}
		var fall float64
		switch model {
		case outlineModel:
			if fall = ser.mfall[p]; math.IsNaN(fall) {
				continue
			}
		case normalsModel:
			if !ser.mnorm[p].finite() {
				continue
			}
			fall = 1 - math.Max(0, ser.mnorm[p].dot(l))
		}
		x := &ser.mesh[p]
		var ex float64
		for c := range 3 {
			if use[c] {
				ex += dot(e[c], x[c])
			}
		}
		a := ex / ee
		var r2 float64
		n := 0
		for c := range 3 {
			if !use[c] {
				continue
			}
			for j, v := range x[c] {
				d := v - a*e[c][j]
				r2 += d * d
				n++
			}
		}
		if n == 0 {
			continue
		}
		w := ee / math.Max(r2/float64(n), 1e-12) // 1 / variance of a
		pos := ser.mpos[p]
		rows = append(rows, []float64{1, fall, pos.X, pos.Y})
		ys = append(ys, a)
		ws = append(ws, w)
	}
	if len(rows) < 12 {
		return res
	}
	// No probe may carry more than five times the median weight: one
	// probe on a specular highlight or a steady patch of hair must not
	// decide the fit.
	med := quantile(ws, 0.5)
	for i := range ws {
		ws[i] = math.Min(ws[i], 5*med)
	}
	beta, se, ok := weightedLeastSquares(rows, ys, ws)
	if !ok || beta[0] <= 0 {
		return res
	}
	res.probes = len(rows)
	res.k = -beta[1] / beta[0]
	if se[1] > 0 {
		res.t = -beta[1] / se[1]
		res.upper = res.k + shadingZ*se[1]/beta[0]
	}
	var sw, m, v float64
	for i, r := range rows {
		sw += ws[i]
		m += ws[i] * r[1]
	}
	m /= sw
	for i, r := range rows {
		v += ws[i] * (r[1] - m) * (r[1] - m)
	}
	res.spread = math.Sqrt(v / sw)
	return res
}

// atMeshFrames is the expected signal e at the frames the mesh series
// holds (all of them unless FaceMesh lost the face on some).
func (ser *lightSeries) atMeshFrames(e *[3][]float64) *[3][]float64 {
	if ser.mframes == nil || len(ser.mframes) == len(e[0]) {
		return e
	}
	var m [3][]float64
	for c := range 3 {
		m[c] = make([]float64, len(ser.mframes))
		for j, i := range ser.mframes {
			m[c][j] = e[c][i]
		}
	}
	return &m
}

// weightedLeastSquares solves min Σ w (x·β - y)² by the normal equations
// (the designs here are small and well conditioned: a handful of columns
// over tens of rows) and returns β and its standard errors from the
// weighted residuals (NaN without residual degrees of freedom); ok is
// false when the design is singular.
func weightedLeastSquares(x [][]float64, y, w []float64) (beta, se []float64, ok bool) {
	n := len(x)
	if n == 0 {
		return nil, nil, false
	}
	p := len(x[0])
	// Normal matrix augmented with the identity, inverted by Gauss-Jordan.
	m := make([][]float64, p)
	for i := range m {
		m[i] = make([]float64, 2*p+1)
		m[i][p+i] = 1
	}
	for r, row := range x {
		for i := range p {
			for j := range p {
				m[i][j] += w[r] * row[i] * row[j]
			}
			m[i][2*p] += w[r] * row[i] * y[r]
		}
	}
	for c := range p {
		piv := c
		for r := c + 1; r < p; r++ {
			if math.Abs(m[r][c]) > math.Abs(m[piv][c]) {
				piv = r
			}
		}
		if math.Abs(m[piv][c]) < 1e-12 {
			return nil, nil, false
		}
		m[c], m[piv] = m[piv], m[c]
		d := m[c][c]
		for j := range m[c] {
			m[c][j] /= d
		}
		for r := range p {
			if r == c {
				continue
			}
			f := m[r][c]
			for j := range m[r] {
				m[r][j] -= f * m[c][j]
			}
		}
	}
	beta = make([]float64, p)
	for i := range p {
		beta[i] = m[i][2*p]
	}
	// Rows of weight zero carry no information: they do not count as
	// degrees of freedom.
	used := 0
	for _, wr := range w {
		if wr > 0 {
			used++
		}
	}
	se = make([]float64, p)
	if used <= p {
		for i := range se {
			se[i] = math.NaN()
		}
		return beta, se, true
	}
	var rss float64
	for r, row := range x {
		var f float64
		for i := range p {
			f += row[i] * beta[i]
		}
		rss += w[r] * (f - y[r]) * (f - y[r])
	}
	s2 := rss / float64(used-p)
	for i := range p {
		se[i] = math.Sqrt(math.Max(0, s2*m[i][p+i]))
	}
	return beta, se, true
}

// addMesh adds one frame's mesh probes to the series. A frame without
// them (FaceMesh lost the face there, so the frames interpolated beside it
// have none either) is left out of the mesh series only; another probe set
// leaves the capture without mesh series.
func (ser *lightSeries) addMesh(rec *record) {
	n := len(rec.s.mesh)
	if n == 0 || ser.meshMissing {
		return
	}
	if ser.mesh == nil {
		ser.mesh = make([][3][]float64, n)
		ser.mok = make([]bool, n)
		for i := range ser.mok {
			ser.mok[i] = true
		}
		ser.mnorm = make([]vec3, n)
		ser.mpos = make([]pointSum, n)
		ser.mclipped = make([]bool, n)
	}
	if n != len(ser.mesh) {
		ser.meshMissing = true
		return
	}
	ser.mframes = append(ser.mframes, len(ser.t)-1)
	f, ok := faceFrameOf(rec.lay)
	for i := range n {
		rgb := rec.s.mesh[i]
		v := linearFeatures(rgb)
		for c := range 3 {
			ser.mesh[i][c] = append(ser.mesh[i][c], v[c])
		}
		// A clipped or nearly black channel does not answer the light.
		exposed := true
		for _, x := range rgb {
			exposed = exposed && x >= 8 && x <= 245
		}
		ser.mclipped[i] = ser.mclipped[i] || !exposed
		ser.mok[i] = ser.mok[i] && rec.s.mok[i] && exposed
		if ok {
			q := f.to(rec.lay.mesh[i])
			ser.mpos[i].add(q.X, q.Y)
		}
	}
	if len(rec.norms) == n {
		for i, nv := range rec.norms {
			ser.mnormSum(i, nv)
		}
	}
	// The whole mesh of the observed frames, in face coordinates: its
	// outline.
	if m := rec.face.Mesh; ok && len(m) == meshPoints {
		if ser.mfull == nil {
			ser.mfull = make([]pointSum, meshPoints)
		}
		for i, q := range m {
			p := f.to(pt(q.X, q.Y))
			ser.mfull[i].add(p.X, p.Y)
		}
	}
}

// pointSum accumulates a mean position.
type pointSum struct {
	X, Y float64
	n    float64
}

func (p *pointSum) add(x, y float64) { p.X, p.Y, p.n = p.X+x, p.Y+y, p.n+1 }

func (p pointSum) mean() pointSum {
	if p.n == 0 {
		return pointSum{X: math.NaN(), Y: math.NaN()}
	}
	return pointSum{X: p.X / p.n, Y: p.Y / p.n, n: 1}
}

func (ser *lightSeries) mnormSum(i int, n vec3) {
	if n.finite() {
		ser.mnorm[i] = ser.mnorm[i].add(n)
	}
}

// exposedShare is the share of the mesh probes whose colour stayed inside
// the camera's range (no channel clipped or black) on every frame of the
// series: 1 without a mesh series, whose absence is not an exposure
// problem.
func (ser *lightSeries) exposedShare() float64 {
	if len(ser.mesh) == 0 {
		return 1
	}
	n := 0
	for _, c := range ser.mclipped {
		if !c {
			n++
		}
	}
	return float64(n) / float64(len(ser.mclipped))
}

// meshMinFrames is the share of the light frames the mesh series must
// cover: a capture whose mesh was lost for longer is not measured.
const meshMinFrames = 0.7

// finishMesh turns the sums into means, detrends the series and drops the
// probes without a finite normal or position.
func (ser *lightSeries) finishMesh(ts []float64) {
	if ser.meshMissing || float64(len(ser.mframes)) < meshMinFrames*float64(len(ts)) {
		ser.mesh, ser.mok = nil, nil
		return
	}
	mts := make([]float64, len(ser.mframes))
	for j, i := range ser.mframes {
		mts[j] = ts[i]
	}
	full := make([]pointSum, len(ser.mfull))
	for i, q := range ser.mfull {
		full[i] = q.mean()
	}
	ser.mfall = make([]float64, len(ser.mesh))
	for i := range ser.mesh {
		if ser.mnorm[i].norm() > 0 {
			ser.mnorm[i] = ser.mnorm[i].unit()
		}
		ser.mpos[i] = ser.mpos[i].mean()
		if math.IsNaN(ser.mpos[i].X) {
			ser.mok[i] = false
		}
		ser.mfall[i] = faceFall(full, ser.mpos[i])
		for c := range 3 {
			detrend(mts, ser.mesh[i][c])
		}
	}
}

// faceFall is the fall-off of the screen's light at face position p
// against the face front (see the model at the top): towards the outline
// across and down, and on the nose's flanks. NaN when the mesh does not
// reach p's height on its side or its place across.
func faceFall(mesh []pointSum, p pointSum) float64 {
	u, w := acrossDistance(mesh, p), downDistance(mesh, p)
	if math.IsNaN(u) || math.IsNaN(w) {
		return math.NaN()
	}
	return 1 - math.Sqrt(math.Max(0.0004, 1-u*u-w*w)) + noseFlankWeight*noseFlank(mesh, p)
}

// downDistance is p's distance from the middle of the mesh's extent at its
// place across (mesh points within 0.15 IOD) over the half-height there,
// at most 0.98: the face turns down towards its chin and up towards its
// forehead. NaN when the mesh is shorter than 0.6 IOD there.
func downDistance(mesh []pointSum, p pointSum) float64 {
	if math.IsNaN(p.X) {
		return math.NaN()
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, q := range mesh {
		if math.Abs(q.X-p.X) < 0.15 {
			lo, hi = math.Min(lo, q.Y), math.Max(hi, q.Y)
		}
	}
	if hi-lo < 0.6 {
		return math.NaN()
	}
	return math.Min(0.98, math.Abs(p.Y-(lo+hi)/2)/((hi-lo)/2))
}

// noseRidge are FaceMesh points down the nose's ridge, from between the
// eyes to the tip.
var noseRidge = [...]int{168, 6, 197, 195, 5, 4}

// noseFlank is the relative turn of the nose's flank at p: d² e^(-d²) with
// d the distance from the ridge (at p's height) over noseFlankWidth, 0 on
// the ridge and far from it, at most 1/e on the flank; it grows from a
// quarter between the eyes to full at the tip, and is 0 above and below.
func noseFlank(mesh []pointSum, p pointSum) float64 {
	if len(mesh) != meshPoints {
		return 0
	}
	top, tip := mesh[noseRidge[0]], mesh[noseRidge[len(noseRidge)-1]]
	if p.Y < top.Y || p.Y > tip.Y+0.1 || tip.Y-top.Y <= 0 {
		return 0
	}
	x := tip.X
	for i := 0; i+1 < len(noseRidge); i++ {
		a, b := mesh[noseRidge[i]], mesh[noseRidge[i+1]]
		if p.Y >= a.Y && p.Y <= b.Y && b.Y > a.Y {
			x = a.X + (p.Y-a.Y)/(b.Y-a.Y)*(b.X-a.X)
			break
		}
	}
	g := math.Min(1, math.Max(0.25, (p.Y-top.Y)/math.Max(0.3, tip.Y-top.Y)))
	d := (p.X - x) / noseFlankWidth
	return g * d * d * math.Exp(-d*d)
}

// acrossDistance is p's distance from the midline over the mesh's
// half-width on its side at its height (mesh points within 0.15 IOD of
// it), at most 0.98: a turned head has one side narrower. NaN when the
// mesh does not reach p's height on that side.
func acrossDistance(mesh []pointSum, p pointSum) float64 {
	if math.IsNaN(p.X) {
		return math.NaN()
	}
	w := 0.0
	for _, q := range mesh {
		if math.Abs(q.Y-p.Y) < 0.15 && q.X*p.X >= 0 {
			w = math.Max(w, math.Abs(q.X))
		}
	}
	if w < 0.3 {
		return math.NaN()
	}
	return math.Min(0.98, math.Abs(p.X)/w)
}

// faceFrameOf is the face frame of a layout (eyes and their distance).
func faceFrameOf(l layout) (faceFrame, bool) {
	if l.iod < 1 {
		return faceFrame{}, false
	}
	f := faceFrame{eyeL: l.eyeL, eyeR: l.eyeR, iod: dist(l.eyeL, l.eyeR)}
	if f.iod < 1 {
		return faceFrame{}, false
	}
	f.mid = lerp(f.eyeL, f.eyeR, 0.5)
	f.u = scale(sub(f.eyeR, f.eyeL), 1/f.iod)
	f.v = pt(-f.u.Y, f.u.X)
	return f, true
}

// linearFeatures are the light features of a mean RGB taken back to
// linear light through the sRGB curve first. A camera's tone curve is not
// a pure power: its toe makes darker pixels change more, in log units, for
// the same change of light, so dark sides of a face (or of a printed face)
// would look as if they answered the screen more than the bright front.
func linearFeatures(rgb [3]float32) [3]float64 {
	var l [3]float64
	for c, v := range rgb {
		x := float64(v) / 255
		if x <= 0.04045 {
			x /= 12.92
		} else {
			x = math.Pow((x+0.055)/1.055, 2.4)
		}
		l[c] = math.Log(x + 1e-3)
	}
	return [3]float64{l[0] - l[1], (l[0]+l[1])/2 - l[2], (l[0] + l[1] + l[2]) / 3}
}
