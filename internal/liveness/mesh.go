package liveness

import (
	"cmp"
	"math"
	"slices"

	"github.com/livenessd/livenessd"
)

// Mesh probes: the light analysis samples the skin at points of the dense
// face mesh (FaceMesh's 468 3-D landmarks), so that each probe's response
// to the screen can be set against the surface normal the mesh gives
// there. A flat print answers the screen evenly whatever the mesh says;
// a face answers in proportion to n·l, which falls towards its sides, under
// its chin and along the flanks of its nose. The probe set is chosen once
// per capture, on its first observation with a mesh: skin only (away from
// the eyes, brows, nostrils and lips, which blink, move and reflect
// differently), inside the face outline by a patch's width, thinned to an
// even spread.

const (
	meshPoints = 468
	// meshProbeRadius is a probe patch's half-side, in inter-ocular
	// distances.
	meshProbeRadius = 0.085
	// meshProbeSpacing is the least distance between two probes (IODs).
	meshProbeSpacing = 0.14
	// meshNeighbours is how many mesh points fit each probe's normal.
	meshNeighbours = 10
)

// meshSet is the capture's probe set.
type meshSet struct {
	idx []int   // mesh points sampled
	nbr [][]int // per probe: the mesh points its normal is fitted on
}

// faceFrame is a face's own coordinates: origin between the eyes, x
// towards the image right along the eye line, y down the face, both in
// inter-ocular distances.
type faceFrame struct {
	mid    livenessd.Point
	u, v   livenessd.Point
	iod    float64
	eyeL   livenessd.Point
	eyeR   livenessd.Point
	hasLm  bool
	lm     []livenessd.Point
	lmFace []livenessd.Point
}

func newFaceFrame(o livenessd.FaceObservation) (faceFrame, bool) {
	if len(o.Landmarks) != 68 {
		return faceFrame{}, false
	}
	l := o.Landmarks
	f := faceFrame{eyeL: meanPt(l[36:42]), eyeR: meanPt(l[42:48]), hasLm: true, lm: l}
	f.iod = dist(f.eyeL, f.eyeR)
	if f.iod < 4 {
		return faceFrame{}, false
	}
	f.mid = lerp(f.eyeL, f.eyeR, 0.5)
	f.u = scale(sub(f.eyeR, f.eyeL), 1/f.iod)
	f.v = pt(-f.u.Y, f.u.X)
	f.lmFace = make([]livenessd.Point, len(l))
	for i, p := range l {
		f.lmFace[i] = f.to(p)
	}
	return f, true
}

// to maps an image point into the face frame.
func (f faceFrame) to(p livenessd.Point) livenessd.Point {
	d := sub(p, f.mid)
	return pt((d.X*f.u.X+d.Y*f.u.Y)/f.iod, (d.X*f.v.X+d.Y*f.v.Y)/f.iod)
}

// selectMeshSet chooses the probes on observation o; ok is false without a
// mesh and 68 landmarks.
func selectMeshSet(o livenessd.FaceObservation) (meshSet, bool) {
	if len(o.Mesh) != meshPoints {
		return meshSet{}, false
	}
	f, ok := newFaceFrame(o)
	if !ok {
		return meshSet{}, false
	}
	pts := make([]livenessd.Point, meshPoints)
	for i, q := range o.Mesh {
		pts[i] = f.to(pt(q.X, q.Y))
	}
	hull := convexHull(pts)
	lm := f.lmFace
	avoid := func(p livenessd.Point) bool {
		// Eyes (and glasses' lenses around them): the eye outline grown
		// by a third of an eye width.
		for _, eye := range [][]livenessd.Point{lm[36:42], lm[42:48]} {
			if nearPolygon(p, eye, 0.16) {
				return true
			}
		}
		// Brows, nostrils, lips.
		if nearPolyline(p, lm[17:22], 0.12) || nearPolyline(p, lm[22:27], 0.12) ||
			nearPolyline(p, lm[31:36], 0.08) || nearPolygon(p, lm[48:60], 0.1) {
			return true
		}
		// Inside the outline by more than a patch, so no probe straddles
		// the background.
		return distToPolygonEdge(p, hull) < 2*meshProbeRadius
	}
	var ms meshSet
	var kept []livenessd.Point
	for i, p := range pts {
		if avoid(p) || !insidePolygon(p, hull) {
			continue
		}
		close := false
		for _, k := range kept {
			if dist(p, k) < meshProbeSpacing {
				close = true
				break
			}
		}
		if close {
			continue
		}
		kept = append(kept, p)
		ms.idx = append(ms.idx, i)
	}
	// Neighbours in 3-D for each probe's normal.
	for _, i := range ms.idx {
		type nd struct {
			j int
			d float64
		}
		var ds []nd
		a := o.Mesh[i]
		for j, b := range o.Mesh {
			if j == i {
				continue
			}
			dx, dy, dz := a.X-b.X, a.Y-b.Y, a.Z-b.Z
			ds = append(ds, nd{j, dx*dx + dy*dy + dz*dz})
		}
		slices.SortFunc(ds, func(x, y nd) int { return cmp.Or(cmp.Compare(x.d, y.d), cmp.Compare(x.j, y.j)) })
		nb := []int{i}
		for _, d := range ds[:meshNeighbours] {
			nb = append(nb, d.j)
		}
		ms.nbr = append(ms.nbr, nb)
	}
	return ms, len(ms.idx) >= 12
}

