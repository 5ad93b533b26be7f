package liveness

import (
	"math"
)

// meshParallax measures the perspective of the approach on the dense mesh.
// Coming from distance Df to Dn, a point standing z before the face's
// outline grows by about z·(1/Dn - 1/Df) more than the outline does: the
// nose and brow move outwards against the cheeks and the contour. After
// the best 2-D similarity between the far and near meshes, each point's
// remaining displacement is regressed on what that predicts from the
// mesh's own depths; the slope estimates 1/f of the camera (in pixels,
// as the mesh's depths are), and times half the frame width it is
// tan(HFOV/2): 0.5-0.8 for a real face whatever its shape, 0 for a flat
// print, which only scales. NaN without an approach of at least 10%.
func meshParallax(first, last []*record, frameWidth int) float64 {
	pf, _, okf := meanMesh(first)
	pn, zn, okn := meanMesh(last)
	if !okf || !okn || frameWidth <= 0 {
		return math.NaN()
	}
	n := len(pf)
	var cf, cn [2]float64
	for i := range n {
		cf[0] += pf[i][0] / float64(n)
		cf[1] += pf[i][1] / float64(n)
		cn[0] += pn[i][0] / float64(n)
		cn[1] += pn[i][1] / float64(n)
	}
	// Similarity far -> near as a complex factor q = s·e^{iθ}.
	var re, im, aa float64
	for i := range n {
		ax, ay := pf[i][0]-cf[0], pf[i][1]-cf[1]
		bx, by := pn[i][0]-cn[0], pn[i][1]-cn[1]
		re += ax*bx + ay*by
		im += ax*by - ay*bx
		aa += ax*ax + ay*ay
	}
	if aa <= 0 {
		return math.NaN()
	}
	qr, qi := re/aa, im/aa
	s := math.Hypot(qr, qi)
	if s < 1.1 {
		return math.NaN()
	}
	// The similarity's scale takes up the mean magnification, weighted as
	// its fit weighs the points (by their squared distance to the centre).
	var zm, wz float64
	for i := range n {
		bx, by := pn[i][0]-cn[0], pn[i][1]-cn[1]
		w := bx*bx + by*by
		zm += w * zn[i]
		wz += w
	}
	if wz <= 0 {
		return math.NaN()
	}
	zm /= wz
	var rg, gg float64
	for i := range n {
		ax, ay := pf[i][0]-cf[0], pf[i][1]-cf[1]
		bx, by := pn[i][0]-cn[0], pn[i][1]-cn[1]
		rx := bx - (qr*ax - qi*ay)
		ry := by - (qi*ax + qr*ay)
		k := -(zn[i] - zm) * (1 - 1/s)
		gx, gy := bx*k, by*k
		rg += rx*gx + ry*gy
		gg += gx*gx + gy*gy
	}
	if gg <= 0 {
		return math.NaN()
	}
	return rg / gg * float64(frameWidth) / 2
}

// meanMesh averages the 2-D mesh points and depths of the records that
// have a mesh; ok is false when none has.
func meanMesh(recs []*record) (p [][2]float64, z []float64, ok bool) {
	k := 0
	for _, rec := range recs {
		m := rec.face.Mesh
		if len(m) != meshPoints {
			continue
		}
		if p == nil {
			p, z = make([][2]float64, meshPoints), make([]float64, meshPoints)
		}
		for i, q := range m {
			p[i][0] += q.X
			p[i][1] += q.Y
			z[i] += q.Z
		}
		k++
	}
	if k == 0 {
		return nil, nil, false
	}
	for i := range p {
		p[i][0] /= float64(k)
		p[i][1] /= float64(k)
		z[i] /= float64(k)
	}
	return p, z, true
}
