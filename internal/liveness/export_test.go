package liveness

import (
	"math"
	"time"

	"github.com/livenessd/livenessd"
)

// MeshProbes exposes the mesh probe choice and its normals to the
// real-model tests (package liveness_test), which may import face.
func MeshProbes(o livenessd.FaceObservation) (idx []int, normals [][3]float64, ok bool) {
	ms, ok := selectMeshSet(o)
	if !ok {
		return nil, nil, false
	}
	for _, n := range ms.normals(o.Mesh) {
		normals = append(normals, n.arr())
	}
	return ms.idx, normals, true
}

// ProbeDebug is one mesh probe's measured response and prediction.
type ProbeDebug struct {
	A, S       float64 // response to the expected signal; predicted n·l
	X, Y       float64 // face coordinates (IOD)
	ImgX, ImgY float64 // image position in the last frame with a layout
	OK         bool
	MeshFace   [][3]float64 // the whole mean mesh in face coordinates (IOD), set on the first probe
}

// DebugMeshProbes recomputes the mesh probes' responses of a finished run
// (for diagnostics in tests).
func DebugMeshProbes(r *Run) []ProbeDebug {
	on, end, ok := r.colourOnsets()
	if !ok {
		return nil
	}
	ser := r.lightSeries(on[0]+r.cfg.MaxLag, end)
	seq := make([]livenessd.RGB, len(r.ch.Colors))
	for i, c := range r.ch.Colors {
		seq[i] = c.Color
	}
	var lags []time.Duration
	for l := time.Duration(0); l <= r.cfg.MaxLag; l += r.cfg.LagStep {
		lags = append(lags, l)
	}
	ts := make([]float64, len(ser.t))
	for i, t := range ser.t {
		ts[i] = t.Seconds()
	}
	ex := newExpecter(ser.t, ts, on, lags)
	ex.prepare(&ser.skin)
	_, best := ex.bestCorr(seq)
	e := ex.expected(seq, best)
	var ee float64
	for c := range 3 {
		ee += dot(e[c], e[c])
	}
	l := vec3{0, math.Sin(screenElevation), -math.Cos(screenElevation)}
	var last layout
	for _, rec := range r.recs {
		if rec.hasLay && len(rec.lay.mesh) > 0 {
			last = rec.lay
		}
	}
	var mm [][3]float64
	nm := 0
	for _, rec := range r.recs {
		if rec.at < on[0] || rec.at > end || len(rec.face.Mesh) != meshPoints {
			continue
		}
		f, ok := faceFrameOf(rec.lay)
		if !ok {
			continue
		}
		if mm == nil {
			mm = make([][3]float64, meshPoints)
		}
		for i, q := range rec.face.Mesh {
			fp := f.to(pt(q.X, q.Y))
			mm[i][0] += fp.X
			mm[i][1] += fp.Y
			mm[i][2] += q.Z / f.iod
		}
		nm++
	}
	for i := range mm {
		for c := range 3 {
			mm[i][c] /= float64(nm)
		}
	}
	var out []ProbeDebug
	for p := range ser.mesh {
		var ex float64
		for c := range 3 {
			ex += dot(e[c], ser.mesh[p][c])
		}
		d := ProbeDebug{A: ex / ee, S: math.Max(0, ser.mnorm[p].dot(l)), X: ser.mpos[p].X, Y: ser.mpos[p].Y, OK: ser.mok[p]}
		if p < len(last.mesh) {
			d.ImgX, d.ImgY = last.mesh[p].X, last.mesh[p].Y
		}
		if p == 0 {
			d.MeshFace = mm
		}
		out = append(out, d)
	}
	return out
}