// meshNormals fits each probe's unit normal, oriented towards the camera
// (negative z, the mesh's convention), by the least principal direction of
// its neighbourhood.
func (ms meshSet) normals(mesh []livenessd.Point3) []vec3 {
	if len(mesh) != meshPoints {
		return nil
	}
	out := make([]vec3, len(ms.idx))
	for k, nb := range ms.nbr {
		var m vec3
		for _, j := range nb {
			m = m.add(v3(mesh[j]))
		}
		m = m.scale(1 / float64(len(nb)))
		var c [3][3]float64
		for _, j := range nb {
			d := v3(mesh[j]).sub(m)
			e := [3]float64{d.x, d.y, d.z}
			for a := range 3 {
				for b := range 3 {
					c[a][b] += e[a] * e[b]
				}
			}
		}
		n := smallestEigenvector(c)
		if n.z > 0 {
			n = n.scale(-1)
		}
		out[k] = n
	}
	return out
}

// vec3 is a 3-D vector (image pixels; z as FaceMesh gives it).
type vec3 struct{ x, y, z float64 }

func v3(p livenessd.Point3) vec3    { return vec3{p.X, p.Y, p.Z} }
func (a vec3) add(b vec3) vec3      { return vec3{a.x + b.x, a.y + b.y, a.z + b.z} }
func (a vec3) sub(b vec3) vec3      { return vec3{a.x - b.x, a.y - b.y, a.z - b.z} }
func (a vec3) scale(s float64) vec3 { return vec3{a.x * s, a.y * s, a.z * s} }
func (a vec3) dot(b vec3) float64   { return a.x*b.x + a.y*b.y + a.z*b.z }
func (a vec3) unit() vec3           { return a.scale(1 / math.Max(1e-12, math.Sqrt(a.dot(a)))) }
func (a vec3) finite() bool         { return !math.IsNaN(a.x+a.y+a.z) && !math.IsInf(a.x+a.y+a.z, 0) }
func cross(a, b vec3) vec3          { return vec3{a.y*b.z - a.z*b.y, a.z*b.x - a.x*b.z, a.x*b.y - a.y*b.x} }
func (a vec3) norm() float64        { return math.Sqrt(a.dot(a)) }
func vecOf(c [3]float64) vec3       { return vec3{c[0], c[1], c[2]} }
func (a vec3) arr() [3]float64      { return [3]float64{a.x, a.y, a.z} }

