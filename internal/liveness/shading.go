package liveness

import (
	"math"
)

// Shading against the face's shape. Each mesh probe's response to the
// screen colours (its features projected on the expected signal) is fitted
// across the face as
//
//	a = A·(1 - K·(1 - s)) + gx·x + gy·y
//
// where s is the share of the screen's light the probe's place should get
// on a 3-D face, and x, y the probe's place on the face. K = 1 is a face
// that answers as the model predicts, K = 0 a surface that answers evenly:
// a flat print, whatever face is printed on it. The linear terms take up a
// tilted print's gradient (nearer parts get more light) and uneven room
// light, which s (symmetric, curved) is nearly independent of.
//
// Two models of s are computed. The outline model: the face is convex and
// turns perpendicular to the camera (and the screen beside it) at its
// outline, so across the face at height y, s = sqrt(1 - u²) with u the
// probe's distance from the midline over the mesh's half-width there, on
// its own side (a turned head has one side narrower). The normals model:
// s = n·l with n the probe's own normal from the tracked mesh. Measured
// in simulation, where the light on every pixel is known, the outline
// model predicts the light the probes get (correlation 0.7-0.8 over the
// probes of a face) and the mesh's local normals do not (0.1: FaceMesh's
// depths are a learned prior, noisy point by point, and shaped by the
// nose and eye sockets more than by the face's turn towards its outline),
// so the outline model is the one graded (docs/ACCURACY.md).

// screenElevation is how far below the camera axis the screen's light
// comes from (a laptop or phone camera sits above the screen).
const screenElevation = 15 * math.Pi / 180

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
	spread float64 // weighted spread of (1 - n·l) over the probes used
}

// meshShading fits the response of the mesh probes in ser to the expected
// signal e (features chosen by use: chroma only, or chroma and luminance)
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
		var s float64
		switch model {
		case outlineModel:
			if s = ser.mshare[p]; math.IsNaN(s) {
				continue
			}
		case normalsModel:
			if !ser.mnorm[p].finite() {
				continue
			}
			s = math.Max(0, ser.mnorm[p].dot(l))
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
		rows = append(rows, []float64{1, 1 - s, pos.X, pos.Y})
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
	se = make([]float64, p)
	if n <= p {
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
	s2 := rss / float64(n-p)
	for i := range p {
		se[i] = math.Sqrt(math.Max(0, s2*m[i][p+i]))
	}
	return beta, se, true
}

// addMesh adds one frame's mesh probes to the series; a frame without them
// (no mesh, or another probe set) leaves the capture without mesh series.
func (ser *lightSeries) addMesh(rec *record) {
	n := len(rec.s.mesh)
	if ser.mesh == nil {
		if n == 0 {
			ser.meshMissing = true
			return
		}
		ser.mesh = make([][3][]float64, n)
		ser.mok = make([]bool, n)
		for i := range ser.mok {
			ser.mok[i] = true
		}
		ser.mnorm = make([]vec3, n)
		ser.mpos = make([]pointSum, n)
	}
	if n != len(ser.mesh) || ser.meshMissing {
		ser.meshMissing = true
		return
	}
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

// finishMesh turns the sums into means, detrends the series and drops the
// probes without a finite normal or position.
func (ser *lightSeries) finishMesh(ts []float64) {
	if ser.meshMissing {
		ser.mesh, ser.mok = nil, nil
		return
	}
	full := make([]pointSum, len(ser.mfull))
	for i, q := range ser.mfull {
		full[i] = q.mean()
	}
	ser.mshare = make([]float64, len(ser.mesh))
	for i := range ser.mesh {
		if ser.mnorm[i].norm() > 0 {
			ser.mnorm[i] = ser.mnorm[i].unit()
		}
		ser.mpos[i] = ser.mpos[i].mean()
		if math.IsNaN(ser.mpos[i].X) {
			ser.mok[i] = false
		}
		ser.mshare[i] = outlineShare(full, ser.mpos[i])
		for c := range 3 {
			detrend(ts, ser.mesh[i][c])
		}
	}
}

// outlineShare is the share of the screen's light at face position p
// (IODs) on a face that turns away towards its outline as an ellipse
// does: sqrt(1 - u²), u = the distance from the midline over the mesh's
// half-width on that side at p's height (mesh points within 0.15 IOD of
// it). NaN when the mesh does not reach p's height on that side.
func outlineShare(mesh []pointSum, p pointSum) float64 {
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
	u := math.Min(0.98, math.Abs(p.X)/w)
	return math.Sqrt(1 - u*u)
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