// smallestEigenvector of a symmetric positive semi-definite 3x3 matrix:
// the null direction of c - λmin I, found as the largest cross product of
// its rows (robust for the well separated eigenvalues of a surface patch).
func smallestEigenvector(c [3][3]float64) vec3 {
	// λmin by the trigonometric solution of the characteristic equation.
	p1 := c[0][1]*c[0][1] + c[0][2]*c[0][2] + c[1][2]*c[1][2]
	q := (c[0][0] + c[1][1] + c[2][2]) / 3
	p2 := (c[0][0]-q)*(c[0][0]-q) + (c[1][1]-q)*(c[1][1]-q) + (c[2][2]-q)*(c[2][2]-q) + 2*p1
	p := math.Sqrt(p2 / 6)
	lmin := q
	if p > 1e-12 {
		var b [3][3]float64
		for i := range 3 {
			for j := range 3 {
				b[i][j] = c[i][j] / p
				if i == j {
					b[i][j] -= q / p
				}
			}
		}
		det := b[0][0]*(b[1][1]*b[2][2]-b[1][2]*b[2][1]) - b[0][1]*(b[1][0]*b[2][2]-b[1][2]*b[2][0]) + b[0][2]*(b[1][0]*b[2][1]-b[1][1]*b[2][0])
		r := math.Max(-1, math.Min(1, det/2))
		phi := math.Acos(r) / 3
		lmin = q + 2*p*math.Cos(phi+2*math.Pi/3)
	}
	rows := [3]vec3{
		{c[0][0] - lmin, c[0][1], c[0][2]},
		{c[1][0], c[1][1] - lmin, c[1][2]},
		{c[2][0], c[2][1], c[2][2] - lmin},
	}
	best := vec3{0, 0, -1}
	bn := 0.0
	for _, pr := range [][2]int{{0, 1}, {0, 2}, {1, 2}} {
		x := cross(rows[pr[0]], rows[pr[1]])
		if n := x.norm(); n > bn {
			best, bn = x, n
		}
	}
	if bn < 1e-12 {
		return vec3{0, 0, -1}
	}
	return best.scale(1 / bn)
}

// convexHull of points (Andrew's monotone chain), counter-clockwise.
func convexHull(ps []livenessd.Point) []livenessd.Point {
	p := slices.Clone(ps)
	slices.SortFunc(p, func(a, b livenessd.Point) int {
		switch {
		case a.X < b.X:
			return -1
		case a.X > b.X:
			return 1
		case a.Y < b.Y:
			return -1
		case a.Y > b.Y:
			return 1
		}
		return 0
	})
	if len(p) < 3 {
		return p
	}
	crossZ := func(o, a, b livenessd.Point) float64 { return (a.X-o.X)*(b.Y-o.Y) - (a.Y-o.Y)*(b.X-o.X) }
	var h []livenessd.Point
	for _, q := range p {
		for len(h) >= 2 && crossZ(h[len(h)-2], h[len(h)-1], q) <= 0 {
			h = h[:len(h)-1]
		}
		h = append(h, q)
	}
	lower := len(h) + 1
	for i := len(p) - 2; i >= 0; i-- {
		q := p[i]
		for len(h) >= lower && crossZ(h[len(h)-2], h[len(h)-1], q) <= 0 {
			h = h[:len(h)-1]
		}
		h = append(h, q)
	}
	return h[:len(h)-1]
}

// insidePolygon reports whether p lies inside the polygon (even-odd rule).
func insidePolygon(p livenessd.Point, poly []livenessd.Point) bool {
	in := false
	for i, j := 0, len(poly)-1; i < len(poly); j, i = i, i+1 {
		a, b := poly[i], poly[j]
		if (a.Y > p.Y) != (b.Y > p.Y) && p.X < (b.X-a.X)*(p.Y-a.Y)/(b.Y-a.Y)+a.X {
			in = !in
		}
	}
	return in
}

func segDist(p, a, b livenessd.Point) float64 {
	ab := sub(b, a)
	l2 := ab.X*ab.X + ab.Y*ab.Y
	if l2 == 0 {
		return dist(p, a)
	}
	t := math.Max(0, math.Min(1, ((p.X-a.X)*ab.X+(p.Y-a.Y)*ab.Y)/l2))
	return dist(p, add(a, scale(ab, t)))
}

func distToPolygonEdge(p livenessd.Point, poly []livenessd.Point) float64 {
	d := math.Inf(1)
	for i, j := 0, len(poly)-1; i < len(poly); j, i = i, i+1 {
		d = math.Min(d, segDist(p, poly[j], poly[i]))
	}
	return d
}

func nearPolyline(p livenessd.Point, line []livenessd.Point, r float64) bool {
	for i := 1; i < len(line); i++ {
		if segDist(p, line[i-1], line[i]) < r {
			return true
		}
	}
	return false
}

func nearPolygon(p livenessd.Point, poly []livenessd.Point, r float64) bool {
	return insidePolygon(p, poly) || distToPolygonEdge(p, poly) < r
}
